"""ZIP (and the ZIP-based formats that start with a local file header).

A name flagged UTF-8 (general purpose bit 11) that is not UTF-8 makes :class:`zipfile.ZipFile`
refuse the whole archive (UnicodeDecodeError). Then the archive is opened again through a view
that clears that flag for those names only, in the central directory and in their local
headers, so zipfile reads them as cp437 (every byte decodes); the names are turned back into
their bytes and decoded as UTF-8 with surrogate escapes, so a location shows the bad bytes as
``%XX`` and every other member is read as usual. Only flag bits change in the view, never a
member's data.
"""

from __future__ import annotations

import bisect
import struct
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

from triage.evidence.archives import CHUNK, Member, Meter

_UTF8_FLAG_HIGH = 0x08  # bit 11 of the little-endian flag field, in its second byte


def detect(head: bytes) -> bool:
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def _mtime(info: zipfile.ZipInfo) -> str | None:
    y, mo, d, h, mi, s = info.date_time
    if y < 1980 or not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    # ZIP stores local time without a zone; stated as written, not converted.
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"


class _FlagView:
    """A read-only view of ``f`` with the UTF-8 flag cleared in the bytes at ``positions``."""

    def __init__(self, f: BinaryIO, positions: list[int]) -> None:
        self.f, self.positions = f, sorted(positions)

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.f.seek(offset, whence)

    def tell(self) -> int:
        return self.f.tell()

    def read(self, n: int = -1) -> bytes:
        at = self.f.tell()
        data = self.f.read(n)
        i = bisect.bisect_left(self.positions, at)
        if i == len(self.positions) or self.positions[i] >= at + len(data):
            return data
        out = bytearray(data)
        while i < len(self.positions) and self.positions[i] < at + len(data):
            out[self.positions[i] - at] &= ~_UTF8_FLAG_HIGH & 0xFF
            i += 1
        return bytes(out)


def _zip64_offset(extra: bytes, csize: int, usize: int) -> int | None:
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        if tag == 0x0001:
            fields = extra[pos + 4 : pos + 4 + length]
            skip = 8 * ((usize == 0xFFFFFFFF) + (csize == 0xFFFFFFFF))
            return struct.unpack_from("<Q", fields, skip)[0] if skip + 8 <= len(fields) else None
        pos += 4 + length
    return None


def _bad_names(f: BinaryIO) -> tuple[list[int], set[int]]:
    """Byte positions of the UTF-8 flags to clear, and the central directory indexes of the
    names flagged UTF-8 that are not UTF-8. Located as zipfile locates the directory."""
    endrec = zipfile._EndRecData(f)  # type: ignore[attr-defined]
    if endrec is None:
        return [], set()
    size_cd, offset_cd = endrec[zipfile._ECD_SIZE], endrec[zipfile._ECD_OFFSET]  # type: ignore[attr-defined]
    concat = endrec[zipfile._ECD_LOCATION] - size_cd - offset_cd  # type: ignore[attr-defined]
    if endrec[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:  # type: ignore[attr-defined]
        concat -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator  # type: ignore[attr-defined]
    start = concat + offset_cd
    f.seek(start)
    cd = f.read(size_cd)
    positions: list[int] = []
    bad: set[int] = set()
    pos = index = 0
    while pos + 46 <= len(cd) and cd[pos : pos + 4] == b"PK\x01\x02":
        (flags,) = struct.unpack_from("<H", cd, pos + 8)
        csize, usize, nlen, xlen, clen = struct.unpack_from("<IIHHH", cd, pos + 20)
        (local,) = struct.unpack_from("<I", cd, pos + 42)
        name = cd[pos + 46 : pos + 46 + nlen]
        if flags & 0x800:
            try:
                name.decode("utf-8")
            except UnicodeDecodeError:
                if local == 0xFFFFFFFF:
                    extra = cd[pos + 46 + nlen : pos + 46 + nlen + xlen]
                    local = _zip64_offset(extra, csize, usize) or 0
                positions += [start + pos + 9, concat + local + 7]
                bad.add(index)
        pos += 46 + nlen + xlen + clen
        index += 1
    return positions, bad


def _open(f: BinaryIO) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(f)
    except UnicodeDecodeError:
        positions, bad = _bad_names(f)
        if not bad:
            raise
    zf = zipfile.ZipFile(_FlagView(f, positions))  # type: ignore[arg-type]
    for index, info in enumerate(zf.infolist()):
        if index in bad:
            info.filename = info.filename.encode("cp437").decode("utf-8", "surrogateescape")
    return zf


def members(f: BinaryIO, size: int, meter: Meter | None = None) -> Iterator[Member]:
    """The directory is read whole (its size is bounded by the file's): nothing to meter."""
    zf = _open(f)
    for info in zf.infolist():
        if info.is_dir():
            continue

        def chunks(meter: Meter, info: zipfile.ZipInfo = info) -> Iterator[bytes]:
            with zf.open(info) as src:
                while chunk := src.read(CHUNK):
                    meter.add(len(chunk))
                    yield chunk

        yield Member(info.filename, info.file_size, _mtime(info), bool(info.flag_bits & 0x1), chunks)
