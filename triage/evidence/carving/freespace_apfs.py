"""Free space of an APFS container, from its space manager, for carving.

Free space in APFS belongs to the container, not to a volume: all volumes allocate from one
space manager. The map is reached as Apple's "Apple File System Reference" lays it out:

1. the container superblock (``nx_superblock_t``, magic ``NXSB``) at block 0 gives the block
   size and the checkpoint descriptor area; the superblock copy there with the highest
   transaction id and a valid Fletcher-64 checksum is the current one (block 0 may be older);
2. the space manager is an ephemeral object: its id (``nx_spaceman_oid``) is resolved to a
   block through the checkpoint maps of that same transaction;
3. ``spaceman_phys_t``'s main device lists its chunk-info blocks (directly, or through
   chunk-info address blocks when ``sm_cab_count`` > 0); each ``chunk_info_t`` covers up to
   ``8 × block size`` blocks with one bitmap block (bit *i*, **least significant bit first**,
   set = block ``ci_addr + i`` in use). ``ci_bitmap_addr`` 0 means the chunk has no bitmap
   because every block in it is free (apfsck's ``read_chunk_bitmap``, which then checks
   ``ci_free_count`` against an all-zero bitmap).

Blocks waiting in the space manager's free queues are still marked used, so they are not carved;
a Fusion container's second (tier-2) device is not read. A container whose checkpoint
descriptor area is not contiguous (a B-tree) is refused.
"""

from __future__ import annotations

import struct
from itertools import accumulate, chain

import pytsk3

from triage.evidence.carving.runs import Run, free_bits, past_end

_NXSB = b"NXSB"
_TYPE_NX_SUPERBLOCK, _TYPE_SPACEMAN, _TYPE_CAB, _TYPE_CIB, _TYPE_CHECKPOINT_MAP = 0x1, 0x5, 0x6, 0x7, 0xC
_MAX_DESC_BLOCKS = 1 << 16  # the descriptor area is a few blocks; refuse absurd sizes
_MAX_SPACEMAN = 1 << 20  # bytes
_MAX_MAP_ENTRIES = 1 << 16  # checkpoint-map entries kept per transaction


def fletcher64(block: bytes) -> int:
    """APFS object checksum of ``block`` (computed over bytes 8 onward, as stored in bytes 0-8)."""
    words = struct.unpack(f"<{(len(block) - 8) // 4}I", block[8:])
    mod = 0xFFFFFFFF
    sum1 = sum(words) % mod
    sum2 = sum(accumulate(words)) % mod
    c1 = mod - (sum1 + sum2) % mod
    c2 = mod - (sum1 + c1) % mod
    return c2 << 32 | c1


def _object(data: bytes, want: int, what: str) -> tuple[int, int]:
    """``(oid, xid)`` of an object after checking its checksum and type; else ``ValueError``."""
    if struct.unpack_from("<Q", data)[0] != fletcher64(data):
        raise ValueError(f"APFS {what}: bad checksum")
    oid, xid, otype = struct.unpack_from("<QQI", data, 8)
    if otype & 0xFFFF != want:
        raise ValueError(f"APFS {what}: object type {otype & 0xFFFF:#x}, expected {want:#x}")
    return oid, xid


def _valid(data: bytes, want: int) -> bool:
    """An object of type ``want`` with a good checksum (the type is looked at first: cheap)."""
    if len(data) < 32 or struct.unpack_from("<I", data, 24)[0] & 0xFFFF != want:
        return False
    try:
        _object(data, want, "")
    except ValueError:
        return False
    return True


class _Container:
    """Block reads inside the image. The block size comes from block 0 (it never changes); the
    block count from the checkpoint chosen (:func:`_spaceman`), since block 0 may be older than
    a grown container's current superblock."""

    def __init__(self, img: pytsk3.Img_Info, offset: int) -> None:
        head = img.read(offset, 4096)
        if head[32:36] != _NXSB:
            raise ValueError(f"no APFS container superblock at offset {offset}")
        (bs,) = struct.unpack_from("<I", head, 36)
        if not 4096 <= bs <= 65536 or bs & (bs - 1):
            raise ValueError(f"APFS container: implausible block size {bs}")
        self.img, self.offset, self.bs = img, offset, bs
        #: Blocks the image holds from the container's start: no read goes past them.
        self.in_image = max(0, (int(img.get_size()) - offset) // bs)
        self.block_count = struct.unpack_from("<Q", head, 40)[0]
        if not self.block_count:
            raise ValueError("APFS container of 0 blocks")

    def block(self, n: int, count: int = 1) -> bytes:
        if n < 0 or n + count > min(self.block_count, self.in_image):
            raise ValueError(f"APFS block {n} is outside the container or the image")
        data = self.img.read(self.offset + n * self.bs, count * self.bs)
        if len(data) != count * self.bs:
            raise ValueError(f"APFS block {n}: short read")
        return data


def _descriptors(c: _Container, sb: bytes) -> tuple[dict[tuple[int, int], int], dict[int, list[tuple]]]:
    """The checkpoint descriptor area, read one block at a time and kept small: the valid
    superblocks as ``{(xid, spaceman oid): block count}`` (copies of one checkpoint count once)
    and the valid checkpoint maps' entries by transaction id."""
    desc_blocks, _data_blocks, desc_base = struct.unpack_from("<IIQ", sb, 104)
    if desc_blocks & 0x80000000:
        raise ValueError("APFS checkpoint descriptor area is not contiguous (B-tree): not supported")
    if not 0 < desc_blocks <= _MAX_DESC_BLOCKS:
        raise ValueError(f"APFS checkpoint descriptor area of {desc_blocks} blocks")
    supers: dict[tuple[int, int], int] = {}
    maps: dict[int, list[tuple]] = {}
    for block in chain((sb,), (c.block(desc_base + i) for i in range(desc_blocks))):  # one at a time
        if block[32:36] == _NXSB and _valid(block, _TYPE_NX_SUPERBLOCK):
            xid, count, sm_oid = (struct.unpack_from("<Q", block, at)[0] for at in (16, 40, 152))
            supers.setdefault((xid, sm_oid), count)
        elif _valid(block, _TYPE_CHECKPOINT_MAP):
            xid = struct.unpack_from("<Q", block, 16)[0]
            (n,) = struct.unpack_from("<I", block, 36)
            entries = maps.setdefault(xid, [])
            if len(entries) < _MAX_MAP_ENTRIES:
                entries += [
                    struct.unpack_from("<IIIIQQQ", block, 40 + 40 * i)
                    for i in range(min(n, (c.bs - 40) // 40))
                ]
    return supers, maps


def _spaceman(c: _Container) -> bytes:
    """The current ``spaceman_phys_t``: from the newest valid checkpoint that resolves it. The
    container's block count is taken from that checkpoint's superblock."""
    supers, maps = _descriptors(c, c.block(0))
    for (xid, sm_oid), count in sorted(supers.items(), reverse=True):
        for ctype, _sub, size, _pad, _fs, oid, paddr in maps.get(xid, ()):
            if oid != sm_oid or ctype & 0xFFFF != _TYPE_SPACEMAN:
                continue
            if not 0 < size <= _MAX_SPACEMAN or size % c.bs:
                raise ValueError(f"APFS space manager of {size} bytes")
            if not count:
                raise ValueError("APFS container of 0 blocks")
            c.block_count = count
            data = c.block(paddr, size // c.bs)
            if _valid(data, _TYPE_SPACEMAN):
                return data
    raise ValueError("APFS container: no valid checkpoint resolves the space manager")


def _addresses(data: bytes, at: int, count: int, what: str) -> list[int]:
    if at + 8 * count > len(data):
        raise ValueError(f"APFS {what}: {count} addresses do not fit")
    return list(struct.unpack_from(f"<{count}Q", data, at))


def apfs_runs(img: pytsk3.Img_Info, offset: int) -> list[Run]:
    """Free byte runs ``(absolute offset, length)`` of the APFS container at ``offset`` (its
    main device). Raises ``ValueError`` (or ``struct.error``/``OSError``) on a malformed map."""
    c = _Container(img, offset)
    sm = _spaceman(c)
    sm_bs, per_chunk = struct.unpack_from("<II", sm, 32)
    blocks, _chunks, cib_count, cab_count, _free, addr_off = struct.unpack_from("<QQIIQI", sm, 48)
    if sm_bs != c.bs or not 0 < per_chunk <= 8 * c.bs or blocks > c.block_count:
        raise ValueError(f"APFS space manager: implausible geometry ({sm_bs}, {per_chunk}, {blocks})")
    if cab_count:
        cibs = []
        for i, addr in enumerate(_addresses(sm, addr_off, cab_count, "space manager")):
            cab = c.block(addr)
            _object(cab, _TYPE_CAB, f"chunk-info address block {i}")
            (n,) = struct.unpack_from("<I", cab, 36)
            cibs += _addresses(cab, 40, n, f"chunk-info address block {i}")
    else:
        cibs = _addresses(sm, addr_off, cib_count, "space manager")
    # A hostile map can list one block many times (or chunks that overlap): each chunk-info
    # block and each chunk start is read once, and only chunks inside the container and the
    # image count, so the work is bounded by the container's size, not by the map's claims.
    blocks = min(blocks, c.in_image)
    runs: list[Run] = []
    seen: set[int] = set()
    for i, addr in enumerate(dict.fromkeys(cibs)):
        cib = c.block(addr)
        _object(cib, _TYPE_CIB, f"chunk-info block {i}")
        (n,) = struct.unpack_from("<I", cib, 36)
        if 40 + 32 * n > c.bs:
            raise ValueError(f"APFS chunk-info block {i}: {n} chunks do not fit")
        for j in range(n):
            _xid, first, count, _free_count, bitmap_addr = struct.unpack_from("<QQIIQ", cib, 40 + 32 * j)
            count = min(count, per_chunk, max(0, blocks - first))
            if first in seen or count <= 0:
                continue
            seen.add(first)
            if not bitmap_addr:  # no bitmap: the whole chunk is free
                runs.append((first, count))
                continue
            runs.extend((first + a, k) for a, k in free_bits(c.block(bitmap_addr), count))
    # Sorted and joined (overlapping chunks of a hostile map included) by carve_areas.
    return [(offset + a * c.bs, k * c.bs) for a, k in runs] + past_end(img, offset, c.bs, c.block_count)
