"""NIST NSRL legacy RDS (2.x, and the 1.5 layout with MD4): ``NSRLFile.txt``, a quoted CSV.

Recognised by its header, whose columns are the RDS ones in either published order (see the
NIST "Data Formats of the NSRL Reference Data Set"). Each row gives an SHA-1 and an MD5 entry;
the CRC32 (not computed by triage), size, product, OS and special codes are kept as labels so a
report can name where a known file comes from. The MD4 of RDS 1.5 is all zeros in practice and
is kept only when it is not. NSRL entries are known *good* files: every entry gets the category
``nsrl`` unless a directive names another; what a set is used for (alert or ignore) is decided
where sets are given roles, not here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from triage.hashsets.base import Sniff, csv_cells, csv_row, fail, hex_value, normalise, shorten
from triage.hashsets.source import Source
from triage.records import KnownHash

CATEGORY = "nsrl"
#: The two published column orders of NSRLFile.txt, as normalised names.
LAYOUTS = (
    ("sha1", "md5", "crc32", "filename", "filesize", "productcode", "opsystemcode", "specialcode"),
    ("sha1", "filename", "filesize", "productcode", "opsystemcode", "md4", "md5", "crc32", "specialcode"),
)
_LABELS = ("FileSize", "ProductCode", "OpSystemCode", "SpecialCode", "CRC32")
_ZERO_MD4 = "0" * 32


def _layout(text: str) -> tuple[str, ...] | None:
    try:
        names = tuple(normalise(c) for c in csv_cells(text))
    except csv.Error:
        return None
    return names if names in LAYOUTS else None


class NsrlReader:
    name = "nsrl"
    description = "NIST NSRL legacy RDS NSRLFile.txt (quoted CSV, RDS 2.x or 1.5 header)"

    def detect(self, sniff: Sniff) -> bool:
        return bool(sniff.lines) and _layout(sniff.lines[0][1]) is not None

    def read(self, source: Source) -> Iterator[KnownHash]:
        lines = source.data_lines()
        for number, text in lines:
            layout = _layout(text)
            if layout is None:
                raise fail(source, number, f"expected the NSRLFile.txt header, found {shorten(text)}")
            break
        else:
            return
        names = ("SHA-1", "MD5", "CRC32", "FileName", "FileSize", "ProductCode", "OpSystemCode")
        index = {normalise(n): layout.index(normalise(n)) for n in (*names, "SpecialCode")}
        md4 = layout.index("md4") if "md4" in layout else None
        category = source.directives.category or CATEGORY
        for number, text in lines:
            cells = csv_row(source, number, text, len(layout))
            labels = [(n, cells[index[normalise(n)]]) for n in _LABELS if cells[index[normalise(n)]]]
            if md4 is not None and cells[md4] and cells[md4] != _ZERO_MD4:
                labels.append(("MD4", cells[md4].lower()))
            kept = tuple(labels)
            name = cells[index["filename"]]
            for column, algorithm in (("SHA-1", "sha1"), ("MD5", "md5")):
                _, value = hex_value(source, number, cells[index[normalise(column)]], algorithm, column)
                yield KnownHash(algorithm, value, None, category, name, kept, number)


READER = NsrlReader()
