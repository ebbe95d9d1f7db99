"""TAR, plain or compressed with gzip, bzip2 or xz (tarfile's transparent decompression).

The stream is metered as tarfile passes it, not only the members read: every header, and the
data of members that are skipped (links, devices, unknown types) or not read, is charged when
its header is seen, before tarfile decompresses its way past it. A regular member's data is
charged the same way; reading it charges only what its stored blocks do not cover (the holes a
sparse member expands to).
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from typing import BinaryIO

from triage.evidence.archives import CHUNK, Member, Meter
from triage.timeutil import iso_utc


def detect(head: bytes) -> bool:
    return head[257:262] == b"ustar"


def members(f: BinaryIO, size: int, meter: Meter, mode: str = "r:") -> Iterator[Member]:
    tf = tarfile.open(fileobj=f, mode=mode)  # noqa: SIM115 - closed with f by the caller
    charged = 0
    for info in tf:
        # tf.offset is past this member's data blocks: headers so far plus data to read or skip.
        meter.add(max(0, tf.offset - charged))
        charged = max(charged, tf.offset)
        if not info.isreg():
            continue
        stored = tf.offset - info.offset_data

        def chunks(meter: Meter, info: tarfile.TarInfo = info, stored: int = stored) -> Iterator[bytes]:
            src = tf.extractfile(info)
            if src is None:
                return
            done = 0
            while chunk := src.read(CHUNK):
                meter.add(max(0, done + len(chunk) - max(done, stored)))
                done += len(chunk)
                yield chunk

        yield Member(info.name, info.size, iso_utc(int(info.mtime), 0), False, chunks)
