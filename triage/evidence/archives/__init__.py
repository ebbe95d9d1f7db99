"""Archives and compressed files, opened from bytes already read: one module per format family.

:data:`FORMATS` is the one table: ``(name, detect, members)``. ``detect`` sees the first bytes;
``members`` takes a seekable binary file, its size and the archive's :class:`Meter` (what the
listing itself decompresses, e.g. TAR headers, is charged to it) and yields :class:`Member`
records in archive order. A name may repeat; :mod:`.expand` tells the occurrences apart.
Reading a member goes through a :class:`Meter`, which counts every expanded byte so the limits of
:class:`~triage.records.ArchiveLimits` hold for every format alike (py7zr writes through it too).
Expansion itself (depth, limits, hashing, nested archives) is :mod:`.expand`.
"""

from __future__ import annotations

import bz2
import lzma
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import py7zr.exceptions

#: Bytes per read from a member.
CHUNK = 1 << 20


class LimitReached(Exception):
    """An :class:`~triage.records.ArchiveLimits` limit was reached; the message says which."""


class Meter:
    """Counts expanded bytes for one archive and for the whole top entry; raises LimitReached."""

    def __init__(self, check: Callable[[int], None]) -> None:
        self.check = check

    def add(self, n: int) -> None:
        self.check(n)


@dataclass
class Member:
    """One member of an archive. ``chunks`` reads its content through the meter."""

    name: str
    size: int
    mtime: str | None
    encrypted: bool
    chunks: Callable[[Meter], Iterator[bytes]]


MembersFn = Callable[[BinaryIO, int, Meter], Iterator[Member]]

#: Anything a damaged or hostile archive may raise from the standard library or py7zr.
ARCHIVE_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    tarfile.TarError,
    py7zr.exceptions.ArchiveError,
    py7zr.exceptions.Bad7zFile,
    py7zr.exceptions.DecompressionError,
    py7zr.exceptions.UnsupportedCompressionMethodError,
    py7zr.exceptions.CrcError,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    KeyError,
    IndexError,
    OverflowError,
)
# bz2 raises OSError / ValueError; listed for the reader.
del bz2


def _formats() -> list[tuple[str, Callable[[bytes], bool], MembersFn]]:
    from triage.evidence.archives import compressed, sevenzip, tarfmt, zipfmt

    return [
        ("zip", zipfmt.detect, zipfmt.members),
        ("7z", sevenzip.detect, sevenzip.members),
        ("tar", tarfmt.detect, tarfmt.members),
        ("compressed", compressed.detect, compressed.members),  # gzip/bzip2/xz, tar inside or not
    ]


#: The formats, tried in order; the first whose detector says yes reads the file.
FORMATS = _formats()


def detect(head: bytes) -> tuple[str, MembersFn] | None:
    """The archive format of a file from its first 512+ bytes, or None."""
    for name, test, members in FORMATS:
        if test(head):
            return name, members
    return None
