"""Large cases write their reports in parallel, one process each (triage.reports.PARALLEL_FILES):
the bytes must be those the sequential writer gives, and a writer that fails still fails alone."""

from __future__ import annotations

import shutil
from pathlib import Path

from triage.case.store import CaseStore
from triage.reports import WRITERS, write_reports

FORMATS = ("html", "json", "csv", "dfxml", "case", "vics")


def _reports(case_dir: Path) -> dict[str, bytes]:
    names = {name for name, _ in WRITERS.values()}
    return {p.name: p.read_bytes() for p in sorted(case_dir.iterdir()) if p.name in names}


def test_parallel_reports_are_the_sequential_bytes(case_dir, tmp_path, monkeypatch):
    twin = tmp_path / "twin"
    shutil.copytree(case_dir, twin)
    with CaseStore.open(case_dir) as store:
        write_reports(case_dir, store, FORMATS)
    monkeypatch.setattr("triage.reports.PARALLEL_FILES", 0)
    calls: list[str] = []
    real = __import__("triage.reports", fromlist=["_write_parallel"])._write_parallel

    def spy(folder, keys):
        calls.append(",".join(keys))
        return real(folder, keys)

    monkeypatch.setattr("triage.reports._write_parallel", spy)
    with CaseStore.open(twin) as store:
        paths = write_reports(twin, store, FORMATS)
    assert calls, "the parallel writer was not used"
    assert [p.name for p in paths][-1] == "MANIFEST.sha256"
    sequential, parallel = _reports(case_dir), _reports(twin)
    assert len(sequential) == 7 and sequential == parallel
    # the audit event lists the same report digests
    with CaseStore.open(case_dir) as a, CaseStore.open(twin) as b:
        first = [e["details"]["files"] for e in a.audit_events() if e["action"] == "report written"]
        second = [e["details"]["files"] for e in b.audit_events() if e["action"] == "report written"]
    assert first == second
