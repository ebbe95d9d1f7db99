"""Expanding one entry: archive members at every depth and embedded pictures, flat.

Every member is spooled (memory up to ``ArchiveLimits.spool_bytes``, then a temporary file),
hashed with the same hasher as any file, then looked into in turn. Limits are checked on every
expanded byte: the nesting depth, the total expanded bytes of the top entry, and the expansion
ratio of each archive. Reaching one stops the expansion of the top entry; the children read so
far are kept and the reason (``archive limit: ...``) becomes the top entry's error. A damaged
archive is that archive's error; an encrypted member is a child flagged ``encrypted`` with no
hashes, which is not an error.
"""

from __future__ import annotations

import dataclasses
import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from triage.evidence import embedded
from triage.evidence.archives import ARCHIVE_ERRORS, CHUNK, LimitReached, Meter, detect
from triage.evidence.archives import sevenzip as _sevenzip
from triage.records import ArchiveLimits, ChildFile, FileHashes

Hasher = Callable[[Iterable[bytes]], FileHashes]
HEAD = 1024


def _line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return f"{type(e).__name__}: {text}"[:300]


def read_chunks(f: BinaryIO) -> Iterator[bytes]:
    f.seek(0)
    while chunk := f.read(CHUNK):
        yield chunk


def _head(f: BinaryIO) -> bytes:
    f.seek(0)
    head = f.read(HEAD)
    f.seek(0)
    return head


class _Expansion:
    def __init__(self, hasher: Hasher, limits: ArchiveLimits) -> None:
        self.hasher = hasher
        self.limits = limits
        self.total = 0
        self.children: list[ChildFile] = []
        self.notes: list[str] = []  # limits reached that stop one branch, not the whole entry

    def entry(self, f: BinaryIO, size: int, prefix: tuple[str, ...], depth: int) -> str | None:
        """Expand the file ``f`` found at ``prefix``; returns its own error (damage), if any.
        Raises LimitReached."""
        head = _head(f)
        found = detect(head)
        if found is not None:
            return self.archive(f, size, prefix, depth, found)
        if embedded.detect(head) and size <= 512 * 1024 * 1024:
            f.seek(0)
            try:
                pictures = embedded.embedded_pictures(f.read())
            except (struct.error, ValueError, IndexError):
                pictures = []
            for name, data in pictures:
                hashes = self.hasher([data])
                self.children.append(ChildFile((*prefix, name), len(data), None, ("embedded",), hashes))
        return None

    def archive(self, f, size, prefix, depth, found) -> str | None:  # type: ignore[no-untyped-def]
        name, members = found
        where = ">".join(prefix) or "this entry"
        if depth >= self.limits.max_depth:
            self.notes.append(f"archive limit: nesting depth {self.limits.max_depth} reached at {where}")
            return None
        out = 0
        ratio_at = max(self.limits.ratio_floor, self.limits.max_ratio * max(size, 1))

        def check(n: int) -> None:
            nonlocal out
            out += n
            self.total += n
            if self.total > self.limits.max_total_bytes:
                raise LimitReached(
                    f"archive limit: total expanded bytes {self.limits.max_total_bytes} exceeded at {where}"
                )
            if out > ratio_at:
                raise LimitReached(
                    f"archive limit: expansion ratio {self.limits.max_ratio}:1 exceeded at {where}"
                )

        meter = Meter(check)
        try:
            f.seek(0)
            if name == "7z":
                listing = _sevenzip.members(f, size, spool_bytes=self.limits.spool_bytes)
            else:
                listing = members(f, size)
            for member in listing:
                chain = (*prefix, member.name)
                if member.encrypted:
                    self.children.append(
                        ChildFile(chain, max(member.size, 0), member.mtime, ("encrypted",), FileHashes(0))
                    )
                    continue
                self.member(member, meter, chain, depth + 1)
        except LimitReached:
            raise
        except ARCHIVE_ERRORS as e:
            return f"archive damaged ({name}): {_line(e)}"
        return None

    def member(self, member, meter: Meter, chain: tuple[str, ...], depth: int) -> None:  # type: ignore[no-untyped-def]
        with tempfile.SpooledTemporaryFile(max_size=self.limits.spool_bytes) as spool:
            length = 0
            for chunk in member.chunks(meter):
                spool.write(chunk)
                length += len(chunk)
            hashes = self.hasher(read_chunks(spool))
            index = len(self.children)
            self.children.append(ChildFile(chain, length, member.mtime, (), hashes))
            error = self.entry(spool, length, chain, depth)
            if error and hashes.error is None:
                self.children[index] = dataclasses.replace(
                    self.children[index], hashes=dataclasses.replace(hashes, error=error)
                )


def expand(
    f: BinaryIO, size: int, hasher: Hasher, limits: ArchiveLimits
) -> tuple[tuple[ChildFile, ...], str | None]:
    """The children of the entry whose bytes are in the seekable file ``f``, and the error to
    record on the entry (a limit reached, or the archive is damaged), if any."""
    job = _Expansion(hasher, limits)
    try:
        error = job.entry(f, size, (), 0)
    except LimitReached as e:
        error = str(e)
    return tuple(job.children), error or (job.notes[0] if job.notes else None)


def worth_spooling(head: bytes) -> bool:
    """Whether an entry starting with ``head`` may have children (so its bytes are kept)."""
    return detect(head) is not None or embedded.detect(head)


def read_member(top: Iterable[bytes], chain: tuple[str, ...], limits: ArchiveLimits) -> bytes:
    """The bytes of the child at ``chain`` below the top entry whose content is ``top`` (to read
    a child again, e.g. on a resumed scan). Raises LimitReached or KeyError-free ValueError."""
    current = tempfile.SpooledTemporaryFile(max_size=limits.spool_bytes)  # noqa: SIM115
    for chunk in top:
        current.write(chunk)
    total = 0

    def check(n: int) -> None:
        nonlocal total
        total += n
        if total > limits.max_total_bytes:
            raise LimitReached(f"archive limit: total expanded bytes {limits.max_total_bytes} exceeded")

    for depth, name in enumerate(chain):
        head = _head(current)
        found = detect(head)
        nxt = None
        if found is not None:
            kind, members = found
            listing = (
                _sevenzip.members(current, -1, spool_bytes=limits.spool_bytes)
                if kind == "7z"
                else members(current, -1)
            )
            for member in listing:
                if member.name == name and not member.encrypted:
                    nxt = tempfile.SpooledTemporaryFile(max_size=limits.spool_bytes)  # noqa: SIM115
                    for chunk in member.chunks(Meter(check)):
                        nxt.write(chunk)
                    break
        elif embedded.detect(head):
            current.seek(0)
            for pname, data in embedded.embedded_pictures(current.read()):
                if pname == name:
                    nxt = tempfile.SpooledTemporaryFile(max_size=limits.spool_bytes)  # noqa: SIM115
                    nxt.write(data)
        current.close()
        if nxt is None:
            raise ValueError(f"no member {'>'.join(chain[: depth + 1])!r}")
        current = nxt
    current.seek(0)
    with current:
        return current.read()
