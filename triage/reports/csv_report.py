"""files.csv and matches.csv: the file list and the matches for a spreadsheet.

Spreadsheets run formulas, so every cell is made inert: a cell beginning with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return gets a leading apostrophe (OWASP's advice; the cell then
shows as text). Control and bidirectional-override characters are shown as visible escapes, as in
report.html, so a name cannot disguise itself; report.json keeps the exact names. The files are
UTF-8 with a byte-order mark, which Excel needs to read UTF-8, and CRLF line ends (RFC 4180).
Columns are those of report.json's ``files`` and ``matches``, in the same order. Rows are read
from the store's cursors and written as they come (``render_*_chunks``), never held all at once.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from triage.case.codec import safe_value
from triage.case.store import CaseStore
from triage.reports.html_report import visible
from triage.reports.json_report import CHUNK, FILE_FIELDS, MATCH_FIELDS, iter_match_rows

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SURROGATE = re.compile("[\ud800-\udfff]")
BOM = b"\xef\xbb\xbf"  # UTF-8 byte-order mark: Excel reads the file as UTF-8 only with it


def cell(value: Any) -> str:
    """One value as an inert spreadsheet cell."""
    if value is None:
        return ""
    kind = type(value)
    if kind is int:
        return int.__repr__(value)  # numbers stay numbers (sizes are never negative)
    if kind is str and value.isalnum() and value.isascii():
        return value  # hashes, types, states: nothing to neutralise or escape
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    if isinstance(value, dict):  # a match's video or derivative details
        value = json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return visible(text)


def _table(fields: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The table in chunks of about :data:`CHUNK` characters, one row in memory at a time."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    yield BOM
    writer.writerow(fields)
    for row in rows:
        cells = [cell(row.get(f)) for f in fields]
        if _SURROGATE.search("".join(cells)):  # rare: a name that is not valid Unicode
            safe = safe_value({f: row.get(f) for f in fields})
            cells = [cell(safe[f]) for f in fields]
        writer.writerow(cells)
        if out.tell() >= CHUNK:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue().encode("utf-8")


def render_files_chunks(store: CaseStore) -> Iterator[bytes]:
    return _table(FILE_FIELDS, store.iter_files())


def render_matches_chunks(store: CaseStore) -> Iterator[bytes]:
    return _table(MATCH_FIELDS, iter_match_rows(store))


def render_files(store: CaseStore) -> bytes:
    return b"".join(render_files_chunks(store))


def render_matches(store: CaseStore) -> bytes:
    return b"".join(render_matches_chunks(store))
