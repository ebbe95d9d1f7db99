"""Raw (dd) images, single or split into segments, as one read-only byte range for TSK.

A split raw image is a plain byte stream cut into files: ``disk.000, disk.001 ...``,
``disk.001, disk.002 ...`` or ``disk.aa, disk.ab ...``. Given the first segment we find the
others by incrementing the suffix until a name is missing, so the examiner names one file.

Reads use :func:`os.pread` on descriptors opened read-only, so no file offset is shared: a
handle inherited across ``fork`` cannot corrupt a read in another process.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import re
import stat
from pathlib import Path

import pytsk3

from triage.errors import EvidenceError

_DIGITS = re.compile(r"\.([0-9]{2,})$")
_LETTERS = re.compile(r"\.([a-z]{2,})$")


def _next_suffix(suffix: str) -> str | None:
    """``000`` → ``001``, ``az`` → ``ba``; ``None`` when the width would overflow."""
    if suffix.isdigit():
        nxt = str(int(suffix) + 1).zfill(len(suffix))
        return nxt if len(nxt) == len(suffix) else None
    chars = list(suffix)
    i = len(chars) - 1
    while i >= 0:
        if chars[i] != "z":
            chars[i] = chr(ord(chars[i]) + 1)
            return "".join(chars)
        chars[i] = "a"
        i -= 1
    return None


def _prev_suffix(suffix: str) -> str | None:
    if suffix.isdigit():
        return str(int(suffix) - 1).zfill(len(suffix)) if int(suffix) > 0 else None
    chars = list(suffix)
    i = len(chars) - 1
    while i >= 0:
        if chars[i] != "a":
            chars[i] = chr(ord(chars[i]) - 1)
            return "".join(chars)
        chars[i] = "z"
        i -= 1
    return None


def split_suffix(path: Path) -> tuple[str, str] | None:
    """``(stem with dot, suffix)`` when the name looks like a split-raw segment, else ``None``."""
    m = _DIGITS.search(path.name) or _LETTERS.search(path.name)
    if not m:
        return None
    return path.name[: m.start(1)], m.group(1)


def detect_splitraw(path: Path, head: bytes) -> bool:
    """A regular file named like the first segment of a split set (``.000``, ``.001``, ``.aa``)."""
    parts = split_suffix(path)
    if parts is None or not path.is_file():
        return False
    _stem, suffix = parts
    if suffix.isdigit():
        return int(suffix) <= 1
    return set(suffix) == {"a"}


def find_segments(path: Path) -> tuple[list[Path], bool]:
    """All segments of the set ``path`` belongs to, in order, and whether ``path`` was not the
    first one (the set is then extended backwards, e.g. ``.000`` exists next to ``.001``)."""
    parts = split_suffix(path)
    if parts is None:
        return [path], False
    stem, suffix = parts
    first = suffix
    while (prev := _prev_suffix(first)) is not None and (path.parent / (stem + prev)).is_file():
        first = prev
    segments: list[Path] = []
    cur: str | None = first
    while cur is not None and (path.parent / (stem + cur)).is_file():
        segments.append(path.parent / (stem + cur))
        cur = _next_suffix(cur)
    # A missing middle segment would silently cut the disk short: look a few names further.
    probe = cur
    for _ in range(8):
        if probe is None:
            break
        probe = _next_suffix(probe)
        if probe is not None and (path.parent / (stem + probe)).is_file():
            raise EvidenceError(
                f"split image {path.name}: segment {stem + str(cur)} is missing"
                f" but {stem + probe} exists; the set is incomplete"
            )
    return segments, first != suffix


def detect_raw(path: Path, head: bytes) -> bool:
    """The fallback: any regular file or block device is tried as a raw image."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode) or stat.S_ISBLK(mode)


class SegmentedFile:
    """Read-only concatenation of segment files addressed by logical offset."""

    def __init__(self, paths: list[str] | tuple[str, ...]) -> None:
        self.paths = tuple(paths)
        self._fds: list[int] = []
        self._starts: list[int] = []
        total = 0
        try:
            for p in self.paths:
                fd = os.open(p, os.O_RDONLY | getattr(os, "O_BINARY", 0))
                self._fds.append(fd)
                size = os.lseek(fd, 0, os.SEEK_END)  # works for block devices too
                self._starts.append(total)
                total += size
        except OSError as e:
            self.close()
            raise EvidenceError(f"cannot open image segment: {e.filename or ''}: {e.strerror}") from e
        self.size = total

    def pread(self, offset: int, length: int) -> bytes:
        if offset < 0 or offset >= self.size or length <= 0:
            return b""
        length = min(length, self.size - offset)
        out = []
        i = bisect.bisect_right(self._starts, offset) - 1
        while length > 0 and i < len(self._fds):
            local = offset - self._starts[i]
            end = self._starts[i + 1] if i + 1 < len(self._starts) else self.size
            n = min(length, end - offset)
            data = os.pread(self._fds[i], n, local)
            if not data:
                break
            out.append(data)
            offset += len(data)
            length -= len(data)
            if len(data) == n:
                i += 1
        return b"".join(out)

    def close(self) -> None:
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = []


class RawImgInfo(pytsk3.Img_Info):
    """A raw or split-raw image as a TSK image (TSK calls :meth:`read` through pytsk3)."""

    def __init__(self, paths: list[str] | tuple[str, ...]) -> None:
        self._file = SegmentedFile(paths)
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def read(self, offset: int, size: int) -> bytes:
        return self._file.pread(offset, size)

    def get_size(self) -> int:
        return self._file.size

    def close(self) -> None:
        self._file.close()


def iter_raw(paths: tuple[str, ...], chunk_size: int):
    """The segments' bytes, concatenated, in chunks (for hashing the whole medium)."""
    for p in paths:
        try:
            with open(p, "rb") as f:
                while chunk := f.read(chunk_size):
                    yield chunk
        except OSError as e:
            raise EvidenceError(f"cannot read image segment {p}: {e.strerror}") from e
