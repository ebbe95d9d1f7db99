"""files.csv and matches.csv: the file list and the matches for a spreadsheet.

Spreadsheets run formulas, so every cell is made inert: a cell beginning with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return gets a leading apostrophe (OWASP's advice; the cell then
shows as text). Control and bidirectional-override characters are shown as visible escapes, as in
report.html, so a name cannot disguise itself; report.json keeps the exact names. The files are
UTF-8 with a byte-order mark, which Excel needs to read UTF-8, and CRLF line ends (RFC 4180).
Columns are those of report.json's ``files`` and ``matches``, in the same order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from triage.case.codec import safe_value
from triage.case.store import CaseStore
from triage.reports.html_report import visible
from triage.reports.json_report import FILE_FIELDS, MATCH_FIELDS, match_rows

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """One value as an inert spreadsheet cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    if isinstance(value, int | float):
        return str(value)  # numbers stay numbers (sizes are never negative)
    text = str(value)
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return visible(text)


def _table(fields: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(fields)
    for row in rows:
        safe = safe_value({f: row.get(f) for f in fields})
        writer.writerow([cell(safe[f]) for f in fields])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def render_files(store: CaseStore) -> bytes:
    return _table(FILE_FIELDS, store.iter_files())


def render_matches(store: CaseStore) -> bytes:
    return _table(MATCH_FIELDS, match_rows(store))
