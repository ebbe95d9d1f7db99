"""Evidence hashed again after a scan (--verify-after): result and progress of the long read."""

import shutil
import subprocess
import sys
from pathlib import Path

from triage.case.store import CaseStore
from triage.evidence import open_evidence
from triage.scan.integrity import verify_after

DATA = Path(__file__).resolve().parent / "data"


def test_verify_after_reports_progress_and_unchanged(tmp_path):
    out = tmp_path / "case"
    proc = subprocess.run(
        [sys.executable, "-m", "triage", "scan", str(DATA / "mbr_fat_ext2.E01"), "--out", str(out),
         "--case-number", "C", "--examiner", "E", "-q", "--inventory-only"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    ev = open_evidence(DATA / "mbr_fat_ext2.E01", "EV1")
    calls: list[tuple[str, int, int]] = []
    with CaseStore.open(copy) as store:
        results = verify_after(store, [ev], on_bytes=lambda *a: calls.append(a))
    ev.close()
    assert results["EV1"]["result"] == "unchanged"
    assert calls and calls[-1] == ("EV1", ev.info.size, ev.info.size)
    assert [c[1] for c in calls] == sorted(c[1] for c in calls)
