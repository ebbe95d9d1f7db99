"""Wrap corpus images in other containers at test time (into a temporary folder; nothing from
the shared corpus is copied into the repository): a fixed VHD (raw + footer), a VMDK text
descriptor with flat extents, a GPT disk holding a partition, split-raw segment sets.

Each writer follows the published layout (Microsoft's VHD specification, VMware's Virtual
Disk Format 1.1, UEFI 2.x chapter 5 for GPT) so the libraries read them as they would a
tool-made image.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from pathlib import Path

SECTOR = 512


# --------------------------------------------------------------------------- VHD


def _chs(sectors: int) -> tuple[int, int, int]:
    """The VHD specification's CHS geometry algorithm (appendix: CHS calculation)."""
    sectors = min(sectors, 65535 * 16 * 255)
    if sectors >= 65535 * 16 * 63:
        spt, heads = 255, 16
        cth = sectors // spt
    else:
        spt = 17
        cth = sectors // spt
        heads = max(4, (cth + 1023) // 1024)
        if cth >= heads * 1024 or heads > 16:
            spt, heads = 31, 16
            cth = sectors // spt
        if cth >= heads * 1024:
            spt, heads = 63, 16
            cth = sectors // spt
    return cth // heads, heads, spt


def vhd_footer(size: int, disk_type: int = 2) -> bytes:
    """A VHD footer for a ``size``-byte disk (type 2: fixed), checksum filled in."""
    cyl, heads, spt = _chs(size // SECTOR)
    footer = bytearray(
        struct.pack(
            ">8sIIQI4sI4sQQHBBII16sB",
            b"conectix",
            2,  # features: reserved bit always set
            0x00010000,  # format version 1.0
            0xFFFFFFFFFFFFFFFF,  # data offset: none for a fixed disk
            0,  # timestamp
            b"tria",
            0x00010000,
            b"Wi2k",
            size,
            size,
            cyl,
            heads,
            spt,
            disk_type,
            0,  # checksum, below
            uuid.UUID("6a0f3c55-8a1e-4d1b-9c57-1f0e5d7e2a11").bytes,
            0,
        )
    )
    footer += b"\0" * (512 - len(footer))
    checksum = (~sum(footer)) & 0xFFFFFFFF
    footer[64:68] = struct.pack(">I", checksum)
    return bytes(footer)


def write_fixed_vhd(raw: bytes, out: Path) -> Path:
    out.write_bytes(raw + vhd_footer(len(raw)))
    return out


# --------------------------------------------------------------------------- VMDK


def write_flat_vmdk(raw: bytes, folder: Path, name: str, pieces: int = 1) -> Path:
    """``name.vmdk`` (text descriptor) and ``pieces`` flat extent files holding ``raw``."""
    assert len(raw) % (SECTOR * pieces) == 0
    per = len(raw) // pieces
    create = "monolithicFlat" if pieces == 1 else "twoGbMaxExtentFlat"
    lines = [
        "# Disk DescriptorFile",
        "version=1",
        "CID=1a2b3c4d",
        "parentCID=ffffffff",
        f'createType="{create}"',
        "",
        "# Extent description",
    ]
    for i in range(pieces):
        extent = f"{name}-f{i + 1:03d}.vmdk"
        (folder / extent).write_bytes(raw[i * per : (i + 1) * per])
        lines.append(f'RW {per // SECTOR} FLAT "{extent}" 0')
    lines += ["", "# The Disk Data Base", "#DDB", "", 'ddb.virtualHWVersion = "4"', 'ddb.adapterType = "ide"']
    descriptor = folder / f"{name}.vmdk"
    descriptor.write_text("\n".join(lines) + "\n", encoding="ascii")
    return descriptor


# --------------------------------------------------------------------------- GPT

APFS_TYPE = uuid.UUID("7c3457ef-0000-11aa-aa11-00306543ecac")


def _gpt_header(current: int, backup: int, entries_lba: int, last_usable: int, entries: bytes) -> bytes:
    fields = [
        b"EFI PART", 0x00010000, 92, 0, 0, current, backup, 34, last_usable,
        uuid.UUID("0c2d1e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5").bytes_le, entries_lba, 128, 128,
        zlib.crc32(entries),
    ]  # fmt: skip
    header = bytearray(struct.pack("<8sIIIIQQQQ16sQIII", *fields))
    header[16:20] = struct.pack("<I", zlib.crc32(header))
    return bytes(header) + b"\0" * (SECTOR - len(header))


def write_gpt_disk(partition: bytes, out: Path, type_guid: uuid.UUID = APFS_TYPE, start_lba: int = 40) -> int:
    """A GPT disk holding ``partition`` at ``start_lba``; returns the partition's byte offset."""
    assert len(partition) % SECTOR == 0
    last_part = start_lba + len(partition) // SECTOR - 1
    total = last_part + 1 + 33 + 7
    last = total - 1
    entry = struct.pack(
        "<16s16sQQQ72s",
        type_guid.bytes_le,
        uuid.UUID("11223344-5566-4778-899a-abbccddeeff0").bytes_le,
        start_lba,
        last_part,
        0,
        "container".encode("utf-16-le"),
    )
    entries = entry + b"\0" * (128 * 128 - len(entry))
    mbr = bytearray(SECTOR)
    mbr[446:462] = struct.pack(
        "<B3sB3sII", 0, b"\0\x02\0", 0xEE, b"\xff\xff\xff", 1, min(total - 1, 0xFFFFFFFF)
    )
    mbr[510:512] = b"\x55\xaa"
    disk = bytearray(total * SECTOR)
    disk[0:SECTOR] = mbr
    disk[SECTOR : 2 * SECTOR] = _gpt_header(1, last, 2, last - 33, entries)
    disk[2 * SECTOR : 34 * SECTOR] = entries
    disk[start_lba * SECTOR : (last_part + 1) * SECTOR] = partition
    disk[(last - 32) * SECTOR : last * SECTOR] = entries
    disk[last * SECTOR :] = _gpt_header(last, 1, last - 32, last - 33, entries)
    out.write_bytes(bytes(disk))
    return start_lba * SECTOR


# --------------------------------------------------------------------------- split raw


def write_split(raw: bytes, folder: Path, stem: str, suffixes: list[str]) -> list[Path]:
    """``raw`` cut into ``len(suffixes)`` segments named ``stem.SUFFIX``."""
    n = len(suffixes)
    per = -(-len(raw) // n)
    out = []
    for i, suffix in enumerate(suffixes):
        p = folder / f"{stem}.{suffix}"
        p.write_bytes(raw[i * per : (i + 1) * per])
        out.append(p)
    return out
