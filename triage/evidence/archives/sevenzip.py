"""7z through py7zr. py7zr extracts a solid block at once, so every member is written through
the meter into its own spooled temporary file (limits hold while py7zr writes), then served."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import BinaryIO

import py7zr
import py7zr.io

from triage.evidence.archives import CHUNK, Member, Meter

SIGNATURE = b"7z\xbc\xaf\x27\x1c"


def detect(head: bytes) -> bool:
    return head.startswith(SIGNATURE)


class _Writer(py7zr.io.Py7zIO):
    def __init__(self, meter: Meter, spool_bytes: int) -> None:
        self.meter = meter
        self.file = tempfile.SpooledTemporaryFile(max_size=spool_bytes)  # noqa: SIM115
        self.length = 0

    def write(self, s: bytes | bytearray) -> int:
        self.meter.add(len(s))
        self.length += len(s)
        return self.file.write(s)

    def read(self, size: int | None = None) -> bytes:
        return self.file.read(size if size is not None else -1)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)

    def flush(self) -> None:
        self.file.flush()

    def size(self) -> int:
        return self.length


class _Factory(py7zr.io.WriterFactory):
    def __init__(self, meter: Meter, spool_bytes: int) -> None:
        self.meter, self.spool_bytes = meter, spool_bytes
        self.files: dict[str, _Writer] = {}

    def create(self, filename: str) -> py7zr.io.Py7zIO:
        w = self.files[filename] = _Writer(self.meter, self.spool_bytes)
        return w


def _iso(info) -> str | None:  # type: ignore[no-untyped-def]
    t = getattr(info, "creationtime", None)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None else None


def members(
    f: BinaryIO, size: int, meter: Meter | None = None, spool_bytes: int = 32 << 20
) -> Iterator[Member]:
    """``meter`` must be given by the caller (expansion) before the first member is read."""
    try:
        archive = py7zr.SevenZipFile(f, mode="r")
    except py7zr.exceptions.PasswordRequired:
        yield Member("{encrypted-headers}", -1, None, True, lambda m: iter(()))
        return
    with archive:
        infos = [i for i in archive.list() if not i.is_directory]
        if archive.needs_password():
            for info in infos:
                yield Member(info.filename, int(info.uncompressed), _iso(info), True, lambda m: iter(()))
            return
        state: dict[str, _Factory] = {}

        def extract(m: Meter) -> _Factory:
            if "f" not in state:
                factory = _Factory(m, spool_bytes)
                archive.extract(factory=factory)
                state["f"] = factory
            return state["f"]

        for info in infos:

            def chunks(m: Meter, name: str = info.filename) -> Iterator[bytes]:
                w = extract(m).files.get(name)
                if w is None:
                    return
                w.file.seek(0)
                while chunk := w.file.read(CHUNK):
                    yield chunk
                w.file.close()

            yield Member(info.filename, int(info.uncompressed), _iso(info), False, chunks)
