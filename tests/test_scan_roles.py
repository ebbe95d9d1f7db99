"""Alert and ignore sets, and compiled indexes, in a real ``triage scan`` of the fixture disk
(tests/data/mbr_fat_ext2.dd; its files' MD5s are in mbr_fat_ext2.json)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
LISTING = json.loads((DATA / "mbr_fat_ext2.json").read_text())
SCHEMA = json.loads((REPO / "docs" / "report-schema.json").read_text())


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "triage", *args], capture_output=True, text=True, env=env, timeout=300
    )


def scan(out: Path, *sets: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = run(
        "scan", str(DATA / "mbr_fat_ext2.dd"), "--out", str(out), "--case-number", "C-1",
        "--examiner", "J. Doe", "--jobs", "2", "--no-evidence-hash", *sets,
        *(() if "--hashset" in sets else ("--inventory-only",)),
    )  # fmt: skip
    report = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else {}
    return proc, report


def md5_of(path: str) -> str:
    return next(e["md5"] for e in LISTING["entries"] if e["path"] == path)


@pytest.fixture(scope="module")
def sets(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sets")
    alert = folder / "alert.csv"
    alert.write_text(
        f"id,category,md5\nK-1,1,{md5_of('/DCIM/_ONE.JPG')}\nK-2,2,{md5_of('/photos/renamed.dat')}\n"
    )
    ignore = folder / "good.txt"  # a known-good list that also (wrongly) lists renamed.dat
    ignore.write_text(f"{md5_of('/photos/notes.txt')}\n{md5_of('/photos/renamed.dat')}\n")
    index = folder / "alert.idx"
    proc = run("hashset", "build", "--alert", str(alert), "-o", str(index))
    assert proc.returncode == 0, proc.stderr
    return {"alert": alert, "ignore": ignore, "index": index}


def _by_path(report: dict) -> dict[str, dict]:
    return {f["path"]: f for f in report["files"]}


def test_alert_ignore_and_conflict(sets, tmp_path):
    proc, report = scan(
        tmp_path / "case", "--hashset", str(sets["index"]), "--ignore-set", str(sets["ignore"])
    )
    assert proc.returncode == 1, proc.stderr
    jsonschema.validate(report, SCHEMA)
    files = _by_path(report)
    assert files["/photos/notes.txt"]["known_good"] is True
    assert files["/photos/renamed.dat"]["known_good"] is False  # a conflict is never hidden
    assert files["/DCIM/_ONE.JPG"]["known_good"] is False
    assert report["summary"]["known_good"] == 1 and report["summary"]["conflicts"] == 1
    assert report["summary"]["matched_files"] == 2
    assert [c["path"] for c in report["conflicts"]] == ["/photos/renamed.dat"]
    assert report["conflicts"][0]["ignore_hashsets"] == [str(sets["ignore"])]
    listed = {(m["path"], m["role"]) for m in report["matches"]}
    assert listed == {
        ("/DCIM/_ONE.JPG", "alert"),
        ("/photos/renamed.dat", "alert"),
        ("/photos/renamed.dat", "ignore"),
    }
    k1 = next(m for m in report["matches"] if m["entry_id"] == "K-1")
    assert (k1["category"], k1["category_scheme"], k1["category_normalised"]) == ("1", "custom", "custom")
    roles = {h["path"]: (h["role"], h["index"]) for h in report["hashsets"]}
    assert roles[str(sets["alert"])] == ("alert", str(sets["index"]))
    assert roles[str(sets["ignore"])] == ("ignore", None)
    html = (tmp_path / "case" / "report.html").read_text()
    assert "Known good (hidden)" in html and 'id="conflicts"' in html
    events = [json.loads(line) for line in (tmp_path / "case" / "audit.jsonl").read_text().splitlines()]
    loaded = [e["details"] for e in events if e["action"] == "hash set loaded"]
    assert [(d["role"], d["format"]) for d in loaded] == [("alert", "csv"), ("ignore", "plain")]


def test_only_known_good_matches_exit_zero(sets, tmp_path):
    proc, report = scan(tmp_path / "case", "--ignore-set", str(sets["ignore"]))
    assert proc.returncode == 0, proc.stderr
    assert report["matches"] == [] and report["conflicts"] == []
    assert report["summary"]["known_good"] == 2 and report["summary"]["matches"] == 0
    jsonschema.validate(report, SCHEMA)


def test_an_index_scans_like_its_raw_sets(sets, tmp_path):
    _, by_index = scan(tmp_path / "a", "--hashset", str(sets["index"]))
    _, by_raw = scan(tmp_path / "b", "--hashset", str(sets["alert"]))
    assert by_index["matches"] == by_raw["matches"] and len(by_raw["matches"]) == 2


def test_a_stale_index_is_refused_before_any_case_is_made(sets, tmp_path):
    stale = tmp_path / "stale.idx"
    data = bytearray(sets["index"].read_bytes())
    data[8] ^= 0x7F  # another index format version
    stale.write_bytes(bytes(data))
    proc, _ = scan(tmp_path / "case", "--hashset", str(stale))
    assert proc.returncode == 2
    assert "stale.idx: built by triage" in proc.stderr and "rebuild" in proc.stderr
    assert not (tmp_path / "case").exists()
