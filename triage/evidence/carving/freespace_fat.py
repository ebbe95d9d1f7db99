"""FAT12/16/32 free space: clusters whose entry in the first FAT is 0."""

from __future__ import annotations

import struct

import numpy as np
import pytsk3

from triage.evidence.carving.runs import Run, merge, past_end


def fat_runs(img: pytsk3.Img_Info, offset: int, bits: int) -> list[Run]:
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
    return merge(runs) + past_end(img, data_start, cluster_bytes, clusters)


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
