"""How the case store talks to SQLite: connection settings, the schema file and the statements.

Connections run in autocommit mode so that every transaction is explicit (one per batch), in
rollback-journal mode with full sync: a killed scan leaves only committed batches.
"""

from __future__ import annotations

import json
import sqlite3
from importlib import resources
from pathlib import Path

from triage.case.codec import ENTRY_COLUMNS, dumps
from triage.errors import CaseError

INSERT_ENTRY = (
    f"INSERT INTO entries ({', '.join(ENTRY_COLUMNS)}) VALUES ({', '.join('?' * len(ENTRY_COLUMNS))})"
)
INSERT_AUDIT = "INSERT INTO audit (seq, time, action, details, prev_sha256, line) VALUES (?, ?, ?, ?, ?, ?)"
#: state 1 "hashed"; 2 "failed": an error and no digest (read failure, worker crash or timeout).
UPDATE_RESULT = """
UPDATE entries SET state = CASE WHEN ?12 IS NOT NULL AND ?4 IS NULL AND ?2 IS NULL THEN 2 ELSE 1 END,
       size_read = ?1, md5 = ?2, sha1 = ?3, sha256 = ?4, media_type = ?5, media_kind = ?6,
       width = ?7, height = ?8, pdq = ?9, pdq_quality = ?10, phash = ?11, error = ?12
WHERE id = ?13 AND state = 0
"""
INSERT_MATCH = """
INSERT INTO matches (entry, kind, algorithm, distance, hashset, file_hash, known_hash, known_entry_id,
                     category, name, role, transform, video, derivative)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
#: Picture variants and the other hashes of schema 3, set with the result (same transaction).
UPDATE_VARIANTS = """
UPDATE entries SET orientation = ?, pdq_variants = ?, pdq_cropped = ?, pdq_cropped_quality = ?, crop_box = ?,
       dhash = ?, ahash = ?, whash = ?
WHERE id = ?
"""
INSERT_FRAME = "INSERT INTO frames (entry, frame, timestamp, pdq, quality) VALUES (?, ?, ?, ?, ?)"


def audit_row(line: str) -> tuple[object, ...]:
    e = json.loads(line)
    return (e["seq"], e["time"], e["action"], dumps(e["details"]), e["prev_sha256"], line)


def schema_sql() -> str:
    return resources.files("triage.case").joinpath("schema.sql").read_text(encoding="utf-8")


def connect(db: Path, mode: str) -> sqlite3.Connection:
    """Open ``db`` (``mode``: rwc creates, rw and ro never do) in autocommit mode: transactions are
    explicit, one per batch."""
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode={mode}", uri=True, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 10000")
        if mode != "ro":
            conn.execute("PRAGMA journal_mode = DELETE")
            conn.execute("PRAGMA synchronous = FULL")
            # 64 MiB of page cache (default 2 MiB): the entries table and its indexes of a large
            # disk stay in memory while results update them.
            conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as e:
        raise CaseError(f"cannot open the case database {db}: {e}") from e
    return conn
