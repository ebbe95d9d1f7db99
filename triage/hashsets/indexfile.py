"""The compiled index file: one file of raw numpy arrays behind a versioned header.

Layout (all integers little-endian)::

    0   8 bytes   magic  b"TRIAGEIX"
    8   uint16    index format version (FORMAT_VERSION)
    10  uint16    length L of the triage version text
    12  L bytes   triage version (ASCII), then zero padding to a 64-byte boundary
    ..            arrays, each starting on a 64-byte boundary (so they can be memory-mapped)
    ..            table of contents: UTF-8 JSON (sources, arrays with offset/dtype/shape, size)
    -24 uint64    offset of the table of contents
    -16 uint64    its length
    -8  8 bytes   end marker b"TRIAGEIE"

Why: the version sits in the first bytes, so an index written by another version of triage
is refused before anything else is read (a layout that changed must never be misread); the
table of contents comes last, so building streams each array to disk as it is finished and a
file cut short (copy interrupted, disk full) has no valid end marker and is refused too. The
arrays are memory-mapped: opening a 10-million-hash index reads only the table of contents.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from triage import __version__
from triage.errors import HashSetError
from triage.inputfiles import require_regular_file

MAGIC = b"TRIAGEIX"
END = b"TRIAGEIE"
FORMAT_VERSION = 1
ALIGN = 64
_HEAD = struct.Struct("<8sHH")
_TAIL = struct.Struct("<QQ8s")


def is_index(path: str | os.PathLike[str]) -> bool:
    """True when the file starts with the index magic (a compiled index, not a raw set)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def _pad(fh: BinaryIO) -> int:
    pos = fh.tell()
    gap = -pos % ALIGN
    if gap:
        fh.write(b"\0" * gap)
    return pos + gap


class IndexWriter:
    """Writes a new index file: the header now, each array as it is added, the table of
    contents on :meth:`finish`. The file appears under its name only when complete."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._partial = self.path.with_name(self.path.name + ".partial")
        try:
            self._fh: BinaryIO = open(self._partial, "wb")  # noqa: SIM115 - closed in finish/abort
        except OSError as e:
            raise HashSetError(f"{path}: cannot write the index: {e.strerror or e}") from e
        version = __version__.encode("ascii")
        self._fh.write(_HEAD.pack(MAGIC, FORMAT_VERSION, len(version)) + version)
        self._arrays: dict[str, dict[str, Any]] = {}

    def add(self, name: str, array: np.ndarray) -> None:
        offset = _pad(self._fh)
        data = np.ascontiguousarray(array)
        self._fh.write(memoryview(data).cast("B"))
        self._arrays[name] = {"offset": offset, "dtype": data.dtype.str, "shape": list(data.shape)}

    def finish(self, toc: dict[str, Any]) -> None:
        try:
            offset = _pad(self._fh)
            body = json.dumps({**toc, "arrays": self._arrays}, sort_keys=True).encode("utf-8")
            self._fh.write(body)
            self._fh.write(_TAIL.pack(offset, len(body), END))
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            os.replace(self._partial, self.path)
        except OSError as e:
            self.abort()
            raise HashSetError(f"{self.path}: cannot write the index: {e.strerror or e}") from e

    def abort(self) -> None:
        self._fh.close()
        self._partial.unlink(missing_ok=True)


def _versions(display: str, head: bytes) -> None:
    if len(head) < _HEAD.size or head[:8] != MAGIC:
        raise HashSetError(f"{display}: not a triage hash-set index (no TRIAGEIX header)")
    _, fmt, length = _HEAD.unpack_from(head)
    version = head[_HEAD.size : _HEAD.size + length].decode("ascii", "replace")
    if fmt != FORMAT_VERSION or version != __version__:
        raise HashSetError(
            f"{display}: built by triage {version} (index format {fmt}); this is triage {__version__} "
            f"(index format {FORMAT_VERSION}). An index is only read by the version that built it: "
            "rebuild it with 'triage hashset build'"
        )


def open_index_file(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The table of contents and the memory-mapped arrays of an index file.

    Raises HashSetError for a file of another triage version, one cut short, or one whose
    table of contents does not describe the file.
    """
    display = os.fspath(path)
    require_regular_file(display, "hash-set index", HashSetError)
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(ALIGN + 256)
            _versions(display, head)
            if size < _TAIL.size + len(head):
                raise HashSetError(f"{display}: the index is cut short ({size} bytes; no table of contents)")
            fh.seek(size - _TAIL.size)
            offset, length, end = _TAIL.unpack(fh.read(_TAIL.size))
            if end != END or offset + length + _TAIL.size != size:
                raise HashSetError(
                    f"{display}: the index is cut short or damaged: expected the end marker TRIAGEIE "
                    f"at byte offset {size - 8}, found {end!r} (was the copy interrupted?)"
                )
            fh.seek(offset)
            toc = json.loads(fh.read(length).decode("utf-8"))
    except OSError as e:
        raise HashSetError(f"{display}: cannot read the index: {e.strerror or e}") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise HashSetError(f"{display}: the index's table of contents is damaged: {e}") from e
    arrays: dict[str, np.ndarray] = {}
    try:
        if not isinstance(toc, dict) or not isinstance(toc.get("arrays", {}), dict):
            raise ValueError("not an object")
        for name, spec in toc.get("arrays", {}).items():
            dtype, shape = np.dtype(spec["dtype"]), tuple(int(n) for n in spec["shape"])
            start = spec["offset"]
            if not isinstance(start, int) or start < 0 or any(n < 0 for n in shape) or dtype.hasobject:
                raise ValueError(f"array {name!r} has an impossible place or shape")
            end_byte = start + dtype.itemsize * int(np.prod(shape))
            if end_byte > offset:
                raise HashSetError(f"{display}: array {name!r} runs past the table of contents (damaged)")
            if not np.prod(shape):
                arrays[name] = np.empty(shape, dtype)
                continue
            arrays[name] = np.memmap(path, dtype=dtype, mode="r", offset=start, shape=shape)
    except HashSetError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, OSError) as e:
        # A damaged or forged table of contents: refused, never read with a wrong layout.
        raise HashSetError(f"{display}: the index's table of contents is damaged: {e}") from e
    return toc, arrays
