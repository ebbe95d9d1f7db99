"""hashdeep files: ``%%%% HASHDEEP-1.0``, a ``%%%% size,<hashes>,filename`` column line, rows.

The column line names the hashes each row carries between the size (first) and the file name
(last, and it may itself hold commas: the format says extra commas belong to the name). Every
MD5/SHA-1/SHA-256 of a row becomes one KnownHash sharing the name and the ``size`` label;
whirlpool and tiger, which triage does not compute, are kept as labels. ``##`` lines (the
invocation hashdeep records) are comments.
"""

from __future__ import annotations

from collections.abc import Iterator

from triage.hashsets.base import Sniff, algorithm_named, fail, hex_value, shorten
from triage.hashsets.source import Source
from triage.records import KnownHash

MAGIC = "%%%% HASHDEEP-1.0"
_PREFIX = "%%%%"
_KEPT_AS_LABELS = ("whirlpool", "tiger")


def _columns(source: Source, number: int, text: str) -> tuple[str, ...]:
    names = tuple(n.strip().lower() for n in text[len(_PREFIX) :].split(","))
    if len(names) < 3 or names[0] != "size" or names[-1] != "filename":
        expected = "'%%%% size,<hash names>,filename'"
        raise fail(source, number, f"expected the column line {expected}, found {shorten(text)}")
    for name in names[1:-1]:
        if algorithm_named(name) is None and name not in _KEPT_AS_LABELS:
            raise fail(source, number, f"unknown hashdeep column {name!r} in {shorten(text)}")
    return names


class HashdeepReader:
    name = "hashdeep"
    description = "hashdeep file: '%%%% HASHDEEP-1.0', '%%%% size,md5,sha256,filename', CSV rows"

    def detect(self, sniff: Sniff) -> bool:
        return bool(sniff.lines) and sniff.lines[0][1].strip() == MAGIC

    def read(self, source: Source) -> Iterator[KnownHash]:
        columns: tuple[str, ...] | None = None
        expect_columns = False
        for number, text in source.data_lines():
            if text.strip() == MAGIC:
                expect_columns = True
                continue
            if expect_columns:
                if not text.startswith(_PREFIX):
                    raise fail(
                        source, number, f"expected the '%%%% size,...' column line, found {shorten(text)}"
                    )
                columns, expect_columns = _columns(source, number, text), False
                continue
            if columns is None:
                raise fail(source, number, f"expected the header {MAGIC!r}, found {shorten(text)}")
            yield from _row(source, number, columns, text)


def _row(source: Source, number: int, columns: tuple[str, ...], text: str) -> Iterator[KnownHash]:
    cells = text.split(",", len(columns) - 1)
    if len(cells) != len(columns):
        expected = ",".join(columns)
        raise fail(source, number, f"expected {len(columns)} fields ({expected}), found {shorten(text)}")
    size, name = cells[0].strip(), cells[-1]
    if not size.isdigit():
        raise fail(source, number, f"expected a file size in bytes, found {shorten(size)}")
    labels: list[tuple[str, str]] = [("size", size)]
    found: list[tuple[str, str]] = []
    for column, cell in zip(columns[1:-1], cells[1:-1], strict=True):
        algorithm = algorithm_named(column)
        if algorithm is None:
            labels.append((column, cell.strip().lower()))
        else:
            found.append(hex_value(source, number, cell.strip(), algorithm, column=column))
    category = source.directives.category
    for algorithm, value in found:
        yield KnownHash(algorithm, value, None, category, name, tuple(labels), number)


READER = HashdeepReader()
