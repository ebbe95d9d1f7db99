"""APFS containers through libfsapfs-python (``pyfsapfs``); The Sleuth Kit cannot read APFS.

An APFS container (a GPT partition, or a bare container image) holds several volumes, each its
own file system. Each volume gets its own location label, ``apfs1``, ``apfs2`` ... (its index in
the container, from 1) at the container's byte offset with file-system type ``apfs``, e.g.
``EV1/apfs1@20480(apfs)/Users/a/photo.jpg#18``, so the location grammar needs no change and
(label, offset) stays unique on a disk with several containers. The meta address is the APFS
file identifier (inode number); :class:`~triage.records.EntryRef` carries the volume index
(``volume_index``, from 0) so a worker reopens the same volume.

Encrypted volumes are listed as volumes with an error and a warning; their files are not
listed (no key is ever asked for). Deleted files are not recovered. Only regular files are
entries (the data fork); resource forks and other extended attributes are not.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

import pyfsapfs
import pytsk3

from triage.locator import Location, Volume
from triage.records import Entry, EntryRef, SourceSpec, VolumeInfo
from triage.timeutil import iso_utc

FS_TYPE = "apfs"
_MAGIC = b"NXSB"  # container superblock magic, at byte 32 of the container
MAX_WARNINGS = 200
ERRORS = (OSError, RuntimeError, ValueError, TypeError)


class ImageSlice:
    """A read-only file object over ``length`` bytes of a TSK image, for libfsapfs."""

    def __init__(self, img: pytsk3.Img_Info, offset: int, length: int) -> None:
        self._img, self._base, self._size, self._pos = img, offset, length, 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._size - self._pos
        size = max(0, min(size, self._size - self._pos))
        if not size:
            return b""
        data = self._img.read(self._base + self._pos, size)
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    get_offset = tell

    def get_size(self) -> int:
        return self._size

    def close(self) -> None:  # the image belongs to its owner
        pass


def is_container(img: pytsk3.Img_Info, offset: int) -> bool:
    try:
        return img.read(offset + 32, 4) == _MAGIC
    except OSError:
        return False


def open_container(img: pytsk3.Img_Info, offset: int, length: int) -> pyfsapfs.container:
    """Raises ``OSError`` (as libfsapfs does) when the container cannot be read."""
    container = pyfsapfs.container()
    container.open_file_object(ImageSlice(img, offset, length))
    return container


@dataclass
class ApfsVolume:
    """One unlocked APFS volume, ready to walk."""

    label: str
    offset: int  # of the container
    index: int  # in the container, from 0
    volume: pyfsapfs.volume
    container: pyfsapfs.container  # kept referenced while the volume is used


def scan_container(
    img: pytsk3.Img_Info, slot: VolumeInfo
) -> tuple[VolumeInfo, list[VolumeInfo], list[ApfsVolume], list[str]]:
    """Open the container in ``slot``: ``(slot with fs_type apfs, volume slots, open volumes,
    warnings)``. Raises ``OSError`` if the container is unreadable."""
    container = open_container(img, slot.offset, slot.length)
    infos: list[VolumeInfo] = []
    opened: list[ApfsVolume] = []
    warnings: list[str] = []
    for index in range(container.get_number_of_volumes()):
        label = f"apfs{index + 1}"
        where = f"APFS volume {label} in {slot.label} at offset {slot.offset}"
        try:
            vol = container.get_volume(index)
            name = vol.get_name() or ""
            locked = vol.is_locked()
        except ERRORS as e:
            error = f"unreadable APFS volume: {' '.join(str(e).split())[:160]}"
            warnings.append(f"{where}: {error}")
            infos.append(VolumeInfo(label, slot.offset, slot.length, "APFS volume", None, error))
            continue
        desc = f"APFS volume {name!r}"
        if locked:
            error = "encrypted APFS volume: listed, files not read (no key)"
            warnings.append(f"{where} ({name!r}): {error}")
            infos.append(VolumeInfo(label, slot.offset, slot.length, desc, None, error))
            continue
        infos.append(VolumeInfo(label, slot.offset, slot.length, desc, FS_TYPE))
        opened.append(ApfsVolume(label, slot.offset, index, vol, container))
    container_slot = VolumeInfo(slot.label, slot.offset, slot.length, slot.description, FS_TYPE)
    return container_slot, infos, opened, warnings


def _time(ns: int | None) -> str | None:
    if not ns:
        return None
    return iso_utc(ns // 1_000_000_000, ns % 1_000_000_000)


class ApfsWalker:
    """Yields every regular file of one APFS volume, folders' files before their sub-folders."""

    def __init__(self, vol: ApfsVolume, evidence_id: str, spec: SourceSpec) -> None:
        self.vol = vol
        self.evidence_id = evidence_id
        self.spec = spec
        self.volume = Volume(vol.label, vol.offset, FS_TYPE)
        self.warnings: list[str] = []

    def _warn(self, text: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(f"{self.volume}: {text}")

    def entries(self) -> Iterator[Entry]:
        try:
            root = self.vol.volume.get_root_directory()
            root_id = int(root.identifier)
        except ERRORS as e:
            self._warn(f"cannot open the root folder: {' '.join(str(e).split())[:160]}")
            return
        visited = {root_id}
        stack = [(root, "")]
        while stack:
            folder, prefix = stack.pop()
            subdirs = []
            try:
                children = list(folder.sub_file_entries)
            except ERRORS as e:
                self._warn(f"cannot list folder {prefix or '/'}: {' '.join(str(e).split())[:160]}")
                continue
            for child in children:
                try:
                    mode = int(child.file_mode)
                    path = f"{prefix}/{child.name}"
                    ident = int(child.identifier)
                    if stat.S_ISREG(mode):
                        yield self._entry(child, path, ident)
                    elif stat.S_ISDIR(mode):
                        if ident in visited:
                            self._warn(f"folder {path} (identifier {ident}) was already walked")
                        else:
                            visited.add(ident)
                            subdirs.append((child, path))
                except ERRORS as e:
                    self._warn(f"unreadable entry in {prefix or '/'}: {' '.join(str(e).split())[:160]}")
            stack.extend(reversed(subdirs))

    def _entry(self, fe: pyfsapfs.file_entry, path: str, ident: int) -> Entry:
        ref = EntryRef(
            source=self.spec,
            volume_offset=self.vol.offset,
            fs_type=FS_TYPE,
            inode=ident,
            volume_index=self.vol.index,
        )
        return Entry(
            evidence_id=self.evidence_id,
            location=Location(self.evidence_id, self.volume, path, str(ident)),
            path=path,
            size=int(fe.size),
            deleted=False,
            ref=ref,
            inode=str(ident),
            mtime=_time(fe.get_modification_time_as_integer()),
            atime=_time(fe.get_access_time_as_integer()),
            ctime=_time(fe.get_inode_change_time_as_integer()),
            crtime=_time(fe.get_creation_time_as_integer()),
        )


def find_containers(
    img: pytsk3.Img_Info, slots: list[VolumeInfo], warnings: list[str]
) -> tuple[list[VolumeInfo], list[ApfsVolume], list[str]]:
    """Open APFS containers where TSK found no file system: in a partition, or the whole image.

    Returns the slots with each container's volumes listed after it, the open volumes and the
    warnings (TSK's "no file system" warning for a slot that turned out to be APFS is dropped).
    """
    if not slots:
        if not is_container(img, 0):
            return slots, [], warnings
        slots = [VolumeInfo("fs", 0, int(img.get_size()), "APFS container (no partition table)", None)]
        warnings = [w for w in warnings if not w.startswith("no volume system and no file system")]
    out: list[VolumeInfo] = []
    opened: list[ApfsVolume] = []
    for slot in slots:
        if (
            slot.fs_type is not None
            or slot.label in ("meta", "unalloc")
            or not is_container(img, slot.offset)
        ):
            out.append(slot)
            continue
        try:
            container_slot, infos, vols, more = scan_container(img, slot)
        except ERRORS as e:
            error = f"unreadable APFS container ({' '.join(str(e).split())[:160]})"
            warnings.append(f"{slot.label} at offset {slot.offset}: {error}")
            out.append(VolumeInfo(slot.label, slot.offset, slot.length, slot.description, None, error))
            continue
        prefix = f"partition {slot.label} at offset {slot.offset} "
        warnings = [w for w in warnings if not w.startswith(prefix)] + more
        out.extend([container_slot, *infos])
        opened.extend(vols)
    return out, opened, warnings
