"""Expert Witness Format (E01, split E01/E02...) through libewf-python (``pyewf``).

libewf opens a truncated image without complaint and fails only when a missing chunk is read,
so :func:`open_ewf` reads the first and last sector at once: a copy cut short fails when it is
opened, with one clear line, instead of later as "not a disk image".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyewf
import pytsk3

from triage.errors import EvidenceError
from triage.evidence.ewf_checksums import ChecksumErrors

#: EWF version 1 (E01/S01/L01) and version 2 (Ex01) signatures.
_SIGNATURES = (b"EVF\x09\x0d\x0a\xff\x00", b"LVF\x09\x0d\x0a\xff\x00", b"EVF2\x0d\x0a\x81\x00")

#: Header values worth showing the examiner, in report order.
_HEADER_KEYS = (
    "case_number",
    "evidence_number",
    "description",
    "examiner_name",
    "notes",
    "acquiry_date",
    "system_date",
    "acquiry_operating_system",
    "acquiry_software",
    "acquiry_software_version",
    "model",
    "serial_number",
    "device_label",
    "compression_level",
)


def detect_ewf(path: Path, head: bytes) -> bool:
    return head.startswith(_SIGNATURES)


def segment_paths(path: Path) -> tuple[str, ...]:
    """Every segment of the set (``pyewf.glob`` follows the E01, E02 ... naming)."""
    try:
        return tuple(pyewf.glob(str(path)))
    except (OSError, RuntimeError, ValueError) as e:
        raise EvidenceError(f"cannot find the segments of E01 image {path}: {e}") from e


def open_ewf(paths: tuple[str, ...]) -> pyewf.handle:
    """Open the segments read-only and prove the media data is readable at both ends."""
    handle = pyewf.handle()
    try:
        handle.open(list(paths), "r")
    except (OSError, RuntimeError, ValueError) as e:
        raise EvidenceError(f"cannot open E01 image {paths[0]}: {_one_line(e)}") from e
    try:
        size = handle.get_media_size()
        probe = min(512, size)
        if size:
            handle.read_buffer_at_offset(probe, 0)
            handle.read_buffer_at_offset(probe, size - probe)
    except (OSError, RuntimeError, ValueError) as e:
        handle.close()
        raise EvidenceError(
            f"E01 image is truncated, corrupt or missing a segment ({paths[0]}): cannot read its media data"
        ) from e
    return handle


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text[:300]


def stored_hashes(handle: pyewf.handle) -> tuple[str | None, str | None]:
    """The MD5 and SHA-1 the acquisition tool stored in the image (``None`` when absent)."""
    values = handle.get_hash_values() or {}
    md5 = values.get("MD5") or None
    sha1 = values.get("SHA1") or None
    return (md5.lower() if md5 else None), (sha1.lower() if sha1 else None)


def details(handle: pyewf.handle) -> tuple[tuple[str, str], ...]:
    """Acquisition header values (case number, examiner, dates ...) plus media facts."""
    values = handle.get_header_values() or {}
    out = [(k, str(values[k])) for k in _HEADER_KEYS if values.get(k)]
    out += [(k, str(v)) for k, v in values.items() if k not in _HEADER_KEYS and v]
    out.append(("bytes_per_sector", str(handle.get_bytes_per_sector())))
    out.append(("media_size", str(handle.get_media_size())))
    return tuple(out)


class EwfImgInfo(pytsk3.Img_Info):
    """The media data of an E01 set as a TSK image."""

    def __init__(self, handle: pyewf.handle) -> None:
        self._handle = handle
        self._size = handle.get_media_size()
        #: The damaged chunks this handle has read (#12: files with bytes in them are flagged).
        self.checksum_errors = ChecksumErrors(handle)
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def read(self, offset: int, size: int) -> bytes:
        if offset >= self._size:
            return b""
        return self._handle.read_buffer_at_offset(min(size, self._size - offset), offset)

    def get_size(self) -> int:
        return self._size

    def close(self) -> None:
        self._handle.close()


def iter_ewf(paths: tuple[str, ...], chunk_size: int) -> Iterator[bytes]:
    """The whole media data, decompressed, in chunks (for verifying the stored hashes)."""
    handle = open_ewf(paths)
    try:
        size = handle.get_media_size()
        offset = 0
        while offset < size:
            n = min(chunk_size, size - offset)
            try:
                data = handle.read_buffer_at_offset(n, offset)
            except (OSError, RuntimeError) as e:
                raise EvidenceError(f"E01 media data unreadable at offset {offset}: {_one_line(e)}") from e
            if not data:
                raise EvidenceError(f"E01 media data ends early at offset {offset} of {size}")
            yield data
            offset += len(data)
    finally:
        handle.close()
