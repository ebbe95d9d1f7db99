"""report.pdf: the content of report.html as a paginated PDF, for filing and for court bundles.

Written with fpdf2 (pure Python, so ``pip install`` is all a fresh machine needs) and its
built-in PDF core fonts, which hold Latin-1 only: any other character in an evidence string is
shown as a visible escape (``\\u202e``, ``\\u4e2d``), like control and bidirectional-override
characters in report.html, and report.json keeps the exact text. Every page carries the case
number and "page N of M". The creation date is the case's finish (or start) time, never the
clock, so the same store gives the same bytes. Like the HTML report it shows no pictures: the
PDF cannot hide a thumbnail behind a click, so thumbnails stay in report.html.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from triage.case.store import CaseStore
from triage.reports.html_report import HASH_NAMES, human_size, match_description, visible
from triage.reports.json_report import build_report

SANS, MONO = "Helvetica", "Courier"
LINE = 4.2


def text(value: Any) -> str:
    """Printable Latin-1 text: control/bidi characters and anything outside Latin-1 escaped."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):  # lines of one cell
        return "\n".join(text(v) for v in value)
    out = visible(str(value))
    out = "".join(ch if ord(ch) < 0x100 else f"\\u{ord(ch):04x}" for ch in out)
    if len(out) > MAX_CELL:
        # One table cell must fit on a page; a 5,000-character member name does not. The full
        # text is in report.json and files.csv, and the PDF says so where it cuts.
        out = out[:MAX_CELL] + f" [... {len(out) - MAX_CELL:,} more characters: see report.json]"
    return out


#: Longest text put in one PDF cell (characters).
MAX_CELL = 1000


_HEADINGS = FontFace(emphasis="BOLD", fill_color=(235, 238, 241))


class _Pdf(FPDF):
    def __init__(self, case_number: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.case_label = text(f"Case {case_number}")
        self.set_margins(14, 16, 14)
        self.set_auto_page_break(True, margin=16)
        self.alias_nb_pages()

    def header(self) -> None:
        self.set_font(SANS, "", 8)
        self.set_text_color(90)
        self.cell(0, 5, self.case_label + " - triage report", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)
        self.ln(1)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(SANS, "", 8)
        self.set_text_color(90)
        self.cell(0, 5, f"{self.case_label} - page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0)

    def h1(self, title: str) -> None:
        self.set_font(SANS, "B", 16)
        self.multi_cell(0, 8, text(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def h2(self, title: str) -> None:
        if self.get_y() > self.h - 50:
            self.add_page()
        self.ln(3)
        self.set_font(SANS, "B", 12)
        self.multi_cell(0, 7, text(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT, border="B")
        self.ln(1)

    def para(self, value: str, style: str = "") -> None:
        self.set_font(SANS, style, 9)
        self.multi_cell(0, LINE, text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def kv(self, rows: list[tuple[str, Any]], mono: frozenset[str] = frozenset()) -> None:
        with self.table(
            col_widths=(45, 137),
            first_row_as_headings=False,
            line_height=LINE,
            borders_layout="HORIZONTAL_LINES",
            padding=0.8,
        ) as table:
            for key, value in rows:
                row = table.row()
                self.set_font(SANS, "B", 8.5)
                row.cell(text(key))
                self.set_font(MONO if key in mono else SANS, "", 8.5)
                row.cell(text(value))
        self.ln(1)

    def grid(self, headings: tuple[str, ...], widths: tuple[float, ...], rows: list[tuple[Any, ...]]) -> None:
        self.set_font(SANS, "", 7.5)
        with self.table(
            col_widths=widths,
            line_height=3.6,
            padding=0.8,
            headings_style=_HEADINGS,
            borders_layout="HORIZONTAL_LINES",
        ) as table:
            head = table.row()
            for h in headings:
                head.cell(text(h))
            for values in rows:
                row = table.row()
                for v in values:
                    row.cell(text(v))
        self.ln(1)


def _custody(pdf: _Pdf, r: dict[str, Any]) -> None:
    case, tool = r["case"], r["tool"]
    rows: list[tuple[str, Any]] = [
        ("Case number", case["case_number"]),
        ("Examiner", case["examiner"]),
        ("Agency", case["agency"]),
        ("Notes", case["notes"]),
        *case["extra"].items(),
        ("Scan started", r["started_at"]),
        ("Scan finished", r["finished_at"] or "NOT FINISHED"),
        ("Tool", f"{tool['name']} {tool['version']}"),
        ("Python", tool["python"]),
        ("Platform", tool["platform"]),
        ("Command line", " ".join(r["command_line"])),
    ]
    pdf.h2("Case and custody")
    pdf.kv(rows, frozenset({"Command line"}))
    if r["stages"]:
        pdf.grid(
            ("Stage", "Started (UTC)", "Finished (UTC)"),
            (40, 71, 71),
            [(s["name"], s["started_at"], s["finished_at"]) for s in r["stages"]],
        )
    pdf.kv([(k, json.dumps(v, sort_keys=True)) for k, v in r["settings"].items()], frozenset(r["settings"]))
    pdf.para("Software versions: " + ", ".join(f"{k} {v}" for k, v in r["tool"]["dependencies"].items()))


def _evidence(pdf: _Pdf, r: dict[str, Any]) -> None:
    pdf.h2("Evidence and partitions")
    for ev in r["evidence"]:
        rows: list[tuple[str, Any]] = [
            ("Evidence id", ev["id"]),
            ("Source", ev["source"]),
            ("Kind", ev["kind"]),
            ("Size", human_size(ev["size"])),
            ("Verification", ev["verification"]),
            ("Computed MD5", ev["md5"]),
            ("Computed SHA-1", ev["sha1"]),
            ("Computed SHA-256", ev["sha256"]),
            ("Stored MD5", ev["stored_md5"]),
            ("Stored SHA-1", ev["stored_sha1"]),
        ]
        if ev.get("verified_after"):
            va = ev["verified_after"]
            rows.append(("Re-hashed after scan", f"{va['result']} (SHA-256 {va['sha256']})"))
        rows += list(ev["details"].items())
        pdf.kv(
            rows,
            frozenset(
                {"Source", "Computed MD5", "Computed SHA-1", "Computed SHA-256", "Stored MD5", "Stored SHA-1"}
            ),
        )
        if ev["volumes"]:
            pdf.grid(
                ("Volume", "Offset", "Length", "Description", "File system", "Note"),
                (16, 24, 34, 56, 22, 30),
                [
                    (
                        v["label"],
                        v["offset"],
                        human_size(v["length"]),
                        v["description"],
                        v["fs_type"],
                        v["error"] or "",
                    )
                    for v in ev["volumes"]
                ],
            )


def _hashsets(pdf: _Pdf, r: dict[str, Any]) -> None:
    pdf.h2("Hash sets used")
    if not r["hashsets"]:
        pdf.para("No hash sets were used.")
    rows = [
        (
            (h["name"], h["path"]),
            h["role"],
            h["format"],
            h["entries"],
            ", ".join(f"{HASH_NAMES.get(a, a)}: {n}" for a, n in h["counts"].items()),
            h["sha256"],
        )
        for h in r["hashsets"]
    ]
    if rows:
        pdf.grid(
            ("Hash set", "Role", "Format", "Entries", "Per algorithm", "SHA-256 of the file"),
            (52, 14, 16, 16, 30, 54),
            rows,
        )


def _findings(pdf: _Pdf, r: dict[str, Any]) -> None:
    pdf.h2("Counts")
    s = r["summary"]
    pdf.kv(
        [
            ("Files", s["files"]),
            ("Deleted files", s["deleted"]),
            ("Bytes in files", human_size(s["bytes"])),
            ("Pictures", s["pictures"]),
            ("Videos", s["videos"]),
            ("Matches", s["matches"]),
            ("Matched files", s["matched_files"]),
            ("Known good (hidden)", s.get("known_good")),
            ("Conflicts", s.get("conflicts")),
            ("Errors", s["errors"]),
            ("Not processed", s["pending"]),
        ]
    )
    pdf.h2("Findings by category")
    counts: dict[tuple[str, str], set[str]] = {}
    for m in r["matches"]:
        counts.setdefault((m["category_normalised"], str(m["category"])), set()).add(m["location"])
    if counts:
        pdf.grid(
            ("Normalised category", "Category as in the set", "Files"),
            (60, 90, 32),
            [(k[0], k[1], len(v)) for k, v in sorted(counts.items())],
        )
    else:
        pdf.para("No file matched a known hash.")
    pdf.h2("Matches")
    pdf.para(
        "An exact match means the file's cryptographic hash equals a known hash. A perceptual match"
        " means the picture is similar to a known picture; it is never described as identical and"
        " always carries its distance."
    )
    if r["matches"]:
        pdf.grid(
            ("#", "Location", "Match", "Hash set / entry", "Category"),
            (8, 70, 38, 40, 26),
            [
                (
                    i,
                    m["location"],
                    match_description(m) + (" (ignore set: conflict)" if m["role"] == "ignore" else ""),
                    (m["hashset"], f"entry {m['entry_id']}"),
                    (m["category"], m["category_normalised"]),
                )
                for i, m in enumerate(r["matches"], start=1)
            ],
        )


def _details(pdf: _Pdf, r: dict[str, Any]) -> None:
    pdf.h2("Matched files in detail")
    matched = {m["location"] for m in r["matches"]}
    files = [f for f in r["files"] if f["location"] in matched]
    if not files:
        pdf.para("No matched files.")
    for n, f in enumerate(files, start=1):
        pdf.para(f"Matched file {n}", "B")
        pdf.kv(
            [
                ("Location", f["location"]),
                ("Name as found", f["path"]),
                ("Size", human_size(f["size"])),
                ("Deleted", f["deleted"]),
                ("Flags", ", ".join(f["flags"]) or "-"),
                ("Inode", f["inode"]),
                ("Modified", f["mtime"]),
                ("Accessed", f["atime"]),
                ("Changed", f["ctime"]),
                ("Created", f["crtime"]),
                ("Media type", f["media_type"]),
                ("Dimensions", f"{f['width']} x {f['height']}" if f["width"] else None),
                ("MD5", f["md5"]),
                ("SHA-1", f["sha1"]),
                ("SHA-256", f["sha256"]),
                ("PDQ", f"{f['pdq']} (quality {f['pdq_quality']})" if f["pdq"] else None),
                ("pHash", f["phash"]),
                ("Error", f["error"]),
            ],
            frozenset({"Location", "Name as found", "MD5", "SHA-1", "SHA-256", "PDQ", "pHash"}),
        )
    pdf.para("Every file, matched or not, is listed with all its hashes in files.csv and report.json.")


def _errors(pdf: _Pdf, r: dict[str, Any]) -> None:
    pdf.h2("Errors and limitations")
    if r["errors"]:
        pdf.grid(
            ("Location", "Evidence", "Message"),
            (80, 20, 82),
            [(e["location"], e["evidence_id"], e["message"]) for e in r["errors"]],
        )
    else:
        pdf.para("No errors were recorded.")
    pdf.para(
        "This PDF uses the PDF core fonts (Latin-1): other characters in names are shown as \\uNNNN"
        " escapes, as are control and right-to-left characters; report.json keeps every name exactly."
        " The case folder's MANIFEST.sha256 and hash-chained audit.jsonl are checked with"
        " 'triage verify <case folder>'."
    )


def render_model(r: dict[str, Any]) -> bytes:
    pdf = _Pdf(r["case"]["case_number"])
    when = r["finished_at"] or r["started_at"]
    pdf.set_creation_date(datetime.strptime(when[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC))
    pdf.set_title(text(f"Triage report: case {r['case']['case_number']}"))
    pdf.set_author(text(r["case"]["examiner"]))
    pdf.set_creator(text(f"{r['tool']['name']} {r['tool']['version']}"))
    pdf.add_page()
    pdf.h1("Triage report")
    pdf.para(
        f"Case {r['case']['case_number']} - {r['tool']['name']} {r['tool']['version']} - all times UTC."
        " This report shows no pictures."
    )
    for section in (_custody, _evidence, _hashsets, _findings, _details, _errors):
        section(pdf, r)
    return bytes(pdf.output())


def render(store: CaseStore) -> bytes:
    return render_model(build_report(store, matched_files_only=True))
