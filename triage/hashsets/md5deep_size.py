"""``md5deep -z`` / ``sha1deep -z`` / ``sha256deep -z`` output: ``<size>  <hex>  <name>``.

The size (bytes, right-aligned) is kept as the label ``("size", "<bytes>")`` so a report can
show it; matching uses only the hash.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from triage.hashsets.base import Sniff, fail, first_line_has_hash, hex_value, shorten
from triage.hashsets.source import Source
from triage.records import KnownHash

_LINE = re.compile(r"\s*([0-9]+)\s+([0-9A-Fa-f]+)\s+(.+)")


class Md5deepSizeReader:
    name = "md5deep-size"
    description = "md5deep -z output: '<size>  <hex>  <name>'"

    def detect(self, sniff: Sniff) -> bool:
        return first_line_has_hash(sniff, _LINE)

    def read(self, source: Source) -> Iterator[KnownHash]:
        for number, text in source.data_lines():
            directives = source.directives
            m = _LINE.fullmatch(text)
            if m is None:
                expected = "'<size>  <hex hash>  <file name>'"
                raise fail(source, number, f"expected {expected}, found {shorten(text)}")
            size, digest, name = m.groups()
            algorithm, value = hex_value(source, number, digest, directives.algorithm)
            yield KnownHash(
                algorithm,
                value,
                category=directives.category,
                name=name,
                labels=(("size", size),),
                line=number,
            )


READER = Md5deepSizeReader()
