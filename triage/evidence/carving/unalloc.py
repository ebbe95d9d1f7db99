"""Where to carve: the unallocated byte runs of each file system, and disk space outside any
partition, as absolute byte ranges in the medium.

pytsk3 has no block walk, so allocation is read from each file system's own map: the FAT
(cluster entry 0 = free), NTFS's ``$Bitmap`` (one bit per cluster), ext2/3/4's per-group block
bitmaps, exFAT's Allocation Bitmap, HFS+'s allocation file (:mod:`.freespace_hfs`) and the APFS
container's space manager (:mod:`.freespace_apfs`; container-wide, as APFS volumes share it).
Any other file system is not carved; :func:`carve_areas` says so in its notes, so the case records
what was not done. Partition-table gaps (slots labelled ``unalloc``) are carved whole.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pytsk3

from triage.evidence import disk
from triage.evidence.carving.freespace_apfs import apfs_runs
from triage.evidence.carving.freespace_hfs import hfs_runs
from triage.evidence.volumes import open_fs
from triage.locator import Volume
from triage.records import SourceSpec, VolumeInfo

Run = tuple[int, int]  # absolute offset, length


def past_end(img: pytsk3.Img_Info, offset: int, block_size: int, claimed_blocks: int) -> list[Run]:
    """For a reader whose file system claims more blocks than the image holds: one run at the
    image's end for the missing part, which :func:`carve_areas` cuts off and reports (the blocks
    cannot be read, so their allocation is not asked)."""
    size = int(img.get_size())
    missing = offset + claimed_blocks * block_size - size
    return [(size, missing)] if missing > 0 else []


@dataclass(frozen=True)
class CarveArea:
    volume: Volume | None  # None: outside any partition
    runs: tuple[Run, ...]


def _merge(runs: Iterable[Run]) -> list[Run]:
    out: list[list[int]] = []
    for off, length in runs:
        if out and out[-1][0] + out[-1][1] == off:
            out[-1][1] += length
        else:
            out.append([off, length])
    return [(a, b) for a, b in out]


def _free_bits(bitmap: bytes, count: int) -> Iterable[tuple[int, int]]:
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


def _ntfs_runs(img: pytsk3.Img_Info, offset: int) -> list[Run]:
    fs = open_fs(img, offset, "ntfs")
    cluster = int(fs.info.block_size)
    # Only clusters the image holds, and the bitmap bytes they need: a damaged or hostile
    # $Bitmap size must not become one huge read (what lies past the image is noted by the
    # caller through past_end).
    claimed = int(fs.info.block_count)
    clusters = min(claimed, max(0, (int(img.get_size()) - offset) // cluster))
    f = fs.open_meta(inode=6)  # $Bitmap
    size = min(int(f.info.meta.size), (clusters + 7) // 8)
    bitmap = f.read_random(0, size) if size else b""
    runs: list[Run] = []
    for first, n in _free_bits(bitmap, clusters):
        runs.append((offset + first * cluster, n * cluster))
    return _merge(runs) + past_end(img, offset, cluster, claimed)


def _fat_runs(img: pytsk3.Img_Info, offset: int, bits: int) -> list[Run]:
    """Free clusters from the first FAT. ``bits`` (12, 16, 32) is the FAT type the file system was
    opened as: a small FAT32 (too few clusters for its type, like dfir_ntfs/fat32_small) still has
    32-bit entries, so the width must not be guessed from the cluster count.

    The FAT is read and decoded a piece at a time with numpy (a 2 TB FAT32 has a 1 GB FAT and
    hundreds of millions of entries), and only for clusters both the FAT and the image hold;
    clusters the boot sector claims past the image's end are reported by the caller."""
    boot = img.read(offset, 512)
    bps, spc, reserved, nfats, root_entries, total16 = struct.unpack_from("<HBHBHH", boot, 11)
    (fatsz16,) = struct.unpack_from("<H", boot, 22)
    total32, fatsz32 = struct.unpack_from("<I", boot, 32)[0], struct.unpack_from("<I", boot, 36)[0]
    total = total16 or total32
    fatsz = fatsz16 or fatsz32
    if not bps or not spc or not fatsz:
        raise ValueError(f"implausible FAT boot sector ({bps} bytes/sector, {spc} sectors/cluster)")
    root_sectors = (root_entries * 32 + bps - 1) // bps
    first_data = reserved + nfats * fatsz + root_sectors
    clusters = (total - first_data) // spc
    if clusters <= 0:
        raise ValueError(f"implausible FAT boot sector: no clusters ({total} sectors, data at {first_data})")
    cluster_bytes = spc * bps
    data_start = offset + first_data * bps
    in_image = max(0, (int(img.get_size()) - data_start) // cluster_bytes)
    in_fat = fatsz * bps * 8 // bits - 2
    usable = min(clusters, in_fat, in_image)
    runs: list[Run] = []
    fat_start = offset + reserved * bps
    step = _FAT_PIECE_ENTRIES  # entries per piece; even, so a FAT12 piece starts on a byte
    for first in range(0, usable + 2, step):
        n = min(step, usable + 2 - first)
        raw = img.read(fat_start + first * bits // 8, (n * bits + 7) // 8)
        if len(raw) < (n * bits + 7) // 8:
            raise ValueError(f"FAT: short read at entry {first}")
        free = _fat_entries(raw, n, bits) == 0
        if first == 0:
            free[:2] = False  # entries 0 and 1 are reserved, not clusters
        edges = np.flatnonzero(np.diff(np.concatenate(([0], free.view(np.int8), [0]))))
        for lo, hi in zip(edges[::2], edges[1::2], strict=True):
            c = first + int(lo)  # cluster number of the run's first entry
            runs.append((data_start + (c - 2) * cluster_bytes, int(hi - lo) * cluster_bytes))
    return _merge(runs) + past_end(img, data_start, cluster_bytes, clusters)


#: FAT entries decoded at a time (4 M: 16 MB of FAT32).
_FAT_PIECE_ENTRIES = 1 << 22


def _fat_entries(raw: bytes, n: int, bits: int) -> np.ndarray:
    """The first ``n`` FAT entries in ``raw`` as integers (FAT32's top 4 bits masked off)."""
    if bits == 32:
        return np.frombuffer(raw, "<u4", n) & 0x0FFFFFFF
    if bits == 16:
        return np.frombuffer(raw, "<u2", n)
    b = np.frombuffer(raw + b"\0\0", np.uint8)[: (n + 1) // 2 * 3].astype(np.uint16).reshape(-1, 3)
    even = b[:, 0] | (b[:, 1] & 0x0F) << 8  # 12 bits: two entries in three bytes
    odd = b[:, 1] >> 4 | b[:, 2] << 4
    return np.stack((even, odd), axis=1).reshape(-1)[:n]


def _ext_has_super(group: int, sb: bytes) -> bool:
    """Whether ``group`` holds a superblock copy (and so a group descriptor table copy)."""
    compat, _incompat, ro_compat = struct.unpack_from("<III", sb, 0x5C)
    if compat & 0x200:  # sparse_super2: copies only in group 0 and the two groups named
        return group == 0 or group in struct.unpack_from("<II", sb, 0x24C)
    if group <= 1 or not ro_compat & 0x1:  # sparse_super off: every group has one
        return True
    for p in (3, 5, 7):
        n = p
        while n < group:
            n *= p
        if n == group:
            return True
    return False


def _ext_runs(img: pytsk3.Img_Info, offset: int) -> list[Run]:
    """Free blocks from each block group's bitmap (one bit per block, the group's blocks only;
    the last group is cut at the block count). A group flagged ``BLOCK_UNINIT`` (honoured only
    with ``uninit_bg``/``metadata_csum``, as the kernel does) has no bitmap written on disk: it
    is free except its superblock/descriptor-table copy and any group's bitmaps and inode table
    placed inside it (``flex_bg`` packs them into a few groups). ``bigalloc`` and ``meta_bg``
    lay out blocks differently and are refused (the volume is then noted, not carved)."""
    sb = img.read(offset + 1024, 1024)
    if struct.unpack_from("<H", sb, 0x38)[0] != 0xEF53:
        raise ValueError("no ext superblock")
    blocks_lo, _r, _f, _fi, first_data, log_bs = struct.unpack_from("<IIIIII", sb, 4)
    bpg, _cpg, ipg = struct.unpack_from("<III", sb, 0x20)
    _compat, incompat, ro_compat = struct.unpack_from("<III", sb, 0x5C)
    if ro_compat & 0x200 or incompat & 0x10:
        raise ValueError("ext bigalloc/meta_bg layout is not supported")
    wide = bool(incompat & 0x80)  # 64bit: block numbers have high halves, descriptors >= 64 bytes
    blocks = blocks_lo | (struct.unpack_from("<I", sb, 0x150)[0] << 32 if wide else 0)
    desc_size = struct.unpack_from("<H", sb, 0xFE)[0] if wide else 32
    inode_size = struct.unpack_from("<H", sb, 0x58)[0] if struct.unpack_from("<I", sb, 0x4C)[0] else 128
    if log_bs > 6 or not bpg or desc_size < 32 or blocks <= first_data:
        raise ValueError("implausible ext superblock")
    bs = 1024 << log_bs
    if bpg > 8 * bs or inode_size > bs or ipg * inode_size > bpg * bs:
        raise ValueError("implausible ext superblock (group geometry the kernel would refuse)")
    claimed = blocks
    blocks = min(blocks, max(first_data + 1, (int(img.get_size()) - offset) // bs))  # what the image holds
    groups = (blocks - first_data + bpg - 1) // bpg
    gdt_blocks = (groups * desc_size + bs - 1) // bs
    gdt = img.read(offset + (first_data + 1) * bs, gdt_blocks * bs)
    uninit_ok = bool(ro_compat & 0x410)  # gdt_csum / metadata_csum
    table_blocks = (ipg * inode_size + bs - 1) // bs
    descs = []
    for g in range(groups):
        d = g * desc_size
        lo = struct.unpack_from("<III", gdt, d)
        hi = struct.unpack_from("<III", gdt, d + 0x20) if wide and desc_size >= 64 else (0, 0, 0)
        flags = struct.unpack_from("<H", gdt, d + 0x12)[0]
        descs.append(([a | b << 32 for a, b in zip(lo, hi, strict=True)], flags))
    # Every group's bitmaps and inode table, filed under the group(s) holding them, as (block
    # in that group, count): what an uninitialised group has in use besides its superblock copy.
    inside: dict[int, list[Run]] = {}
    for (bb, ib, it), _ in descs:
        for a, n in ((bb, 1), (ib, 1), (it, table_blocks)):
            while n > 0 and first_data <= a < blocks:
                g, rel = divmod(a - first_data, bpg)
                piece = min(n, bpg - rel)
                inside.setdefault(g, []).append((rel, piece))
                a, n = a + piece, n - piece
    reserved_gdt = struct.unpack_from("<H", sb, 0xCE)[0]
    runs: list[Run] = []
    for g, ((bitmap_block, _ib, _it), flags) in enumerate(descs):
        start = first_data + g * bpg
        count = min(bpg, blocks - start)
        if uninit_ok and flags & 0x2:
            used = np.zeros(count, bool)
            spans = [*inside.get(g, [])]
            if _ext_has_super(g, sb):
                spans.append((0, 1 + gdt_blocks + reserved_gdt))
            for a, n in spans:
                used[a : a + n] = True
            bitmap = np.packbits(used, bitorder="little").tobytes()
        else:
            if not first_data <= bitmap_block < blocks:
                raise ValueError(f"ext group {g}: block bitmap at {bitmap_block} is outside the volume")
            bitmap = img.read(offset + bitmap_block * bs, (count + 7) >> 3)
        for first, n in _free_bits(bitmap, count):
            runs.append((offset + (start + first) * bs, n * bs))
    return _merge(runs) + past_end(img, offset, bs, claimed)


def _exfat_runs(img: pytsk3.Img_Info, offset: int) -> list[Run]:
    """Free clusters from the Allocation Bitmap (bit ``i`` = cluster ``i + 2``), found through
    its directory entry (type 0x81) in the root directory. The root and the bitmap are read
    along their FAT chains; a bitmap whose FAT entries are not chained (0) is read as
    contiguous clusters. With two FATs (TexFAT) the bitmap of the active FAT is used."""
    boot = img.read(offset, 512)
    if boot[3:11] != b"EXFAT   ":
        raise ValueError("no exFAT boot sector")
    fat_off, _fat_len, heap, clusters, root = struct.unpack_from("<IIIII", boot, 0x50)
    (vol_flags,) = struct.unpack_from("<H", boot, 0x6A)
    sector_shift, cluster_shift, nfats = boot[0x6C], boot[0x6D], boot[0x6E]
    if not 9 <= sector_shift <= 12 or sector_shift + cluster_shift > 25 or not 0 < clusters < 0xFFFFFFF5:
        raise ValueError("implausible exFAT boot sector")
    sector = 1 << sector_shift
    cbytes = sector << cluster_shift
    active = vol_flags & 1 if nfats == 2 else 0
    claimed = clusters
    clusters = min(clusters, max(0, (int(img.get_size()) - offset - heap * sector) // cbytes))
    fat = img.read(offset + fat_off * sector, (clusters + 2) * 4)

    def cluster_at(c: int) -> int:
        if not 2 <= c < clusters + 2:
            raise ValueError(f"exFAT cluster {c} is outside the cluster heap or the image")
        return offset + heap * sector + (c - 2) * cbytes

    def chain(first: int, contiguous: bool = False) -> Iterable[int]:
        c, seen = first, set()
        while True:
            if c in seen:  # a FAT chain that loops (damage, or a trap): its data is not trusted
                raise ValueError(f"exFAT FAT chain from cluster {first} loops at cluster {c}")
            seen.add(c)
            yield c
            nxt = struct.unpack_from("<I", fat, c * 4)[0]
            if contiguous and nxt == 0:
                nxt = c + 1
            elif nxt >= 0xFFFFFFF7 or nxt < 2:
                return
            c = nxt

    entry = None
    for c in chain(root):
        data = img.read(cluster_at(c), cbytes)
        for pos in range(0, cbytes, 32):
            if data[pos] == 0x00:  # end of directory
                break
            if data[pos] == 0x81 and data[pos + 1] & 1 == active:
                entry = struct.unpack_from("<IQ", data, pos + 20)
                break
        else:
            continue
        break
    if entry is None:
        raise ValueError("exFAT root directory has no Allocation Bitmap entry")
    first, length = entry
    if length < (clusters + 7) >> 3:
        raise ValueError(f"exFAT Allocation Bitmap too short ({length} bytes for {clusters} clusters)")
    parts = []
    for c in chain(first, contiguous=True):
        parts.append(img.read(cluster_at(c), cbytes))
        if len(parts) * cbytes >= length:
            break
    bitmap = b"".join(parts)[:length]
    runs = _merge((cluster_at(i + 2), n * cbytes) for i, n in _free_bits(bitmap, clusters))
    return runs + past_end(img, offset + heap * sector, cbytes, claimed)


_READERS: dict[str, Callable[[pytsk3.Img_Info, int], list[Run]]] = {
    "ntfs": _ntfs_runs,
    "fat12": lambda img, offset: _fat_runs(img, offset, 12),
    "fat16": lambda img, offset: _fat_runs(img, offset, 16),
    "fat32": lambda img, offset: _fat_runs(img, offset, 32),
    **dict.fromkeys(("ext2", "ext3", "ext4"), _ext_runs),  # one layout, features read from the superblock
    "exfat": _exfat_runs,
    "hfs": hfs_runs,  # TSK's name for HFS+/HFSX
    "apfs": apfs_runs,
}


def _within(runs: Iterable[Run], start: int, end: int) -> tuple[list[Run], int]:
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


def carve_areas(spec: SourceSpec, volumes: Sequence[VolumeInfo]) -> tuple[list[CarveArea], list[str]]:
    """What to carve on one disk image, and notes on what could not be carved."""
    areas: list[CarveArea] = []
    notes: list[str] = []
    done: set[tuple[str, int]] = set()
    img = disk.open_image(spec)
    try:
        for v in volumes:
            if v.label == "unalloc" and v.length > 0:
                areas.append(CarveArea(None, ((v.offset, v.length),)))
                continue
            if v.fs_type is None or v.label in ("meta",):
                continue
            if (v.fs_type, v.offset) in done:
                continue  # an APFS container's volumes share its free space: carved once, as the container
            done.add((v.fs_type, v.offset))
            volume = Volume(v.label, v.offset, v.fs_type)
            reader = _READERS.get(v.fs_type)
            if reader is None:
                notes.append(
                    f"{volume}: carving not supported on {v.fs_type} (its unallocated space was not carved)"
                )
                continue
            try:
                end = min(v.offset + v.length, int(img.get_size())) if v.length > 0 else int(img.get_size())
                runs, cut = _within(reader(img, v.offset), v.offset, end)
                areas.append(CarveArea(volume, tuple(runs)))
                if cut:
                    notes.append(
                        f"{volume}: {cut} bytes of the file system lie past the end of its partition"
                        " or of the image (damaged or cut short) and were not carved"
                    )
            except (OSError, struct.error, IndexError, ValueError, MemoryError) as e:
                notes.append(
                    f"{volume}: cannot read the allocation map, not carved: {' '.join(str(e).split())[:200]}"
                )
    finally:
        img.close()
    return areas, notes
