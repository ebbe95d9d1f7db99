"""EnCase hash libraries (``.hash``, the legacy v1 binary format of EnCase 3 to 6): MD5s only.

The layout follows The Sleuth Kit's reader (``tsk/hashdb/encase.c``), which is what the format
is known by publicly: the 8-byte signature ``HASH\\r\\n\\xff\\x00``; the set's name as UTF-16LE at
byte 1032 (0x408, up to 39 characters); its category as UTF-16LE at 0x458 (up to 19 characters,
per the Forensics Wiki); and from byte 1152 (0x480) one 18-byte record per hash: 16 bytes of MD5
and 2 bytes triage ignores. Files written by EnCase 6 carry version ``2`` at byte 8 and the
number of records as a little-endian 32-bit integer at byte 16 (0x10); for those the count is
checked, so a file cut at a record boundary is caught too. Names of files are not stored.

Each record becomes an MD5 KnownHash whose ``line`` is the record number (1-based; the record
starts at byte 1152 + 18 x (line - 1)), whose category is the set's category and whose label
``hashset`` is the set's name.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from itertools import chain

from triage.hashsets.base import Sniff, fail_at
from triage.hashsets.source import Source
from triage.records import KnownHash

MAGIC = b"HASH\x0d\x0a\xff\x00"
HEADER_BYTES = 1152
RECORD_BYTES = 18
NAME_AT, NAME_CHARS = 0x408, 39
CATEGORY_AT, CATEGORY_CHARS = 0x458, 19
VERSION_AT, COUNT_AT = 8, 16
COUNTED_VERSION = 2


def _utf16(header: bytes, at: int, chars: int) -> str:
    raw = header[at : at + 2 * chars]
    return raw.decode("utf-16-le", errors="replace").split("\x00", 1)[0].strip()


class EncaseReader:
    name = "encase"
    description = "EnCase hash library (.hash, legacy binary format: 'HASH' header, 18-byte MD5 records)"

    def detect(self, sniff: Sniff) -> bool:
        return sniff.head.startswith(MAGIC)

    def read(self, source: Source) -> Iterator[KnownHash]:
        buffer = b""
        chunks = source.chunks()
        for chunk in chunks:
            buffer += chunk
            if len(buffer) >= HEADER_BYTES:
                break
        if not buffer:
            return  # an empty file: the loader reports the empty set
        if not buffer.startswith(MAGIC):
            raise fail_at(source, 0, f"expected the EnCase signature {MAGIC!r}, found {buffer[:8]!r}")
        if len(buffer) < HEADER_BYTES:
            expected = f"a header of {HEADER_BYTES} bytes"
            raise fail_at(source, len(buffer), f"expected {expected}, the file ends after {len(buffer)}")
        header, rest = buffer[:HEADER_BYTES], buffer[HEADER_BYTES:]
        (version,) = struct.unpack_from("<I", header, VERSION_AT)
        (count,) = struct.unpack_from("<I", header, COUNT_AT)
        category = _utf16(header, CATEGORY_AT, CATEGORY_CHARS) or None
        set_name = _utf16(header, NAME_AT, NAME_CHARS)
        labels = (("hashset", set_name),) if set_name else ()
        number = 0
        pending = b""
        for chunk in chain((rest,), chunks):
            data = pending + chunk
            usable = len(data) - len(data) % RECORD_BYTES
            for at in range(0, usable, RECORD_BYTES):
                number += 1
                yield KnownHash("md5", data[at : at + 16].hex(), None, category, None, labels, number)
            pending = data[usable:]
        offset = HEADER_BYTES + number * RECORD_BYTES
        if pending:
            found = f"{len(pending)} bytes {pending[:24]!r}"
            raise fail_at(
                source, offset, f"expected an {RECORD_BYTES}-byte MD5 record, found {found} (cut short?)"
            )
        if version == COUNTED_VERSION and count != number:
            raise fail_at(source, offset, f"the header counts {count} records, the file holds {number}")


READER = EncaseReader()
