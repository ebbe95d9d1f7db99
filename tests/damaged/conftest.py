"""Damaged evidence for issue #12: the fixtures of tests/data/damaged (made by
tests/data/make_damaged_images.py), decompressed per test, and the corpus images cut short."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAMAGED = REPO / "tests" / "data" / "damaged"
CORPUS = REPO / ".." / "shared" / "testdata" / "disk"
EXPECTED = json.loads((DAMAGED / "expected.json").read_text())


@pytest.fixture
def damaged(tmp_path: Path):
    """``damaged("ntfs_half.dd")``: the fixture, decompressed into the test's folder."""

    def make(name: str) -> Path:
        out = tmp_path / name
        out.write_bytes(gzip.decompress((DAMAGED / f"{name}.gz").read_bytes()))
        return out

    return make


@pytest.fixture
def cut_corpus(tmp_path: Path):
    """``cut_corpus("dfvfs/ext2.vmdk")``: the first half of a corpus image (a partial copy)."""

    def make(rel: str) -> Path:
        src = CORPUS / rel
        if not src.is_file():
            pytest.skip(f"corpus image {rel} absent (../shared/testdata)")
        data = src.read_bytes()
        out = tmp_path / f"half_{src.name}"
        out.write_bytes(data[: len(data) // 2])
        return out

    return make


def run_scan(evidence: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "triage", "scan", str(evidence), "--out", str(out)]
    cmd += ["--case-number", "C-12", "--examiner", "J. Doe", "--jobs", "1", "--no-evidence-hash", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def case_rows(out: Path, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{out / 'case.sqlite'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()
