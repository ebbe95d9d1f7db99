"""Helpers for the damaged-evidence tests: where the fixtures are, a scan through the real
command line, and read-only queries of the case it made."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DAMAGED = REPO / "tests" / "data" / "damaged"
CORPUS = REPO / ".." / "shared" / "testdata" / "disk"
EXPECTED = json.loads((DAMAGED / "expected.json").read_text())


def run_scan(evidence: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "triage", "scan", str(evidence), "--out", str(out)]
    cmd += ["--case-number", "C-12", "--examiner", "J. Doe", "--jobs", "1", "--no-evidence-hash", *extra]
    cmd += [] if "--hashset" in extra else ["--inventory-only"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def case_rows(out: Path, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{out / 'case.sqlite'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()
