"""The example evidence under examples/evidence/ (built by examples/make_example.py) opens as documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.evidence import open_evidence, read_entry

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "evidence"


def test_case1_disk():
    if not (EXAMPLES / "case1.dd").exists():
        pytest.skip("examples/evidence/case1.dd not built (python examples/make_example.py)")
    ev = open_evidence(EXAMPLES / "case1.dd", "CASE1")
    entries = list(ev.entries())
    assert len(entries) == 10
    assert [e.path for e in entries if e.deleted] == ["/DCIM/100TRIP/_arbour.jpg"]
    deleted = next(e for e in entries if e.deleted)
    assert b"".join(read_entry(deleted.ref))[:3] == b"\xff\xd8\xff"


def test_case2_folder():
    if not (EXAMPLES / "case2").is_dir():
        pytest.skip("examples/evidence/case2 not built (python examples/make_example.py)")
    ev = open_evidence(EXAMPLES / "case2", "CASE2")
    assert sorted(e.path for e in ev.entries()) == [
        "/garden.jpg",
        "/holiday/lake.jpg",
        "/kitchen.png",
        "/readme.txt",
    ]
