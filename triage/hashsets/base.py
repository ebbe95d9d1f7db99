"""What every hash-set reader shares: the reader contract, the algorithm table, hex checks.

A reader is one small object per file format with a ``name`` (recorded in the case as the set's
format), a ``detect`` that answers yes or no from the first bytes and lines, and a ``read`` that
yields :class:`~triage.records.KnownHash` records with their source line. Readers never compute
the file's SHA-256 or count entries: :func:`triage.hashsets.load_hashset` does that once for all.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from triage.errors import HashSetError

if TYPE_CHECKING:
    from triage.hashsets.source import Source
    from triage.records import KnownHash

#: Hex digits per algorithm. PDQ and SHA-256 share a length: 64 hex digits mean SHA-256 unless
#: the file declares PDQ (see docs/hashsets.md).
HEX_DIGITS: dict[str, int] = {
    "md5": 32, "sha1": 40, "sha256": 64, "pdq": 64, "phash": 16, "dhash": 16, "ahash": 16, "whash": 16,
}  # fmt: skip
#: Canonical order of algorithms in counts, matches and messages.
ALGORITHM_ORDER: tuple[str, ...] = ("md5", "sha1", "sha256", "pdq", "phash", "dhash", "ahash", "whash")
#: What a bare hex value of each length is taken to be.
BY_LENGTH: dict[int, str] = {32: "md5", 40: "sha1", 64: "sha256", 16: "phash"}
#: Spellings lab staff use for an algorithm (in a CSV column, a type column or a directive),
#: compared after :func:`normalise` (lower case, no spaces, dashes or underscores).
ALGORITHM_NAMES: dict[str, str] = {
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "pdq": "pdq",
    "pdqhash": "pdq",
    "photopdq": "pdq",
    "phash": "phash",
    "dhash": "dhash",
    "differencehash": "dhash",
    "ahash": "ahash",
    "averagehash": "ahash",
    "whash": "whash",
    "wavelethash": "whash",
}

_LENGTHS_TEXT = "16, 32, 40 or 64"


def normalise(word: str) -> str:
    """Compare column and algorithm names the way people write them: ``SHA-1`` == ``sha_1``."""
    return "".join(ch for ch in word.strip().lower() if ch not in " -_.")


def algorithm_named(word: str) -> str | None:
    """The algorithm a name like ``SHA-256`` or ``PDQ`` means, or None."""
    return ALGORITHM_NAMES.get(normalise(word))


def is_hex(text: str) -> bool:
    """True for a non-empty run of hex digits (``bytes.fromhex`` is several times faster than a
    regular expression; the length check rejects the spaces it would allow)."""
    try:
        return bool(text) and len(bytes.fromhex(text)) * 2 == len(text)
    except ValueError:
        return False


def shorten(text: str, limit: int = 60) -> str:
    """Quote found text for an error message without flooding it."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return repr(text)


def fail(source: Source, line: int | None, message: str) -> HashSetError:
    """A HashSetError naming the file (as the examiner gave it) and the line."""
    where = source.display if line is None else f"{source.display} line {line}"
    return HashSetError(f"{where}: {message}")


def hex_value(
    source: Source, line: int, text: str, algorithm: str | None, column: str | None = None
) -> tuple[str, str]:
    """Check one hash written as hex; return ``(algorithm, lower-case value)``.

    With ``algorithm`` None the type is taken from the length (:data:`BY_LENGTH`); otherwise the
    length must be that algorithm's. ``column`` names the CSV column in the error message.
    """
    where = f"column {column!r}: " if column is not None else ""
    if algorithm is None:
        found = BY_LENGTH.get(len(text))
        if found is None or not is_hex(text):
            raise fail(
                source, line, f"{where}expected a hex hash of {_LENGTHS_TEXT} digits, found {shorten(text)}"
            )
        return found, text.lower()
    digits = HEX_DIGITS[algorithm]
    if len(text) != digits or not is_hex(text):
        raise fail(
            source, line, f"{where}expected a {algorithm} hash of {digits} hex digits, found {shorten(text)}"
        )
    return algorithm, text.lower()


@dataclass(frozen=True)
class Directives:
    """Settings a file declares in ``# triage-hashset: key=value`` comment lines."""

    algorithm: str | None = None  # forces the type of every bare/generic hash in the file
    category: str | None = None  # default category for entries that name none
    scheme: str | None = None  # the scheme the categories follow (vics, caid, or the lab's own name)
    lines: tuple[int, ...] = field(default=())  # where they were declared


@dataclass(frozen=True)
class Sniff:
    """What detection sees: the file name, its first bytes and its first data lines.

    ``lines`` are ``(line number, text)`` with blank, comment and directive lines left out, and
    the BOM and line ends removed. ``binary`` is true when the head holds NUL bytes that are not
    UTF-16 text.
    """

    name: str
    head: bytes
    lines: tuple[tuple[int, str], ...]
    directives: Directives
    binary: bool = False


class HashSetReader(Protocol):
    """One known-hash-set file format."""

    #: Recorded as ``HashSetInfo.format``; also the name used to force a format.
    name: str
    #: One line for documentation and command-line help.
    description: str

    def detect(self, sniff: Sniff) -> bool:
        """Yes if the file looks like this format. Must not read the file itself."""
        ...

    def read(self, source: Source) -> Iterator[KnownHash]:
        """Every hash in the file, in file order, each with its source ``line``.

        Raises HashSetError (via :func:`fail`) naming the line on the first malformed one.
        """
        ...


def fail_at(source: Source, offset: int, message: str) -> HashSetError:
    """A HashSetError naming the file and a byte offset: binary formats have no lines."""
    return HashSetError(f"{source.display} byte offset {offset}: {message}")


def first_line_has_hash(sniff: Sniff, line: re.Pattern[str], group: int = 2) -> bool:
    """Detection shared by the line formats: the first data line matches ``line`` and its hex
    group has a hash length (the declared algorithm's, where the file declares one)."""
    if not sniff.lines:
        return False
    m = line.fullmatch(sniff.lines[0][1])
    if m is None:
        return False
    declared = sniff.directives.algorithm
    digits = len(m.group(group))
    return digits == HEX_DIGITS[declared] if declared else digits in BY_LENGTH


def csv_cells(text: str) -> list[str]:
    """One CSV line's cells (quoted fields as the NSRL and HashKeeper files write them)."""
    return next(csv.reader([text]))


def csv_row(source: Source, number: int, text: str, width: int) -> list[str]:
    """A data row that must have ``width`` cells, as its header says; errors name the line."""
    try:
        cells = csv_cells(text)
    except csv.Error as e:
        raise fail(source, number, f"not valid CSV: {e}: {shorten(text)}") from e
    if len(cells) != width:
        raise fail(
            source, number, f"expected {width} fields as in the header, found {len(cells)}: {shorten(text)}"
        )
    return cells
