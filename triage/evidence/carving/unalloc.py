"""Where to carve: the unallocated byte runs of each file system, and disk space outside any
partition, as absolute byte ranges in the medium.

pytsk3 has no block walk, so allocation is read from each file system's own map: the FAT
(cluster entry 0 = free), NTFS's ``$Bitmap`` (one bit per cluster), ext2/3/4's per-group block
bitmaps, exFAT's Allocation Bitmap, HFS+'s allocation file and the APFS container's space
manager (container-wide, as APFS volumes share it): one module each, ``freespace_<fs>.py``,
listed once in :data:`_READERS`.
Any other file system is not carved; :func:`carve_areas` says so in its notes, so the case records
what was not done. Partition-table gaps (slots labelled ``unalloc``) are carved whole.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytsk3

from triage.evidence import disk
from triage.evidence.carving.freespace_apfs import apfs_runs
from triage.evidence.carving.freespace_exfat import exfat_runs
from triage.evidence.carving.freespace_ext import ext_runs
from triage.evidence.carving.freespace_fat import fat_runs
from triage.evidence.carving.freespace_hfs import hfs_runs
from triage.evidence.carving.freespace_ntfs import ntfs_runs
from triage.evidence.carving.runs import Run, within
from triage.locator import Volume
from triage.records import SourceSpec, VolumeInfo


@dataclass(frozen=True)
class CarveArea:
    volume: Volume | None  # None: outside any partition
    runs: tuple[Run, ...]


#: The one table of free-space readers, by TSK file-system name: (image, volume offset) -> runs.
_READERS: dict[str, Callable[[pytsk3.Img_Info, int], list[Run]]] = {
    "ntfs": ntfs_runs,
    "fat12": lambda img, offset: fat_runs(img, offset, 12),
    "fat16": lambda img, offset: fat_runs(img, offset, 16),
    "fat32": lambda img, offset: fat_runs(img, offset, 32),
    **dict.fromkeys(("ext2", "ext3", "ext4"), ext_runs),  # one layout, features read from the superblock
    "exfat": exfat_runs,
    "hfs": hfs_runs,  # TSK's name for HFS+/HFSX
    "apfs": apfs_runs,
}


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
                runs, cut = within(reader(img, v.offset), v.offset, end)
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
