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

import shlex
from datetime import UTC, datetime
from typing import Any

from triage.case.store import CaseStore
from triage.reports import overview
from triage.reports.html_report import HASH_NAMES, check_description, human_size
from triage.reports.json_report import build_report
from triage.reports.pdf_layout import Pdf, text

_HASH_ROWS = frozenset({"MD5", "SHA-1", "SHA-256", "PDQ", "pHash", "Computed MD5", "Computed SHA-1",
                        "Computed SHA-256", "Stored MD5", "Stored SHA-1"})  # fmt: skip


def _verdict(pdf: Pdf, r: dict[str, Any], view: dict[str, Any]) -> None:
    v, s = view["verdict"], r["summary"]
    colour = {"bad": (138, 28, 28), "warn": (122, 69, 0), "ok": (29, 94, 46)}[v["tone"]]
    pdf.para(v["text"], "B", 13, colour)
    if v["notes"]:
        pdf.para(v["notes"], "B", 9, (138, 28, 28))
    pdf.para(
        f"{overview.plural(s['files'], 'file')} ({overview.plural(s['pictures'], 'picture')},"
        f" {overview.plural(s['videos'], 'video')},"
        f" {s['deleted']:,} deleted) on {overview.plural(len(r['evidence']), 'evidence item')};"
        f" {overview.plural(len(r['hashsets']), 'hash set')}; {overview.plural(s['errors'], 'error')}"
        + ("; interrupted and resumed (see Case and custody)" if view["history"] else "")
        + ". All times UTC. This report shows no pictures.",
        size=8.5,
        color=(90, 90, 90),
    )


def _check(c: dict[str, Any]) -> str:
    moved = c["transform"] not in (None, "original")
    return check_description(c) + (f" ({c['transform']})" if moved else "")


def _findings(pdf: Pdf, r: dict[str, Any], view: dict[str, Any]) -> None:
    pdf.h2("Findings by category")
    if view["categories"]:
        pdf.grid(
            ("Category", "Meaning in its scheme", "As the set wrote it", "Scheme", "Matched files"),
            (32, 76, 30, 22, 22),
            [
                (c["normalised"], c["meaning"], c["category"], c["scheme"], c["files"])
                for c in view["categories"]
            ],
            size=8,
        )
    else:
        pdf.para("No file matched an alert set.")
    pdf.h2("Matches")
    pdf.para(
        "One row per file and known entry, with every algorithm that agreed (report.json lists each"
        " algorithm's match). An exact match means the file's cryptographic hash equals a known hash."
        " A perceptual match means the picture is similar to a known picture; it is never described as"
        " identical and always carries its distance and the threshold it was held to."
    )
    if not view["found"]:
        pdf.para("No file matched a known hash.")
        return
    rows = []
    for f in view["found"]:
        match = tuple(_check(c) for c in f["checks"])  # one line each
        if f["role"] == "ignore":
            match += ("(ignore set: conflict)",)
        size = human_size(f["size"]).split(" (")[0]
        category = (f["category_normalised"], f"{f['category_scheme']}: {text(f['category'])}")
        entry = (f["hashset"], f"entry {f['entry_id']}")
        deleted = "DELETED" if f["deleted"] else "no"
        rows.append((f["n"], f["location"], match, size, deleted, entry, category, f["name"]))
    pdf.grid(
        ("#", "Location", "Match", "Size", "Deleted", "Hash set / entry", "Category", "Name"),
        (7, 45, 34, 15, 14, 28, 20, 19),
        rows,
        mono=frozenset({1, 5}),
        size=7,
    )


def _conflicts(pdf: Pdf, r: dict[str, Any], view: dict[str, Any]) -> None:
    if not r["conflicts"]:
        return
    pdf.h2("Conflicts")
    pdf.para(
        "These files match an alert set and an ignore set. They are never hidden; their matches are above."
    )
    pdf.grid(
        ("Location", "Alert sets", "Ignore sets"),
        (82, 50, 50),
        [(c["location"], tuple(c["alert_hashsets"]), tuple(c["ignore_hashsets"])) for c in r["conflicts"]],
        mono=frozenset({0, 1, 2}),
    )


def _custody(pdf: Pdf, r: dict[str, Any], view: dict[str, Any]) -> None:
    case = r["case"]
    rows: list[tuple[str, Any]] = [
        ("Case number", case["case_number"]),
        ("Examiner", case["examiner"]),
        ("Agency", case["agency"]),
        ("Notes", case["notes"]),
        *case["extra"].items(),
        ("Scan started", r["started_at"]),
        ("Scan finished", r["finished_at"] or "NOT FINISHED"),
        ("Command line", shlex.join(r["command_line"])),
    ]
    pdf.h2("Case and custody")
    pdf.kv(rows, frozenset({"Command line"}))
    if view["history"]:
        pdf.h3("Interrupted and resumed")
        pdf.para(
            "The scan was stopped before it finished and continued with 'triage scan --resume'. Files"
            " hashed before an interruption were kept; each resume hashed only the files not hashed yet."
        )
        pdf.grid(
            ("When (UTC)", "What", "What was done"),
            (44, 22, 116),
            [(h["time"], h["event"], h["detail"]) for h in view["history"]],
        )


def _evidence(pdf: Pdf, r: dict[str, Any], view: dict[str, Any]) -> None:
    pdf.h2("Evidence and partitions")
    for ev in view["evidence"]:
        listed = f"{overview.plural(ev['files'], 'file')}, {human_size(ev['bytes'])} in them"
        size = f"folder: {listed}" if ev["kind"] == "folder" else human_size(ev["size"])
        rows: list[tuple[str, Any]] = [
            ("Evidence id", ev["id"]),
            ("Source", ev["source"]),
            ("Kind", ev["kind"]),
            ("Size", size),
        ]
        if ev["kind"] != "folder":
            rows.append(("Files listed", listed))
        rows += [
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
        pdf.kv(rows, _HASH_ROWS | {"Source"})
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


def _hashsets(pdf: Pdf, r: dict[str, Any], view: dict[str, Any]) -> None:
    pdf.h2("Hash sets used")
    if not r["hashsets"]:
        pdf.para("No hash sets were used.")
        return
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
    pdf.grid(
        ("Hash set", "Role", "Format", "Entries", "Per algorithm", "SHA-256 of the file"),
        (52, 14, 16, 16, 30, 54),
        rows,
        mono=frozenset({0, 5}),
    )


def _counts(pdf: Pdf, r: dict[str, Any], view: dict[str, Any]) -> None:
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


def _details(pdf: Pdf, r: dict[str, Any], view: dict[str, Any]) -> None:
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
            _HASH_ROWS | {"Location", "Name as found"},
        )
    pdf.para("Every file, matched or not, is listed with all its hashes in files.csv and report.json.")


def _errors(pdf: Pdf, r: dict[str, Any], view: dict[str, Any]) -> None:
    pdf.h2("Errors and limitations")
    if r["errors"]:
        pdf.grid(
            ("Location", "Evidence", "Message"),
            (80, 20, 82),
            [(e["location"], e["evidence_id"], e["message"]) for e in r["errors"]],
            mono=frozenset({0}),
        )
    else:
        pdf.para("No errors were recorded.")
    pdf.para(
        "This PDF uses the PDF core fonts (Latin-1): other characters in names are shown as \\uNNNN"
        " escapes, as are control and right-to-left characters; report.json keeps every name exactly."
        " The case folder's MANIFEST.sha256 and hash-chained audit.jsonl are checked with"
        " 'triage verify <case folder>'."
    )


def _appendix(pdf: Pdf, r: dict[str, Any], view: dict[str, Any]) -> None:
    pdf.h2("Appendix: settings, stage times, versions")
    for group in view["settings"]:
        pdf.h3(f"Settings: {group['title']}")
        pdf.kv(group["rows"])
    if view["stages"]:
        pdf.h3("Stage times")
        pdf.grid(
            ("Stage", "Started (UTC)", "Finished (UTC)", "Took"),
            (36, 60, 60, 26),
            [(s["name"], s["started_at"], s["finished_at"], s["duration"]) for s in view["stages"]],
        )
    tool = r["tool"]
    pdf.h3("Software versions")
    versions = [(tool["name"], tool["version"]), ("Python", tool["python"]), ("Platform", tool["platform"])]
    pdf.grid(("Component", "Version"), (60, 122), [*versions, *r["tool"]["dependencies"].items()])
    pdf.h3("Categories")
    pdf.grid(
        ("Scheme", "Value", "Normalised", "Meaning"),
        (18, 16, 34, 114),
        [(c["scheme"], c["value"], c["normalised"], c["meaning"]) for c in r["categories"]],
    )


SECTIONS = (_findings, _conflicts, _custody, _evidence, _hashsets, _counts, _details, _errors, _appendix)


def render_model(
    r: dict[str, Any],
    events: list[dict[str, Any]] | None = None,
    evidence_totals: dict[str, tuple[int, int]] | None = None,
) -> bytes:
    found = overview.findings(r["matches"], r["settings"])
    view = {
        "found": found,
        "verdict": overview.verdict(r, found),
        "categories": overview.by_category(found, r["categories"]),
        "history": overview.history(events or []),
        "evidence": overview.evidence_with_totals(r["evidence"], evidence_totals or {}),
        "stages": overview.stage_rows(r["stages"]),
        "settings": overview.settings_tables(r["settings"]),
    }
    pdf = Pdf(r["case"]["case_number"])
    when = r["finished_at"] or r["started_at"]
    pdf.set_creation_date(datetime.strptime(when[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC))
    pdf.set_title(text(f"Triage report: case {r['case']['case_number']}"))
    pdf.set_author(text(r["case"]["examiner"]))
    pdf.set_creator(text(f"{r['tool']['name']} {r['tool']['version']}"))
    pdf.add_page()
    pdf.h1("Triage report")
    case, tool = r["case"], r["tool"]
    pdf.para(f"Case {case['case_number']} - examiner {case['examiner']} - {tool['name']} {tool['version']}")
    _verdict(pdf, r, view)
    for section in SECTIONS:
        section(pdf, r, view)
    return bytes(pdf.output())


def render(store: CaseStore) -> bytes:
    return render_model(
        build_report(store, matched_files_only=True), store.audit_events(), store.evidence_totals()
    )
