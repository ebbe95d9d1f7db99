"""A digest of the findings themselves, for the audit log to commit to (#12).

The manifest covers the case folder's files and the audit log is hash-chained, but both are
rewritten or extended by ``triage report``: a row deleted from ``case.sqlite`` with sqlite3 and a
re-render used to leave a case that verified "intact". At "scan finished" the audit event now
records :func:`findings_digest` of the rows that are the findings (files, matches, errors);
``triage verify`` recomputes it from the store and names the table that differs.

Canonical and independent of the physical order of the rows: a first line lists the table's
columns sorted by name, then each row is one compact ASCII JSON array of its values in that
column order (text, integer, real as Python's shortest repr, NULL as null, a BLOB as
``{"blob": hex}``), rows in primary-key order (the ids are part of the rows, so the order is that
of the content); the table's digest is the SHA-256 of those lines, each ending in a newline.
``version`` names this recipe, so a later recipe can be told apart from a changed case. About 2x
the time of a bare ``SELECT *``: 5 s for 200,000 files on a loaded 2-core machine.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

VERSION = 1
#: What the digest covers: name in the audit event -> table (each has an ``id`` primary key).
TABLES: tuple[tuple[str, str], ...] = (("files", "entries"), ("matches", "matches"), ("errors", "errors"))


def _blob(value: object) -> object:
    """JSON for what the encoder cannot write itself: a BLOB (evidence-controlled names and
    error texts that were not valid text are stored as BLOBs)."""
    if isinstance(value, bytes):
        return {"blob": value.hex()}
    raise TypeError(f"not a database value: {type(value).__name__}")


def table_digest(conn: sqlite3.Connection, table: str) -> tuple[int, str]:
    """``(rows, sha256 hex)`` of one table's rows, as described above."""
    names = sorted(r[1] for r in conn.execute(f"PRAGMA table_info({table})"))  # names from TABLES
    columns = ", ".join(f'"{name}"' for name in names)
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples, whatever the connection's row factory
    encode = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), default=_blob).encode
    sha = hashlib.sha256(encode(names).encode("ascii") + b"\n")  # the columns, then each row
    rows = 0
    for row in cursor.execute(f"SELECT {columns} FROM {table} ORDER BY id"):
        sha.update(encode(row).encode("ascii") + b"\n")
        rows += 1
    return rows, sha.hexdigest()


def findings_digest(conn: sqlite3.Connection) -> dict[str, Any]:
    """``{"version": 1, "files": {"rows": n, "sha256": hex}, "matches": ..., "errors": ...}``."""
    digest: dict[str, Any] = {"version": VERSION}
    for name, table in TABLES:
        rows, sha = table_digest(conn, table)
        digest[name] = {"rows": rows, "sha256": sha}
    return digest


def compare(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """One line per table whose rows differ from what the audit log recorded."""
    if recorded.get("version") != current.get("version"):
        return [f"findings digest version {recorded.get('version')!r} is not one this triage computes"]
    problems = []
    for name, table in TABLES:
        was, now = recorded.get(name) or {}, current[name]
        if was != now:
            rows = f"{was.get('rows')} rows recorded, {now['rows']} now"
            problems.append(f"the {table} table differs from the digest the audit log recorded ({rows})")
    return problems
