"""Damaged file systems: say so, and find the files no folder reaches any more.

A folder walk trusts the root folder. Overwrite one cluster of a FAT32 root folder or one block
of an ext4 root folder and the walk finds nothing, although the allocation maps (the FAT, the
inode bitmap) say the files are there; cut an image short and the file system's far end is
gone. Either must not read as an empty disk. So after each walk:

* :func:`~triage.evidence.volumes.cut_short`, when the file system is opened, compares its size
  with what the image holds;
* :func:`allocation` compares what the allocation maps say is in use with what the walk reached
  (the ext superblock's used inodes; FAT32's FSInfo free count, confirmed from the FAT itself
  only when it disagrees; the FAT of FAT12/16, at most 128 KiB), so a healthy image pays
  nothing measurable (``benchmarks/listing_damage.py``);
* only when the walk reached far fewer than that (:func:`looks_damaged`) are the orphans
  searched: :func:`orphan_dirs` finds folders no folder names (ext: allocated folder inodes;
  FAT: cluster chains that begin with the ``.``/``..`` entries of a folder), to be walked
  under ``$OrphanFiles``, and :func:`loose_files` the allocated ext inodes still unreached;
  NTFS files are found record by record (:mod:`triage.evidence.ntfs_orphans`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pytsk3

from triage.evidence import fatmap, ntfs_orphans
from triage.evidence.volumes import TSK_ERRORS, OpenVolume, bounded_reader

#: Meta addresses remembered during a walk; beyond this the loose-file search is skipped.
MAX_TRACKED = 2_000_000
#: A walk is "far short" when it reached less than half of what is allocated, and at least this
#: many units (inodes, clusters) are unaccounted for.
MIN_MISSING = 4

_META_DIRS = (int(pytsk3.TSK_FS_META_TYPE_DIR), int(pytsk3.TSK_FS_META_TYPE_VIRT_DIR))
_META_REG = int(pytsk3.TSK_FS_META_TYPE_REG)
_META_ALLOC = int(pytsk3.TSK_FS_META_FLAG_ALLOC)
_FAT = ("fat12", "fat16", "fat32")
_EXT = ("ext2", "ext3", "ext4")

Reader = fatmap.Reader


def searchable(fs_type: str) -> bool:
    """Whether damage is looked for on this file system type (the others keep no census)."""
    return fs_type in _FAT or fs_type in _EXT or fs_type == "ntfs"


@dataclass
class Census:
    """What a folder walk reached: counts, and the meta addresses while there are few enough."""

    dirs: int = 0
    files: int = 0
    bytes: int = 0  # content bytes of the allocated files reached
    dir_bytes: int = 0  # size of the folders reached (FAT: their cluster chains)
    others: int = 0  # symbolic links, devices, sockets reached: they use inodes too
    addrs: set[int] | None = field(default_factory=set)

    @property
    def reached(self) -> int:
        """Meta addresses (inodes, MFT records) reached, hard links counted once per name."""
        return self.files + self.dirs + self.others

    def add(self, addr: int, size: int = 0, is_dir: bool = False) -> None:
        if is_dir:
            self.dirs += 1
            self.dir_bytes += size
        else:
            self.files += 1
            self.bytes += size
        if self.addrs is not None:
            self.addrs.add(addr)
            if len(self.addrs) > MAX_TRACKED:
                self.addrs = None


def reader(vol: OpenVolume) -> Reader:
    """Read the image around ``vol`` (short, or empty, past its end)."""
    return bounded_reader(vol.img)


@dataclass(frozen=True)
class Allocation:
    unit: str  # "inodes" or "clusters"
    allocated: int  # in use according to the file system's own maps
    reached: int  # reached by the folder walk (for clusters an upper estimate)


def allocation(vol: OpenVolume, census: Census) -> Allocation | None:
    """What the allocation maps say is in use, beside what the walk reached (ext, FAT, NTFS)."""
    read = reader(vol)
    if vol.fs_type == "ntfs":
        records = ntfs_orphans.allocated_records(vol.fs)
        return None if records is None else Allocation("MFT records", records, census.reached)
    if vol.fs_type in _EXT:
        sb = read(vol.offset + 1024, 1024)
        if len(sb) < 90 or sb[56:58] != b"\x53\xef":
            return None
        inodes, free = struct.unpack_from("<I", sb, 0)[0], struct.unpack_from("<I", sb, 16)[0]
        rev = struct.unpack_from("<I", sb, 76)[0]
        first = struct.unpack_from("<I", sb, 84)[0] if rev >= 1 else 11
        # inodes below the first normal one are reserved (the root among them) and always in use
        used = max(0, inodes - free - (first - 1))
        return Allocation("inodes", used, census.reached)
    if vol.fs_type in _FAT:
        layout = fatmap.fat_layout(read, vol.offset, vol.fs_type)
        if layout is None:
            return None
        cluster = layout.cluster_size
        # an upper estimate: each file's last cluster may be partly used
        reached = -(-census.bytes // cluster) + census.files + -(-census.dir_bytes // cluster) + census.dirs
        hint = fatmap.fsinfo_used(read, vol.offset, layout)
        if hint is not None and not looks_damaged(Allocation("clusters", hint, reached)):
            # FAT32's FSInfo free count agrees: no need to read a FAT of up to 1 GB
            return Allocation("clusters", hint, reached)
        used = int(np.count_nonzero(fatmap.fat_entries(read, layout)))
        return Allocation("clusters", used, reached)
    return None


def looks_damaged(alloc: Allocation | None) -> bool:
    return (
        alloc is not None
        and alloc.reached * 2 < alloc.allocated
        and alloc.allocated - alloc.reached >= MIN_MISSING
    )


def damage_note(alloc: Allocation) -> str:
    return (
        f"the file system looks damaged: its allocation maps say {alloc.allocated:,} {alloc.unit} are in "
        f"use, its folders reach only about {alloc.reached:,}; files no folder reaches are listed "
        f"under $OrphanFiles where they could be found"
    )


# --------------------------------------------------------------------------- orphan search


def orphan_dirs(vol: OpenVolume, census: Census) -> list[int]:
    """Meta addresses of the top folders no walked folder reaches (their sub-folders are reached
    by walking them). Reads every inode (ext) or every chain head (FAT): only when damaged."""
    if vol.fs_type in _EXT:
        return _ext_orphan_dirs(vol, census)
    if vol.fs_type in _FAT:
        return _fat_orphan_dirs(vol, census)
    return []


def _parent(fs: pytsk3.FS_Info, addr: int) -> int | None:
    try:
        for f in fs.open_dir(inode=addr):
            if f.info.name.name == b"..":
                return int(f.info.name.meta_addr)
    except TSK_ERRORS:
        return None
    return None


def _reached_already(fs: pytsk3.FS_Info, addr: int, reached: set[int]) -> bool:
    """Whether the walk already listed this folder under its own name: one of its entries was
    reached (on FAT an entry's address is its place in the folder, whatever path led there)."""
    try:
        for f in fs.open_dir(inode=addr):
            if f.info.name.name not in (b".", b"..") and int(f.info.name.meta_addr) in reached:
                return True
    except TSK_ERRORS:
        return True  # unreadable: nothing to walk
    return False


def _ext_orphan_dirs(vol: OpenVolume, census: Census) -> list[int]:
    fs, reached = vol.fs, census.addrs or set()
    root = int(fs.info.root_inum)
    found = [
        a for a, mtype in _allocated_inodes(vol) if mtype in _META_DIRS and a != root and a not in reached
    ]
    candidates = set(found)
    return [a for a in found if _parent(fs, a) not in candidates and not _reached_already(fs, a, reached)]


def _first_normal_inode(vol: OpenVolume) -> int:
    """ext's first non-reserved inode (``s_first_ino``; 11 in revision 0): the ones below it
    (journal, resize inode ...) belong to the file system, not to any folder."""
    sb = reader(vol)(vol.offset + 1024, 1024)
    if len(sb) >= 90 and struct.unpack_from("<I", sb, 76)[0] >= 1:
        return max(3, struct.unpack_from("<I", sb, 84)[0])
    return 11


def _allocated_inodes(vol: OpenVolume) -> Iterator[tuple[int, int]]:
    fs = vol.fs
    for addr in range(_first_normal_inode(vol), int(fs.info.last_inum) + 1):
        try:
            meta = fs.open_meta(inode=addr).info.meta
        except TSK_ERRORS:
            continue
        if meta is not None and int(meta.flags) & _META_ALLOC:
            yield addr, int(meta.type)


def loose_files(vol: OpenVolume, census: Census) -> Iterator[int]:
    """Allocated regular-file inodes (ext) that no folder, not even an orphan one, reached."""
    if vol.fs_type not in _EXT or census.addrs is None:
        return
    for addr, mtype in _allocated_inodes(vol):
        if mtype == _META_REG and addr not in census.addrs:
            yield addr


def _fat_orphan_dirs(vol: OpenVolume, census: Census) -> list[int]:
    read = reader(vol)
    layout = fatmap.fat_layout(read, vol.offset, vol.fs_type)
    if layout is None:
        return []
    dirs = fatmap.folder_chains(read, layout)
    reached = census.addrs or set()
    return [
        a for a, parent in dirs.values() if parent not in dirs and not _reached_already(vol.fs, a, reached)
    ]
