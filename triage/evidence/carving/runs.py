"""Byte runs of free space, and the bitmap and layout helpers every free-space reader shares.

A run is ``(absolute offset, length)`` in the medium. Each reader (one module per file system,
listed in :mod:`.unalloc`) turns its allocation map into runs with :func:`free_bits` and
:func:`merge`, and adds :func:`past_end` for what its file system claims beyond the image.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Mapping
from typing import Any

import pytsk3

Run = tuple[int, int]  # absolute offset, length

#: A named on-disk layout: field name -> (byte offset, struct format). Readers keep the layouts
#: as data beside the specification they follow, instead of bare offsets in the code.
Layout = Mapping[str, tuple[int, str]]


def read_fields(buf: bytes, layout: Layout, base: int = 0) -> dict[str, Any]:
    """The fields of ``layout`` unpacked from ``buf`` at ``base``: an int for one-value formats,
    a tuple otherwise. A buffer too short raises ``struct.error`` (the callers note it)."""
    out: dict[str, Any] = {}
    for name, (offset, fmt) in layout.items():
        values = struct.unpack_from(fmt, buf, base + offset)
        out[name] = values[0] if len(values) == 1 else values
    return out


def past_end(img: pytsk3.Img_Info, offset: int, block_size: int, claimed_blocks: int) -> list[Run]:
    """For a reader whose file system claims more blocks than the image holds: one run at the
    image's end for the missing part, which :func:`.unalloc.carve_areas` cuts off and reports (the blocks
    cannot be read, so their allocation is not asked)."""
    size = int(img.get_size())
    missing = offset + claimed_blocks * block_size - size
    return [(size, missing)] if missing > 0 else []


def merge(runs: Iterable[Run]) -> list[Run]:
    out: list[list[int]] = []
    for off, length in runs:
        if out and out[-1][0] + out[-1][1] == off:
            out[-1][1] += length
        else:
            out.append([off, length])
    return [(a, b) for a, b in out]


def free_bits(bitmap: bytes, count: int) -> Iterable[tuple[int, int]]:
    """``(first, n)`` runs of clear bits (LSB first) among the first ``count``; bits past the
    end of ``bitmap`` count as used. Whole zero bytes are taken eight bits at a time, so the bit
    loop only runs on bytes that are partly used (a large, mostly empty bitmap stays fast)."""
    start = end = -1
    for m in re.finditer(rb"\x00+|[^\x00\xff]", bitmap[: (count + 7) >> 3]):
        a, b = m.span()
        if bitmap[a]:  # one partly used byte
            spans = [(i, i + 1) for i in range(a * 8, b * 8) if not (bitmap[i >> 3] >> (i & 7)) & 1]
        else:
            spans = [(a * 8, b * 8)]
        for lo, hi in spans:
            hi = min(hi, count)
            if lo >= hi:
                continue
            if lo == end:
                end = hi
            else:
                if end > start >= 0:
                    yield start, end - start
                start, end = lo, hi
    if end > start >= 0:
        yield start, end - start


def within(runs: Iterable[Run], start: int, end: int) -> tuple[list[Run], int]:
    """``runs`` cut to ``[start, end)`` (the volume's first byte to the image's last), sorted,
    overlapping and touching runs joined, and how many bytes were cut off. Whatever a damaged or
    hostile allocation map claims, what is carved, and what the audit says was planned, lies
    inside the image and is counted once."""
    kept: list[Run] = []
    cut = 0
    for off, length in runs:
        lo, hi = max(off, start), min(off + length, end)
        cut += length - max(0, hi - lo)
        if hi > lo:
            kept.append((lo, hi - lo))
    out: list[list[int]] = []
    for off, length in sorted(kept):
        if out and off <= out[-1][0] + out[-1][1]:
            out[-1][1] = max(out[-1][1], off + length - out[-1][0])
        else:
            out.append([off, length])
    return [(a, b) for a, b in out], cut
