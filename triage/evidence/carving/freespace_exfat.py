"""exFAT free space: the Allocation Bitmap (bit ``i`` = cluster ``i + 2``).

Field names and offsets follow Microsoft's exFAT specification (main boot sector, section 3.1;
Allocation Bitmap directory entry, section 7.1).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

import pytsk3

from triage.evidence.carving.runs import Layout, Run, free_bits, merge, past_end, read_fields

#: Main boot sector fields (offsets in bytes; sizes in sectors unless said).
BOOT_SECTOR: Layout = {
    "fat_offset": (0x50, "<I"),
    "fat_length": (0x54, "<I"),
    "cluster_heap_offset": (0x58, "<I"),
    "cluster_count": (0x5C, "<I"),
    "first_cluster_of_root": (0x60, "<I"),
    "volume_flags": (0x6A, "<H"),
    "bytes_per_sector_shift": (0x6C, "<B"),
    "sectors_per_cluster_shift": (0x6D, "<B"),
    "number_of_fats": (0x6E, "<B"),
}
#: Allocation Bitmap directory entry (32 bytes, entry type 0x81).
BITMAP_ENTRY: Layout = {"flags": (0x01, "<B"), "first_cluster": (0x14, "<I"), "data_length": (0x18, "<Q")}
ENTRY_BITMAP = 0x81
ENTRY_END = 0x00
FAT_LAST_VALID = 0xFFFFFFF6  # entries above are bad-cluster or end-of-chain marks
MAX_CLUSTERS = 0xFFFFFFF5


@dataclass(frozen=True)
class _Volume:
    img: pytsk3.Img_Info
    offset: int
    sector: int
    cbytes: int  # bytes per cluster
    heap: int  # absolute offset of cluster 2
    clusters: int  # clusters the image holds
    fat: bytes

    def cluster_at(self, c: int) -> int:
        if not 2 <= c < self.clusters + 2:
            raise ValueError(f"exFAT cluster {c} is outside the cluster heap or the image")
        return self.heap + (c - 2) * self.cbytes

    def chain(self, first: int, contiguous: bool = False) -> Iterable[int]:
        """Clusters of the chain from ``first``; ``contiguous``: a FAT entry of 0 means the next
        cluster (a file marked NoFatChain)."""
        c, seen = first, set()
        while True:
            if c in seen:  # a FAT chain that loops (damage, or a trap): its data is not trusted
                raise ValueError(f"exFAT FAT chain from cluster {first} loops at cluster {c}")
            seen.add(c)
            yield c
            nxt = struct.unpack_from("<I", self.fat, c * 4)[0]
            if contiguous and nxt == 0:
                nxt = c + 1
            elif nxt > FAT_LAST_VALID or nxt < 2:
                return
            c = nxt


def _bitmap_entry(v: _Volume, root: int, active: int) -> tuple[int, int]:
    """``(first cluster, length)`` of the Allocation Bitmap of FAT ``active``, from the root."""
    for c in v.chain(root):
        data = v.img.read(v.cluster_at(c), v.cbytes)
        for pos in range(0, v.cbytes, 32):
            if data[pos] == ENTRY_END:
                break
            if data[pos] == ENTRY_BITMAP:
                e = read_fields(data, BITMAP_ENTRY, pos)
                if e["flags"] & 1 == active:
                    return e["first_cluster"], e["data_length"]
        else:
            continue
        break
    raise ValueError("exFAT root directory has no Allocation Bitmap entry")


def exfat_runs(img: pytsk3.Img_Info, offset: int) -> list[Run]:
    """Free clusters from the Allocation Bitmap, found through its directory entry in the root
    directory. The root and the bitmap are read along their FAT chains; a bitmap whose FAT
    entries are not chained (0) is read as contiguous clusters. With two FATs (TexFAT) the
    bitmap of the active FAT is used."""
    raw = img.read(offset, 512)
    if raw[3:11] != b"EXFAT   ":
        raise ValueError("no exFAT boot sector")
    boot = read_fields(raw, BOOT_SECTOR)
    sector_shift, cluster_shift = boot["bytes_per_sector_shift"], boot["sectors_per_cluster_shift"]
    claimed = boot["cluster_count"]
    if not 9 <= sector_shift <= 12 or sector_shift + cluster_shift > 25 or not 0 < claimed < MAX_CLUSTERS:
        raise ValueError("implausible exFAT boot sector")
    sector = 1 << sector_shift
    cbytes = sector << cluster_shift
    active = boot["volume_flags"] & 1 if boot["number_of_fats"] == 2 else 0
    heap = offset + boot["cluster_heap_offset"] * sector
    clusters = min(claimed, max(0, (int(img.get_size()) - heap) // cbytes))
    fat = img.read(offset + boot["fat_offset"] * sector, (clusters + 2) * 4)
    v = _Volume(img, offset, sector, cbytes, heap, clusters, fat)
    first, length = _bitmap_entry(v, boot["first_cluster_of_root"], active)
    if length < (clusters + 7) >> 3:
        raise ValueError(f"exFAT Allocation Bitmap too short ({length} bytes for {clusters} clusters)")
    parts = []
    for c in v.chain(first, contiguous=True):
        parts.append(img.read(v.cluster_at(c), cbytes))
        if len(parts) * cbytes >= length:
            break
    bitmap = b"".join(parts)[:length]
    runs = merge((v.cluster_at(i + 2), n * cbytes) for i, n in free_bits(bitmap, clusters))
    return runs + past_end(img, heap, cbytes, claimed)
