"""Work items sent to worker processes: plain, picklable addresses and settings.

They live apart from :mod:`triage.scan.tasks` (what a worker does with them, named by
:data:`triage.scan.scheduler.HASH_TASK`) so the parent process can build them without importing
what the workers need (Pillow, imagehash, py7zr...): the parent's start-up stays short, and the
workers import those once. This module imports nothing that runs (the case codec it uses to
decode stored references is plain JSON).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from triage.case.codec import ref_from_json
from triage.locator import Volume
from triage.records import ArchiveLimits, CarvedFile, DecodePolicy, EntryRef, FileHashes, SourceSpec


@dataclass(frozen=True)
class HashJob:
    """Hash one entry (digests, media type, perceptual hashes)."""

    ref: EntryRef
    media_only: bool
    perceptual: bool
    policy: DecodePolicy
    #: Look inside (archives, embedded pictures) under these limits; None: never.
    limits: ArchiveLimits | None = None
    #: Wall time the parent grants the whole job (its work item's timeout), if known: expansion
    #: stops early enough that the entry's own hashes and the children so far come back
    #: instead of the worker being stopped with nothing.
    seconds: float | None = None


@dataclass(frozen=True)
class HashBatch:
    """Several small files in one item (see :mod:`triage.scan.feed`); answered by a :class:`BatchResult`.

    The files travel as the case store holds their references (JSON text) beside one
    ``template`` job that carries the settings: decoding a reference and building a job costs
    tens of microseconds a file, which the parent would otherwise pay alone for every file of a
    drive while the workers wait. :attr:`jobs` gives the files' jobs, built in the worker."""

    template: HashJob
    refs: tuple[str, ...]
    #: Seconds after which the worker starts no further job of the batch (None: all of them).
    budget: float | None = None

    @property
    def jobs(self) -> tuple[HashJob, ...]:
        # The template's fields once, then one constructor call a file (dataclasses.replace
        # looks the fields up again for every call).
        settings = {f.name: getattr(self.template, f.name) for f in dataclasses.fields(HashJob)}
        return tuple(HashJob(**{**settings, "ref": ref_from_json(text)}) for text in self.refs)


@dataclass(frozen=True)
class BatchResult:
    """One :class:`~triage.records.FileHashes` per job of a :class:`HashBatch` that was done, in
    order (fewer than the jobs when the batch's time budget ran out), and the seconds they took
    (the parent sizes later batches by it)."""

    results: tuple[FileHashes, ...]
    seconds: float


@dataclass(frozen=True)
class CarveJob:
    """Carve pictures from byte runs of one area (a file system's unallocated space, or disk
    space outside partitions). ``pieces`` are ``(offset, length, readable)``: candidates start in
    ``[offset, offset+length)``, and up to ``readable`` bytes from ``offset`` may be read to
    finish one (the rest of the same contiguous run)."""

    spec: SourceSpec
    volume: Volume | None
    pieces: tuple[tuple[int, int, int], ...]
    perceptual: bool
    policy: DecodePolicy
    #: Bytes of the same run before the first piece, searched only for a picture that starts
    #: there (carved by the previous item) and ends inside this item: nothing inside it is
    #: carved again. Pieces of one item are contiguous or start a new run, so later pieces
    #: need no look-back: the end of the last picture carved carries over.
    behind: int = 0


@dataclass(frozen=True)
class CarveResult:
    scanned: int  # bytes searched for headers
    carved: tuple[CarvedFile, ...]


@dataclass(frozen=True)
class MediumJob:
    """Hash a whole evidence medium (the image's own MD5/SHA-1/SHA-256); answered by a
    :class:`~triage.hashing.crypto.Digests`."""

    spec: SourceSpec
