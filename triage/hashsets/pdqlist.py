"""PDQ hash lists as ThreatExchange tools write them: ``hash[,quality[,id]]`` per line.

Comma or tab separated. Read as PDQ when a quality column is present (64 hex digits then a
number from 0 to 100: the shape of ``pdq-photo-hasher`` output and of ThreatExchange exports),
when the file name ends in ``.pdq``, or when ``# triage-hashset: algorithm=pdq`` is declared.
A bare list of 64-digit values that declares nothing stays SHA-256 (see docs/hashsets.md). The
quality is kept as the label ``quality``, the third field (an id or a file name) as the entry id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from triage.hashsets.base import Sniff, fail, hex_value, shorten
from triage.hashsets.source import Source
from triage.records import KnownHash

_FIRST = re.compile(r"\s*[,\t]\s*")
_LINE = re.compile(r"\s*([0-9A-Fa-f]{64})\s*(?:[,\t]\s*([0-9]{1,3})\s*(?:[,\t](.*))?)?")


class PdqListReader:
    name = "pdq"
    description = "PDQ list: 'hash[,quality[,id]]' per line (ThreatExchange; comma or tab)"

    def detect(self, sniff: Sniff) -> bool:
        if sniff.binary or not sniff.lines:
            return False
        declared = sniff.directives.algorithm
        if declared not in (None, "pdq"):
            return False
        m = _LINE.fullmatch(sniff.lines[0][1])
        if m is None:
            return False
        has_quality = m.group(2) is not None and int(m.group(2)) <= 100
        return has_quality or declared == "pdq" or sniff.name.lower().endswith(".pdq")

    def read(self, source: Source) -> Iterator[KnownHash]:
        for number, text in source.data_lines():
            m = _LINE.fullmatch(text)
            if m is None:
                first = _FIRST.split(text.strip(), 1)[0]
                hex_value(source, number, first, "pdq")  # names a bad hash as such
                raise fail(source, number, f"expected 'pdq hash[,quality[,id]]', found {shorten(text)}")
            digest, quality, ident = m.groups()
            if quality is not None and int(quality) > 100:
                raise fail(source, number, f"expected a PDQ quality from 0 to 100, found {quality}")
            _, value = hex_value(source, number, digest, "pdq")
            labels = (("quality", quality),) if quality is not None else ()
            entry_id = (ident.strip() or None) if ident is not None else None
            yield KnownHash("pdq", value, entry_id, source.directives.category, None, labels, number)


READER = PdqListReader()
