"""Carving JPEG, PNG and GIF pictures from raw bytes (unallocated space), by structure.

Each candidate starts at a signature and ends where the format's own structure says it ends, not
at the first footer-looking bytes: a JPEG's segments are skipped by their lengths and its
entropy-coded data scanned for EOI (so the EOI of an embedded EXIF thumbnail does not cut it
short), PNG chunks are followed to IEND, GIF blocks to the trailer. Contiguous data is assumed
(no fragment reassembly). The caller validates every candidate by decoding it; what does not
decode is dropped.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable

#: Largest picture carved (bytes); longer candidates are dropped.
MAX_CARVE = 32 * 1024 * 1024
_SIGNATURES = re.compile(rb"\xff\xd8\xff[\xc0-\xfe]|\x89PNG\r\n\x1a\n|GIF8[79]a")
_PNG_SIG = b"\x89PNG\r\n\x1a\n"


def _jpeg_end(buf: bytes, start: int, limit: int) -> int | None:
    pos = start + 2
    while pos + 4 <= limit:
        if buf[pos] != 0xFF:
            return None
        marker = buf[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return pos + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", buf, pos + 2)
        if length < 2:
            return None
        pos += 2 + length
        if marker == 0xDA:  # entropy-coded data until a marker that is not a restart / stuffing
            while True:
                pos = buf.find(b"\xff", pos, limit)
                if pos < 0 or pos + 1 >= limit:
                    return None
                nxt = buf[pos + 1]
                if nxt == 0x00 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
                    pos += 1 if nxt == 0xFF else 2
                    continue
                break
    return None


def _png_end(buf: bytes, start: int, limit: int) -> int | None:
    pos = start + 8
    while pos + 12 <= limit:
        (length,) = struct.unpack_from(">I", buf, pos)
        kind = buf[pos + 4 : pos + 8]
        if not kind.isalpha() or length > MAX_CARVE:
            return None
        pos += 12 + length
        if kind == b"IEND":
            return pos if pos <= limit else None
    return None


def _gif_end(buf: bytes, start: int, limit: int) -> int | None:
    if start + 13 > limit:
        return None
    flags = buf[start + 10]
    pos = start + 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while pos < limit:
        block = buf[pos]
        if block == 0x3B:
            return pos + 1
        if block == 0x21:  # extension: label, then sub-blocks
            pos += 2
        elif block == 0x2C:  # image descriptor, local colour table, LZW code size, sub-blocks
            if pos + 10 > limit:
                return None
            local = buf[pos + 9]
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1
        else:
            return None
        while pos < limit and buf[pos]:
            pos += buf[pos] + 1
        pos += 1
    return None


_ENDS = {b"\xff": ("jpeg", _jpeg_end), b"\x89": ("png", _png_end), b"G": ("gif", _gif_end)}


def find_pictures(
    buf: bytes, search_end: int, accept: Callable[[int, int, str], bool], search_start: int = 0
) -> list[tuple[int, int, str]]:
    """``(start, end, kind)`` of the pictures in ``buf`` starting in ``[search_start,
    search_end)`` (the rest of ``buf`` is only read to finish a picture) that ``accept`` (the
    decoder) validates. The search goes on after an accepted picture, and one byte after a
    rejected candidate; a caller searching in pieces starts the next piece after the last
    picture accepted, so a picture crossing into it is not searched again for the pictures
    it holds (an EXIF thumbnail)."""
    found = []
    pos = max(0, search_start)
    while True:
        m = _SIGNATURES.search(buf, pos, min(len(buf), search_end + 8))
        if m is None or m.start() >= search_end:
            return found
        start = m.start()
        kind, end_of = _ENDS[buf[start : start + 1]]
        limit = min(len(buf), start + MAX_CARVE)
        try:
            end = end_of(buf, start, limit)
        except (struct.error, IndexError):
            end = None
        if end is not None and accept(start, end, kind):
            found.append((start, end, kind))
            pos = end
        else:
            pos = start + 1
