"""Volume systems (MBR incl. extended/logical, GPT, ...) and file systems, through pytsk3.

Every partition-table slot is listed (the report shows unallocated gaps and table sectors
too). Each allocated partition is opened with TSK's auto-detection first, then with explicit
types: auto-detection refuses some valid file systems (a FAT32 with too few clusters) that an
explicit open reads fine. The type that worked is recorded by name, so a worker process can
reopen the same file system the same way without detecting again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytsk3

from triage.evidence.gpt import GptTable, read_gpt
from triage.records import DAMAGE_PREFIX, VolumeInfo

#: What the TSK bindings raise on a damaged table or file system: besides ``OSError``, a table
#: field too large for a C integer gives ``OverflowError`` (a GPT claiming 2^31-1 entries).
TSK_ERRORS = (OSError, OverflowError, ValueError, RuntimeError, MemoryError)
#: Partitions past the image end listed one by one before the rest are only counted.
MAX_BEYOND = 8
#: Longest partition length recorded (the case stores 64-bit integers; a garbage entry is not).
MAX_LENGTH = 2**62

#: Normalised name ↔ TSK type, from the TSK enum (``TSK_FS_TYPE_NTFS`` → ``ntfs``).
FS_TYPES: dict[str, int] = {
    name[len("TSK_FS_TYPE_") :].lower(): int(getattr(pytsk3, name))
    for name in dir(pytsk3)
    if name.startswith("TSK_FS_TYPE_")
    and not name.endswith(("_DETECT", "_ENUM", "_UNSUPP"))
    and name not in ("TSK_FS_TYPE_DETECT",)
}
_FS_NAMES: dict[int, str] = {v: k for k, v in FS_TYPES.items()}

#: Explicit types tried, in order, when auto-detection finds nothing.
FALLBACK_TYPES: tuple[str, ...] = ("fat32", "fat16", "fat12", "exfat", "ntfs", "ext4", "hfs", "iso9660")


def fs_type_name(fs: pytsk3.FS_Info) -> str:
    value = int(fs.info.ftype)
    return _FS_NAMES.get(value, f"tsk{value:x}")


def open_fs(img: pytsk3.Img_Info, offset: int, fs_type: str | None = None) -> pytsk3.FS_Info:
    """Open a file system, by explicit type name when given. Raises ``OSError`` on failure."""
    if fs_type is None:
        return pytsk3.FS_Info(img, offset=offset)
    if fs_type not in FS_TYPES:
        raise OSError(f"unknown file system type {fs_type!r}")
    return pytsk3.FS_Info(img, offset=offset, type=FS_TYPES[fs_type])


def detect_fs(img: pytsk3.Img_Info, offset: int) -> tuple[pytsk3.FS_Info | None, str | None, str | None]:
    """``(fs, type name, None)`` or ``(None, None, reason)``: auto-detection, then explicit types."""
    try:
        fs = open_fs(img, offset)
        return fs, fs_type_name(fs), None
    except TSK_ERRORS as e:
        reason = " ".join(str(e).split()).rsplit("with error: ", 1)[-1][:200]
    for name in FALLBACK_TYPES:
        try:
            fs = open_fs(img, offset, name)
        except TSK_ERRORS:
            continue
        return fs, fs_type_name(fs), None
    return None, None, reason


def cut_short(fs: pytsk3.FS_Info) -> str | None:
    """A note when the file system runs past the end of the image, else ``None``."""
    info = fs.info
    last, actual = int(info.last_block), int(info.last_block_act)
    if actual >= last:
        return None
    block = int(info.block_size)
    have, want = (actual + 1) * block, (last + 1) * block
    return (
        f"the file system is {want:,} bytes but the image holds only {have:,} of them: the image "
        f"is cut short, so files and folders in the missing part cannot be listed or read"
    )


def boot_sector(img: pytsk3.Img_Info) -> str | None:
    """What the first sector says the image holds, when no file system opens there: so a
    damaged or cut-short NTFS / FAT / ext is named as such, not as an unknown format."""
    size = int(img.get_size())
    try:
        head = img.read(0, min(size, 2048))
    except TSK_ERRORS:
        return None
    if len(head) >= 512 and head[3:11] == b"NTFS    ":
        bps = int.from_bytes(head[11:13], "little")
        fs_size = int.from_bytes(head[40:48], "little") * bps
        kind = "an NTFS file system"
    elif len(head) >= 512 and (head[54:59] == b"FAT12" or head[54:59] == b"FAT16" or head[82:87] == b"FAT32"):
        bps = int.from_bytes(head[11:13], "little")
        fs_size = (int.from_bytes(head[19:21], "little") or int.from_bytes(head[32:36], "little")) * bps
        kind = "a FAT file system"
    elif len(head) >= 1084 and head[1080:1082] == b"\x53\xef":
        fs_size = int.from_bytes(head[1028:1032], "little") * (
            1024 << int.from_bytes(head[1048:1052], "little")
        )
        kind = "an ext file system"
    else:
        return None
    if fs_size > size:
        return f"{kind} of {fs_size:,} bytes cut short to {size:,} bytes"
    return f"{kind} of {fs_size:,} bytes"


@dataclass
class OpenVolume:
    """A file system found in the image, ready to walk."""

    label: str
    offset: int
    fs_type: str
    fs: pytsk3.FS_Info
    #: The image it is in, for the damage checks that read the allocation maps themselves.
    img: pytsk3.Img_Info | None = None


def scan_volumes(img: pytsk3.Img_Info) -> tuple[list[VolumeInfo], list[OpenVolume], list[str]]:
    """List the table slots and open every file system.

    Returns ``(slots, open file systems, warnings)``. With no volume system the whole image is
    tried as one file system labelled ``fs``; if that fails too ``slots`` is empty. A damaged
    table gives what can be read plus warnings: partitions starting past the image end are
    named and skipped, ones running past it are opened and said to be cut short, and a GPT
    whose primary header is gone is read from its backup header (:mod:`triage.evidence.gpt`).
    """
    warnings: list[str] = []
    try:
        vs = pytsk3.Volume_Info(img)
    except OSError:
        vs = None
    except TSK_ERRORS as e:
        vs = None
        warnings.append(f"{DAMAGE_PREFIX}partition table unreadable: {' '.join(str(e).split())[:200]}")
    parts = _tsk_parts(vs, warnings) if vs is not None else []
    if not parts or any("(0xee)" in desc for _, _, desc, _ in parts):
        # no table, or only the protective MBR of a GPT that TSK could not read
        table = _read_gpt(img)
        if table is not None and (table.partitions or table.notes):
            warnings.extend(DAMAGE_PREFIX + note for note in table.notes)
            parts = _gpt_parts(table, int(img.get_size()))
    if not parts:
        fs, name, reason = detect_fs(img, 0)
        if fs is None:
            if known := boot_sector(img):
                # a file system is there but will not open: damaged or cut short, not "unknown"
                return [], [], [*warnings, f"{DAMAGE_PREFIX}{known}, which cannot be opened ({reason})"]
            return [], [], [*warnings, f"no volume system and no file system: {reason}"]
        note = cut_short(fs)
        if note:
            warnings.append(f"{DAMAGE_PREFIX}fs@0({name}): {note}")
        info = VolumeInfo("fs", 0, img.get_size(), "file system (no partition table)", name, note)
        return [info], [OpenVolume("fs", 0, name, fs, img)], warnings
    slots, opened = _open_parts(img, parts, warnings)
    return slots, opened, warnings


#: One table slot: (offset, length, description, kind) with kind "alloc", "meta" or "unalloc".
Part = tuple[int, int, str, str]


def _tsk_parts(vs: pytsk3.Volume_Info, warnings: list[str]) -> list[Part]:
    block = vs.info.block_size
    parts: list[Part] = []
    try:
        for part in vs:
            desc = part.desc.decode("utf-8", "replace") if isinstance(part.desc, bytes) else str(part.desc)
            flags = int(part.flags)
            if flags & int(pytsk3.TSK_VS_PART_FLAG_ALLOC):
                kind = "alloc"
            else:
                kind = "meta" if flags & int(pytsk3.TSK_VS_PART_FLAG_META) else "unalloc"
            parts.append((int(part.start) * block, int(part.len) * block, desc, kind))
    except TSK_ERRORS as e:
        reason = " ".join(str(e).split())[:200]
        warnings.append(f"{DAMAGE_PREFIX}partition table damaged after {len(parts)} slots: {reason}")
    return parts


def bounded_reader(img: pytsk3.Img_Info | None) -> Callable[[int, int], bytes]:
    """A reader of ``img`` that returns short (or empty) data past its end or where the image
    cannot be read, instead of raising: damaged tables are read as far as they go."""
    size = int(img.get_size()) if img is not None else 0

    def read(offset: int, length: int) -> bytes:
        length = max(0, min(length, size - offset))
        try:
            return img.read(offset, length) if length and img is not None else b""
        except TSK_ERRORS:
            return b""

    return read


def _read_gpt(img: pytsk3.Img_Info) -> GptTable | None:
    return read_gpt(bounded_reader(img), int(img.get_size()))


def _gpt_parts(table: GptTable, image_size: int) -> list[Part]:
    """Slots in the same shape TSK gives: table sectors, partitions, and the gaps between."""
    s = table.sector
    parts: list[Part] = [(0, s, "Safety Table", "meta"), (table.header_lba * s, s, "GPT Header", "meta")]
    parts.append((table.entries_lba * s, table.entries_sectors * s, "Partition Table", "meta"))
    end = s * 2
    for p in sorted(table.partitions, key=lambda p: p.first_lba):
        start, length = p.first_lba * s, (p.last_lba - p.first_lba + 1) * s
        if start > end:
            parts.append((end, start - end, "Unallocated", "unalloc"))
        parts.append((start, length, p.name or p.type_guid, "alloc"))
        end = max(end, start + length)
    if end < image_size:
        parts.append((end, image_size - end, "Unallocated", "unalloc"))
    return sorted(parts, key=lambda p: (p[0], p[3] != "meta"))


def _open_parts(
    img: pytsk3.Img_Info, parts: list[Part], warnings: list[str]
) -> tuple[list[VolumeInfo], list[OpenVolume]]:
    size = int(img.get_size())
    slots: list[VolumeInfo] = []
    opened: list[OpenVolume] = []
    number = beyond = 0
    for offset, length, desc, kind in parts:
        if kind != "alloc":
            if offset < size:  # a gap or table as far as the image goes
                slots.append(VolumeInfo(kind, offset, min(length, size - offset), desc, None))
            continue
        length = min(length, MAX_LENGTH)  # as the table says, within what the case can store
        number += 1
        label = f"p{number}"
        if offset >= size:
            # a damaged table's garbage entry, or an image cut short before this partition
            beyond += 1
            if beyond <= MAX_BEYOND:
                warnings.append(
                    f"{DAMAGE_PREFIX}partition {label} at offset {offset:,} starts past the end of the image "
                    f"({size:,} bytes): not read"
                )
            continue
        note = None
        if offset + length > size:
            note = (
                f"partition {label} at offset {offset:,} ({desc}) runs {offset + length - size:,} bytes "
                f"past the end of the image: the image is cut short or the table is damaged"
            )
            warnings.append(DAMAGE_PREFIX + note)
        fs, name, reason = detect_fs(img, offset)
        if fs is None:
            error = f"no readable file system ({reason})"
            warnings.append(f"partition {label} at offset {offset} ({desc}): {error}")
            slots.append(VolumeInfo(label, offset, length, desc, None, error))
            continue
        if note is None and (note := cut_short(fs)):
            warnings.append(f"{DAMAGE_PREFIX}{label}@{offset}({name}): {note}")
        slots.append(VolumeInfo(label, offset, length, desc, name, note))
        opened.append(OpenVolume(label, offset, name, fs, img))
    if beyond > MAX_BEYOND:
        warnings.append(
            f"{DAMAGE_PREFIX}{beyond - MAX_BEYOND} more partitions start past the end of the image"
        )
    return slots, opened
