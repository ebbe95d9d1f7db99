"""Where to carve: the unallocated byte runs of each file system, and disk space outside any
partition, as absolute byte ranges in the medium.

pytsk3 has no block walk, so allocation is read from each file system's own map: the FAT
(cluster entry 0 = free) and NTFS's ``$Bitmap`` (one bit per cluster). Other file systems are
not carved yet; :func:`carve_areas` says so in its notes, so the case records what was not done.
Partition-table gaps (slots labelled ``unalloc``) are carved whole.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pytsk3

from triage.evidence import disk
from triage.evidence.volumes import open_fs
from triage.locator import Volume
from triage.records import SourceSpec, VolumeInfo

Run = tuple[int, int]  # absolute offset, length


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


def _free_bits(bitmap: bytes, count: int, free_when_zero: bool = True) -> Iterable[tuple[int, int]]:
    """``(first, n)`` runs of clear bits (LSB first) among the first ``count``."""
    start = None
    for i in range(count):
        used = (bitmap[i >> 3] >> (i & 7)) & 1 if (i >> 3) < len(bitmap) else 1
        if not used and start is None:
            start = i
        elif used and start is not None:
            yield start, i - start
            start = None
    if start is not None:
        yield start, count - start


def _ntfs_runs(img: pytsk3.Img_Info, offset: int) -> list[Run]:
    fs = open_fs(img, offset, "ntfs")
    cluster = int(fs.info.block_size)
    clusters = int(fs.info.block_count)
    f = fs.open_meta(inode=6)  # $Bitmap
    size = int(f.info.meta.size)
    bitmap = f.read_random(0, size)
    # Whole free bytes first: the bit loop only runs where a byte is partly used.
    runs: list[Run] = []
    for first, n in _free_bits(bitmap, clusters):
        runs.append((offset + first * cluster, n * cluster))
    return _merge(runs)


def _fat_runs(img: pytsk3.Img_Info, offset: int, bits: int) -> list[Run]:
    """Free clusters from the first FAT. ``bits`` (12, 16, 32) is the FAT type the file system was
    opened as: a small FAT32 (too few clusters for its type, like dfir_ntfs/fat32_small) still has
    32-bit entries, so the width must not be guessed from the cluster count."""
    boot = img.read(offset, 512)
    bps, spc, reserved, nfats, root_entries, total16 = struct.unpack_from("<HBHBHH", boot, 11)
    (fatsz16,) = struct.unpack_from("<H", boot, 22)
    total32, fatsz32 = struct.unpack_from("<I", boot, 32)[0], struct.unpack_from("<I", boot, 36)[0]
    total = total16 or total32
    fatsz = fatsz16 or fatsz32
    root_sectors = (root_entries * 32 + bps - 1) // bps
    first_data = reserved + nfats * fatsz + root_sectors
    clusters = (total - first_data) // spc
    fat = img.read(offset + reserved * bps, fatsz * bps)
    cluster_bytes = spc * bps
    runs: list[Run] = []
    for c in range(2, clusters + 2):
        if bits == 12:  # 1.5 bytes per entry
            v = struct.unpack_from("<H", fat, c * 3 // 2)[0]
            value = v >> 4 if c & 1 else v & 0xFFF
        elif bits == 16:
            value = struct.unpack_from("<H", fat, c * 2)[0]
        else:
            value = struct.unpack_from("<I", fat, c * 4)[0] & 0x0FFFFFFF
        if value == 0:
            runs.append((offset + (first_data + (c - 2) * spc) * bps, cluster_bytes))
    return _merge(runs)


_READERS: dict[str, Callable[[pytsk3.Img_Info, int], list[Run]]] = {
    "ntfs": _ntfs_runs,
    "fat12": lambda img, offset: _fat_runs(img, offset, 12),
    "fat16": lambda img, offset: _fat_runs(img, offset, 16),
    "fat32": lambda img, offset: _fat_runs(img, offset, 32),
}


def carve_areas(spec: SourceSpec, volumes: Sequence[VolumeInfo]) -> tuple[list[CarveArea], list[str]]:
    """What to carve on one disk image, and notes on what could not be carved."""
    areas: list[CarveArea] = []
    notes: list[str] = []
    img = disk.open_image(spec)
    try:
        for v in volumes:
            if v.label == "unalloc" and v.length > 0:
                areas.append(CarveArea(None, ((v.offset, v.length),)))
                continue
            if v.fs_type is None or v.label in ("meta",):
                continue
            volume = Volume(v.label, v.offset, v.fs_type)
            reader = _READERS.get(v.fs_type)
            if reader is None:
                notes.append(
                    f"{volume}: carving not supported on {v.fs_type} (its unallocated space was not carved)"
                )
                continue
            try:
                areas.append(CarveArea(volume, tuple(reader(img, v.offset))))
            except (OSError, struct.error, IndexError) as e:
                notes.append(
                    f"{volume}: cannot read the allocation map, not carved: {' '.join(str(e).split())[:200]}"
                )
    finally:
        img.close()
    return areas, notes
