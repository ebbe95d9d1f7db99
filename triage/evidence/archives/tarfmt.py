"""TAR, plain or compressed with gzip, bzip2 or xz (tarfile's transparent decompression)."""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from typing import BinaryIO

from triage.evidence.archives import CHUNK, Member, Meter
from triage.timeutil import iso_utc


def detect(head: bytes) -> bool:
    return head[257:262] == b"ustar"


def members(f: BinaryIO, size: int, mode: str = "r:") -> Iterator[Member]:
    tf = tarfile.open(fileobj=f, mode=mode)  # noqa: SIM115 - closed with f by the caller
    for info in tf:
        if not info.isreg():
            continue

        def chunks(meter: Meter, info: tarfile.TarInfo = info) -> Iterator[bytes]:
            src = tf.extractfile(info)
            if src is None:
                return
            while chunk := src.read(CHUNK):
                meter.add(len(chunk))
                yield chunk

        yield Member(info.name, info.size, iso_utc(int(info.mtime), 0), False, chunks)
