"""Volume systems (MBR incl. extended/logical, GPT, ...) and file systems, through pytsk3.

Every partition-table slot is listed (the report shows unallocated gaps and table sectors
too). Each allocated partition is opened with TSK's auto-detection first, then with explicit
types: auto-detection refuses some valid file systems (a FAT32 with too few clusters) that an
explicit open reads fine. The type that worked is recorded by name, so a worker process can
reopen the same file system the same way without detecting again.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytsk3

from triage.records import VolumeInfo

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
    except OSError as e:
        reason = " ".join(str(e).split()).rsplit("with error: ", 1)[-1][:200]
    for name in FALLBACK_TYPES:
        try:
            fs = open_fs(img, offset, name)
        except OSError:
            continue
        return fs, fs_type_name(fs), None
    return None, None, reason


@dataclass
class OpenVolume:
    """A file system found in the image, ready to walk."""

    label: str
    offset: int
    fs_type: str
    fs: pytsk3.FS_Info


def scan_volumes(img: pytsk3.Img_Info) -> tuple[list[VolumeInfo], list[OpenVolume], list[str]]:
    """List the table slots and open every file system.

    Returns ``(slots, open file systems, warnings)``. With no volume system the whole image is
    tried as one file system labelled ``fs``; if that fails too ``slots`` is empty.
    """
    try:
        vs = pytsk3.Volume_Info(img)
    except OSError:
        vs = None
    if vs is None:
        fs, name, reason = detect_fs(img, 0)
        if fs is None:
            return [], [], [f"no volume system and no file system: {reason}"]
        info = VolumeInfo("fs", 0, img.get_size(), "file system (no partition table)", name)
        return [info], [OpenVolume("fs", 0, name, fs)], []
    block = vs.info.block_size
    slots: list[VolumeInfo] = []
    opened: list[OpenVolume] = []
    warnings: list[str] = []
    number = 0
    for part in vs:
        offset, length = part.start * block, part.len * block
        desc = part.desc.decode("utf-8", "replace") if isinstance(part.desc, bytes) else str(part.desc)
        flags = int(part.flags)
        if flags & int(pytsk3.TSK_VS_PART_FLAG_ALLOC):
            number += 1
            label = f"p{number}"
            fs, name, reason = detect_fs(img, offset)
            if fs is None:
                error = f"no readable file system ({reason})"
                warnings.append(f"partition {label} at offset {offset} ({desc}): {error}")
                slots.append(VolumeInfo(label, offset, length, desc, None, error))
                continue
            slots.append(VolumeInfo(label, offset, length, desc, name))
            opened.append(OpenVolume(label, offset, name, fs))
        else:
            label = "meta" if flags & int(pytsk3.TSK_VS_PART_FLAG_META) else "unalloc"
            slots.append(VolumeInfo(label, offset, length, desc, None))
    return slots, opened, warnings
