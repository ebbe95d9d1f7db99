"""What a worker process does with one work item: read bytes from the evidence and hash them.

The work items themselves are in :mod:`triage.scan.jobs` (light to import in the parent).

Work items are addresses (:class:`~triage.records.EntryRef`, :class:`~triage.records.SourceSpec`),
never handles: ``triage.evidence`` opens each source once per worker and keeps it, so the same
items could be sent to another machine later. This module is preloaded by the pool's fork
server, so the heavy imports (Pillow, numpy, pytsk3) happen once.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from triage.errors import TriageError
from triage.evidence import ewf_checksums, iter_medium, read_entry
from triage.evidence.archives.expand import expand, worth_spooling
from triage.evidence.carving.carve import find_pictures
from triage.evidence.reader import checksum_damage, read_range
from triage.hashing import admission
from triage.hashing.crypto import Digests, digest_chunks
from triage.hashing.decode import PictureDecodeError, decode_picture, decoded_pixels
from triage.hashing.file import hash_chunks
from triage.records import CarvedFile, DecodePolicy, EntryRef, FileHashes
from triage.scan.jobs import BatchResult, CarveJob, CarveResult, HashBatch, HashJob, MediumJob


def process(
    job: HashJob | HashBatch | MediumJob | CarveJob,
) -> FileHashes | BatchResult | Digests | CarveResult:
    """Run one work item (the scheduler's :data:`~triage.scan.scheduler.HASH_TASK`). A read
    error becomes a per-file error in the result, never an exception."""
    handler = _HANDLERS.get(type(job))
    if handler is None:
        raise TypeError(f"not a work item: {type(job).__name__}")
    return handler(job)


def _batch(job: HashBatch) -> BatchResult:
    started = time.monotonic()
    results: list[FileHashes] = []
    for one in job.jobs:
        if results and job.budget is not None and time.monotonic() - started > job.budget:
            break  # the rest go back to the parent, which sends them again
        results.append(_one_of_batch(one))
    return BatchResult(tuple(results), time.monotonic() - started)


def _medium(job: MediumJob) -> Digests:
    return digest_chunks(iter_medium(job.spec))


def _hash(job: HashJob) -> FileHashes:
    """Digests, media type and perceptual hashes of one entry; archives and pictures with
    embedded ones are looked into under the job's limits. An entry with bytes in a damaged E01
    chunk is flagged and gets an error: its digests are not the file's (#12)."""
    # Waiting for the giant-picture slot may take half the item's time, never all of it.
    with admission.waiting_at_most(job.seconds / 2 if job.seconds else None):
        hashes = _hash_entry(job)
    return _with_damage(job.ref, hashes)


def _with_damage(ref: EntryRef, hashes: FileHashes) -> FileHashes:
    """``hashes`` flagged ``checksum-error``, with an error, when bytes of ``ref`` came from a
    damaged E01 chunk (read in this process just before)."""
    damage = checksum_damage(ref)
    if not damage:
        return hashes
    note = ewf_checksums.message(damage)
    return dataclasses.replace(
        hashes,
        flags=(*hashes.flags, ewf_checksums.FLAG),
        error=f"{hashes.error}; {note}" if hashes.error else note,
    )


def _hash_entry(job: HashJob) -> FileHashes:
    started = time.monotonic()
    chunks = read_entry(job.ref)

    def hasher(data: Iterable[bytes], video_path: str | None = None) -> FileHashes:
        return hash_chunks(
            data,
            media_only=job.media_only,
            perceptual=job.perceptual,
            policy=job.policy,
            video_path=video_path,
        )

    # A folder file's video is read by OpenCV from its own path (no temporary copy); anything
    # else (inside a disk image or an archive) is spooled to a temporary file by hash_chunks.
    own_path = job.ref.fs_path if not job.ref.members and job.ref.byte_range is None else None

    if job.limits is None or not job.limits.expand:
        try:
            return hasher(chunks, own_path)
        except (TriageError, OSError) as e:
            return FileHashes(size_read=0, error=f"read failed: {_one_line(e)}")
    with tempfile.SpooledTemporaryFile(max_size=job.limits.spool_bytes) as spool:
        kept = [False]

        def tee() -> Iterator[bytes]:
            for i, chunk in enumerate(chunks):
                if i == 0:
                    kept[0] = worth_spooling(chunk[:1024])
                if kept[0]:
                    spool.write(chunk)
                yield chunk

        stream = tee()
        try:
            hashes = hasher(stream, own_path)
            if kept[0]:
                for _ in stream:  # media_only stops after the head: an archive is read whole
                    pass
        except (TriageError, OSError) as e:
            return FileHashes(size_read=0, error=f"read failed: {_one_line(e)}")
        if not kept[0]:
            return hashes
        children, error = expand(spool, spool.tell(), hasher, job.limits, _deadline(started, job.seconds))
        return dataclasses.replace(hashes, children=children, error=hashes.error or error)


def _one_of_batch(job: HashJob) -> FileHashes:
    """One file of a batch: an unexpected exception is that file's error (worded as the pool words
    one that ends an item), not the batch's."""
    try:
        return _hash(job)
    except Exception as e:
        return FileHashes(size_read=0, error=" ".join(f"{type(e).__name__}: {e}".split())[:500])


def _deadline(started: float, seconds: float | None) -> float | None:
    """When expansion must stop within a job granted ``seconds``: a quarter of the time (at
    least 0.2 s, at most 30 s) is kept for the member being hashed and for the reply."""
    if seconds is None:
        return None
    return started + seconds - min(30.0, max(0.2, seconds / 4))


def _decodes(data: bytes, policy: DecodePolicy) -> bool:
    try:
        with admission.picture_slot(decoded_pixels(data, policy)):  # one giant picture at a time
            decode_picture(data, policy)  # validation: only what decodes is carved
    except PictureDecodeError:
        return False
    except admission.NotAdmitted:
        return True  # kept: hashing it decodes it again and records any problem
    return True


def _crossing_end(buf: bytes, back: int, policy: DecodePolicy) -> int:
    """End (in ``buf``) of the pictures starting in ``buf[:back]`` that reach past ``back``,
    or 0. Only those are decoded (as the previous item did to carve them)."""
    found = find_pictures(buf, back, lambda s, e, k: e > back and _decodes(buf[s:e], policy))
    return max((e for _, e, _ in found), default=0)


def _carve(job: CarveJob) -> CarveResult:
    carved: list[CarvedFile] = []
    scanned = 0
    done = 0  # absolute end of the last picture carved (or found crossing into this job)
    for i, (offset, length, readable) in enumerate(job.pieces):
        back = job.behind if i == 0 else 0
        buf = read_range(job.spec, offset - back, readable + back)
        scanned += length
        if back:
            done = max(done, offset - back + _crossing_end(buf, back, job.policy))
        results: dict[int, FileHashes] = {}

        def accept(start: int, end: int, kind: str, buf: bytes = buf, results: dict = results) -> bool:
            data = buf[start:end]
            if not _decodes(data, job.policy):
                return False
            results[start] = hash_chunks([data], perceptual=job.perceptual, policy=job.policy)
            return True

        base = offset - back
        for start, end, kind in find_pictures(buf, back + length, accept, max(back, done - base)):
            where = EntryRef(source=job.spec, byte_range=(base + start, end - start))
            carved.append(CarvedFile(base + start, end - start, kind, _with_damage(where, results[start])))
            done = base + end
    return CarveResult(scanned, tuple(carved))


_HANDLERS: dict[type, Callable[[Any], Any]] = {
    HashJob: _hash,
    HashBatch: _batch,
    MediumJob: _medium,
    CarveJob: _carve,
}


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__
