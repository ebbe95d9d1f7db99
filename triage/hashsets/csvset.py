"""CSV hash sets with a header row that names their columns.

Which column holds what comes from ``columns.tsv`` (data, so a lab can see and extend it). A row
may carry several hashes (MD5, SHA-1, SHA-256, PDQ, pHash): each becomes one KnownHash sharing the
row's id, category, name and labels (every other non-empty column, as ``(column, value)``).
A generic ``hash`` column is typed by the row's algorithm column, else by a
``# triage-hashset: algorithm=...`` directive, else by its length. Commas, tabs, semicolons and
bars are accepted as separators: the one under which the header names most hash columns wins.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

from triage.hashsets.base import HEX_DIGITS, Sniff, algorithm_named, fail, hex_value, normalise, shorten
from triage.hashsets.source import Source
from triage.records import KnownHash

DELIMITERS = (",", "\t", ";", "|")
HASH_ROLES = (*HEX_DIGITS, "hash")
SINGLE_ROLES = ("algorithm", "id", "category", "name")


@cache
def column_roles() -> dict[str, str]:
    """``columns.tsv`` as {normalised column name: role}."""
    roles: dict[str, str] = {}
    text = resources.files("triage.hashsets").joinpath("columns.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            column, role = line.split("\t")
            roles[normalise(column)] = role.strip()
    return roles


@dataclass(frozen=True)
class Header:
    """The meaning of each column, found once from the header row."""

    delimiter: str
    names: tuple[str, ...]
    hashes: tuple[tuple[int, str], ...]  # (column index, role in HASH_ROLES)
    single: dict[str, int]  # role in SINGLE_ROLES -> column index
    labels: tuple[int, ...]  # the other columns


def parse_header(text: str) -> Header | None:
    """The header under the best separator, or None when no column names a hash."""
    roles = column_roles()
    best: Header | None = None
    for delimiter in DELIMITERS:
        names = tuple(cell.strip() for cell in next(csv.reader([text], delimiter=delimiter)))
        hashes: list[tuple[int, str]] = []
        single: dict[str, int] = {}
        labels: list[int] = []
        for index, name in enumerate(names):
            role = roles.get(normalise(name))
            if role in HASH_ROLES:
                hashes.append((index, role))
            elif role in SINGLE_ROLES and role not in single:
                single[role] = index
            else:
                labels.append(index)
        if hashes and (best is None or len(hashes) > len(best.hashes)):
            best = Header(delimiter, names, tuple(hashes), single, tuple(labels))
    return best


class _Feed:
    """Lines to csv.reader, remembering where each record started (a quoted field may span
    lines)."""

    def __init__(self, lines: Iterator[tuple[int, str]]) -> None:
        self._lines = lines
        self.start: int | None = None

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        number, text = next(self._lines)
        if self.start is None:
            self.start = number
        return text + "\n"


class CsvReader:
    name = "csv"
    description = "CSV with a header row naming hash columns (md5, sha1, sha256, pdq, phash, hash)"

    def detect(self, sniff: Sniff) -> bool:
        return not sniff.binary and bool(sniff.lines) and parse_header(sniff.lines[0][1]) is not None

    def read(self, source: Source) -> Iterator[KnownHash]:
        feed = _Feed(source.data_lines())
        try:
            first = next(feed)
        except StopIteration:
            return
        header_line = feed.start or 0
        header = parse_header(first.rstrip("\n"))
        if header is None:
            raise fail(source, header_line, f"expected a header naming a hash column, found {shorten(first)}")
        _check_duplicates(source, header_line, header)
        rows = csv.reader(feed, delimiter=header.delimiter, strict=True)
        while True:
            feed.start = None
            try:
                row = next(rows)
            except StopIteration:
                return
            except csv.Error as e:
                raise fail(source, feed.start, f"not valid CSV: {e}") from e
            yield from _row(source, feed.start or 0, header, row)


def _check_duplicates(source: Source, line: int, header: Header) -> None:
    seen: dict[str, str] = {}
    for index, role in header.hashes:
        name = header.names[index]
        if role in seen:
            raise fail(source, line, f"columns {seen[role]!r} and {name!r} both hold {role} hashes")
        seen[role] = name


def _row(source: Source, number: int, header: Header, row: list[str]) -> Iterator[KnownHash]:
    if len(row) != len(header.names):
        text = shorten(header.delimiter.join(row))
        expected = len(header.names)
        raise fail(source, number, f"expected {expected} fields as in the header, found {len(row)}: {text}")
    directives = source.directives
    single = {role: (row[index].strip() or None) for role, index in header.single.items()}
    generic = directives.algorithm
    if single.get("algorithm"):
        generic = algorithm_named(single["algorithm"] or "")
        if generic is None:
            column = header.names[header.single["algorithm"]]
            named = shorten(single["algorithm"] or "")
            raise fail(source, number, f"column {column!r}: unknown algorithm {named}")
    labels = tuple((header.names[i], row[i].strip()) for i in header.labels if row[i].strip())
    category = single.get("category") or directives.category
    found = 0
    for index, role in header.hashes:
        cell = row[index].strip()
        if not cell:
            continue
        found += 1
        algorithm, value = hex_value(
            source, number, cell, generic if role == "hash" else role, column=header.names[index]
        )
        yield KnownHash(
            algorithm,
            value,
            entry_id=single.get("id"),
            category=category,
            name=single.get("name"),
            labels=labels,
            line=number,
        )
    if not found:
        columns = ", ".join(repr(header.names[i]) for i, _ in header.hashes)
        raise fail(source, number, f"no hash in this row (hash columns: {columns})")


READER = CsvReader()
