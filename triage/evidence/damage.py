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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pytsk3

from triage.evidence import ntfs_orphans
from triage.evidence.volumes import TSK_ERRORS, OpenVolume

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

Reader = Callable[[int, int], bytes]


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
    addrs: set[int] | None = field(default_factory=set)

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
    img = vol.img
    size = int(img.get_size()) if img is not None else 0

    def read(offset: int, length: int) -> bytes:
        length = max(0, min(length, size - offset))
        try:
            return img.read(offset, length) if length else b""
        except TSK_ERRORS:
            return b""

    return read


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
        return None if records is None else Allocation("MFT records", records, census.files + census.dirs)
    if vol.fs_type in _EXT:
        sb = read(vol.offset + 1024, 1024)
        if len(sb) < 90 or sb[56:58] != b"\x53\xef":
            return None
        inodes, free = struct.unpack_from("<I", sb, 0)[0], struct.unpack_from("<I", sb, 16)[0]
        rev = struct.unpack_from("<I", sb, 76)[0]
        first = struct.unpack_from("<I", sb, 84)[0] if rev >= 1 else 11
        # inodes below the first normal one are reserved (the root among them) and always in use
        used = max(0, inodes - free - (first - 1))
        return Allocation("inodes", used, census.files + census.dirs)
    if vol.fs_type in _FAT:
        layout = _fat_layout(read, vol.offset, vol.fs_type)
        if layout is None:
            return None
        cluster = layout.cluster_size
        # an upper estimate: each file's last cluster may be partly used
        reached = -(-census.bytes // cluster) + census.files + -(-census.dir_bytes // cluster) + census.dirs
        hint = _fsinfo_used(read, vol.offset, layout)
        if hint is not None and not looks_damaged(Allocation("clusters", hint, reached)):
            # FAT32's FSInfo free count agrees: no need to read a FAT of up to 1 GB
            return Allocation("clusters", hint, reached)
        used = int(np.count_nonzero(_fat_entries(read, layout)))
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


@dataclass(frozen=True)
class _FatLayout:
    offset: int  # of the file system in the image
    sector: int
    cluster_size: int
    fat_offset: int  # bytes from the image start
    fat_bytes: int
    bits: int  # 12, 16, 32
    data_sector: int  # first sector of the data area (TSK numbers inodes from it)
    cluster_sector: int  # first sector of cluster 2
    clusters: int


def _fat_layout(read: Reader, offset: int, fs_type: str) -> _FatLayout | None:
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
    return _FatLayout(
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


def _fsinfo_used(read: Reader, offset: int, layout: _FatLayout) -> int | None:
    """Clusters in use by FAT32's FSInfo sector (a hint the driver keeps; may be stale)."""
    if layout.bits != 32:
        return None
    sector = struct.unpack_from("<H", read(offset + 48, 2) or bytes(2))[0]
    info = read(offset + sector * layout.sector, 512) if sector else b""
    if len(info) < 492 or info[:4] != b"RRaA" or info[484:488] != b"rrAa":
        return None
    free = struct.unpack_from("<I", info, 488)[0]
    return layout.clusters - free if free <= layout.clusters else None


def _fat_entries(read: Reader, layout: _FatLayout) -> np.ndarray:
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


def _fat_orphan_dirs(vol: OpenVolume, census: Census) -> list[int]:
    read = reader(vol)
    layout = _fat_layout(read, vol.offset, vol.fs_type)
    if layout is None:
        return []
    entries = _fat_entries(read, layout)
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
    reached = census.addrs or set()
    return [
        a for a, parent in dirs.values() if parent not in dirs and not _reached_already(vol.fs, a, reached)
    ]
