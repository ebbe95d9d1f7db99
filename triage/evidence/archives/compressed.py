"""Single compressed files (gzip, bzip2, xz); a TAR inside is read as a TAR.

A gzip file may name its content (the FNAME field); bzip2 and xz never do, so their one
member is called ``{decompressed}`` (braces: see docs/formats.md on member names).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import struct
import tarfile
from collections.abc import Iterator
from typing import BinaryIO

from triage.evidence.archives import CHUNK, Member, Meter, tarfmt

UNNAMED = "{decompressed}"
_OPENERS = {b"\x1f\x8b": gzip.GzipFile, b"BZh": bz2.BZ2File, b"\xfd7zXZ\x00": lzma.LZMAFile}


def _magic(head: bytes) -> bytes | None:
    return next((m for m in _OPENERS if head.startswith(m)), None)


def detect(head: bytes) -> bool:
    return _magic(head) is not None


def _gzip_name(f: BinaryIO) -> tuple[str | None, str | None]:
    f.seek(0)
    head = f.read(10)
    if len(head) < 10:
        return None, None
    flags, mtime = head[3], struct.unpack("<I", head[4:8])[0]
    when = None
    if mtime:
        from triage.timeutil import iso_utc

        when = iso_utc(mtime, 0)
    if flags & 0x04:  # FEXTRA
        (xlen,) = struct.unpack("<H", f.read(2))
        f.seek(xlen, 1)
    name = None
    if flags & 0x08:  # FNAME, Latin-1, NUL-terminated
        raw = bytearray()
        while (b := f.read(1)) and b != b"\x00" and len(raw) < 4096:
            raw += b
        name = raw.decode("latin-1") or None
    return name, when


def _open(f: BinaryIO, magic: bytes) -> BinaryIO:
    opener = _OPENERS[magic]
    return opener(fileobj=f, mode="rb") if opener is gzip.GzipFile else opener(f)  # type: ignore[no-any-return]


def _holds_tar(f: BinaryIO, magic: bytes) -> bool:
    """True when the decompressed content starts with a valid TAR header block.

    Not ``tarfile.open(mode="r:*")``: it takes content that starts with a 512-byte zero block
    (a disk sector, a blank database page) for a TAR whose end marker comes first, i.e. an
    empty TAR, and the file itself would never be hashed (#12). A header is valid when it is not
    all zeros and its checksum is right (ustar, GNU and old V7 headers alike).
    """
    f.seek(0)
    try:
        with _open(f, magic) as src:
            block = src.read(tarfile.BLOCKSIZE)
        tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    except (tarfile.TarError, EOFError, OSError, ValueError, lzma.LZMAError):
        return False
    return True


def members(f: BinaryIO, size: int, meter: Meter) -> Iterator[Member]:
    f.seek(0)
    magic = _magic(f.read(8)) or b""
    is_tar = _holds_tar(f, magic)
    f.seek(0)
    if is_tar:
        yield from tarfmt.members(f, size, meter, "r:*")
        return
    name, mtime = _gzip_name(f) if magic == b"\x1f\x8b" else (None, None)
    f.seek(0)

    def chunks(meter: Meter) -> Iterator[bytes]:
        with _open(f, magic) as src:
            while chunk := src.read(CHUNK):
                meter.add(len(chunk))
                yield chunk

    yield Member(name or UNNAMED, -1, mtime, False, chunks)
