"""The case store: one SQLite database per case folder, written only by the scan pipeline.

Why these choices:

* One transaction per call (a batch of entries, a batch of results) in rollback-journal mode
  (``journal_mode=DELETE``, ``synchronous=FULL``): a scan killed at any moment leaves the last
  committed batch and nothing half-written. The next open rolls a hot journal back, and a closed
  case folder holds only ``case.sqlite`` (no ``-wal``/``-shm`` files to forget when copying).
* :meth:`CaseStore.create` refuses a folder that already holds a case: a previous run's database
  and audit log are evidence of what was done, and are never overwritten.
* Every audit event goes to the ``audit`` table and to the hash-chained ``audit.jsonl``; the file
  line is fsync'ed inside the table's transaction, so a crash can at worst leave one durable line
  the table lacks, which :meth:`open` copies back in.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from triage.case import audit as auditlog
from triage.case.codec import dumps, entry_row, match_row, to_db, variant_row
from triage.case.db import (
    INSERT_AUDIT,
    INSERT_ENTRY,
    INSERT_FRAME,
    INSERT_MATCH,
    UPDATE_RESULT,
    UPDATE_VARIANTS,
    audit_row,
    connect,
    schema_sql,
)
from triage.case.queue import WorkQueue
from triage.case.reading import CaseReader
from triage.errors import CaseError
from triage.records import CaseInfo, Entry, EvidenceInfo, FileHashes, HashSetInfo, Match
from triage.timeutil import now_utc

CASE_DB = "case.sqlite"
AUDIT_LOG = "audit.jsonl"
SCHEMA_NAME = "triage-case"
SCHEMA_VERSION = 5
VERIFICATIONS = ("verified", "mismatch", "none stored", "not computed")


class CaseStore(CaseReader, WorkQueue):
    """A case folder's database and audit log. Use :meth:`create` or :meth:`open`, then :meth:`close`."""

    def __init__(self, case_dir: Path, conn: sqlite3.Connection, *, read_only: bool = False) -> None:
        self.case_dir = case_dir
        self.read_only = read_only
        self._conn = conn
        self._audit_path = case_dir / AUDIT_LOG

    @classmethod
    def create(
        cls, case_dir: Path, case: CaseInfo, *, command_line: Sequence[str], tool: dict[str, Any]
    ) -> CaseStore:
        """A new case in ``case_dir`` (created if needed). Never overwrites a previous case."""
        case_dir = Path(case_dir)
        made = [p for p in (case_dir, *case_dir.parents) if not p.exists()]
        try:
            case_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise CaseError(f"cannot create the case folder {case_dir}: {e}") from e
        for name in (CASE_DB, CASE_DB + "-journal", AUDIT_LOG):
            if (case_dir / name).exists():
                raise CaseError(
                    f"{case_dir} already holds a case ({name}); choose a new case folder,"
                    " a previous run's records are never overwritten"
                )
        if any(case_dir.iterdir()):
            # The manifest covers every file in the folder: unrelated files must not be in it.
            raise CaseError(f"{case_dir} is not empty; give a new or empty folder for the case")
        try:
            return cls._initialise(case_dir, case, command_line, tool)
        except BaseException:
            # A full disk (or Ctrl-C) part-way: take back what this call made, so no empty
            # case.sqlite is left for a later run to trip over (#12). The folder was empty.
            _remove_made(case_dir, made)
            raise

    @classmethod
    def _initialise(
        cls, case_dir: Path, case: CaseInfo, command_line: Sequence[str], tool: dict[str, Any]
    ) -> CaseStore:
        conn = connect(case_dir / CASE_DB, "rwc")
        store = cls(case_dir, conn)
        try:
            # The script opens the transaction; the inserts below join it, so a crash during
            # creation leaves an empty database that open() refuses, never a half-made case.
            conn.executescript("BEGIN IMMEDIATE;\n" + schema_sql())
            conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [("schema", SCHEMA_NAME), ("schema_version", str(SCHEMA_VERSION))],
            )
            conn.execute(
                "INSERT INTO case_info (id, case_number, examiner, agency, notes, extra, command_line, tool,"
                " started_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
                (case.case_number, case.examiner, case.agency, case.notes,
                 dumps([list(p) for p in case.extra]), dumps(list(command_line)), dumps(tool), now_utc()),
            )  # fmt: skip
            conn.execute("COMMIT")
            store.audit(
                "case created",
                case_number=case.case_number,
                examiner=case.examiner,
                command_line=list(command_line),
                tool_version=tool.get("version"),
            )
        except (sqlite3.Error, TypeError, ValueError) as e:
            conn.close()
            raise CaseError(f"cannot create the case database in {case_dir}: {e}") from e
        except BaseException:
            conn.close()
            raise
        return store

    @classmethod
    def open(cls, case_dir: Path, *, read_only: bool = False) -> CaseStore:
        """An existing case. A hot journal left by a killed scan is rolled back (unless read-only)."""
        case_dir = Path(case_dir)
        db = case_dir / CASE_DB
        if not db.is_file():
            raise CaseError(f"{case_dir} is not a triage case folder (no {CASE_DB})")
        conn = connect(db, "ro" if read_only else "rw")
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error as e:
            conn.close()
            raise CaseError(f"{db} is not a triage case database: {e}") from e
        if meta.get("schema") != SCHEMA_NAME:
            conn.close()
            raise CaseError(f"{db} is not a triage case database")
        if meta.get("schema_version") != str(SCHEMA_VERSION):
            conn.close()
            version = meta.get("schema_version")
            raise CaseError(f"{db} has case schema version {version}; this triage reads {SCHEMA_VERSION}")
        store = cls(case_dir, conn, read_only=read_only)
        if not read_only:
            store._recover_audit()
        return store

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> CaseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; any failure rolls it back whole and surfaces as CaseError."""
        if self.read_only:
            raise CaseError(f"the case in {self.case_dir} was opened read-only")
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise CaseError(f"cannot write to the case database: {e}") from e
        try:
            yield self._conn
            self._conn.execute("COMMIT")
        except BaseException as e:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            if isinstance(e, sqlite3.Error | TypeError | ValueError):
                raise CaseError(f"case database write failed and was rolled back: {e}") from e
            raise

    # ------------------------------------------------------------------ writing (pipeline)

    def set_setting(self, key: str, value: object) -> None:
        try:
            text = dumps(value)
        except (TypeError, ValueError) as e:
            raise CaseError(f"setting {key!r} is not JSON-serialisable: {e}") from e
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, text))

    def stage(self, name: str, started_at: str, finished_at: str | None) -> None:
        """Record (or update) when a stage ran, in UTC."""
        with self._tx() as c:
            c.execute(
                "INSERT INTO stages (name, started_at, finished_at) VALUES (?, ?, ?) ON CONFLICT (name)"
                " DO UPDATE SET started_at = excluded.started_at, finished_at = excluded.finished_at",
                (name, started_at, finished_at),
            )

    def add_evidence(self, info: EvidenceInfo) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO evidence (evidence_id, source, kind, size, segments, stored_md5, stored_sha1,"
                " details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (info.evidence_id, to_db(info.source), info.kind, info.size, dumps(list(info.segments)),
                 info.stored_md5, info.stored_sha1, dumps([list(p) for p in info.details])),
            )  # fmt: skip
            c.executemany(
                "INSERT INTO volumes (evidence_id, idx, label, offset, length, description, fs_type, error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(info.evidence_id, i, v.label, v.offset, v.length, v.description, v.fs_type, v.error)
                 for i, v in enumerate(info.volumes)],
            )  # fmt: skip

    def set_evidence_hashes(
        self, evidence_id: str, *, md5: str | None, sha1: str | None, sha256: str | None, verification: str
    ) -> None:
        if verification not in VERIFICATIONS:
            raise CaseError(f"verification must be one of {VERIFICATIONS}, not {verification!r}")
        with self._tx() as c:
            cur = c.execute(
                "UPDATE evidence SET md5 = ?, sha1 = ?, sha256 = ?, verification = ? WHERE evidence_id = ?",
                (md5, sha1, sha256, verification, evidence_id),
            )
            if cur.rowcount != 1:
                raise CaseError(f"no evidence {evidence_id!r} in this case")

    def add_hashset(self, info: HashSetInfo) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO hashsets (path, sha256, format, entries, counts, name, role, built_at,"
                " index_path, category_scheme) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (info.path, info.sha256, info.format, info.entries, dumps([list(p) for p in info.counts]),
                 info.name, info.role, info.built_at, info.index, info.category_scheme),
            )  # fmt: skip

    def add_entries(self, entries: Iterable[Entry]) -> list[int]:
        """Add a batch in one transaction; returns the new row ids in the given (walk) order."""
        count = 0

        def rows() -> Iterator[tuple[object, ...]]:
            nonlocal count
            for entry in entries:
                count += 1
                yield entry_row(entry)

        with self._tx() as c:
            # One executemany, fed as the entries come: ids are consecutive, since this connection
            # is the only writer and the transaction holds the write lock (a per-row execute cost
            # four times more).
            before = c.execute("SELECT IFNULL(MAX(id), 0) FROM entries").fetchone()[0]
            c.executemany(INSERT_ENTRY, rows())
            last, added = c.execute(
                "SELECT IFNULL(MAX(id), 0), COUNT(*) FROM entries WHERE id > ?", (before,)
            ).fetchone()
            if added != count or (count and last != before + count):
                raise CaseError(f"entries were not given consecutive ids after {before}")
        return list(range(before + 1, before + 1 + count))

    def record_results(self, results: Iterable[tuple[int, FileHashes, Sequence[Match]]]) -> None:
        """Store a batch of worker results in one transaction. A ``FileHashes.error`` is also listed
        among the case's errors.

        Statements go in with ``executemany`` per kind (results, errors, variants, frames,
        matches): most of a large disk's files have only the first, and one C loop over the batch
        costs a fraction of one Python-level ``execute`` per file."""
        batch = list(results)
        updates = [
            (h.size_read, h.md5, h.sha1, h.sha256, h.media_type, h.media_kind, h.width, h.height,
             h.pdq, h.pdq_quality, h.phash, to_db(h.error), entry_id)
            for entry_id, h, _ in batch
        ]  # fmt: skip
        errors = [(to_db(h.error), entry_id) for entry_id, h, _ in batch if h.error]
        variants = [
            variant_row(entry_id, h)
            for entry_id, h, _ in batch
            if h.orientation or h.pdq_variants or h.pdq_cropped or h.dhash or h.ahash or h.whash
        ]
        frames = [
            (entry_id, f.frame, f.timestamp, f.pdq, f.quality) for entry_id, h, _ in batch for f in h.frames
        ]
        matches = [match_row(entry_id, m) for entry_id, _, found in batch for m in found]
        with self._tx() as c:
            changed = c.executemany(UPDATE_RESULT, updates).rowcount
            if changed != len(updates):
                self._name_unsettled(c, [u[-1] for u in updates])
            for entry_id, h, _ in batch:
                if h.flags:  # rare: facts the worker found (a damaged chunk...), kept with the listing's
                    row = c.execute("SELECT flags FROM entries WHERE id = ?", (entry_id,)).fetchone()
                    merged = list(dict.fromkeys([*json.loads(row["flags"]), *h.flags]))
                    c.execute("UPDATE entries SET flags = ? WHERE id = ?", (dumps(merged), entry_id))
            c.executemany(
                "INSERT INTO errors (entry, evidence_id, location, message)"
                " SELECT id, evidence_id, location, ? FROM entries WHERE id = ?",
                errors,
            )
            c.executemany(UPDATE_VARIANTS, variants)
            c.executemany(INSERT_FRAME, frames)
            c.executemany(INSERT_MATCH, matches)

    @staticmethod
    def _name_unsettled(c: sqlite3.Connection, ids: Sequence[int]) -> None:
        """Raise for the first of ``ids`` that the batch's update did not settle (missing, given
        twice, or settled before); the caller's transaction is rolled back."""
        seen: set[int] = set()
        for entry_id in ids:
            row = c.execute("SELECT 1 FROM entries WHERE id = ?", (entry_id,)).fetchone()
            if row is None or entry_id in seen:
                break
            seen.add(entry_id)
        else:
            entry_id = ids[0]
        raise CaseError(f"entry {entry_id} is not in this case or already has results")

    def add_matches(self, found: Iterable[tuple[int, Match]]) -> None:
        """Matches found after hashing (derivative search), for entries already hashed."""
        with self._tx() as c:
            c.executemany(INSERT_MATCH, [match_row(entry_id, m) for entry_id, m in found])

    def record_error(
        self, entry_id: int | None, evidence_id: str | None, message: str, location: str | None = None
    ) -> None:
        """An error not carried by FileHashes (read error, worker timeout or crash, evidence warning).
        An entry with such an error is settled ("failed"): a resume does not send it again."""
        with self._tx() as c:
            if entry_id is not None:
                row = c.execute(
                    "SELECT evidence_id, location FROM entries WHERE id = ?", (entry_id,)
                ).fetchone()
                if row is None:
                    raise CaseError(f"entry {entry_id} is not in this case")
                evidence_id = evidence_id or row["evidence_id"]
                location = location or row["location"]
                c.execute("UPDATE entries SET state = 2 WHERE id = ? AND state = 0", (entry_id,))
            c.execute(
                "INSERT INTO errors (entry, evidence_id, location, message) VALUES (?, ?, ?, ?)",
                (entry_id, evidence_id, location, to_db(message)),
            )

    def drop_pending_members(self) -> int:
        """Delete pending archive members and return how many (for a resume). Members are added
        as entries when their archive's result arrives, but their results commit with the
        archive's; a scan killed in between leaves them pending beside their pending archive,
        which the resume hashes again and whose members it adds again."""
        rows = self._conn.execute("SELECT id, ref FROM entries WHERE state = 0").fetchall()
        ids = [(r["id"],) for r in rows if json.loads(r["ref"]).get("members")]
        with self._tx() as c:
            c.executemany("DELETE FROM entries WHERE id = ? AND state = 0", ids)
        return len(ids)

    def add_thumbnail(self, entry_id: int, mode: str, width: int, height: int, jpeg: bytes) -> None:
        """Store one matched picture's thumbnail (see :mod:`triage.scan.thumbnails`)."""
        with self._tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO thumbnails (entry, mode, width, height, jpeg) VALUES (?, ?, ?, ?, ?)",
                (entry_id, mode, width, height, jpeg),
            )

    def add_frame_thumbnails(
        self, entry_id: int, mode: str, frames: Sequence[tuple[int, float, int, int, bytes]]
    ) -> None:
        """Store one matched video's frame thumbnails, ``(frame, timestamp, width, height, jpeg)``
        each, in one transaction (see :mod:`triage.scan.thumbnails`)."""
        with self._tx() as c:
            c.executemany(
                "INSERT OR REPLACE INTO frame_thumbnails (entry, frame, timestamp, mode, width, height, jpeg)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(entry_id, frame, timestamp, mode, width, height, jpeg)
                 for frame, timestamp, width, height, jpeg in frames],
            )  # fmt: skip

    def finish(self, finished_at: str) -> None:
        with self._tx() as c:
            c.execute("CREATE INDEX IF NOT EXISTS entries_sha256 ON entries (sha256)")
            c.execute("CREATE INDEX IF NOT EXISTS entries_md5 ON entries (md5)")
            c.execute("UPDATE case_info SET finished_at = ? WHERE id = 1", (finished_at,))

    # ------------------------------------------------------------------ audit

    def audit(self, action: str, **details: object) -> dict[str, Any]:
        """Append one event to the audit table and to ``audit.jsonl``; returns the event.

        The line is made durable before the row commits. If the commit then fails (or Ctrl-C
        lands in between), the line is taken back out of the log, so the next event does not
        reuse its sequence number and the chain stays whole.
        """
        size_before = self._audit_path.stat().st_size if self._audit_path.exists() else 0
        seq = 0
        try:
            with self._tx() as c:
                last = c.execute("SELECT seq, line FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                seq = last["seq"] + 1 if last else 1
                prev = auditlog.line_sha256(last["line"]) if last else auditlog.GENESIS
                line = auditlog.encode_event(seq, now_utc(), action, dict(details), prev)
                c.execute(INSERT_AUDIT, audit_row(line))
                auditlog.append_line(self._audit_path, line)
        except BaseException:
            committed = seq and self._conn.execute("SELECT 1 FROM audit WHERE seq = ?", (seq,)).fetchone()
            if not committed and self._audit_path.exists() and self._audit_path.stat().st_size > size_before:
                with open(self._audit_path, "r+b") as f:
                    f.truncate(size_before)
                    os.fsync(f.fileno())
            raise
        return json.loads(line)

    def _recover_audit(self) -> None:
        """Copy back audit lines that reached the file but whose rows a crash lost."""
        lost = auditlog.lost_lines(self.audit_lines(), auditlog.read_lines(self._audit_path))
        if lost:
            with self._tx() as c:
                c.executemany(INSERT_AUDIT, [audit_row(line) for line in lost])


def _remove_made(case_dir: Path, made: Sequence[Path]) -> None:
    """Remove the files a failed :meth:`CaseStore.create` wrote into the (then empty) case folder,
    and the folders it created, innermost first, where they are empty again."""
    for name in (CASE_DB, CASE_DB + "-journal", CASE_DB + "-wal", CASE_DB + "-shm", AUDIT_LOG):
        with contextlib.suppress(OSError):
            (case_dir / name).unlink(missing_ok=True)
    for folder in made:
        with contextlib.suppress(OSError):
            folder.rmdir()
