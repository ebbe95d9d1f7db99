"""The hash-chained audit log: exact line format, chain checks, the table copy, crash recovery."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from triage.case import audit
from triage.case.store import CaseStore
from triage.errors import CaseError
from triage.records import CaseInfo

TOOL = {"name": "triage", "version": "0.1.0"}


@pytest.fixture
def store(tmp_path):
    s = CaseStore.create(tmp_path / "case", CaseInfo("C-1", "Ex"), command_line=["triage", "scan"], tool=TOOL)
    s.audit("scan started", options={"jobs": 2}, source=Path("/evidence/ü.dd"))
    s.audit("evidence opened", evidence_id="EV1", name="\u202egpj.exe", odd="bad\udcffbyte")
    yield s
    s.close()


def test_lines_are_canonical_and_chained(store):
    log = store.case_dir / "audit.jsonl"
    data = log.read_bytes()
    assert data.endswith(b"\n")
    lines = data.decode("utf-8").split("\n")[:-1]
    assert len(lines) == 3
    prev = "0" * 64
    for number, line in enumerate(lines, start=1):
        event = json.loads(line)
        assert list(event) == sorted(event) == ["action", "details", "prev_sha256", "seq", "time"]
        assert line == json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert event["seq"] == number and event["prev_sha256"] == prev and event["time"].endswith("Z")
        prev = hashlib.sha256(line.encode("utf-8")).hexdigest()
    assert json.loads(lines[0])["details"]["command_line"] == ["triage", "scan"]
    details = json.loads(lines[1])["details"]
    assert details == {"options": {"jobs": 2}, "source": "/evidence/ü.dd"}
    assert "ü" in lines[1]  # UTF-8, not \u escapes
    assert json.loads(lines[2])["details"]["odd"] == "bad\\xffbyte"
    assert audit.verify_chain(log) == (True, None, "audit.jsonl: 3 events, chain intact")


def test_audit_returns_the_event_and_the_table_holds_the_same_lines(store):
    event = store.audit("report written", files={"report.json": "0" * 64})
    assert event["seq"] == 4 and event["action"] == "report written"
    assert store.audit_events()[-1] == event
    assert store.audit_lines() == audit.read_lines(store.case_dir / "audit.jsonl")


def test_details_that_are_not_json_are_refused_and_nothing_is_written(store):
    before = (store.case_dir / "audit.jsonl").read_bytes()
    with pytest.raises(CaseError, match="not JSON"):
        store.audit("bad", thing=object())
    assert (store.case_dir / "audit.jsonl").read_bytes() == before
    assert len(store.audit_events()) == 3


def _rewrite(log: Path, index: int, change) -> None:
    lines = log.read_text(encoding="utf-8").splitlines()
    lines[index] = change(lines[index])
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_an_edited_line_breaks_the_chain_at_the_next_line(store):
    log = store.case_dir / "audit.jsonl"

    def edit(line: str) -> str:
        event = json.loads(line)
        event["details"]["options"]["jobs"] = 64
        return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    _rewrite(log, 1, edit)
    ok, bad, message = audit.verify_chain(log)
    assert (ok, bad) == (False, 3)
    assert message.startswith("audit.jsonl line 3: prev_sha256 does not match")


@pytest.mark.parametrize(
    "change, line, reason",
    [
        (lambda s: s.replace('"jobs":2', '"jobs": 2'), 2, "canonical"),  # re-encoded
        (lambda s: s.replace('"seq":2', '"seq":7'), 2, "sequence"),
        (lambda s: s[:-5], 2, "JSON"),
        (lambda s: '{"a":1}', 2, "not an audit event"),
    ],
)
def test_a_damaged_line_is_named(store, change, line, reason):
    log = store.case_dir / "audit.jsonl"
    _rewrite(log, line - 1, change)
    ok, bad, message = audit.verify_chain(log)
    assert (ok, bad) == (False, line) and reason in message


def test_removed_line_and_torn_tail_are_named(store):
    log = store.case_dir / "audit.jsonl"
    lines = log.read_bytes().split(b"\n")
    log.write_bytes(b"\n".join([lines[0], lines[2], b""]))
    assert audit.verify_chain(log)[:2] == (False, 2)
    log.write_bytes(b"\n".join(lines[:2]) + b"\n" + lines[2][:40])
    ok, bad, message = audit.verify_chain(log)
    assert (ok, bad) == (False, 3) and "incomplete" in message
    assert audit.verify_chain(log.with_name("missing.jsonl"))[0] is False


def test_open_recovers_a_line_whose_row_was_lost_in_a_crash(store):
    # What a crash between the fsync'ed append and the row's commit leaves behind.
    log = store.case_dir / "audit.jsonl"
    last = store.audit_lines()[-1]
    line = audit.encode_event(
        4, "2026-01-01T00:00:00Z", "scan interrupted", {"files_done": 3}, audit.line_sha256(last)
    )
    audit.append_line(log, line)
    store.close()
    with CaseStore.open(store.case_dir) as reopened:
        assert reopened.audit_lines()[-1] == line
        assert reopened.audit("next")["prev_sha256"] == audit.line_sha256(line)
    assert audit.verify_chain(log)[0]


def test_open_does_not_adopt_lines_that_do_not_chain(store):
    log = store.case_dir / "audit.jsonl"
    audit.append_line(log, audit.encode_event(4, "2026-01-01T00:00:00Z", "forged", {}, "f" * 64))
    store.close()
    with CaseStore.open(store.case_dir) as reopened:
        assert len(reopened.audit_lines()) == 3
