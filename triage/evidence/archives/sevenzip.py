"""7z through py7zr. py7zr extracts a solid block at once, so every member is written through
the meter into its own spooled temporary file (limits hold while py7zr writes), then served.

Writers are keyed by the member's index in the archive, never by its name: a 7z may hold the
same name twice (py7zr's own extraction renames the second one, and refuses names such as
``../x`` as unsafe to write to disk, which does not apply here: nothing is written to disk
under a member's name). So one :class:`py7zr.io.MemIO` per file is registered with py7zr's
worker under a key of our own, the way ``SevenZipFile.extract(factory=...)`` does.
"""

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
    """Writers under the key each was created for (the file's index in the archive)."""

    def __init__(self, meter: Meter, spool_bytes: int) -> None:
        self.meter, self.spool_bytes = meter, spool_bytes
        self.files: dict[str, _Writer] = {}

    def create(self, filename: str) -> py7zr.io.Py7zIO:
        w = self.files[filename] = _Writer(self.meter, self.spool_bytes)
        return w


def _extract(archive: py7zr.SevenZipFile, factory: _Factory) -> None:
    """Extract every file into ``factory`` under the key ``str(index)``."""
    worker = archive.worker
    for index, f in enumerate(archive.files):
        if not (f.is_directory or f.is_socket):
            worker.register_filelike(f.id, py7zr.io.MemIO(str(index), factory))
    worker.extract(archive.fp, None, parallel=False)


def _iso(info) -> str | None:  # type: ignore[no-untyped-def]
    t = getattr(info, "creationtime", None)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None else None


def members(
    f: BinaryIO, size: int, meter: Meter | None = None, spool_bytes: int = 32 << 20
) -> Iterator[Member]:
    """Members in archive order; the first member read extracts them all through the meter it
    is given (expansion's, or read_member's)."""
    try:
        archive = py7zr.SevenZipFile(f, mode="r")
    except py7zr.exceptions.PasswordRequired:
        yield Member("{encrypted-headers}", -1, None, True, lambda m: iter(()))
        return
    with archive:
        listed = list(enumerate(archive.list()))
        infos = [(i, info) for i, info in listed if not info.is_directory]
        if archive.needs_password():
            for _, info in infos:
                yield Member(info.filename, int(info.uncompressed), _iso(info), True, lambda m: iter(()))
            return
        state: dict[str, _Factory] = {}
        failed: list[BaseException] = []

        def extract(m: Meter) -> _Factory:
            if "f" not in state:
                try:
                    factory = _Factory(m, spool_bytes)
                    _extract(archive, factory)
                except Exception as e:
                    failed.append(e)
                    raise
                state["f"] = factory
            return state["f"]

        for index, info in infos:

            def chunks(m: Meter, key: str = str(index)) -> Iterator[bytes]:
                w = extract(m).files.pop(key, None)
                if w is None:  # an empty file, or a special one: no data
                    return
                with w.file:
                    w.file.seek(0)
                    while chunk := w.file.read(CHUNK):
                        yield chunk

            yield Member(info.filename, int(info.uncompressed), _iso(info), False, chunks)
            if failed:  # extraction is all or nothing: the archive is damaged, not one member
                raise failed[0]
