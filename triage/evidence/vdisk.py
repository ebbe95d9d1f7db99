"""Virtual disks (VHD/VHDX, VMDK, QCOW) through the libyal bindings, as one TSK image.

The three libraries share one shape: open a file read-only, maybe attach a parent (a
differential VHD, a VMDK delta, a QCOW backing file), then read the logical disk at any
offset. So each format module only describes itself as a :class:`Format`; resolving the
parent chain, opening it, proving it readable and serving TSK are done once, here.

A parent is looked for *beside* its child, by the base name the child records: an examiner
copies an image set into one folder, and the absolute path stored in a differential disk
points at the suspect's machine, not ours. A missing parent is refused when the image is
opened (one line naming it): the libraries would open the child anyway and fail only when a
sector that lives in the parent is read.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytsk3

from triage.errors import EvidenceError

#: Longest parent chain followed (a loop of files naming each other must end).
MAX_CHAIN = 32

LIBYAL_ERRORS = (OSError, RuntimeError, ValueError, TypeError)


@dataclass(frozen=True)
class Format:
    """How one virtual-disk library is driven. ``open_one`` opens a single file; the others
    read facts from an opened handle."""

    kind: str  # SourceSpec.kind
    title: str  # for messages: "VHD", "VMDK", "QCOW"
    open_one: Callable[[str], Any]
    parent_name: Callable[[Any], str | None]
    details: Callable[[Any], list[tuple[str, str]]]
    #: Extra files the handle reads (VMDK extents), for EvidenceInfo.segments.
    extra_files: Callable[[Any, str], list[str]] = field(default=lambda handle, path: [])
    #: Raise EvidenceError if ``parent`` is not the parent ``child`` was made from.
    check_parent: Callable[[Any, Any, str], None] = field(default=lambda child, parent, name: None)


def one_line(e: BaseException) -> str:
    """libyal errors are a backtrace of sentences, innermost last; the first two say enough."""
    text = " ".join(str(e).split())
    return ". ".join(text.split(". ")[:2]).rstrip(".")[:300]


def base_name(recorded: str) -> str:
    """The file name part of a parent path recorded by Windows or Unix tools."""
    return re.split(r"[\\/]", recorded.strip().rstrip("\x00"))[-1]


def open_file(fmt: Format, path: str) -> Any:
    try:
        return fmt.open_one(path)
    except LIBYAL_ERRORS as e:
        raise EvidenceError(f"cannot open {fmt.title} image {path}: {one_line(e)}") from e


def resolve_chain(fmt: Format, path: Path) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """``(absolute paths child first, details, files read)`` for the image at ``path``.

    Follows the recorded parent names to files in the same folder; raises
    :class:`EvidenceError` naming the first parent that is missing or does not belong.
    """
    paths = [os.path.abspath(path)]
    handles = [open_file(fmt, paths[0])]
    try:
        details = fmt.details(handles[0])
        files = [paths[0], *fmt.extra_files(handles[0], paths[0])]
        while (recorded := fmt.parent_name(handles[-1])) is not None:
            child = paths[-1]
            name = base_name(recorded)
            candidate = os.path.join(os.path.dirname(child), name)
            if not name or not os.path.isfile(candidate):
                raise EvidenceError(
                    f"{fmt.title} image {os.path.basename(child)} needs its parent {recorded!r}: "
                    f"no file {name!r} beside it in {os.path.dirname(child)}"
                )
            if candidate in paths or len(paths) >= MAX_CHAIN:
                raise EvidenceError(f"{fmt.title} parent chain loops or is too long at {candidate}")
            parent = open_file(fmt, candidate)
            handles.append(parent)
            fmt.check_parent(handles[-2], parent, candidate)
            paths.append(candidate)
            files.append(candidate)
            files.extend(fmt.extra_files(parent, candidate))
            details.append((f"parent_{len(paths) - 1}", name))
        return paths, details, files
    finally:
        for h in handles:
            with contextlib.suppress(*LIBYAL_ERRORS):
                h.close()


class VirtualDisk:
    """An opened chain (child first); the parents stay referenced while the child is read."""

    def __init__(self, fmt: Format, paths: tuple[str, ...]) -> None:
        self.fmt = fmt
        self.paths = paths
        self._handles: list[Any] = []
        try:
            for p in paths:
                self._handles.append(open_file(fmt, p))
            for child, parent in zip(self._handles, self._handles[1:], strict=False):
                child.set_parent(parent)
        except LIBYAL_ERRORS as e:
            self.close()
            raise EvidenceError(
                f"cannot attach the parent of {fmt.title} image {paths[0]}: {one_line(e)}"
            ) from e
        except EvidenceError:
            self.close()
            raise
        head = self._handles[0]
        self.size = int(head.get_media_size())
        try:
            probe = min(512, self.size)
            if probe:
                head.read_buffer_at_offset(probe, 0)
                head.read_buffer_at_offset(probe, self.size - probe)
        except LIBYAL_ERRORS as e:
            self.close()
            raise EvidenceError(
                f"{fmt.title} image {paths[0]} is truncated, corrupt or missing its parent: {one_line(e)}"
            ) from e

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or offset >= self.size or length <= 0:
            return b""
        return self._handles[0].read_buffer_at_offset(min(length, self.size - offset), offset)

    def close(self) -> None:
        for h in self._handles:
            with contextlib.suppress(*LIBYAL_ERRORS):
                h.close()
        self._handles = []


class VDiskImgInfo(pytsk3.Img_Info):
    """The logical content of a virtual disk as a TSK image."""

    def __init__(self, disk: VirtualDisk) -> None:
        self._disk = disk
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def read(self, offset: int, size: int) -> bytes:
        # TSK treats OSError as a read error of these sectors; a libyal RuntimeError would
        # escape through TSK as an internal error (half a VMDK: grains past the file's end).
        try:
            return self._disk.read(offset, size)
        except LIBYAL_ERRORS as e:
            raise OSError(f"{self._disk.fmt.title} image unreadable at offset {offset}: {one_line(e)}") from e

    def get_size(self) -> int:
        return self._disk.size

    def close(self) -> None:
        self._disk.close()


def iter_vdisk(fmt: Format, paths: tuple[str, ...], chunk_size: int) -> Iterator[bytes]:
    """The virtual disk's logical content (what the guest saw), in chunks."""
    disk = VirtualDisk(fmt, paths)
    try:
        offset = 0
        while offset < disk.size:
            try:
                data = disk.read(offset, chunk_size)
            except LIBYAL_ERRORS as e:
                raise EvidenceError(f"{fmt.title} image unreadable at offset {offset}: {one_line(e)}") from e
            if not data:
                raise EvidenceError(f"{fmt.title} image ends early at offset {offset} of {disk.size}")
            yield data
            offset += len(data)
    finally:
        disk.close()
