"""report.json: the whole case as one JSON document (format ``triage-report/1``).

The document is built only from the case store, in an order fixed by the stored content, with no
"generated at" time (the case's own times are used), so the same store always gives the same
bytes and a second examiner can reproduce the report. Names that are not valid Unicode show their
undecodable bytes as ``\\xNN``; the ``location`` of each file is the exact, parseable address.
The format is described by ``docs/report-schema.json``; the HTML report renders this same model,
so the two can never disagree.

A seized disk can hold millions of files (about 1 KB of JSON each), so :func:`render_chunks`
writes the lists that grow with the evidence one element at a time from the store's cursors, in
exactly the layout ``json.dumps`` gives the whole document (which :func:`build_report` still
builds, for the HTML and PDF reports).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from triage.case.codec import safe_value
from triage.case.store import CaseStore
from triage.hashsets.categories import normalise_category, set_scheme
from triage.hashsets.categories import table as category_table
from triage.records import HashSetInfo

SCHEMA = "triage-report/1"
#: About how many characters each chunk of a streamed report holds.
CHUNK = 1 << 16
_NOTHING = object()

FILE_FIELDS: tuple[str, ...] = (
    "evidence_id", "location", "path", "size", "deleted", "flags", "inode", "mtime", "atime", "ctime",
    "crtime", "status", "media_type", "media_kind", "width", "height", "md5", "sha1", "sha256", "pdq",
    "pdq_quality", "phash", "error", "known_good", "orientation", "pdq_cropped", "crop_box", "dhash", "ahash",
    "whash", "frames",
)  # fmt: skip
MATCH_FIELDS: tuple[str, ...] = (
    "location", "evidence_id", "path", "size", "deleted", "md5", "sha1", "sha256", "kind", "algorithm",
    "distance", "hashset", "entry_id", "category", "name", "file_hash", "known_hash", "role",
    "category_scheme", "category_normalised", "transform", "video", "derivative",
)  # fmt: skip
CONFLICT_FIELDS: tuple[str, ...] = ("location", "evidence_id", "path", "alert_hashsets", "ignore_hashsets")
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


def _evidence(item: dict[str, Any], extra: dict[str, str], after: dict[str, Any]) -> dict[str, Any]:
    """An evidence item with the examiner's description (case extra ``evidence ID description``)
    and, with ``--verify-after``, the result of hashing it again after the scan."""
    out = _pick(item, EVIDENCE_FIELDS)
    out["details"] = dict(sorted(item["details"]))
    out["description"] = extra.get(f"evidence {item['id']} description")
    out["verified_after"] = after.get(item["id"])
    return out


def _hashset(h: HashSetInfo) -> dict[str, Any]:
    return {
        "path": h.path,
        "name": h.name,
        "sha256": h.sha256,
        "format": h.format,
        "entries": h.entries,
        "counts": dict(sorted(h.counts)),
        "role": h.role,
        "index": h.index,
        "built_at": h.built_at,
        "category_scheme": set_scheme(h.format, h.category_scheme),
    }


def _match(row: dict[str, Any], formats: dict[str, tuple[str, str | None]]) -> dict[str, Any]:
    """A match with its category kept verbatim and mapped onto the normalised scheme."""
    format, declared = formats.get(row["hashset"], (None, None))
    scheme, label = normalise_category(format, row["category"], declared)
    return _pick({**row, "category_scheme": scheme, "category_normalised": label}, MATCH_FIELDS)


def iter_match_rows(store: CaseStore) -> Iterator[dict[str, Any]]:
    """The report's ``matches`` (with normalised categories), one at a time from the store's cursor."""
    formats = {h.path: (h.format, h.category_scheme) for h in store.hashsets()}
    return (_match(m, formats) for m in store.iter_matches())


def match_rows(store: CaseStore) -> list[dict[str, Any]]:
    """The report's ``matches`` (with normalised categories), for the other writers."""
    return list(iter_match_rows(store))


def _sections(store: CaseStore) -> dict[str, Any]:
    """The report's top-level sections in their fixed order, not yet made safe for output.
    The lists that grow with the evidence (``files``, ``matches``, ``conflicts``, ``errors``: a
    seized disk can hold millions of files) are iterators over the store's cursors; the rest is
    small and built whole."""
    case = store.case_info()
    hashsets = store.hashsets()
    after = store.settings().get("verify_after") or {}
    return {
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
        "evidence": [_evidence(e, dict(case.extra), after) for e in store.evidence()],
        "hashsets": [_hashset(h) for h in hashsets],
        "categories": [
            {"scheme": scheme, "value": value, "normalised": label, "meaning": meaning}
            for scheme, value, label, meaning in category_table()
        ],
        "summary": store.summary(),
        "files": (_pick(f, FILE_FIELDS) for f in store.iter_files()),
        "matches": iter_match_rows(store),
        "conflicts": (_pick(c, CONFLICT_FIELDS) for c in store.iter_conflicts()),
        "errors": (_pick(e, ERROR_FIELDS) for e in store.iter_errors()),
    }


def build_report(store: CaseStore, *, matched_files_only: bool = False) -> dict[str, Any]:
    """The report model, whole in memory: plain JSON-ready data in a fixed order.

    The HTML and PDF reports show only the matched files in detail, so they ask for
    ``matched_files_only``: ``files`` then holds just those, and their memory grows with the
    matches, not with the millions of files a disk can hold (report.json streams everything).
    """
    sections = _sections(store)
    if matched_files_only:
        sections["matches"] = list(sections["matches"])
        matched = {m["location"] for m in sections["matches"]}
        files = store.iter_files(with_matches_only=True)
        sections["files"] = (_pick(f, FILE_FIELDS) for f in files if f["location"] in matched)
    report = {k: list(v) if isinstance(v, Iterator) else v for k, v in sections.items()}
    return safe_value(report)


def dumps_report(report: dict[str, Any]) -> bytes:
    """Stable bytes: key order as built (settings sorted), two-space indent, UTF-8, final newline."""
    return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _dumps(value: Any, level: int) -> str:
    """``value`` as :func:`dumps_report` writes it ``level`` steps deep: JSON strings never hold
    a raw newline, so re-indenting every line break is exact."""
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + "  " * level)


def _encode(value: Any, level: int) -> str:
    """``value`` exactly as ``json.dumps(value, indent=2, ensure_ascii=False)`` writes it
    ``level`` steps deep. With ``indent`` set, json.dumps leaves its C encoder for a Python one
    that costs ~50 us per file row; the rows are flat, so one pass here with the C string
    escaper is ~5x faster. Anything but the plain JSON types goes to json.dumps itself."""
    kind = type(value)
    if kind is str:
        return _escape(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    pad = "\n" + "  " * (level + 1)
    if kind is dict and set(map(type, value)) <= _STR:
        if not value:
            return "{}"
        types = set(map(type, value.values()))
        if types <= _FLAT or (
            types <= _FLAT_OR_EMPTY
            and not any(v for v in value.values() if type(v) is list or type(v) is dict)
        ):
            # A flat row (every file row but a few): json's C encoder lays it out when the
            # line break and indent go in its item separator, ~4x faster than the loop below.
            inner = _flat_encoder(pad).encode(value)
            return "{" + pad + inner[1:-1] + "\n" + "  " * level + "}"
        body = ",".join(pad + _escape(k) + ": " + _encode(v, level + 1) for k, v in value.items())
        return "{" + body + "\n" + "  " * level + "}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        return "[" + ",".join(pad + _encode(v, level + 1) for v in value) + "\n" + "  " * level + "]"
    return _dumps(value, level)


#: Values the C encoder writes exactly as ``json.dumps(..., indent=2)`` does, at any depth.
_FLAT = frozenset((str, int, float, bool, type(None)))
#: ... and containers, which it writes exactly too when they are empty.
_FLAT_OR_EMPTY = _FLAT | {list, dict}
_STR = frozenset((str,))


@functools.cache
def _flat_encoder(pad: str) -> json.JSONEncoder:
    return json.JSONEncoder(ensure_ascii=False, separators=("," + pad, ": "))


_escape = json.encoder.encode_basestring  # type: ignore[attr-defined]  # C escaper, non-ASCII kept
#: Lone surrogates: a name's undecodable bytes, which :func:`safe_value` renders as escapes.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _item(item: Any) -> str:
    text = _encode(item, 2)
    if _SURROGATE.search(text):  # rare: only names that are not valid Unicode
        text = _encode(safe_value(item), 2)
    return text


def _array(items: Iterator[Any]) -> Iterator[str]:
    """A top-level member's array, one element at a time, in json.dumps' layout (``[]`` if empty)."""
    first = next(items, _NOTHING)
    if first is _NOTHING:
        yield "[]"
        return
    yield "[\n    " + _item(first)
    for item in items:
        yield ",\n    " + _item(item)
    yield "\n  ]"


def _text_chunks(store: CaseStore) -> Iterator[str]:
    yield "{"
    for n, (key, value) in enumerate(_sections(store).items()):
        yield ("\n  " if n == 0 else ",\n  ") + json.dumps(key, ensure_ascii=False) + ": "
        if isinstance(value, Iterator):
            yield from _array(value)
        else:
            yield _dumps(safe_value(value), 1)
    yield "\n}\n"


def _batched(pieces: Iterable[str], size: int) -> Iterator[bytes]:
    """Text pieces as UTF-8 chunks of about ``size`` characters: a few large writes, not one per row."""
    batch: list[str] = []
    length = 0
    for piece in pieces:
        batch.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(batch).encode("utf-8")
            batch, length = [], 0
    if batch:
        yield "".join(batch).encode("utf-8")


def render_chunks(store: CaseStore) -> Iterator[bytes]:
    """report.json as a stream of chunks whose concatenation is exactly :func:`render`'s bytes,
    with only one file or match in memory at a time."""
    return _batched(_text_chunks(store), CHUNK)


def render(store: CaseStore) -> bytes:
    return b"".join(render_chunks(store))
