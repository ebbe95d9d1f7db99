"""verify_case on a real case folder: intact passes; every kind of change is named."""

from __future__ import annotations

import hashlib
import json

import pytest

from triage.case.store import CaseStore
from triage.reports import verify_case, write_reports
from triage.reports.manifest import MANIFEST


@pytest.fixture
def written(case_dir):
    with CaseStore.open(case_dir) as store:
        write_reports(case_dir, store)
    return case_dir


def _folder_digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_intact_case_verifies_and_verify_changes_nothing(written):
    before = _folder_digest(written)
    result = verify_case(written)
    assert result.ok, result.problems
    assert result.problems == []
    assert _folder_digest(written) == before


def test_a_case_without_a_findings_digest_says_not_recorded(written):
    """A store without a "scan finished" event that records the digest (an earlier triage's)."""
    result = verify_case(written)
    assert result.ok and result.notes == [
        "findings digest: not recorded (a case from an earlier triage, or an unfinished scan)"
    ]


def test_one_changed_byte_in_the_html_report_is_named(written):
    path = written / "report.html"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    result = verify_case(written)
    assert not result.ok
    assert result.problems == ["report.html: changed (its SHA-256 differs from MANIFEST.sha256)"]


def test_edited_audit_line_is_named(written):
    path = written / "audit.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    event = json.loads(lines[1])
    assert event["action"] == "scan started"
    event["details"]["options"]["jobs"] = 64
    lines[1] = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    result = verify_case(written)
    assert not result.ok
    assert "audit.jsonl: changed (its SHA-256 differs from MANIFEST.sha256)" in result.problems
    assert any(p.startswith("audit.jsonl line 2: differs from the audit table") for p in result.problems)
    assert any(p.startswith("audit.jsonl line 3: prev_sha256") for p in result.problems)  # the chain breaks


def test_removed_file_is_named(written):
    (written / "report.json").unlink()
    result = verify_case(written)
    assert result.problems == ["report.json: missing (listed in MANIFEST.sha256)"]


def test_extra_file_is_named(written):
    (written / "notes.txt").write_text("added later\n")
    result = verify_case(written)
    assert result.problems == ["notes.txt: extra file, not in MANIFEST.sha256"]


def test_changed_database_is_named(written):
    with CaseStore.open(written) as store:
        store.record_error(None, "EV1", "an error added after the report")
    result = verify_case(written)
    assert result.problems == ["case.sqlite: changed (its SHA-256 differs from MANIFEST.sha256)"]


def test_missing_manifest_is_named(written):
    (written / MANIFEST).unlink()
    assert verify_case(written).problems == ["MANIFEST.sha256: missing"]


def test_audit_event_added_without_a_new_manifest_is_named(written):
    with CaseStore.open(written) as store:
        store.audit("late event")
    problems = verify_case(written).problems
    assert "audit.jsonl: changed (its SHA-256 differs from MANIFEST.sha256)" in problems
    assert "case.sqlite: changed (its SHA-256 differs from MANIFEST.sha256)" in problems
