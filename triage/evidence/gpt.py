"""A GPT read by hand when The Sleuth Kit cannot: the primary header is damaged, the backup is not.

TSK's volume detection reads only the primary GPT header; when that sector is overwritten it
falls back to the protective MBR and reports one "GPT Safety Partition (0xee)" covering the
disk, so every file system inside would be missed. The UEFI specification keeps a backup
header in the disk's last sector, with its own copy of the partition entries just before it
(TSK's ``mmls -t gpt`` reads it too). This module validates either header (signature, CRC32,
sizes) and returns the partitions it lists; a header claiming an absurd number of entries is
read for the first :data:`MAX_ENTRIES` only, and said so.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass

SIGNATURE = b"EFI PART"
#: Entries read at most: the specification's minimum array is 128 entries; real tables use it.
MAX_ENTRIES = 128
SECTOR_SIZES = (512, 4096)

Reader = Callable[[int, int], bytes]


@dataclass(frozen=True)
class GptPartition:
    number: int  # entry index from 1
    first_lba: int
    last_lba: int  # inclusive
    type_guid: str
    name: str


@dataclass(frozen=True)
class GptTable:
    sector: int
    header_lba: int
    entries_lba: int
    entries_sectors: int
    partitions: tuple[GptPartition, ...]
    notes: tuple[str, ...]  # what was wrong and what was used instead


def _header(read: Reader, sector: int, lba: int) -> tuple[dict[str, int] | None, str]:
    """The header fields at ``lba``, or ``(None, why not)``."""
    raw = read(lba * sector, sector)
    if len(raw) < 92:
        return None, "is past the end of the image"
    if raw[:8] != SIGNATURE:
        return None, "has no 'EFI PART' signature"
    size, crc = struct.unpack_from("<II", raw, 12)
    if not 92 <= size <= sector:
        return None, f"has an impossible header size {size}"
    check = bytearray(raw[:size])
    check[16:20] = bytes(4)
    if zlib.crc32(bytes(check)) != crc:
        return None, "fails its CRC32 check"
    my_lba, alt_lba = struct.unpack_from("<QQ", raw, 24)
    entries_lba, count, entry_size, entries_crc = struct.unpack_from("<QIII", raw, 72)
    if entry_size < 128 or entry_size % 8 or entry_size > sector:
        return None, f"has an impossible entry size {entry_size}"
    return {
        "my_lba": my_lba,
        "alt_lba": alt_lba,
        "entries_lba": entries_lba,
        "count": count,
        "entry_size": entry_size,
        "entries_crc": entries_crc,
    }, ""


def _entries(read: Reader, sector: int, h: dict[str, int], notes: list[str]) -> tuple[GptPartition, ...]:
    count = h["count"]
    if count > MAX_ENTRIES:
        notes.append(f"the GPT header claims {count:,} partition entries; the first {MAX_ENTRIES} were read")
        count = MAX_ENTRIES
    size = h["entry_size"]
    raw = read(h["entries_lba"] * sector, count * size)
    if count == h["count"] and zlib.crc32(raw) != h["entries_crc"]:
        notes.append("the GPT partition entries fail their CRC32 check; they were read as found")
    parts = []
    for i in range(len(raw) // size):
        entry = raw[i * size : (i + 1) * size]
        type_guid = entry[:16]
        if type_guid == bytes(16):
            continue
        first, last = struct.unpack_from("<QQ", entry, 32)
        name = entry[56:128].decode("utf-16-le", "replace").split("\x00", 1)[0]
        parts.append(GptPartition(i + 1, first, last, str(uuid.UUID(bytes_le=type_guid)), name))
    return tuple(parts)


def read_gpt(read: Reader, image_size: int) -> GptTable | None:
    """The partition table from the primary GPT header, else from the backup one; ``None`` when
    neither is valid. ``read(offset, length)`` reads the image (short at its end)."""
    for sector in SECTOR_SIZES:
        primary, why = _header(read, sector, 1)
        notes: list[str] = []
        if primary is None:
            last = image_size // sector - 1
            if last < 2:
                continue
            backup, _ = _header(read, sector, last)
            if backup is None:
                continue
            notes.append(
                f"the primary GPT header (LBA 1) {why}; the partitions were read from the backup "
                f"header at LBA {last}"
            )
            header, header_lba = backup, last
        else:
            header, header_lba = primary, 1
        parts = _entries(read, sector, header, notes)
        sectors = -(-min(header["count"], MAX_ENTRIES) * header["entry_size"] // sector)
        return GptTable(sector, header_lba, header["entries_lba"], sectors, parts, tuple(notes))
    return None
