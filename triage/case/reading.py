"""Read side of the case store: what the report writers see.

Every list comes back in an order that depends only on the stored content (locations, then the
values themselves), never on the order in which worker results happened to arrive, so the same
evidence gives the same report rows and the same store gives byte-identical reports.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

from triage.case import findings
from triage.case.codec import ENTRY_COLUMNS, from_db, loads, row_entry
from triage.records import CaseInfo, Entry, HashSetInfo

STATES = {0: "pending", 1: "hashed", 2: "failed"}

_FILES_SQL = """
SELECT id, evidence_id, location, path, size, deleted, flags, inode, mtime, atime, ctime, crtime,
       state, media_type, media_kind, width, height, md5, sha1, sha256, pdq, pdq_quality, phash, error,
       orientation, pdq_cropped, pdq_cropped_quality, crop_box, dhash, ahash, whash,
       (SELECT COUNT(*) FROM frames WHERE entry = entries.id) AS frames,
       (id IN (SELECT entry FROM matches WHERE role = 'ignore')
        AND id NOT IN (SELECT entry FROM matches WHERE role = 'alert')) AS known_good
FROM entries {where} ORDER BY location, id
"""

# Files matched by an alert set are for review; their matches are listed with every role, so a
# conflict (also matched by an ignore set) shows both sides. A file matched only by ignore
# sets is known good: counted, flagged in the file list, and not listed among the matches.
_ALERTED = "(SELECT entry FROM matches WHERE role = 'alert')"

# A *finding* is a file and one known entry, whatever number of its hashes agreed: the set's own
# entry id when it has one, else the entry's category and name (the algorithms of one unnamed row
# share both). The reports group per-algorithm match rows the same way (triage.reports.overview).
_FINDING = """entry, hashset, role, known_entry_id,
    CASE WHEN known_entry_id IS NULL THEN category END, CASE WHEN known_entry_id IS NULL THEN name END"""

_CONFLICTS_SQL = f"""
SELECT e.id AS file_id, e.location, e.evidence_id, e.path,
       (SELECT json_group_array(DISTINCT hashset) FROM (SELECT hashset FROM matches
         WHERE entry = e.id AND role = 'alert' ORDER BY hashset)) AS alert_hashsets,
       (SELECT json_group_array(DISTINCT hashset) FROM (SELECT hashset FROM matches
         WHERE entry = e.id AND role = 'ignore' ORDER BY hashset)) AS ignore_hashsets
FROM entries AS e
WHERE e.id IN {_ALERTED} AND e.id IN (SELECT entry FROM matches WHERE role = 'ignore')
ORDER BY e.location, e.id
"""

_MATCHES_SQL = """
SELECT e.location, e.evidence_id, e.path, e.size, e.deleted, e.md5, e.sha1, e.sha256,
       m.kind, m.algorithm, m.distance, m.hashset, m.known_entry_id, m.category, m.name,
       m.file_hash, m.known_hash, e.id AS file_id, m.role, m.transform, m.video, m.derivative
FROM matches AS m JOIN entries AS e ON e.id = m.entry
WHERE m.entry IN (SELECT entry FROM matches WHERE role = 'alert')
ORDER BY e.location, e.id, m.kind, m.algorithm, m.hashset, m.distance, m.known_hash,
         IFNULL(m.known_entry_id, ''), IFNULL(m.category, ''), IFNULL(m.name, ''), m.file_hash
"""

_ERRORS_SQL = """
SELECT entry, evidence_id, location, message FROM errors
ORDER BY location IS NOT NULL, location, IFNULL(evidence_id, ''), message, id
"""

_SUMMARY_SQL = f"""
SELECT COUNT(*) AS files,
       COUNT(media_kind) AS media_files,
       IFNULL(SUM(media_kind = 'picture'), 0) AS pictures,
       IFNULL(SUM(media_kind = 'video'), 0) AS videos,
       (SELECT COUNT(*) FROM (SELECT DISTINCT {_FINDING} FROM matches WHERE entry IN {_ALERTED}))
           AS matches,
       (SELECT COUNT(*) FROM matches WHERE entry IN {_ALERTED}) AS match_rows,
       (SELECT COUNT(DISTINCT entry) FROM matches WHERE role = 'alert') AS matched_files,
       (SELECT COUNT(DISTINCT entry) FROM matches WHERE role = 'ignore' AND entry NOT IN {_ALERTED})
           AS known_good,
       (SELECT COUNT(DISTINCT entry) FROM matches WHERE role = 'ignore' AND entry IN {_ALERTED})
           AS conflicts,
       (SELECT COUNT(*) FROM errors) AS errors,
       IFNULL(SUM(deleted), 0) AS deleted,
       IFNULL(SUM(size), 0) AS bytes,
       IFNULL(SUM(state = 0), 0) AS pending,
       COUNT(*) = 0 AS no_files
FROM entries
"""


class CaseReader:
    """Read-only queries over an open case database (mixed into :class:`CaseStore`)."""

    _conn: sqlite3.Connection

    def _case_row(self) -> sqlite3.Row:
        return self._conn.execute("SELECT * FROM case_info WHERE id = 1").fetchone()

    def case_info(self) -> CaseInfo:
        row = self._case_row()
        extra = tuple((str(k), str(v)) for k, v in loads(row["extra"]))
        return CaseInfo(row["case_number"], row["examiner"], row["agency"], row["notes"], extra)

    @property
    def started_at(self) -> str:
        """When the case was created (UTC)."""
        return self._case_row()["started_at"]

    @property
    def finished_at(self) -> str | None:
        """When the scan finished (UTC), None if it never did."""
        return self._case_row()["finished_at"]

    def command_line(self) -> list[str]:
        return loads(self._case_row()["command_line"])

    def tool(self) -> dict[str, Any]:
        return loads(self._case_row()["tool"])

    def settings(self) -> dict[str, Any]:
        rows = self._conn.execute("SELECT key, value FROM settings ORDER BY key")
        return {r["key"]: json.loads(r["value"]) for r in rows}

    def stages(self) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            "SELECT name, started_at, finished_at FROM stages ORDER BY started_at, name"
        )
        return [dict(r) for r in rows]

    def evidence(self) -> list[dict[str, Any]]:
        """Evidence items in the order the examiner named them, with volumes, hashes, verification."""
        items = []
        for r in self._conn.execute("SELECT * FROM evidence ORDER BY seq").fetchall():
            volumes = self._conn.execute(
                "SELECT label, offset, length, description, fs_type, error FROM volumes"
                " WHERE evidence_id = ? ORDER BY idx",
                (r["evidence_id"],),
            )
            items.append(
                {
                    "id": r["evidence_id"],
                    "source": from_db(r["source"]),
                    "kind": r["kind"],
                    "size": r["size"],
                    "segments": loads(r["segments"]),
                    "md5": r["md5"],
                    "sha1": r["sha1"],
                    "sha256": r["sha256"],
                    "stored_md5": r["stored_md5"],
                    "stored_sha1": r["stored_sha1"],
                    "verification": r["verification"],
                    "volumes": [dict(v) for v in volumes],
                    "details": [tuple(pair) for pair in loads(r["details"])],
                }
            )
        return items

    def hashsets(self) -> list[HashSetInfo]:
        rows = self._conn.execute("SELECT * FROM hashsets ORDER BY seq")
        return [
            HashSetInfo(
                path=r["path"],
                sha256=r["sha256"],
                format=r["format"],
                entries=r["entries"],
                counts=tuple((str(a), int(n)) for a, n in loads(r["counts"])),
                name=r["name"],
                role=r["role"],
                built_at=r["built_at"],
                index=r["index_path"],
                # Absent from cases written before sets could name their scheme.
                category_scheme=r["category_scheme"] if "category_scheme" in r.keys() else None,  # noqa: SIM118
            )
            for r in rows
        ]

    def _dicts(self, sql: str) -> Iterator[dict[str, Any]]:
        """Rows of ``sql`` as plain dicts, built from tuples: ``dict(sqlite3.Row)`` costs ~10 us a
        row, which is a second per 100,000 files for each report that lists them."""
        cursor = self._conn.cursor()
        cursor.row_factory = None
        cursor.execute(sql)
        names = [d[0] for d in cursor.description]
        for values in cursor:
            yield dict(zip(names, values, strict=True))

    def iter_files(self, *, with_matches_only: bool = False) -> Iterator[dict[str, Any]]:
        """Every entry, ordered by location. ``path`` is the exact name (may hold lone surrogates).
        ``with_matches_only``: just the entries with at least one match row (the HTML and PDF
        reports detail only those; reading every row to drop most costs seconds per 100,000)."""
        where = "WHERE id IN (SELECT entry FROM matches)" if with_matches_only else ""
        for row in self._dicts(_FILES_SQL.format(where=where)):
            row["entry_id"] = row.pop("id")
            row["path"] = from_db(row["path"])
            row["error"] = from_db(row["error"])
            row["deleted"] = bool(row["deleted"])
            row["flags"] = loads(row["flags"])
            row["status"] = STATES[row.pop("state")]
            row["known_good"] = bool(row["known_good"])
            row["crop_box"] = loads(row["crop_box"])
            yield row

    def iter_matches(self) -> Iterator[dict[str, Any]]:
        """Every match with its file, ordered by location. ``entry_id`` is the hash set's id for the
        known hash; ``file_id`` is the matched entry's row id."""
        for row in self._dicts(_MATCHES_SQL):
            row["entry_id"] = row.pop("known_entry_id")
            row["path"] = from_db(row["path"])
            row["deleted"] = bool(row["deleted"])
            row["video"] = loads(row["video"])
            row["derivative"] = loads(row["derivative"])
            yield row

    def frames(self, entry_id: int) -> list[dict[str, Any]]:
        """A video's sampled frames (vPDQ) in frame order: frame, timestamp, pdq, quality."""
        rows = self._conn.execute(
            "SELECT frame, timestamp, pdq, quality FROM frames WHERE entry = ? ORDER BY frame", (entry_id,)
        )
        return [dict(r) for r in rows]

    def iter_conflicts(self) -> Iterator[dict[str, Any]]:
        """Files matched by an alert set *and* an ignore set: never hidden, listed for review."""
        for r in self._conn.execute(_CONFLICTS_SQL):
            row = dict(r)
            row["path"] = from_db(row["path"])
            row["alert_hashsets"] = json.loads(row["alert_hashsets"])
            row["ignore_hashsets"] = json.loads(row["ignore_hashsets"])
            yield row

    def conflicts(self) -> list[dict[str, Any]]:
        return list(self.iter_conflicts())

    def iter_errors(self) -> Iterator[dict[str, Any]]:
        """Per-file and evidence-level errors; those without a location come first. One per file
        that failed, so as many as the files on a hostile disk: read from the cursor."""
        for r in self._conn.execute(_ERRORS_SQL):
            place = {"entry_id": r["entry"], "evidence_id": r["evidence_id"], "location": r["location"]}
            yield {**place, "message": from_db(r["message"])}

    def errors(self) -> list[dict[str, Any]]:
        return list(self.iter_errors())

    def summary(self) -> dict[str, int | bool]:
        """Counts of the case. ``matches`` counts findings (file, known entry), ``match_rows`` the
        per-algorithm rows behind them; ``no_files`` is true when the evidence held no file at all
        (an empty or unmounted folder), which must never read as "no match"."""
        row = dict(self._conn.execute(_SUMMARY_SQL).fetchone())
        row["no_files"] = bool(row["no_files"])
        return row

    def evidence_totals(self) -> dict[str, tuple[int, int]]:
        """``{evidence id: (files listed, bytes in them)}``: what a folder holds, whose own size is 0."""
        rows = self._conn.execute(
            "SELECT evidence_id, COUNT(*) AS files, IFNULL(SUM(size), 0) AS bytes FROM entries"
            " GROUP BY evidence_id"
        )
        return {r["evidence_id"]: (int(r["files"]), int(r["bytes"])) for r in rows}

    def audit_events(self) -> list[dict[str, Any]]:
        return [json.loads(r["line"]) for r in self._conn.execute("SELECT line FROM audit ORDER BY seq")]

    def matched_pictures(self) -> list[tuple[int, Entry]]:
        """Pictures matched by an alert set, in location order, with how to read them again."""
        cols = ", ".join(ENTRY_COLUMNS)
        rows = self._conn.execute(
            f"SELECT id, {cols} FROM entries WHERE media_kind = 'picture' AND id IN {_ALERTED}"
            " ORDER BY location, id"
        )
        return [(r["id"], row_entry(r)) for r in rows]

    def seeds(self) -> list[dict[str, Any]]:
        """Pictures matched directly (exact or perceptual) by an alert set, one row each with its
        first match (exact before perceptual): the seeds of derivative search. ``file_id``,
        ``location``, ``sha256``, ``hashset``, ``entry_id``, ``category``, ``name``, ``algorithm``,
        ``known_hash``."""
        rows = self._conn.execute(
            "SELECT e.id AS file_id, e.location, e.sha256, m.hashset, m.known_entry_id AS entry_id,"
            " m.category, m.name, m.algorithm, m.known_hash FROM matches AS m JOIN entries AS e"
            " ON e.id = m.entry WHERE m.role = 'alert' AND m.kind IN ('exact', 'perceptual')"
            " AND e.media_kind = 'picture' ORDER BY e.id, m.kind, m.algorithm, m.hashset, m.id"
        )
        first: dict[int, dict[str, Any]] = {}
        for r in rows:
            first.setdefault(r["file_id"], dict(r))
        return list(first.values())

    def matched_ids(self) -> set[int]:
        """Ids of every entry with any match (alert or ignore)."""
        return {r[0] for r in self._conn.execute("SELECT DISTINCT entry FROM matches")}

    def sha256_of(self, entry_id: int) -> str | None:
        """The SHA-256 recorded for an entry (to check that bytes read again are the same)."""
        row = self._conn.execute("SELECT sha256 FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return row["sha256"] if row else None

    def thumbnails(self) -> dict[str, dict[str, Any]]:
        """Stored thumbnails by the file's location: ``mode``, ``width``, ``height``, ``jpeg`` bytes."""
        rows = self._conn.execute(
            "SELECT e.location, t.mode, t.width, t.height, t.jpeg FROM thumbnails AS t"
            " JOIN entries AS e ON e.id = t.entry ORDER BY e.location, e.id"
        )
        return {r["location"]: {k: r[k] for k in ("mode", "width", "height", "jpeg")} for r in rows}

    def matched_videos(self) -> list[tuple[int, Entry, list[tuple[float, float]]]]:
        """Videos matched by an alert set, in location order, with how to read them again and the
        time ranges (seconds, sorted) of their alert vPDQ matches; none for an exact match only."""
        cols = ", ".join(ENTRY_COLUMNS)
        rows = self._conn.execute(
            f"SELECT id, {cols} FROM entries WHERE media_kind = 'video' AND id IN {_ALERTED}"
            " ORDER BY location, id"
        ).fetchall()
        videos = []
        for r in rows:
            found = self._conn.execute(
                "SELECT video FROM matches WHERE entry = ? AND role = 'alert' AND algorithm = 'vpdq'"
                " AND video IS NOT NULL",
                (r["id"],),
            )
            ranges = sorted(
                {(float(a), float(b)) for v in found for a, b in (loads(v["video"]) or {}).get("ranges", [])}
            )
            videos.append((r["id"], row_entry(r), ranges))
        return videos

    def frame_thumbnails(self) -> dict[str, list[dict[str, Any]]]:
        """Stored video frame thumbnails by the file's location, in time order: ``frame``,
        ``timestamp``, ``mode``, ``width``, ``height``, ``jpeg`` bytes."""
        rows = self._conn.execute(
            "SELECT e.location, t.frame, t.timestamp, t.mode, t.width, t.height, t.jpeg"
            " FROM frame_thumbnails AS t JOIN entries AS e ON e.id = t.entry"
            " ORDER BY e.location, e.id, t.timestamp, t.frame"
        )
        found: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            keys = ("frame", "timestamp", "mode", "width", "height", "jpeg")
            found.setdefault(r["location"], []).append({k: r[k] for k in keys})
        return found

    def flag_counts(self, flag: str) -> dict[str, int]:
        """``{evidence id: files flagged flag}`` for the evidence items that have any."""
        rows = self._conn.execute(
            "SELECT evidence_id, COUNT(*) AS n FROM entries, json_each(entries.flags)"
            " WHERE json_each.value = ? GROUP BY evidence_id ORDER BY evidence_id",
            (flag,),
        )
        return {r["evidence_id"]: int(r["n"]) for r in rows}

    def findings_digest(self) -> dict[str, Any]:
        """The digest of the files, matches and errors rows (:mod:`triage.case.findings`)."""
        return findings.findings_digest(self._conn)

    def recorded_findings(self) -> dict[str, Any] | None:
        """The findings digest the last "scan finished" event recorded; None when none did
        (a case made before triage recorded it, or a scan that never finished)."""
        row = self._conn.execute(
            "SELECT line FROM audit WHERE action = 'scan finished' ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        recorded = json.loads(row["line"]).get("details", {}).get("findings") if row else None
        return recorded if isinstance(recorded, dict) else None

    def audit_lines(self) -> list[str]:
        """The exact stored lines, to compare with ``audit.jsonl``."""
        return [r["line"] for r in self._conn.execute("SELECT line FROM audit ORDER BY seq")]
