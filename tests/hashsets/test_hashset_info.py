"""``triage hashset info`` on a raw set: a dry run of what a scan reads from it.

Inputs are real set files: the VICS ``#Cases`` fixture, the RDSv3 fixture, and a CSV of the
example pictures' hashes in which one picture is listed twice, once under another category.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "hashsets"
CASE2 = REPO / "examples" / "evidence" / "case2"


def info(path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "triage", "hashset", "info", str(path)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def test_info_on_a_vics_set_names_format_counts_and_categories():
    proc = info(DATA / "vics-cases.json")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "format: vics\n" in out and "hashes: 4 (md5 2, sha1 1, pdq 1)\n" in out
    assert "category scheme: vics\n" in out
    assert "category '1': 4 hashes, shown as csam\n" in out
    assert "problems: none found\n" in out


def test_info_on_a_csv_set_reports_its_problems(tmp_path):
    garden = hashlib.md5((CASE2 / "garden.jpg").read_bytes()).hexdigest()
    kitchen = hashlib.md5((CASE2 / "kitchen.png").read_bytes()).hexdigest()
    known = tmp_path / "lab.csv"
    known.write_text(
        "# triage-hashset: scheme=vics\nid,category,md5\n"
        f"K-1,1,{garden}\nK-2,2,{garden.upper()}\nK-3,,{kitchen}\n"
    )
    proc = info(known)
    assert proc.returncode == 0, proc.stderr
    assert "category scheme: vics (declared in the set)\n" in proc.stdout
    assert "category '1': 1 hash, shown as csam\n" in proc.stdout
    assert "category '2': 1 hash, shown as child-exploitive\n" in proc.stdout
    assert (
        "problems: 1 hash without a category; 1 hash listed more than once;"
        " 1 hash listed under two or more categories\n"
    ) in proc.stdout


def test_info_on_an_nsrl_database_and_on_a_broken_set(tmp_path):
    proc = info(DATA / "nsrl-rdsv3.db")
    assert proc.returncode == 0, proc.stderr
    assert "format: nsrl-rdsv3\n" in proc.stdout and "hashes: 9 (md5 3, sha1 3, sha256 3)\n" in proc.stdout
    proc = info(DATA / "malformed.txt")
    assert proc.returncode == 2 and proc.stderr.startswith("triage: error: ")
    assert proc.stderr.count("\n") == 1 and "line 7" in proc.stderr
