"""Expanding one entry: archive members at every depth and embedded pictures, flat.

Every member is spooled (memory up to ``ArchiveLimits.spool_bytes``, then a temporary file),
hashed with the same hasher as any file, then looked into in turn. Limits are checked on every
expanded byte and every member listed: the nesting depth, the total expanded bytes of the top
entry, the expansion ratio of each archive, the number of members and the wall time (expansion
time grows with the expanded bytes, not with the compressed size the worker's time is granted
by). Reaching one stops the expansion of the top entry; the children read so far are kept and
the reason (``archive limit: ...``) becomes the top entry's error. A damaged archive is that
archive's error; a member that cannot be read is a child with that error, and the members after
it are still read where the format allows (ZIP); an encrypted member is a child flagged
``encrypted`` with no hashes, which is not an error.

An archive may hold the same name twice: the N-th occurrence of a name is the member
``member_id(name, N)`` (rendered ``name#N`` in a location), in expansion and in
:func:`read_member` alike, so no two members share a location and reading one again returns
that one.
"""

from __future__ import annotations

import dataclasses
import struct
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, TypeVar

from triage.evidence import embedded
from triage.evidence.archives import ARCHIVE_ERRORS, CHUNK, LimitReached, Member, Meter, detect
from triage.evidence.archives import sevenzip as _sevenzip
from triage.locator import member_id, quote_members
from triage.records import ArchiveLimits, ChildFile, FileHashes

Hasher = Callable[[Iterable[bytes]], FileHashes]
HEAD = 1024
T = TypeVar("T")


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


def _where(prefix: tuple[str, ...]) -> str:
    return quote_members(prefix)[1:] or "this entry"


def _numbered(named: Iterable[tuple[str, T]]) -> Iterator[tuple[str, T]]:
    """``(member id, item)`` for ``(name, item)`` pairs of one archive or picture, in order:
    a repeated name gets its occurrence number."""
    seen: dict[str, int] = {}
    for name, item in named:
        n = seen[name] = seen.get(name, 0) + 1
        yield member_id(name, n), item


def _members(found, f: BinaryIO, size: int, meter: Meter, spool_bytes: int) -> Iterator[tuple[str, Member]]:  # type: ignore[no-untyped-def]
    kind, members = found
    if kind == "7z":
        listing = _sevenzip.members(f, size, meter, spool_bytes=spool_bytes)
    else:
        listing = members(f, size, meter)
    return _numbered((m.name, m) for m in listing)


class _Clock:
    """The time left for one expansion: ``max_seconds``, or less when the caller's own
    deadline (the worker's time for the whole file) comes first."""

    def __init__(self, limits: ArchiveLimits, deadline: float | None) -> None:
        now = time.monotonic()
        self.stop = now + limits.max_seconds
        if deadline is not None:
            self.stop = min(self.stop, deadline)
        self.allowed = max(0.0, self.stop - now)

    def check(self, chain: tuple[str, ...]) -> None:
        if time.monotonic() > self.stop:
            raise LimitReached(f"archive limit: time {self.allowed:.3g} s exceeded at {_where(chain)}")


class _Expansion:
    def __init__(self, hasher: Hasher, limits: ArchiveLimits, deadline: float | None) -> None:
        self.hasher = hasher
        self.limits = limits
        self.clock = _Clock(limits, deadline)
        self.total = 0
        self.listed = 0
        self.children: list[ChildFile] = []
        self.notes: list[str] = []  # limits reached that stop one branch, not the whole entry

    def count(self, chain: tuple[str, ...]) -> None:
        self.listed += 1
        if self.listed > self.limits.max_members:
            raise LimitReached(
                f"archive limit: {self.limits.max_members} members exceeded at {_where(chain)}"
            )
        self.clock.check(chain)

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
            for mid, data in _numbered(pictures):
                chain = (*prefix, mid)
                self.count(chain)
                hashes = self.hasher([data])
                self.children.append(ChildFile(chain, len(data), None, ("embedded",), hashes))
        return None

    def archive(self, f, size, prefix, depth, found) -> str | None:  # type: ignore[no-untyped-def]
        where = _where(prefix)
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
            self.clock.check(prefix)

        meter = Meter(check)
        try:
            f.seek(0)
            for mid, member in _members(found, f, size, meter, self.limits.spool_bytes):
                chain = (*prefix, mid)
                self.count(chain)
                if member.encrypted:
                    self.children.append(
                        ChildFile(chain, max(member.size, 0), member.mtime, ("encrypted",), FileHashes(0))
                    )
                    continue
                try:
                    self.member(member, meter, chain, depth + 1)
                except LimitReached:
                    raise
                except ARCHIVE_ERRORS as e:  # this member only; a stream format fails on listing
                    error = f"member damaged ({found[0]}): {_line(e)}"
                    self.children.append(
                        ChildFile(chain, max(member.size, 0), member.mtime, (), FileHashes(0, error=error))
                    )
        except LimitReached:
            raise
        except ARCHIVE_ERRORS as e:
            return f"archive damaged ({found[0]}): {_line(e)}"
        return None

    def member(self, member: Member, meter: Meter, chain: tuple[str, ...], depth: int) -> None:
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
    f: BinaryIO, size: int, hasher: Hasher, limits: ArchiveLimits, deadline: float | None = None
) -> tuple[tuple[ChildFile, ...], str | None]:
    """The children of the entry whose bytes are in the seekable file ``f``, and the error to
    record on the entry (a limit reached, or the archive is damaged), if any. ``deadline``
    (``time.monotonic()`` value) stops expansion earlier than ``limits.max_seconds``. Never
    raises for what the entry holds: the children found so far are always returned."""
    job = _Expansion(hasher, limits, deadline)
    try:
        error = job.entry(f, size, (), 0)
    except LimitReached as e:
        error = str(e)
    except Exception as e:  # a reader's unforeseen failure is this entry's error, not the scan's
        error = f"archive expansion failed: {_line(e)}"
    return tuple(job.children), error or (job.notes[0] if job.notes else None)


def worth_spooling(head: bytes) -> bool:
    """Whether an entry starting with ``head`` may have children (so its bytes are kept)."""
    return detect(head) is not None or embedded.detect(head)


def _select(f: BinaryIO, wanted: str, meter: Meter, limits: ArchiveLimits) -> BinaryIO | None:
    """The member ``wanted`` (a member id) of the archive or picture in ``f``, spooled."""
    head = _head(f)
    found = detect(head)
    if found is not None:
        for mid, member in _members(found, f, -1, meter, limits.spool_bytes):
            if mid == wanted and not member.encrypted:
                out = tempfile.SpooledTemporaryFile(max_size=limits.spool_bytes)  # noqa: SIM115
                for chunk in member.chunks(meter):
                    out.write(chunk)
                return out
    elif embedded.detect(head):
        f.seek(0)
        for mid, data in _numbered(embedded.embedded_pictures(f.read())):
            if mid == wanted:
                out = tempfile.SpooledTemporaryFile(max_size=limits.spool_bytes)  # noqa: SIM115
                out.write(data)
                return out
    return None


def read_member(top: Iterable[bytes], chain: tuple[str, ...], limits: ArchiveLimits) -> bytes:
    """The bytes of the child at ``chain`` below the top entry whose content is ``top`` (to read
    a child again, e.g. on a resumed scan). Raises LimitReached or KeyError-free ValueError."""
    current: BinaryIO = tempfile.SpooledTemporaryFile(max_size=limits.spool_bytes)  # type: ignore[assignment]  # noqa: SIM115
    for chunk in top:
        current.write(chunk)
    total = 0
    clock = _Clock(limits, None)

    def check(n: int) -> None:
        nonlocal total
        total += n
        if total > limits.max_total_bytes:
            raise LimitReached(f"archive limit: total expanded bytes {limits.max_total_bytes} exceeded")
        clock.check(chain)

    for depth, wanted in enumerate(chain):
        try:
            nxt = _select(current, wanted, Meter(check), limits)
        finally:
            current.close()
        if nxt is None:
            raise ValueError(f"no member {_where(chain[: depth + 1])!r}")
        current = nxt
    current.seek(0)
    with current:
        return current.read()
