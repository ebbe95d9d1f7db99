"""Conversions between records and case-store rows, kept apart from the SQL so both stay readable.

Names come from evidence and may hold bytes that are not UTF-8 (kept by Python as lone
surrogates). SQLite TEXT must be valid UTF-8, so such a name is stored as a BLOB of its
``surrogatepass`` bytes and decoded back to the identical string: the store never loses or
rewrites a name. Output formats (reports, the audit log) need valid Unicode instead; for them
:func:`safe_text` renders the odd code points as visible escapes.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from triage.locator import Location
from triage.records import Entry, EntryRef, FileHashes, Match, SourceSpec


def to_db(text: str | None) -> str | bytes | None:
    """A string as SQLite can hold it: TEXT when it is valid Unicode, else a reversible BLOB."""
    if text is None:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")
    return text


def from_db(value: str | bytes | None) -> str | None:
    """Inverse of :func:`to_db`."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogatepass")
    return value


def safe_text(text: str) -> str:
    """Valid Unicode for output: an undecodable byte shows as ``\\xNN``, other lone surrogates as
    ``\\uNNNN`` (only names that were not valid Unicode change)."""
    if text.isascii():
        return text
    out = []
    for ch in text:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02x}")
        elif 0xD800 <= o <= 0xDFFF:
            out.append(f"\\u{o:04x}")
        else:
            out.append(ch)
    return "".join(out)


def safe_value(value: Any) -> Any:
    """:func:`safe_text` applied through lists, tuples and dicts (for JSON output). Exact type
    tests first: this runs on every value of every file row of a report."""
    kind = type(value)
    if kind is str:
        return value if value.isascii() else safe_text(value)
    if value is None or kind is int or kind is bool or kind is float:
        return value
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_text(str(k)): safe_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe_value(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """Canonical JSON for internal columns: sorted keys, ASCII escapes (so lone surrogates and every
    other code point round-trip through TEXT)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))


def loads(text: str | None) -> Any:
    if text is None:
        return None
    return [] if text == "[]" else json.loads(text)  # most flags lists are empty


# --------------------------------------------------------------------------- entries

ENTRY_COLUMNS = (
    "evidence_id", "location", "path", "size", "deleted", "inode",
    "mtime", "atime", "ctime", "crtime", "flags", "ref",
)  # fmt: skip


_REF_FIELDS = tuple(f.name for f in dataclasses.fields(EntryRef) if f.name != "source")


#: The fields :func:`ref_to_json`'s fast path writes, in sorted order; any other field set makes
#: it fall back to the general path.
_FAST_FIELDS = (
    "attr_id", "attr_type", "byte_range", "fs_path", "fs_type", "inode", "members", "size", "source",
    "volume_index", "volume_offset",
)  # fmt: skip
_FAST = tuple(sorted((*_REF_FIELDS, "source"))) == _FAST_FIELDS
#: ``(source, fs_type, volume_index, volume_offset)`` -> the JSON around a TSK entry's numbers.
_FAST_PARTS: dict[tuple[object, ...], tuple[str, str]] = {}


def _number(value: object) -> str | None:
    if value is None:
        return "null"
    return int.__repr__(value) if type(value) is int else None  # type: ignore[arg-type]


def ref_to_json(ref: EntryRef) -> str:
    """Every field of the reference, so a field added to EntryRef is never silently dropped.

    Field by field rather than ``dataclasses.asdict``, whose deep copies cost more than the rest of
    storing an entry (70 us of a listing's ~90 us per file); JSON writes tuples as lists, so the text
    is the same. A disk image's entries differ only in their meta address: for them the text
    around the numbers is made once per file system and the numbers put in, the same bytes as
    the general path (a third of a listing's time was this encoding)."""
    if _FAST and ref.fs_path is None and ref.byte_range is None and not ref.members and ref.size is None:
        numbers = (_number(ref.attr_id), _number(ref.attr_type), _number(ref.inode))
        if None not in numbers:
            key = (ref.source, ref.fs_type, ref.volume_index, ref.volume_offset)
            parts = _FAST_PARTS.get(key)
            if parts is None:
                parts = _fast_parts(ref)
                if len(_FAST_PARTS) < 1024:
                    _FAST_PARTS[key] = parts
            return f'{{"attr_id":{numbers[0]},"attr_type":{numbers[1]}{parts[0]}{numbers[2]}{parts[1]}'
    return _ref_json(ref)


def _fast_parts(ref: EntryRef) -> tuple[str, str]:
    """The text between ``attr_type`` and ``inode``'s values, and after ``inode``'s value."""
    middle = f',"byte_range":null,"fs_path":null,"fs_type":{dumps(ref.fs_type)},"inode":'
    source = dumps({"kind": ref.source.kind, "paths": ref.source.paths})
    tail = f',"members":[],"size":null,"source":{source},"volume_index":{dumps(ref.volume_index)}'
    return middle, f'{tail},"volume_offset":{dumps(ref.volume_offset)}}}'


def _ref_json(ref: EntryRef) -> str:
    data: dict[str, object] = {name: getattr(ref, name) for name in _REF_FIELDS}
    data["source"] = {"kind": ref.source.kind, "paths": ref.source.paths}
    return dumps(data)


#: The sources seen, so that the references of one evidence item share one SourceSpec: a worker
#: decodes a reference per small file, and equal-and-identical sources make its handle caches'
#: look-ups an identity test (a drive has a handful of sources, never more than its segments).
_SOURCES: dict[tuple[str, tuple[str, ...]], SourceSpec] = {}


def ref_from_json(text: str) -> EntryRef:
    data = json.loads(text)
    src = data.pop("source")
    # JSON has no tuples; the record's sequence fields are tuples (hashable, comparable).
    for k, v in data.items():
        if type(v) is list:
            data[k] = tuple(v)
    key = (src["kind"], tuple(src["paths"]))
    source = _SOURCES.get(key)
    if source is None:
        source = _SOURCES.setdefault(key, SourceSpec(*key)) if len(_SOURCES) < 1024 else SourceSpec(*key)
    return EntryRef(source=source, **data)


def entry_row(entry: Entry) -> tuple[object, ...]:
    """Values for :data:`ENTRY_COLUMNS`, in order."""
    return (
        entry.evidence_id,
        str(entry.location),
        to_db(entry.path),
        entry.size,
        int(entry.deleted),
        entry.inode,
        entry.mtime,
        entry.atime,
        entry.ctime,
        entry.crtime,
        dumps(list(entry.flags)) if entry.flags else "[]",
        ref_to_json(entry.ref),
    )


def row_entry(row: Any) -> Entry:
    """An :class:`Entry` from a row holding :data:`ENTRY_COLUMNS` (by name)."""
    return Entry(
        evidence_id=row["evidence_id"],
        location=Location.parse(row["location"]),
        path=from_db(row["path"]) or "",
        size=row["size"],
        deleted=bool(row["deleted"]),
        ref=ref_from_json(row["ref"]),
        inode=row["inode"],
        mtime=row["mtime"],
        atime=row["atime"],
        ctime=row["ctime"],
        crtime=row["crtime"],
        flags=tuple(json.loads(row["flags"])),
    )


def variant_row(entry_id: int, h: FileHashes) -> tuple[object, ...]:
    """The schema-3 picture columns of one result (UPDATE_VARIANTS' parameters)."""
    variants = dumps([list(v) for v in h.pdq_variants]) if h.pdq_variants else None
    box = dumps(list(h.crop_box)) if h.crop_box else None
    cropped = (h.pdq_cropped, h.pdq_cropped_quality, box)
    return (h.orientation, variants, *cropped, h.dhash, h.ahash, h.whash, entry_id)


def video_json(match: Match) -> str | None:
    """A vpdq match's VideoMatchInfo as JSON (ranges as [start, end] lists), else None."""
    return dumps(dataclasses.asdict(match.video)) if match.video is not None else None


def derivative_json(match: Match) -> str | None:
    """A derivative match's DerivativeInfo as JSON (boxes as lists), else None."""
    return dumps(dataclasses.asdict(match.derivative)) if match.derivative is not None else None


def match_row(entry_id: int, m: Match) -> tuple[object, ...]:
    """One ``matches`` row in the column order of ``db.INSERT_MATCH``."""
    return (
        entry_id, m.kind, m.algorithm, m.distance, m.hashset, m.file_hash, m.known_hash,
        m.entry_id, m.category, m.name, m.role, m.transform, video_json(m), derivative_json(m),
    )  # fmt: skip
