"""FAT's own maps, read directly: geometry, the FAT, FAT32's FSInfo, the folders' cluster chains.

The Sleuth Kit reads a FAT file system from its root folder down; when that folder is
overwritten, the FAT still says which clusters are in use, and each subfolder's first cluster
still begins with its ``.`` and ``..`` entries. :mod:`triage.evidence.damage` uses these to see
that a walk reached too little and to find the folders it did not reach.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Reader = Callable[[int, int], bytes]


@dataclass(frozen=True)
class FatLayout:
    offset: int  # of the file system in the image
    sector: int
    cluster_size: int
    fat_offset: int  # bytes from the image start
    fat_bytes: int
    bits: int  # 12, 16, 32
    data_sector: int  # first sector of the data area (TSK numbers inodes from it)
    cluster_sector: int  # first sector of cluster 2
    clusters: int


def fat_layout(read: Reader, offset: int, fs_type: str) -> FatLayout | None:
    """The FAT's geometry; its entry width is the type TSK opened (a FAT32 with too few clusters
    for its type still has 32-bit entries)."""
    boot = read(offset, 512)
    if len(boot) < 512 or boot[510:512] != b"\x55\xaa":
        return None
    bps, spc, reserved, fats, root_entries, total16 = struct.unpack_from("<HBHBHH", boot, 11)
    fatsz16, total32, fatsz32 = struct.unpack_from("<H", boot, 22)[0], *struct.unpack_from("<II", boot, 32)
    if bps not in (512, 1024, 2048, 4096) or not spc or not fats:
        return None
    fatsz = fatsz16 or fatsz32
    total = total16 or total32
    data_sector = reserved + fats * fatsz
    cluster_sector = data_sector + -(-root_entries * 32 // bps)
    clusters = max(0, (total - cluster_sector) // spc)
    bits = {"fat12": 12, "fat16": 16, "fat32": 32}[fs_type]
    return FatLayout(
        offset,
        bps,
        bps * spc,
        offset + reserved * bps,
        fatsz * bps,
        bits,
        data_sector,
        cluster_sector,
        clusters,
    )


def fsinfo_used(read: Reader, offset: int, layout: FatLayout) -> int | None:
    """Clusters in use by FAT32's FSInfo sector (a hint the driver keeps; may be stale)."""
    if layout.bits != 32:
        return None
    sector = struct.unpack_from("<H", read(offset + 48, 2) or bytes(2))[0]
    info = read(offset + sector * layout.sector, 512) if sector else b""
    if len(info) < 492 or info[:4] != b"RRaA" or info[484:488] != b"rrAa":
        return None
    free = struct.unpack_from("<I", info, 488)[0]
    return layout.clusters - free if free <= layout.clusters else None


def fat_entries(read: Reader, layout: FatLayout) -> np.ndarray:
    """Next-cluster value of clusters 2.. (0: free), as an array (a FAT32 FAT of millions of
    entries is read once and never looped over in Python)."""
    raw = read(layout.fat_offset, layout.fat_bytes)
    n = layout.clusters + 2
    if layout.bits == 32:
        return (np.frombuffer(raw, "<u4", min(n, len(raw) // 4)) & 0x0FFFFFFF)[2:]
    if layout.bits == 16:
        return np.frombuffer(raw, "<u2", min(n, len(raw) // 2))[2:].astype(np.uint32)
    pairs = np.frombuffer(raw[: len(raw) // 3 * 3], np.uint8).reshape(-1, 3).astype(np.uint32)
    even = pairs[:, 0] | (pairs[:, 1] & 0x0F) << 8
    odd = pairs[:, 1] >> 4 | pairs[:, 2] << 4
    return np.stack([even, odd], axis=1).reshape(-1)[2:n]


def folder_chains(read: Reader, layout: FatLayout) -> dict[int, tuple[int, int]]:
    """``{first cluster: (TSK meta address of its "." entry, parent cluster)}`` of every cluster
    chain that begins like a folder (``.`` then ``..``, ``.`` pointing at itself): the folders,
    reached or not, whatever happened to the folders above them."""
    entries = fat_entries(read, layout)
    # a chain begins at an allocated cluster no other cluster points to
    pointed = np.zeros(len(entries) + 2, dtype=bool)
    targets = entries[(entries >= 2) & (entries < len(entries) + 2)]
    pointed[targets] = True
    heads = [int(c) + 2 for c in np.flatnonzero((entries != 0) & ~pointed[2:])]
    spc = layout.cluster_size // layout.sector
    dirs: dict[int, tuple[int, int]] = {}  # cluster -> (meta address of its "." entry, parent cluster)
    for cluster in heads:
        sector = layout.cluster_sector + (cluster - 2) * spc
        head = read(layout.offset + sector * layout.sector, 64)
        if head[:11] != b".          " or head[32:43] != b"..         ":
            continue
        own = struct.unpack_from("<H", head, 20)[0] << 16 | struct.unpack_from("<H", head, 26)[0]
        parent = struct.unpack_from("<H", head, 52)[0] << 16 | struct.unpack_from("<H", head, 58)[0]
        if own != cluster:
            continue
        # TSK numbers FAT directory entries from the data area, 3 onwards (fatfs.h)
        addr = (sector - layout.data_sector) * (layout.sector // 32) + 3
        dirs[cluster] = (addr, parent)
    return dirs
