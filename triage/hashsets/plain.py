"""Plain hash lists: one hex hash per line, the type taken from its length.

64 hex digits mean SHA-256 unless the file declares ``# triage-hashset: algorithm=pdq`` before
the first hash; a declared algorithm then applies to every line. This is also the fallback
reader: a text file nothing else claims is read as a plain list, so a stray line gets an error
naming it rather than a vague "unknown format".
"""

from __future__ import annotations

from collections.abc import Iterator

from triage.hashsets.base import BY_LENGTH, HEX_DIGITS, Sniff, hex_value, is_hex
from triage.hashsets.source import Source
from triage.records import KnownHash


class PlainReader:
    name = "plain"
    description = "one hex hash per line (MD5, SHA-1, SHA-256, pHash; PDQ when declared)"

    def detect(self, sniff: Sniff) -> bool:
        if sniff.binary:
            return False
        if not sniff.lines:
            return True  # only comments: read it, and report the empty set
        value = sniff.lines[0][1].strip()
        declared = sniff.directives.algorithm
        length_ok = len(value) == HEX_DIGITS[declared] if declared else len(value) in BY_LENGTH
        return length_ok and is_hex(value)

    def read(self, source: Source) -> Iterator[KnownHash]:
        lines = source.data_lines()
        for number, text in lines:  # the first data line: directives are complete now
            declared, category = source.directives.algorithm, source.directives.category
            algorithm, value = hex_value(source, number, text.strip(), declared)
            yield KnownHash(algorithm, value, None, category, None, (), number)
            break
        # The rest on a fast path (millions of lines): the same checks as hex_value, inlined;
        # hex_value is called again only to build the error message.
        for number, text in lines:
            value = text.strip()
            algorithm = declared or BY_LENGTH.get(len(value))
            if algorithm is None or len(value) != HEX_DIGITS[algorithm] or not is_hex(value):
                hex_value(source, number, value, declared)
            yield KnownHash(algorithm, value.lower(), None, category, None, (), number)  # type: ignore[arg-type]


READER = PlainReader()
