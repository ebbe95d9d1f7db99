"""NIST NSRL RDSv3 SQLite databases (modern, minimal, ...), read in place.

The database is opened read-only and immutable (``file:...?mode=ro&immutable=1``): nothing is
written next to it (no journal, no WAL), nothing is converted, and rows stream from a cursor.
Recognised by the SQLite signature plus the RDSv3 names in the schema page (the ``DISTINCT_HASH``
view or a ``FILE`` table). ``DISTINCT_HASH`` (one row per distinct file: sha256, sha1, md5) is
read when present, since matching needs each hash once; otherwise the ``FILE`` table, whose
file name, size and package id are then kept (name, labels ``file_size``, ``package_id``).
Each row gives one KnownHash per hash; ``line`` is the row's ``rowid`` in ``FILE``, or its
1-based position in ``DISTINCT_HASH``. Entries are known-good files: category ``nsrl``.

Memory: every hash still becomes a KnownHash, so a full RDSv3 (hundreds of millions of FILE
rows) does not fit; the minimal set's DISTINCT_HASH is the practical input until lookups go to
the database directly (a later issue).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

from triage.errors import HashSetError
from triage.hashsets.base import HEX_DIGITS, Sniff, is_hex, shorten
from triage.hashsets.source import Source
from triage.records import KnownHash

SIGNATURE = b"SQLite format 3\x00"
CATEGORY = "nsrl"
_SCHEMA = re.compile(rb"DISTINCT_HASH|CREATE TABLE\s+[\"'`\[]?FILE\b", re.IGNORECASE)
_HASHES = ("sha256", "sha1", "md5")
_QUERIES = {
    "DISTINCT_HASH": "SELECT NULL, sha256, sha1, md5, NULL, NULL, NULL FROM DISTINCT_HASH",
    "FILE": "SELECT rowid, sha256, sha1, md5, file_name, file_size, package_id FROM FILE",
}
_FETCH = 10_000


def _connect(source: Source) -> sqlite3.Connection:
    uri = source.path.as_uri() + "?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True)


class Rdsv3Reader:
    name = "nsrl-rdsv3"
    description = "NIST NSRL RDSv3 SQLite database (DISTINCT_HASH view or FILE table), read in place"

    def detect(self, sniff: Sniff) -> bool:
        return sniff.head.startswith(SIGNATURE) and _SCHEMA.search(sniff.head) is not None

    def read(self, source: Source) -> Iterator[KnownHash]:
        before = source.stat_key()
        _check_size(source, before[0])
        try:
            db = _connect(source)
            try:
                yield from _rows(source, db)
            finally:
                db.close()
        except sqlite3.Error as e:
            raise HashSetError(f"{source.display}: not a readable SQLite database: {e}") from e
        if source.stat_key() != before:
            raise HashSetError(f"{source.display}: the file changed while it was being read")


def _check_size(source: Source, size: int) -> None:
    """A cut-short database may still open (SQLite reads missing pages as zeros); its header
    says how long it must be: page size (bytes 16-17) x page count (28-31), valid when the
    "version valid for" number (92) equals the change counter (24)."""
    head = source.head
    if len(head) < 100 or not head.startswith(SIGNATURE):
        raise HashSetError(f"{source.display}: expected an SQLite database header, found {head[:16]!r}")
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    if head[92:96] == head[24:28] and size < page_size * pages:
        expected = f"{page_size * pages} bytes ({pages} pages of {page_size})"
        raise HashSetError(f"{source.display}: expected {expected}, the file has {size} (cut short?)")


def _rows(source: Source, db: sqlite3.Connection) -> Iterator[KnownHash]:
    objects = {name.upper() for (name,) in db.execute("SELECT name FROM sqlite_master")}
    table = next((t for t in _QUERIES if t in objects), None)
    if table is None:
        raise HashSetError(
            f"{source.display}: an SQLite database without the RDSv3 DISTINCT_HASH view or FILE table"
        )
    category = CATEGORY
    cursor = db.execute(_QUERIES[table])
    position = 0
    while rows := cursor.fetchmany(_FETCH):
        for rowid, *hashes, file_name, file_size, package_id in rows:
            position += 1
            number = rowid if rowid is not None else position
            labels: tuple[tuple[str, str], ...] = ()
            if table == "FILE":
                labels = tuple(
                    (k, str(v))
                    for k, v in (("file_size", file_size), ("package_id", package_id))
                    if v is not None
                )
            for algorithm, raw in zip(_HASHES, hashes, strict=True):
                if raw is None or raw == "":
                    continue
                value = str(raw).strip().lower()
                if len(value) != HEX_DIGITS[algorithm] or not is_hex(value):
                    expected = f"a {algorithm} hash of {HEX_DIGITS[algorithm]} hex digits"
                    raise HashSetError(
                        f"{source.display} {table} row {number}: column {algorithm!r}: "
                        f"expected {expected}, found {shorten(str(raw))}"
                    )
                yield KnownHash(algorithm, value, None, category, file_name, labels, number)


READER = Rdsv3Reader()
