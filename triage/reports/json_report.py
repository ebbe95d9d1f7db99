"""report.json: the whole case as one JSON document (format ``triage-report/1``).

The document is built only from the case store, in an order fixed by the stored content, with no
"generated at" time (the case's own times are used), so the same store always gives the same
bytes and a second examiner can reproduce the report. Names that are not valid Unicode show their
undecodable bytes as ``\\xNN``; the ``location`` of each file is the exact, parseable address.
The format is described by ``docs/report-schema.json``; the HTML report renders this same model,
so the two can never disagree.
"""

from __future__ import annotations

import json
from typing import Any

from triage.case.codec import safe_value
from triage.case.store import CaseStore
from triage.records import HashSetInfo

SCHEMA = "triage-report/1"

FILE_FIELDS: tuple[str, ...] = (
    "evidence_id", "location", "path", "size", "deleted", "flags", "inode", "mtime", "atime", "ctime",
    "crtime", "status", "media_type", "media_kind", "width", "height", "md5", "sha1", "sha256", "pdq",
    "pdq_quality", "phash", "error",
)  # fmt: skip
MATCH_FIELDS: tuple[str, ...] = (
    "location", "evidence_id", "path", "size", "deleted", "md5", "sha1", "sha256", "kind", "algorithm",
    "distance", "hashset", "entry_id", "category", "name", "file_hash", "known_hash",
)  # fmt: skip
ERROR_FIELDS: tuple[str, ...] = ("location", "evidence_id", "message")
EVIDENCE_FIELDS: tuple[str, ...] = (
    "id", "source", "kind", "size", "segments", "md5", "sha1", "sha256", "stored_md5", "stored_sha1",
    "verification", "volumes",
)  # fmt: skip


def _pick(row: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: row.get(f) for f in fields}


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    deps = tool.get("dependencies") or {}
    return {
        "name": tool.get("name", "triage"),
        "version": tool.get("version"),
        "dependencies": {k: deps[k] for k in sorted(deps)},
        "python": tool.get("python"),
        "platform": tool.get("platform"),
    }


def _evidence(item: dict[str, Any]) -> dict[str, Any]:
    out = _pick(item, EVIDENCE_FIELDS)
    out["details"] = dict(sorted(item["details"]))
    return out


def _hashset(h: HashSetInfo) -> dict[str, Any]:
    return {
        "path": h.path,
        "name": h.name,
        "sha256": h.sha256,
        "format": h.format,
        "entries": h.entries,
        "counts": dict(sorted(h.counts)),
    }


def build_report(store: CaseStore) -> dict[str, Any]:
    """The report model: plain JSON-ready data in a fixed order."""
    case = store.case_info()
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "tool": _tool(store.tool()),
        "case": {
            "case_number": case.case_number,
            "examiner": case.examiner,
            "agency": case.agency,
            "notes": case.notes,
            "extra": dict(sorted(case.extra)),
        },
        "started_at": store.started_at,
        "finished_at": store.finished_at,
        "command_line": store.command_line(),
        "settings": store.settings(),
        "stages": store.stages(),
        "evidence": [_evidence(e) for e in store.evidence()],
        "hashsets": [_hashset(h) for h in store.hashsets()],
        "summary": store.summary(),
        "files": [_pick(f, FILE_FIELDS) for f in store.iter_files()],
        "matches": [_pick(m, MATCH_FIELDS) for m in store.iter_matches()],
        "errors": [_pick(e, ERROR_FIELDS) for e in store.errors()],
    }
    return safe_value(report)


def dumps_report(report: dict[str, Any]) -> bytes:
    """Stable bytes: key order as built (settings sorted), two-space indent, UTF-8, final newline."""
    return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def render(store: CaseStore) -> bytes:
    return dumps_report(build_report(store))
