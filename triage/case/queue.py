"""What a scan reads back from its case store to hand out work: the pending entries in the
order to read them, and their references in batches.

Kept apart from the writing side of :class:`triage.case.store.CaseStore` (which mixes it in)
because it only reads: small, integer-only results, so the parent holds little per file for
millions of files.
"""

from __future__ import annotations

import json
import sqlite3
from array import array
from collections.abc import Iterable, Sequence

from triage.case.codec import ENTRY_COLUMNS, ref_from_json, row_entry
from triage.records import Entry, EntryRef


class WorkQueue:
    """Read-only queries over the ``entries`` table of an open case (``self._conn``)."""

    _conn: sqlite3.Connection

    def pending_order(self) -> list[tuple[int, int, tuple[str, ...]]]:
        """``(id, size, flags)`` of every pending entry, largest first (then walk order): small
        enough to hold for millions of entries, unlike the entries themselves."""
        rows = self._conn.execute(
            "SELECT id, size, flags FROM entries WHERE state = 0 ORDER BY size DESC, id"
        ).fetchall()
        return [(r["id"], r["size"], tuple(json.loads(r["flags"]))) for r in rows]

    def read_order(self, small: int, unread: Iterable[str] = ()) -> tuple[array[int], array[int]]:
        """The pending entries as two arrays of ids: those to read, in the order to read them, and
        those whose content must not be read (any of the ``unread`` flags, see the pipeline).

        Entries over ``small`` bytes come first, largest first (the long jobs start early and
        the short ones fill the gaps); then the small ones in disk order as far as the listing
        knows it: by file system, then meta address (inode, MFT entry), which file systems
        allocate roughly in step with their data and whose metadata blocks TSK then reads in
        sequence. Folder files carry their inode number too. Arrays, not lists of tuples: two
        integers' worth of memory per file, for millions of files."""
        to_read, unreadable = array("q"), array("q")
        flags = sorted(set(unread))
        skip = " OR ".join("flags LIKE ?" for _ in flags) or "0"
        rows = self._conn.execute(
            f"SELECT id, {skip} FROM entries WHERE state = 0"
            " ORDER BY CASE WHEN size > ? THEN size ELSE -1 END DESC, evidence_id,"
            " json_extract(ref, '$.volume_offset'), json_extract(ref, '$.volume_index'),"
            " json_extract(ref, '$.inode'), id",
            (*(f'%"{flag}"%' for flag in flags), small),
        )
        for entry_id, flagged in rows:
            (unreadable if flagged else to_read).append(entry_id)
        return to_read, unreadable

    def entries_by_id(self, ids: Sequence[int]) -> list[tuple[int, Entry]]:
        """The entries with these ids, in the order given (read back in batches by the pipeline)."""
        cols = ", ".join(ENTRY_COLUMNS)
        found: dict[int, Entry] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            for r in self._conn.execute(f"SELECT id, {cols} FROM entries WHERE id IN ({marks})", chunk):
                found[r["id"]] = row_entry(r)
        return [(i, found[i]) for i in ids if i in found]

    def refs_by_id(self, ids: Sequence[int]) -> list[tuple[int, int, EntryRef]]:
        """``(id, size, ref)`` of these entries in the order given: all a work item needs, read
        without building whole entries."""
        return [(i, size, ref_from_json(text)) for i, size, text in self.ref_texts_by_id(ids)]

    def ref_texts_by_id(self, ids: Sequence[int]) -> list[tuple[int, int, str]]:
        """``(id, size, ref as stored JSON)`` of these entries in the order given: small files'
        references go to the workers as this text, decoded there (see ``HashBatch``)."""
        found: dict[int, tuple[int, int, str]] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            for r in self._conn.execute(f"SELECT id, size, ref FROM entries WHERE id IN ({marks})", chunk):
                found[r[0]] = (r[0], r[1], r[2])
        return [found[i] for i in ids if i in found]
