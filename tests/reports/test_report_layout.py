"""report.html and report.pdf lead with their findings (issue #11): a one-line verdict, findings by
category, one match row per (file, known entry), custody next, settings/stage times/versions as
tables in an appendix; folder evidence with its files and bytes; interruptions and resumes; paths
that wrap at separators. Checked on a real scan of the bundled example and on a real case store."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from triage.case.store import CaseStore
from triage.reports import html_report, overview, pdf_report, write_reports
from triage.reports.html_report import wrap

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
WALLPAPER_PDQ = (
    "d2b45958b2baad55d2f2a5adad645b5ab4a95949b6921a6d6c9234d2c925d352"  # examples/known-hashes.csv
)


def _pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftotext) not installed")
    run = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return run.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The README's example scanned with a VICS-scheme CSV that lists garden.jpg by MD5 *and*
    SHA-256 (one known entry) and the wallpaper by PDQ, in two categories."""
    garden = (EXAMPLES / "evidence" / "case2" / "garden.jpg").read_bytes()
    sets = tmp_path_factory.mktemp("sets")
    known = sets / "vics.csv"
    known.write_text(
        "# triage-hashset: scheme=vics\n"
        "id,category,name,md5,sha256,pdq\n"
        f"K-1,1,garden scene,{hashlib.md5(garden).hexdigest()},{hashlib.sha256(garden).hexdigest()},\n"
        f"K-3,2,wallpaper,,,{WALLPAPER_PDQ}\n"
    )
    out = tmp_path_factory.mktemp("demo") / "case"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [
        str(EXAMPLES / "evidence" / "case1.dd"),
        str(EXAMPLES / "evidence" / "case2"),
        "--hashset",
        str(known),
    ]
    run = subprocess.run(
        [sys.executable, "-m", "triage", "scan", *args, "--out", str(out), "--case-number", "L-1",
         "--examiner", "J. Doe", "--jobs", "2", "--format", "html,json,pdf", "--quiet"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr  # 1: known material found
    return out


def _section(html: str, name: str) -> str:
    return html.split(f'<section id="{name}">', 1)[1].split("</section>", 1)[0]


def test_html_leads_with_the_verdict_then_findings_matches_custody_and_an_appendix(demo):
    html = (demo / "report.html").read_text(encoding="utf-8")
    verdict = '<p id="verdict" class="verdict bad">2 files match known pictures: 1 exact, 1 similar.</p>'
    assert verdict in html
    marks = [verdict, 'id="findings"', 'id="matches"', 'id="custody"', 'id="evidence"', 'id="hashsets"',
             'id="appendix"']  # fmt: skip
    places = [html.index(m) for m in marks]
    assert places == sorted(places)


def test_one_match_row_per_file_and_known_entry_listing_every_algorithm(demo):
    html = (demo / "report.html").read_text(encoding="utf-8")
    matches = _section(html, "matches")
    assert matches.count('<tbody class="match"') == 2
    garden = next(b for b in matches.split('<tbody class="match"')[1:] if "garden.jpg" in b)
    assert "exact · MD5" in garden and "exact · SHA-256" in garden
    report = json.loads((demo / "report.json").read_text(encoding="utf-8"))
    assert sorted(m["algorithm"] for m in report["matches"]) == ["md5", "pdq", "sha256"]  # detail kept


def test_a_perceptual_match_shows_its_threshold_in_both_reports(demo):
    html = (demo / "report.html").read_text(encoding="utf-8")
    assert "perceptual · PDQ · distance" in html and "of 256 bits; threshold 31</span>" in html
    text = _pdf_text(demo / "report.pdf")
    assert "threshold 31" in text


def test_categories_of_a_set_that_names_its_scheme_are_shown_by_name(demo):
    report = json.loads((demo / "report.json").read_text(encoding="utf-8"))
    assert report["hashsets"][0]["category_scheme"] == "vics"
    assert {m["category_normalised"] for m in report["matches"]} == {"csam", "child-exploitive"}
    findings = _section((demo / "report.html").read_text(encoding="utf-8"), "findings")
    assert "Project VIC category 1: child sexual abuse material" in findings
    assert "Project VIC category 2: child exploitive (not CSAM)" in findings
    assert "custom" not in findings


def test_folder_evidence_shows_its_files_and_bytes(demo):
    folder = EXAMPLES / "evidence" / "case2"
    files = [p for p in folder.rglob("*") if p.is_file()]
    size = html_report.human_size(sum(p.stat().st_size for p in files))
    evidence = _section((demo / "report.html").read_text(encoding="utf-8"), "evidence")
    assert f"folder: {len(files)} files, {size} in them" in evidence
    assert "<td>0 bytes</td>" not in evidence
    assert f"folder: {len(files)} files, {size} in them" in _pdf_text(demo / "report.pdf")


def test_settings_stage_times_and_versions_are_tables_in_the_appendix(demo):
    html = (demo / "report.html").read_text(encoding="utf-8")
    appendix = _section(html, "appendix")
    assert "<caption>match policy</caption>" in appendix
    assert "<tr><th>pdq max distance</th><td>31</td></tr>" in appendix
    assert "<tr><th>archive limits · max depth</th><td>5</td></tr>" in appendix
    assert "{&#34;" not in html and '{"' not in appendix  # no JSON blobs anywhere
    assert '<th class="num">Took</th>' in appendix and "<td>pillow</td>" in appendix
    assert "Software versions" not in _section(html, "custody")


def test_pdf_leads_with_the_verdict_and_keeps_the_deleted_and_name_columns(demo):
    text = _pdf_text(demo / "report.pdf")
    order = ["2 files match known pictures: 1 exact, 1 similar.", "Findings by category", "Matches",
             "Case and custody", "Evidence and partitions", "Appendix: settings, stage times, versions",
             "pdq max distance"]  # fmt: skip
    places = [text.index(m) for m in order]
    assert places == sorted(places)
    header = next(line for line in text.splitlines() if "Location" in line and "Match" in line)
    assert "Deleted" in header and "Name" in header


def test_reports_of_the_scan_are_byte_identical_when_written_again(demo):
    before = {n: (demo / n).read_bytes() for n in ("report.html", "report.pdf")}
    with CaseStore.open(demo) as store:
        assert html_report.render(store) == before["report.html"]
        assert pdf_report.render(store) == before["report.pdf"]


def test_interruptions_and_resumes_are_shown_with_what_was_redone(make_case, tmp_path):
    case_dir = make_case(tmp_path / "resumed")
    with CaseStore.open(case_dir) as store:  # the events pipeline.scan and resume.resume_scan write
        store.audit("scan interrupted", files_done=3, files_total=7)
        store.audit("scan resumed", command_line=["triage", "scan", "--resume", "x"], pending=4,
                    dropped_members=2, jobs=2)  # fmt: skip
        write_reports(case_dir, store, ("html", "pdf"))
    html = (case_dir / "report.html").read_text(encoding="utf-8")
    assert '<a href="#history">interrupted and resumed</a>' in html
    history = html.split('<h3 id="history">', 1)[1].split("</table>", 1)[0]
    assert "stopped after 3 of 7 files were hashed" in history
    assert "4 files not hashed before were hashed; 2 archive members listed again" in history
    assert history.index(">interrupted</span>") < history.index(">resumed</span>")
    text = _pdf_text(case_dir / "report.pdf")
    assert "Interrupted and resumed" in text and "stopped after 3 of 7 files were hashed" in text


def test_paths_and_hashes_break_at_separators_and_stay_escaped():
    assert (
        wrap("EV1/p1@1(fat)/a/<b>.jpg#7") == "EV1/<wbr>p1@<wbr>1(fat)/<wbr>a/<wbr>&lt;b&gt;<wbr>.jpg#<wbr>7"
    )
    assert wrap("ab" * 32) == "<wbr>".join(["abababababababab"] * 4)
    assert wrap("x\u202ey") == "x\\u202ey"
    assert "break-all" not in (REPO / "triage" / "reports" / "templates" / "report.css").read_text()


def test_pdf_lists_every_algorithm_of_a_finding_on_its_own_line(demo):
    text = _pdf_text(demo / "report.pdf")
    assert "exact · MD5" in text and "exact · SHA-256" in text and "\\nexact" not in text


def _model(files: int, hashsets: list[dict], finished: bool = True, pending: int = 0) -> dict:
    summary = {"files": files, "pending": pending, "conflicts": 0}
    return {"summary": summary, "hashsets": hashsets, "files": [], "finished_at": "t" if finished else None}


@pytest.mark.parametrize(
    ("model", "text", "tone"),
    [
        (_model(0, [{"role": "alert"}]),
         "No files were found on the evidence: nothing was compared.", "warn"),
        (_model(3, []), "No known-hash set was used: 3 files listed and hashed, none compared.", "warn"),
        (_model(1, [{"role": "ignore"}]),
         "No known-hash set was used: 1 file listed and hashed, compared only with known-good sets.", "warn"),
        (_model(2, [{"role": "alert"}]),
         "No file matches a known hash: 2 files compared with 1 hash set.", "ok"),
    ],
)  # fmt: skip
def test_a_verdict_without_findings_says_whether_anything_was_compared(model, text, tone):

    verdict = overview.verdict(model, [])
    assert (verdict["text"], verdict["tone"], verdict["notes"]) == (text, tone, "")


def test_an_unfinished_scan_says_so_beside_its_verdict():

    verdict = overview.verdict(_model(5, [{"role": "alert"}], finished=False, pending=1), [])
    assert verdict["notes"] == "The scan did not finish: 1 file was not processed."
