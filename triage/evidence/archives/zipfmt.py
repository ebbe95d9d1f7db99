"""ZIP (and the ZIP-based formats that start with a local file header)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from typing import BinaryIO

from triage.evidence.archives import CHUNK, Member, Meter


def detect(head: bytes) -> bool:
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def _mtime(info: zipfile.ZipInfo) -> str | None:
    y, mo, d, h, mi, s = info.date_time
    if y < 1980 or not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    # ZIP stores local time without a zone; stated as written, not converted.
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"


def members(f: BinaryIO, size: int) -> Iterator[Member]:
    zf = zipfile.ZipFile(f)
    for info in zf.infolist():
        if info.is_dir():
            continue

        def chunks(meter: Meter, info: zipfile.ZipInfo = info) -> Iterator[bytes]:
            with zf.open(info) as src:
                while chunk := src.read(CHUNK):
                    meter.add(len(chunk))
                    yield chunk

        yield Member(info.filename, info.file_size, _mtime(info), bool(info.flag_bits & 0x1), chunks)
