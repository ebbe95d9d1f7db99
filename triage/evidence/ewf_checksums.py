"""E01 chunks whose checksum failed, and which files have bytes in them (#12).

libewf checks each chunk's Adler-32 (or the deflate stream's) as it reads it. A chunk that fails
is not an error to the reader: libewf returns it filled with zeros and adds its sector range to
the handle's list of checksum errors. Without looking at that list, a file whose bytes lie in a
damaged chunk was hashed from the zeros and stored as "hashed" with a SHA-256 that is not the
file's; only the evidence's stored MD5 said something was wrong.

The Python binding (pyewf) does not expose the list. The C library it is built from is linked
into the binding's own shared object, which exports libewf's API, so the list is read through
:mod:`ctypes` from that object: ``libewf_handle_get_number_of_checksum_errors`` and
``libewf_handle_get_checksum_error`` (start sector, number of sectors). The ``libewf_handle_t``
pointer is the first field after the Python object header of a ``pyewf.handle`` (pyewf's
``pyewf_handle_t``); it is used only after libewf, asked through it, gives the same media size and
sector size as pyewf itself. When that check fails the errors cannot be read and
:meth:`ChecksumErrors.available` is False (the scan then says so), rather than guessing.

The list only ever grows, and it holds every damaged chunk this handle has read (a chunk served
later from libewf's or TSK's cache was checked when it was first read), so after a file's bytes
have been read through a handle, comparing the file's byte ranges on the image with the list is
exact for that file.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable, Sequence
from functools import cache

import pyewf

#: The per-file flag and the start of the per-file error for a file with bytes in a damaged chunk.
FLAG = "checksum-error"

_P = ctypes.c_void_p
_ERR = ctypes.POINTER(ctypes.c_void_p)


@cache
def _library() -> ctypes.CDLL | None:
    """libewf's C API, from the shared object pyewf was loaded from; None if it is not there."""
    try:
        lib = ctypes.CDLL(pyewf.__file__)
        functions = (
            ("libewf_handle_get_media_size", [_P, ctypes.POINTER(ctypes.c_uint64), _ERR]),
            ("libewf_handle_get_bytes_per_sector", [_P, ctypes.POINTER(ctypes.c_uint32), _ERR]),
            ("libewf_handle_get_number_of_checksum_errors", [_P, ctypes.POINTER(ctypes.c_uint32), _ERR]),
            (
                "libewf_handle_get_checksum_error",
                [_P, ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_uint64), _ERR],
            ),
            ("libewf_error_free", [_ERR]),
        )
        for name, argtypes in functions:
            fn = getattr(lib, name)
            fn.argtypes = argtypes
            fn.restype = ctypes.c_int
    except (OSError, AttributeError, TypeError):
        return None
    return lib


class ChecksumErrors:
    """The damaged byte ranges of the media data behind one open ``pyewf.handle``."""

    def __init__(self, handle: pyewf.handle) -> None:
        self._handle = handle  # kept alive: the C pointer below belongs to it
        self._lib = _library()
        self._ptr: int | None = None
        self._bytes_per_sector = 0
        self._ranges: list[tuple[int, int]] = []
        if self._lib is not None:
            self._ptr = self._checked_pointer(handle)

    @property
    def available(self) -> bool:
        """True when the handle's checksum errors can be read."""
        return self._ptr is not None

    def _call(self, name: str, *args: object) -> bool:
        assert self._lib is not None
        error = ctypes.c_void_p()
        ok = getattr(self._lib, name)(self._ptr, *args, ctypes.byref(error)) == 1
        if error.value:
            self._lib.libewf_error_free(ctypes.byref(error))
        return ok

    def _checked_pointer(self, handle: pyewf.handle) -> int | None:
        pointer = ctypes.c_void_p.from_address(id(handle) + object.__basicsize__).value
        if not pointer or pointer % ctypes.alignment(ctypes.c_void_p):
            return None
        self._ptr = pointer
        size, sector = ctypes.c_uint64(), ctypes.c_uint32()
        try:
            same = (
                self._call("libewf_handle_get_media_size", ctypes.byref(size))
                and self._call("libewf_handle_get_bytes_per_sector", ctypes.byref(sector))
                and size.value == handle.get_media_size()
                and sector.value == handle.get_bytes_per_sector()
                and sector.value > 0
            )
        except (OSError, ValueError):
            same = False
        self._bytes_per_sector = sector.value
        return pointer if same else None

    def ranges(self) -> list[tuple[int, int]]:
        """``(byte offset, length)`` of every damaged range this handle has read so far."""
        if self._ptr is None:
            return []
        count = ctypes.c_uint32()
        if not self._call("libewf_handle_get_number_of_checksum_errors", ctypes.byref(count)):
            return self._ranges
        if count.value != len(self._ranges):
            found = []
            start, sectors = ctypes.c_uint64(), ctypes.c_uint64()
            per = self._bytes_per_sector
            for index in range(count.value):
                where = (ctypes.byref(start), ctypes.byref(sectors))
                if self._call("libewf_handle_get_checksum_error", index, *where):
                    found.append((start.value * per, sectors.value * per))
            self._ranges = sorted(found)
        return self._ranges


def damaged_parts(
    ranges: Sequence[tuple[int, int]], extents: Iterable[tuple[int, int, int]]
) -> list[tuple[int, int]]:
    """The file's byte ranges ``(offset in the file, length)`` that lie in a damaged range.

    ``extents`` are ``(offset in the file, offset on the media, length)``.
    """
    hits = []
    for file_offset, media_offset, length in extents:
        for bad_start, bad_length in ranges:
            lo, hi = max(media_offset, bad_start), min(media_offset + length, bad_start + bad_length)
            if lo < hi:
                hits.append((file_offset + lo - media_offset, hi - lo))
    return sorted(hits)


def message(parts: Sequence[tuple[int, int]]) -> str:
    """The per-file error: which bytes of the file came from damaged chunks."""
    shown = ", ".join(f"{offset}+{length}" for offset, length in parts[:3])
    more = f" and {len(parts) - 3} more" if len(parts) > 3 else ""
    return (
        f"{FLAG}: bytes {shown}{more} of this file lie in E01 chunks whose checksum failed"
        " (libewf read them as zeros); its digests are of the damaged copy"
    )
