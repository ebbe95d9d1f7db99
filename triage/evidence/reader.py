"""Reading an entry's bytes from its plain-data reference, with per-process handle caching.

A worker reads thousands of entries from the same image; opening an E01 (and its file
system) per file would dominate the scan, so open images and file systems are kept in a
small cache keyed by the source spec and volume. The cache is dropped when the process id
changes: handles inherited through ``fork`` share file offsets with the parent and must not
be used. pytsk3 handles are not shared between threads here; use one worker per process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections import OrderedDict
from collections.abc import Iterator

import pytsk3

from triage.errors import EvidenceError
from triage.evidence import apfs, disk, ewf_checksums
from triage.evidence.folder import read_folder_file
from triage.evidence.volumes import TSK_ERRORS, open_fs
from triage.locator import quote_members
from triage.records import EntryRef, SourceSpec

#: Open images / file systems kept per process (least recently used evicted).
MAX_IMAGES = 4
MAX_FILE_SYSTEMS = 16

_pid = os.getpid()
_images: OrderedDict[SourceSpec, pytsk3.Img_Info] = OrderedDict()
_file_systems: OrderedDict[tuple[SourceSpec, int, str], object] = OrderedDict()  # TSK or APFS


def _check_pid() -> None:
    global _pid
    if os.getpid() != _pid:
        _images.clear()  # never close: the parent still owns these descriptors
        _file_systems.clear()
        _pid = os.getpid()


def _lru_get(cache: OrderedDict, key, make, limit: int):
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = make()
    cache[key] = value
    while len(cache) > limit:
        cache.popitem(last=False)
    return value


def clear_cache() -> None:
    """Forget every cached handle (tests, or a worker that is done with a source)."""
    global _last_fs
    _last_fs = None
    _file_systems.clear()
    for img in _images.values():
        with contextlib.suppress(Exception):  # closing is best effort
            img.close()
    _images.clear()


def _image(ref: EntryRef) -> pytsk3.Img_Info:
    _check_pid()
    if ref.volume_offset is None or ref.fs_type is None:
        raise EvidenceError("entry reference names no file system")
    return _lru_get(_images, ref.source, lambda: disk.open_image(ref.source), MAX_IMAGES)


#: The file system the last entry was read from, ``(pid, key, handle)``: a worker reads
#: thousands of small files in a row from the same one, and this skips the two LRU look-ups
#: (each hashing the source spec) for all but the first.
_last_fs: tuple[int, tuple, pytsk3.FS_Info] | None = None


def _file_system(ref: EntryRef) -> pytsk3.FS_Info:
    global _last_fs
    key = (ref.source, ref.volume_offset, ref.fs_type)
    last = _last_fs
    if last is not None and last[0] == os.getpid() and last[1] == key:
        return last[2]
    fs = _open_file_system(ref, key)
    _last_fs = (os.getpid(), key, fs)
    return fs


def _open_file_system(ref: EntryRef, key: tuple) -> pytsk3.FS_Info:
    img = _image(ref)

    def make() -> pytsk3.FS_Info:
        try:
            return open_fs(img, ref.volume_offset, ref.fs_type)
        except TSK_ERRORS as e:
            raise EvidenceError(
                f"cannot open {ref.fs_type} file system at offset {ref.volume_offset}: {_line(e)}"
            ) from e

    return _lru_get(_file_systems, key, make, MAX_FILE_SYSTEMS)


def _line(e: BaseException) -> str:
    return " ".join(str(e).split())[:200]


def read_entry(ref: EntryRef, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """Yield the entry's content in chunks.

    For a disk image this is the default data stream (``attr_type``/``attr_id`` pick an NTFS
    stream). A name with no readable metadata (flag ``no-meta`` or ``meta-unreadable``, ``ref.inode is None``)
    raises :class:`EvidenceError` rather than yielding nothing: its content is unknown, and an
    empty result would hash as the empty file. A read that fails or ends before the recorded
    size also raises, after the chunks read so far; the message is one line.
    """
    if ref.byte_range is not None:
        offset, length = ref.byte_range
        data = read_range(ref.source, offset, length)
        if len(data) != length:
            raise EvidenceError(f"carved range {offset}+{length} ends at byte {len(data)}")
        yield data
        return
    if ref.members:
        yield _read_member(ref)
        return
    if ref.source.kind == "folder":
        if ref.fs_path is None:
            raise EvidenceError("folder entry reference has no path")
        yield from read_folder_file(ref.fs_path, chunk_size, inode=ref.inode, size=ref.size)
        return
    if ref.inode is None:
        raise EvidenceError(
            "no metadata (MFT record or inode) readable for this name: content cannot be read"
        )
    if ref.fs_type == apfs.FS_TYPE:
        yield from _read_apfs(ref, chunk_size)
        return
    fs = _file_system(ref)
    try:
        f = fs.open_meta(inode=ref.inode)
    except TSK_ERRORS as e:
        raise EvidenceError(f"cannot open meta address {ref.inode}: {_line(e)}") from e
    if ref.attr_type is not None:
        size = _attr_size(f, ref.attr_type, ref.attr_id)
        args: tuple[int, int] = (ref.attr_type, ref.attr_id if ref.attr_id is not None else -1)
    else:
        size = int(f.info.meta.size) if f.info.meta is not None else 0
        args = (int(pytsk3.TSK_FS_ATTR_TYPE_DEFAULT), -1)
    offset = 0
    while offset < size:
        n = min(chunk_size, size - offset)
        try:
            data = f.read_random(offset, n, *args)
        except TSK_ERRORS as e:
            raise EvidenceError(f"cannot read meta address {ref.inode} at byte {offset}: {_line(e)}") from e
        if not data:
            raise EvidenceError(f"meta address {ref.inode}: content ends at byte {offset} of {size}")
        offset += len(data)
        yield data


def _read_member(ref: EntryRef) -> bytes:
    from triage.evidence.archives import ARCHIVE_ERRORS, LimitReached
    from triage.evidence.archives.expand import read_member
    from triage.records import ArchiveLimits

    top = read_entry(dataclasses.replace(ref, members=()))
    try:
        return read_member(top, ref.members, ArchiveLimits())
    except (LimitReached, *ARCHIVE_ERRORS) as e:
        raise EvidenceError(f"cannot read member {quote_members(ref.members)[1:]}: {_line(e)}") from e


def _attr_size(f: pytsk3.File, attr_type: int, attr_id: int | None) -> int:
    try:
        for attr in f:
            info = attr.info
            if int(info.type) == attr_type and (attr_id is None or int(info.id) == attr_id):
                return int(info.size)
    except TSK_ERRORS as e:  # a damaged MFT record's attribute list
        raise EvidenceError(f"meta address {f.info.meta.addr}: cannot read its attributes: {_line(e)}") from e
    raise EvidenceError(f"meta address {f.info.meta.addr}: no attribute {attr_type}-{attr_id}")


def _apfs_volume(ref: EntryRef):
    """The APFS volume ``ref`` names, its container opened once per process and image."""
    if ref.volume_index is None:
        # never guess: volume 0 of a multi-volume container would be another volume's file
        raise EvidenceError("APFS entry reference names no volume index")
    img = _image(ref)
    index = ref.volume_index
    key = (ref.source, ref.volume_offset, f"apfs/{index}")

    def make():
        try:
            container = apfs.open_container(img, ref.volume_offset, int(img.get_size()) - ref.volume_offset)
            volume = container.get_volume(index)
        except apfs.ERRORS as e:
            raise EvidenceError(
                f"cannot open APFS volume {index} at offset {ref.volume_offset}: {_line(e)}"
            ) from e
        if volume.is_locked():
            raise EvidenceError(f"APFS volume {index} at offset {ref.volume_offset} is encrypted")
        return container, volume

    return _lru_get(_file_systems, key, make, MAX_FILE_SYSTEMS)[1]


def _read_apfs(ref: EntryRef, chunk_size: int) -> Iterator[bytes]:
    volume = _apfs_volume(ref)
    try:
        entry = volume.get_file_entry_by_identifier(ref.inode)
        size = int(entry.size)
    except apfs.ERRORS as e:
        raise EvidenceError(f"cannot open APFS file identifier {ref.inode}: {_line(e)}") from e
    offset = 0
    while offset < size:
        n = min(chunk_size, size - offset)
        try:
            data = entry.read_buffer_at_offset(n, offset)
        except apfs.ERRORS as e:
            raise EvidenceError(
                f"cannot read APFS file identifier {ref.inode} at byte {offset}: {_line(e)}"
            ) from e
        if not data:
            raise EvidenceError(f"APFS file identifier {ref.inode}: content ends at byte {offset} of {size}")
        offset += len(data)
        yield data


def checksum_damage(ref: EntryRef) -> list[tuple[int, int]]:
    """The byte ranges ``(offset, length)`` of the entry that came from E01 chunks whose checksum
    failed, after :func:`read_entry` has read it in this process (see
    :mod:`triage.evidence.ewf_checksums`); empty for other sources. Archive members answer for
    the file that holds them; APFS files and NTFS resident data have no extents here."""
    if ref.source.kind != "ewf" or ref.source not in _images:
        return []
    img = _images[ref.source]
    ranges = img.checksum_errors.ranges()
    if not ranges:
        return []
    if ref.byte_range is not None:
        return ewf_checksums.damaged_parts(ranges, [(0, ref.byte_range[0], ref.byte_range[1])])
    if ref.inode is None or ref.volume_offset is None or ref.fs_type in (None, apfs.FS_TYPE):
        return []
    try:
        f = _file_system(ref).open_meta(inode=ref.inode)
        extents = _extents(f, ref)
    except (EvidenceError, *TSK_ERRORS):  # read a moment ago; if not now, nothing to compare
        return []
    return ewf_checksums.damaged_parts(ranges, extents)


#: Attribute types that hold a file's default data (generic, NTFS $DATA, HFS+ data fork).
_DATA_TYPES = (int(pytsk3.TSK_FS_ATTR_TYPE_DEFAULT), int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA), 0x1100)
_SKIPPED_RUNS = int(pytsk3.TSK_FS_ATTR_RUN_FLAG_SPARSE) | int(pytsk3.TSK_FS_ATTR_RUN_FLAG_FILLER)


def _extents(f: pytsk3.File, ref: EntryRef) -> list[tuple[int, int, int]]:
    """``(offset in the file, offset on the medium, length)`` of the entry's stored data runs."""
    block = int(f.info.fs_info.block_size)
    for attr in f:
        info = attr.info
        if ref.attr_type is not None:
            if int(info.type) != ref.attr_type or (ref.attr_id is not None and int(info.id) != ref.attr_id):
                continue
        elif int(info.type) not in _DATA_TYPES or info.name:
            continue
        if not int(info.flags) & int(pytsk3.TSK_FS_ATTR_NONRES):
            return []
        size, out = int(info.size), []
        for run in attr:
            start = int(run.offset) * block
            if int(run.flags) & _SKIPPED_RUNS or start >= size:
                continue
            length = min(int(run.len) * block, size - start)
            out.append((start, int(ref.volume_offset or 0) + int(run.addr) * block, length))
        return out
    return []


def read_range(spec: SourceSpec, offset: int, length: int) -> bytes:
    """``length`` bytes of the logical medium from ``offset`` (short at its end), through the
    per-process image cache; for carving and for reading carved data again."""
    _check_pid()
    img = _lru_get(_images, spec, lambda: disk.open_image(spec), MAX_IMAGES)
    size = int(img.get_size())
    length = max(0, min(length, size - offset))
    if length == 0:
        return b""
    try:
        return img.read(offset, length)
    except TSK_ERRORS as e:
        raise EvidenceError(f"cannot read {length} bytes at offset {offset}: {_line(e)}") from e
