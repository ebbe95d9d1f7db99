"""Free space of an HFS+ or HFSX volume, from its allocation file, for carving.

TSK (which lists HFS+ files) gives no block walk through pytsk3, so the allocation map is read
directly (Apple TN1150): the volume header at byte 1024 of the volume (big-endian, signature
``H+`` or ``HX``) gives the allocation block size, the block count and the allocation file's
fork (its first 8 extents); the allocation file is a bitmap with one bit per allocation block,
**most significant bit first**, 1 = in use. Allocation block 0 starts at the volume's first byte.

An HFS+ volume embedded in an HFS (``BD``) wrapper, as old Mac OS formatted them, is found
through the wrapper's master directory block and read in place; the wrapper's own few blocks
outside the embedded volume are not carved.

An allocation file longer than its 8 extents (the rest would be in the extents overflow B-tree)
is refused with ``ValueError``, so the volume is noted as not carved rather than carved from a
partial map: an allocation file only fragments when a volume is grown, which is rare, and
following the overflow B-tree for it alone is not worth an untestable code path.
"""

from __future__ import annotations

import struct

import pytsk3

from triage.evidence.carving.runs import Run, free_bits, merge, past_end

_CHUNK = 1 << 20  # bitmap bytes read at a time (8 Mi allocation blocks)
_REVERSE = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))  # MSB-first byte -> LSB-first


def _embedded_offset(img: pytsk3.Img_Info, offset: int, mdb: bytes) -> int:
    """Byte offset of the HFS+ volume inside an HFS wrapper (master directory block ``mdb``)."""
    (al_blk_size,) = struct.unpack_from(">I", mdb, 0x14)
    (al_bl_st,) = struct.unpack_from(">H", mdb, 0x1C)
    embed_sig, embed_start, _embed_count = struct.unpack_from(">2sHH", mdb, 0x7C)
    if embed_sig not in (b"H+", b"HX"):
        raise ValueError("HFS (standard) volume without an embedded HFS+ volume: not carved")
    if not al_blk_size or al_blk_size % 512:
        raise ValueError(f"HFS wrapper: implausible allocation block size {al_blk_size}")
    return offset + al_bl_st * 512 + embed_start * al_blk_size


def _volume_header(img: pytsk3.Img_Info, offset: int) -> tuple[int, bytes]:
    """``(offset of the HFS+ volume, its 512-byte volume header)``, through a wrapper if any."""
    header = img.read(offset + 1024, 512)
    if header[:2] == b"BD":
        offset = _embedded_offset(img, offset, header)
        header = img.read(offset + 1024, 512)
    if len(header) < 512 or header[:2] not in (b"H+", b"HX"):
        raise ValueError(f"no HFS+ volume header at offset {offset + 1024}")
    return offset, header


def hfs_runs(img: pytsk3.Img_Info, offset: int) -> list[Run]:
    """Free byte runs ``(absolute offset, length)`` of the HFS+/HFSX volume at ``offset``.

    Raises ``ValueError`` (or ``struct.error``/``OSError`` from the image) when the volume
    header or the allocation file is not usable.
    """
    offset, header = _volume_header(img, offset)
    block_size, total_blocks = struct.unpack_from(">II", header, 40)
    if block_size < 512 or block_size & (block_size - 1) or not total_blocks:
        raise ValueError(f"implausible HFS+ volume header (block size {block_size}, {total_blocks} blocks)")
    logical_size, _clump, fork_blocks = struct.unpack_from(">QII", header, 112)
    extents = [struct.unpack_from(">II", header, 128 + 8 * i) for i in range(8)]
    extents = [(start, count) for start, count in extents if count]
    if sum(count for _, count in extents) < fork_blocks:
        raise ValueError(
            f"HFS+ allocation file has {fork_blocks} blocks but its first 8 extents hold "
            f"{sum(c for _, c in extents)}: the rest is in the extents overflow file, which is not "
            "followed (volume not carved)"
        )
    need = (total_blocks + 7) >> 3
    if min(logical_size, sum(c for _, c in extents) * block_size) < need:
        raise ValueError(f"HFS+ allocation file too short ({logical_size} bytes for {total_blocks} blocks)")
    # Only blocks the image holds can be carved: a header claiming more (damage, or a hostile
    # count) must not turn into millions of runs past the end of a small image.
    in_image = max(0, (int(img.get_size()) - offset) // block_size)
    runs: list[Run] = []
    first_bit = 0  # allocation block described by the first bit of the next bitmap read
    for start, count in extents:
        if start + count > total_blocks:
            raise ValueError(f"HFS+ allocation file extent {start}+{count} is outside the volume")
        pos, end = offset + start * block_size, offset + (start + count) * block_size
        while pos < end and first_bit < total_blocks:
            n = min(_CHUNK, end - pos, (total_blocks - first_bit + 7) >> 3)
            data = img.read(pos, n)
            if len(data) != n:
                raise ValueError(f"HFS+ allocation file: short read at offset {pos}")
            bits = min(n * 8, total_blocks - first_bit, max(0, in_image - first_bit))
            for first, k in free_bits(data.translate(_REVERSE), bits):
                runs.append((offset + (first_bit + first) * block_size, k * block_size))
            pos += n
            first_bit += n * 8
    return merge(runs) + past_end(img, offset, block_size, total_blocks)
