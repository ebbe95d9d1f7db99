"""What a worker process does with one work item: read bytes from the evidence and hash them.

Work items are addresses (:class:`~triage.records.EntryRef`, :class:`~triage.records.SourceSpec`),
never handles: ``triage.evidence`` opens each source once per worker and keeps it, so the same
items could be sent to another machine later. This module is preloaded by the pool's fork
server, so the heavy imports (Pillow, numpy, pytsk3) happen once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from triage.errors import TriageError
from triage.evidence import iter_medium, read_entry
from triage.hashing.file import hash_chunks
from triage.records import DecodePolicy, EntryRef, FileHashes, SourceSpec


@dataclass(frozen=True)
class HashJob:
    """Hash one entry (digests, media type, perceptual hashes)."""

    ref: EntryRef
    media_only: bool
    perceptual: bool
    policy: DecodePolicy


@dataclass(frozen=True)
class MediumJob:
    """Hash a whole evidence medium (the image's own MD5/SHA-1/SHA-256)."""

    spec: SourceSpec


@dataclass(frozen=True)
class MediumHashes:
    size: int
    md5: str
    sha1: str
    sha256: str


def process(job: HashJob | MediumJob) -> FileHashes | MediumHashes:
    """Run one job. A read error becomes a per-file error in the result, never an exception."""
    if isinstance(job, MediumJob):
        return _hash_medium(job.spec)
    chunks = read_entry(job.ref)
    try:
        return hash_chunks(chunks, media_only=job.media_only, perceptual=job.perceptual, policy=job.policy)
    except (TriageError, OSError) as e:
        return FileHashes(size_read=0, error=f"read failed: {_one_line(e)}")


def _hash_medium(spec: SourceSpec) -> MediumHashes:
    md5, sha1, sha256 = hashlib.md5(), hashlib.sha1(), hashlib.sha256()
    size = 0
    for chunk in iter_medium(spec):
        size += len(chunk)
        md5.update(chunk)
        sha1.update(chunk)
        sha256.update(chunk)
    return MediumHashes(size, md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest())


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__
