"""Checksum-tool output: ``md5sum``, ``sha1sum``, ``sha256sum`` and ``md5deep`` (default mode).

Each line is ``<hex>  <name>`` (text mode) or ``<hex> *<name>`` (binary mode); a single space is
accepted too. GNU coreutils starts a line with a backslash when the name holds a backslash or a
line break and escapes them (``\\\\``, ``\\n``, ``\\r``); that is undone so the name is the file's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from triage.hashsets.base import Sniff, fail, first_line_has_hash, hex_value, shorten
from triage.hashsets.source import Source
from triage.records import KnownHash

_LINE = re.compile(r"(\\)?([0-9A-Fa-f]+)(?: [ *]| )(.+)")
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"\\": "\\", "n": "\n", "r": "\r"}


def _unescape(name: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), name)


class SumFileReader:
    name = "sumfile"
    description = "md5sum / sha1sum / sha256sum / md5deep output: '<hex>  <name>' or '<hex> *<name>'"

    def detect(self, sniff: Sniff) -> bool:
        return first_line_has_hash(sniff, _LINE)

    def read(self, source: Source) -> Iterator[KnownHash]:
        for number, text in source.data_lines():
            directives = source.directives
            m = _LINE.fullmatch(text)
            if m is None:
                raise fail(source, number, f"expected '<hex hash>  <file name>', found {shorten(text)}")
            escaped, digest, name = m.groups()
            algorithm, value = hex_value(source, number, digest, directives.algorithm)
            yield KnownHash(
                algorithm,
                value,
                category=directives.category,
                name=_unescape(name) if escaped else name,
                line=number,
            )


READER = SumFileReader()
