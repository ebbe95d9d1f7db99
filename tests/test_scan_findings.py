"""What a lab's script reads from a scan: findings counted once per (file, known entry), a scan
that compared nothing or found nothing never mistaken for "no match", evidence given once.

Inputs are real: the example folder's pictures (examples/evidence/case2) and CSV sets written
from their hashes, an empty folder, and the same folder reached through a symbolic link.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CASE2 = REPO / "examples" / "evidence" / "case2"


def scan(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "triage", "scan", *args, "--case-number", "C-11", "--examiner", "J. Doe",
         "--jobs", "1", "--no-evidence-hash"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def two_algorithms(tmp_path_factory) -> Path:
    """A set whose rows give MD5 and SHA-256 of two pictures: four hashes, two known entries."""
    folder = tmp_path_factory.mktemp("sets")
    rows = ["id,category,name,md5,sha256"]
    for n, name in enumerate(("garden.jpg", "kitchen.png"), start=1):
        data = (CASE2 / name).read_bytes()
        rows.append(f"K-{n},1,{name},{hashlib.md5(data).hexdigest()},{hashlib.sha256(data).hexdigest()}")
    known = folder / "known.csv"
    known.write_text("\n".join(rows) + "\n")
    return known


def test_findings_are_counted_once_per_file_and_known_entry(tmp_path, two_algorithms):
    out = tmp_path / "case"
    proc = scan(str(CASE2), "--hashset", str(two_algorithms), "--out", str(out))
    assert proc.returncode == 1, proc.stderr
    assert ": 2 matches in 2 files, 0 errors." in proc.stdout  # not "4 matches in 2 files"
    report = json.loads((out / "report.json").read_text())
    summary = report["summary"]
    assert (summary["matches"], summary["match_rows"], summary["matched_files"]) == (2, 4, 2)
    assert summary["no_files"] is False
    assert sorted(m["algorithm"] for m in report["matches"]) == ["md5", "md5", "sha256", "sha256"]


def test_a_scan_without_an_alert_set_is_refused_unless_inventory_only(tmp_path, two_algorithms):
    proc = scan(str(CASE2), "--out", str(tmp_path / "a"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("triage: error: no --hashset given") and proc.stderr.count("\n") == 1
    assert not (tmp_path / "a").exists()
    proc = scan(str(CASE2), "--ignore-set", str(two_algorithms), "--out", str(tmp_path / "b"))
    assert proc.returncode == 2 and "no --hashset given" in proc.stderr
    proc = scan(str(CASE2), "--inventory-only", "--out", str(tmp_path / "c"))
    assert proc.returncode == 0, proc.stderr
    assert "0 matches in 0 files" in proc.stdout


def test_no_files_found_warns_and_exits_4(tmp_path, two_algorithms):
    empty = tmp_path / "mnt"
    empty.mkdir()
    out = tmp_path / "case"
    proc = scan(str(empty), "--hashset", str(two_algorithms), "--out", str(out))
    assert proc.returncode == 4, proc.stderr
    assert proc.stdout.startswith("0 files (0 pictures/videos, 0 B)")
    assert "triage: warning: no files were found on the evidence" in proc.stderr
    summary = json.loads((out / "report.json").read_text())["summary"]
    assert summary["no_files"] is True and summary["files"] == 0


def test_the_same_evidence_twice_is_refused(tmp_path, two_algorithms):
    link = tmp_path / "same"
    link.symlink_to(CASE2)
    for args in ((str(CASE2), str(CASE2)), (str(CASE2), str(link)), (str(CASE2), str(CASE2) + "/.")):
        proc = scan(*args, "--hashset", str(two_algorithms), "--out", str(tmp_path / "case"))
        assert proc.returncode == 2, args
        assert "is the same item as EV1" in proc.stderr and proc.stderr.count("\n") == 1
        assert not (tmp_path / "case").exists()
    known = str(two_algorithms)
    proc = scan(str(CASE2 / "garden.jpg"), str(CASE2), "--hashset", known, "--out", str(tmp_path / "c"))
    assert proc.returncode == 2 and "is inside evidence EV2" in proc.stderr


def test_a_single_picture_file_is_a_one_file_evidence_item(tmp_path, two_algorithms):
    """One exported picture is scanned as evidence of kind ``file`` at ``EV1/<name>``; before,
    it was refused as "not a recognised disk image"."""
    out = tmp_path / "case"
    garden, kitchen = CASE2 / "garden.jpg", CASE2 / "kitchen.png"
    proc = scan(str(garden), str(kitchen), "--hashset", str(two_algorithms), "--out", str(out))
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("2 files (2 pictures/videos, ") and "2 matches in 2 files" in proc.stdout
    report = json.loads((out / "report.json").read_text())
    assert [(e["id"], e["kind"], e["size"]) for e in report["evidence"]] == [
        ("EV1", "file", garden.stat().st_size),
        ("EV2", "file", kitchen.stat().st_size),
    ]
    assert [f["location"] for f in report["files"]] == ["EV1/garden.jpg", "EV2/kitchen.png"]
    assert report["files"][0]["md5"] == hashlib.md5(garden.read_bytes()).hexdigest()


def test_a_file_that_is_neither_a_disk_image_nor_a_picture_is_still_refused(tmp_path, two_algorithms):
    proc = scan(str(CASE2 / "readme.txt"), "--hashset", str(two_algorithms), "--out", str(tmp_path / "c"))
    assert proc.returncode == 2 and "not a recognised disk image" in proc.stderr


def test_click_errors_are_one_line():
    """The README promises one line on stderr for bad arguments, click's own included."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "triage", "scan", "x", "--jobs", "many"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == (
        "triage: error: Invalid value for '--jobs' / '-j': 'many' is not a valid integer range."
        " (see 'triage scan --help')\n"
    )


def test_a_slow_raw_set_earns_a_note_on_what_an_index_would_save(tmp_path, two_algorithms, monkeypatch):
    """Every raw set's load is timed; one slower than the threshold (0 s here, 5 s for real:
    the example set loads in milliseconds) gets a note with the build command and the saving."""
    from click.testing import CliRunner

    from triage.cli.main import cli
    from triage.hashsets import loadtime

    monkeypatch.setattr(loadtime, "SLOW_LOAD_SECONDS", 0.0)
    args = ["scan", str(CASE2), "--hashset", str(two_algorithms), "--out", str(tmp_path / "case"),
            "--case-number", "C", "--examiner", "E", "-j", "1", "--quiet"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    note = result.stderr.strip().splitlines()[-1]
    assert note.startswith("triage: note: loading the hash set known.csv (4 hashes) took ")
    assert f"(triage hashset build {two_algorithms} -o known.idx, about " in note
    assert "the next scan would load it in about 0.1 s, about " in note
    monkeypatch.setattr(loadtime, "SLOW_LOAD_SECONDS", 5.0)
    result = CliRunner().invoke(cli, [*args[:6], str(tmp_path / "again"), *args[7:]])
    assert result.exit_code == 1 and "note" not in result.stderr


def test_category_scheme_on_scan_names_a_raw_sets_categories(tmp_path, two_algorithms):
    """``--category-scheme vics`` on the scan itself: the CSV's category 1 is Project VIC's
    (csam), not "custom", without editing the set or compiling an index."""
    out = tmp_path / "case"
    proc = scan(str(CASE2), "--hashset", str(two_algorithms), "--category-scheme", "VICS", "--out", str(out))
    assert proc.returncode == 1, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert [h["category_scheme"] for h in report["hashsets"]] == ["vics"]
    assert {m["category_normalised"] for m in report["matches"]} == {"csam"}
    proc = scan(str(CASE2), "--hashset", str(two_algorithms), "--category-scheme", "two words",
                "--out", str(tmp_path / "bad"))  # fmt: skip
    assert proc.returncode == 2 and "a category scheme is one word" in proc.stderr


def test_one_of_everything_is_singular(tmp_path):
    out = tmp_path / "case"
    proc = scan(str(CASE2 / "garden.jpg"), "--inventory-only", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("1 file (1 picture/video, 3.1 KiB) in ")
    assert ": 0 matches in 0 files, 0 errors." in proc.stdout
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "1 file (1 picture, 0 videos, 0 deleted) on 1 evidence item · 0 hash sets · " in html
