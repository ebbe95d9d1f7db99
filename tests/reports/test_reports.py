"""Report writers on a real case store: valid, deterministic, safe against hostile names."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from triage.case.store import CaseStore
from triage.errors import ReportError
from triage.reports import FORMAT_NAMES, WRITERS, html_report, json_report, write_reports
from triage.reports.manifest import MANIFEST

HASHSET = "/sets/known.csv"
HOSTILE_NAMES = ("<script>alert(1)</script>.jpg", '=HYPERLINK("x").jpg', "\u202egpj.exe", "two\nlines.jpg")
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "report-schema.json"
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "strong", "em", "nav",
    "ul", "li", "a", "section", "table", "thead", "tbody", "tr", "th", "td", "code", "span", "br", "footer",
    "script", "input", "button", "div", "details", "summary", "img", "wbr", "caption",
}  # fmt: skip


def _write(case_dir: Path) -> list[Path]:
    with CaseStore.open(case_dir) as store:
        return write_reports(case_dir, store)


def _report(case_dir: Path) -> dict:
    return json.loads((case_dir / "report.json").read_text(encoding="utf-8"))


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.style = ""
        self.script = ""
        self._in_style = False
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_style = self._in_script = False

    def handle_data(self, data):
        if self._in_style:
            self.style += data
        if self._in_script:
            self.script += data
        self.text.append(data)


def test_write_reports_writes_audits_and_manifests(case_dir):
    paths = _write(case_dir)
    assert [p.name for p in paths] == ["report.json", "report.html", MANIFEST]
    assert sorted(p.name for p in case_dir.iterdir()) == [
        MANIFEST, "audit.jsonl", "case.sqlite", "report.html", "report.json",
    ]  # fmt: skip
    with CaseStore.open(case_dir, read_only=True) as store:
        event = store.audit_events()[-1]
    assert event["action"] == "report written"
    for name in ("report.json", "report.html"):
        assert event["details"]["files"][name] == hashlib.sha256((case_dir / name).read_bytes()).hexdigest()
    lines = (case_dir / MANIFEST).read_text().splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == [
        "audit.jsonl",
        "case.sqlite",
        "report.html",
        "report.json",
    ]


def test_manifest_is_sha256sum_format(case_dir):
    _write(case_dir)
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum (coreutils) not installed")
    run = subprocess.run(["sha256sum", "-c", MANIFEST], cwd=case_dir, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_report_json_validates_against_schema(case_dir):
    _write(case_dir)
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(_report(case_dir))


def test_unfinished_case_report_validates_and_says_so(tmp_path, make_case):
    case_dir = make_case(tmp_path / "killed", finish=False)
    _write(case_dir)
    report = _report(case_dir)
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(report)
    assert report["finished_at"] is None
    assert "not finished" in (case_dir / "report.html").read_text(encoding="utf-8")


def test_report_json_content(case_dir):
    _write(case_dir)
    r = _report(case_dir)
    assert r["schema"] == "triage-report/1"
    assert r["case"]["case_number"] == "2026-<b>042</b>"
    assert r["finished_at"] == "2026-03-01T10:01:00Z"
    assert r["settings"]["match_policy"]["pdq_max_distance"] == 31
    assert r["summary"] == {
        "files": 7, "media_files": 5, "pictures": 5, "videos": 0, "matches": 5, "matched_files": 5,
        "errors": 2, "deleted": 3, "bytes": sum(1000 + i for i in range(7)), "pending": 1,
        "known_good": 0, "conflicts": 0, "match_rows": 5, "no_files": False,
    }  # fmt: skip
    assert [f["location"] for f in r["files"]] == sorted(f["location"] for f in r["files"])
    paths = {f["path"] for f in r["files"]}
    for name in HOSTILE_NAMES:
        assert f"/Users/a/{name}" in paths  # kept exactly as found
    assert "/Users/a/bad\\xffbyte.jpg" in paths  # an undecodable byte, shown as \xff
    assert [m["location"] for m in r["matches"]] == sorted(m["location"] for m in r["matches"])
    exact = next(m for m in r["matches"] if m["algorithm"] == "sha256")
    perceptual = next(m for m in r["matches"] if m["kind"] == "perceptual")
    assert exact["path"] == "/Users/a/<script>alert(1)</script>.jpg"
    assert (exact["kind"], exact["algorithm"], exact["distance"]) == ("exact", "sha256", 0)
    assert exact["sha256"] == exact["file_hash"] == exact["known_hash"]
    assert (perceptual["kind"], perceptual["algorithm"], perceptual["distance"]) == ("perceptual", "pdq", 12)
    assert perceptual["hashset"] == HASHSET and perceptual["entry_id"] == "K-2"
    assert bin(int(perceptual["file_hash"], 16) ^ int(perceptual["known_hash"], 16)).count("1") == 12
    assert r["errors"][0] == {"location": None, "evidence_id": "EV1",
                              "message": "listing stopped: unreadable sector at 4096"}  # fmt: skip
    assert r["errors"][1]["message"] == "picture decode failed: <bad>"


def test_same_store_gives_byte_identical_reports(case_dir):
    with CaseStore.open(case_dir) as store:
        first = {fmt: render(store) for fmt, (_name, render) in WRITERS.items()}
        second = {fmt: render(store) for fmt, (_name, render) in WRITERS.items()}
        assert first == second
        write_reports(case_dir, store, FORMAT_NAMES)
        written = {name: (case_dir / name).read_bytes() for name, _render in WRITERS.values()}
        write_reports(case_dir, store, FORMAT_NAMES)  # the audit log grew; the reports must not change
        again = {name: (case_dir / name).read_bytes() for name, _render in WRITERS.values()}
    assert written == again == {WRITERS[f][0]: data for f, data in first.items()}


def test_same_records_give_identical_reports_in_another_case(tmp_path, make_case):
    a = make_case(tmp_path / "a")
    b = make_case(tmp_path / "b")
    with CaseStore.open(a) as sa, CaseStore.open(b) as sb:
        ja, jb = json_report.build_report(sa), json_report.build_report(sb)
    for volatile in ("started_at",):  # the creation time is the only difference between the two cases
        ja.pop(volatile), jb.pop(volatile)
    assert ja == jb


def test_html_is_self_contained_and_escapes_every_evidence_string(case_dir):
    _write(case_dir)
    html = (case_dir / "report.html").read_text(encoding="utf-8")
    assert html.lower().count("<script") == 1 and "<img" not in html.lower()  # no thumbnails stored
    assert "\u202e" not in html and "\\u202egpj.exe" in html
    assert "two\\nlines.jpg" in html and "two\nlines" not in html
    assert "=HYPERLINK(&#34;x&#34;).jpg" in html
    text = html.replace("<wbr>", "")  # our own line-break opportunities after / and >
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.jpg" in text
    assert (
        "<code>/<wbr>Users/<wbr>a/<wbr>&lt;script&gt;<wbr>alert(1)&lt;/<wbr>script&gt;<wbr>.jpg</code>"
        in html
    )
    assert "bad\\xffbyte.jpg" in html
    assert "2026-&lt;b&gt;042&lt;/b&gt;" in html and "Agency &amp; Co" in html
    parser = Tags()
    parser.feed(html)
    tags = {tag for tag, _attrs in parser.tags}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    for tag, attrs in parser.tags:
        assert "src" not in attrs and not any(k.startswith("on") for k in attrs)
        assert tag != "script" or attrs == {}  # only our inline script, no src
        assert attrs.get("href", "#").startswith("#")
    assert "http://" not in html and "https://" not in html and "url(" not in html
    # The CSP forbids every load; the only stylesheet and script allowed are ours, pinned by hash;
    # pictures only as data: URIs (the thumbnails).
    csp = next(a["content"] for t, a in parser.tags if a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp and "img-src data:;" in csp
    assert html_report.content_security_policy(parser.style, parser.script) == csp


def test_html_describes_matches_without_calling_them_identical(case_dir):
    _write(case_dir)
    html = (case_dir / "report.html").read_text(encoding="utf-8")
    assert "perceptual · PDQ · distance 12 of 256 bits; threshold 31" in html
    assert "exact · SHA-256" in html
    matches_section = html.split('<section id="matches">', 1)[1].split("</section>", 1)[0]
    assert "identical" not in matches_section.lower()
    assert "n\\u202eame" in matches_section and "cat &lt;1&gt;" in matches_section
    assert "known &lt;set&gt;" in html and "none stored" in html and "no file system found" in html


def test_unknown_format_is_refused(case_dir):
    with CaseStore.open(case_dir) as store, pytest.raises(ReportError, match="docx"):
        write_reports(case_dir, store, ["json", "docx"])
    assert not (case_dir / "report.json").exists()
