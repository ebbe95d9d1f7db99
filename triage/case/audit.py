"""The hash-chained audit log: ``audit.jsonl``, one JSON event per line, each naming the previous.

Every line carries ``prev_sha256``, the SHA-256 of the previous line's exact bytes (without its
newline; 64 zeros for the first line), so changing, removing, inserting or reordering any line
breaks the chain at a line that :func:`verify_chain` names. Lines are canonical JSON (sorted keys,
compact separators, UTF-8 with ``ensure_ascii=False``) so the check can also refuse a line that was
re-encoded. The file is only ever appended to, and every event is flushed and fsync'ed before the
call returns: an event that was reported as written survives a crash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path, PurePath
from typing import Any

from triage.case.codec import safe_value
from triage.errors import CaseError

GENESIS = "0" * 64
EVENT_KEYS = frozenset({"seq", "time", "action", "details", "prev_sha256"})


def line_sha256(line: str) -> str:
    """SHA-256 of one line's exact UTF-8 bytes, without its newline."""
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    """JSON-ready form of common values given as event details (paths, records)."""
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def encode_event(seq: int, time: str, action: str, details: dict[str, Any], prev_sha256: str) -> str:
    """The canonical line for one event (no newline)."""
    event = {"seq": seq, "time": time, "action": action, "details": details, "prev_sha256": prev_sha256}
    try:
        # Round-trip first so Paths/records become plain JSON, then make odd code points printable.
        plain = json.loads(json.dumps(event, default=_plain))
    except (TypeError, ValueError) as e:
        raise CaseError(f"audit event {action!r} has details that are not JSON: {e}") from e
    return canonical(safe_value(plain))


def canonical(event: dict[str, Any]) -> str:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def append_line(path: Path, line: str) -> None:
    """Append one line and make it durable before returning."""
    try:
        with open(path, "ab") as fh:
            fh.write(line.encode("utf-8") + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as e:
        raise CaseError(f"cannot append to the audit log {path}: {e}") from e


def read_lines(path: Path) -> list[str]:
    """The log's lines without newlines (a missing file has none). A torn last line is kept."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as e:
        raise CaseError(f"cannot read the audit log {path}: {e}") from e
    if not data:
        return []
    parts = data.split(b"\n")
    if parts[-1] == b"":
        parts.pop()
    return [p.decode("utf-8", "surrogateescape") for p in parts]


def check_line(line: str, number: int, prev_sha256: str) -> str | None:
    """Why line ``number`` (1-based) does not continue the chain, or ``None`` when it does."""
    try:
        line.encode("utf-8")
        event = json.loads(line)
    except (UnicodeEncodeError, ValueError):
        return "not valid UTF-8 JSON"
    if not isinstance(event, dict) or set(event) != EVENT_KEYS:
        return f"not an audit event (keys must be {sorted(EVENT_KEYS)})"
    if canonical(event) != line:
        return "not in canonical form (the line was re-encoded or edited)"
    if event["seq"] != number:
        return f"sequence number {event['seq']!r}, expected {number}"
    if event["prev_sha256"] != prev_sha256:
        if number == 1:
            return "prev_sha256 of the first line must be 64 zeros (lines were removed before it)"
        return f"prev_sha256 does not match line {number - 1} (it was changed, or a line removed or inserted)"
    if not isinstance(event["action"], str) or not isinstance(event["details"], dict):
        return "action must be text and details an object"
    return None


def lost_lines(stored: list[str], lines: list[str]) -> list[str]:
    """Lines of the file past the ``stored`` ones (the audit table) that extend its chain exactly:
    what a crash between the fsync'ed append and the row's commit leaves. Anything else is left
    alone for verification to report."""
    if len(lines) <= len(stored) or lines[: len(stored)] != stored:
        return []
    prev = line_sha256(stored[-1]) if stored else GENESIS
    lost = []
    for number, line in enumerate(lines[len(stored) :], start=len(stored) + 1):
        if check_line(line, number, prev):
            break
        lost.append(line)
        prev = line_sha256(line)
    return lost


def verify_chain(path: Path) -> tuple[bool, int | None, str]:
    """Check the whole log: ``(ok, first bad line number or None, message)``."""
    path = Path(path)
    if not path.exists():
        return False, None, f"{path.name} is missing"
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        count = data.count(b"\n") + 1
        return False, count, f"{path.name} line {count}: incomplete last line (no newline)"
    prev = GENESIS
    lines = read_lines(path)
    for number, line in enumerate(lines, start=1):
        problem = check_line(line, number, prev)
        if problem:
            return False, number, f"{path.name} line {number}: {problem}"
        prev = line_sha256(line)
    return True, None, f"{path.name}: {len(lines)} events, chain intact"
