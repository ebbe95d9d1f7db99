"""The work items of the hashing stage, in the order the workers should take them.

Why batches: a worker answers one item at a time, and each item costs the parent a pickle, a
pipe write, a wake-up and a reply (about 0.3 ms). That is nothing beside a photo's perceptual
hash, but a drive holds hundreds of thousands of small files (icons, caches, documents), where
the round trips cost more than the hashing. Small files therefore travel
:data:`BATCH_FILES` at a time (:class:`~triage.scan.jobs.HashBatch`).

Why retries: the pool's promise is that a crash or a hang costs one file, not more. A batch
whose worker crashed or ran out of time is not recorded as failed: each of its files is sent
again on its own (:meth:`Feed.retry`), so only the file that crashes again fails, with the
same message it would have had unbatched.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence

from triage.case.codec import ref_from_json
from triage.case.store import CaseStore
from triage.evidence import Evidence
from triage.records import EntryRef, FileHashes
from triage.scan.jobs import BatchResult, HashBatch, HashJob, MediumJob
from triage.scan.options import ScanOptions
from triage.scan.scheduler import WorkerFailure, WorkItem

#: Files up to this size may go in batches.
SMALL_FILE = 256 * 1024
#: Files per batch at most...
BATCH_FILES = 64
#: ... and bytes per batch at most.
BATCH_BYTES = 4 * 1024 * 1024
#: Seconds after which a worker stops starting the files of a batch (it returns what it
#: finished; the others are sent again). Bounds the work a timed-out batch throws away.
BATCH_BUDGET = 5.0
#: Seconds of work a batch should hold. Size says little about cost (a 20 KB PNG of 3
#: megapixels takes 0.1 s to decode, a 20 KB text file 50 us), so the batch length follows the
#: seconds per file that finished batches took: short enough that progress, commits and the last
#: files of a scan stay spread over the workers; long enough that round trips stop mattering.
BATCH_SECONDS = 0.2
#: Entries read back from the store at a time.
_READ = 1000


class Feed:
    """Iterator of :class:`WorkItem` for :func:`triage.scan.pool.run_pool`: whole-medium hashes,
    then carving, then entries largest first (the long jobs start early and the short ones fill
    the gaps, so no worker idles at the end while another finishes one big video), small ones
    in batches. Entries handed to :meth:`retry` come next, one per item.

    Keys: ``("medium", evidence_id)``, the carving items' own keys, ``("entry", id, size)`` and
    ``("batch", ((id, size), ...))``."""

    def __init__(
        self,
        store: CaseStore,
        pending: Sequence[int],
        media: Sequence[Evidence],
        options: ScanOptions,
        carving: Iterable[WorkItem] = (),
        scale: int = 1,
    ) -> None:
        self._store = store
        self._scale = max(1, scale)  # the scheduler's batch_scale: longer batches where items cost more
        self._options = options
        self._retries: deque[int] = deque()
        self._per_file = BATCH_SECONDS / 4  # seconds per small file, until batches say otherwise
        self._items = self._generate(pending, media, carving)

    def __iter__(self) -> Iterator[WorkItem]:
        return self

    def __next__(self) -> WorkItem:
        """The next item; a retry first. The pool asks again after each result, so entries
        queued by :meth:`retry` are taken even after the rest has run out."""
        if self._retries:
            entry_id = self._retries.popleft()
            for _, size, ref in self._store.refs_by_id([entry_id]):
                return self._single(entry_id, size, ref)
        return next(self._items)

    def retry(self, entries: Iterable[tuple[int, int]]) -> None:
        """Send these ``(entry id, size)`` again, one per item (their batch failed as a whole)."""
        self._retries.extend(entry_id for entry_id, _ in entries)

    def settle(self, key: tuple, value: object) -> list[tuple[int, int, FileHashes]]:
        """The ``(entry id, size, hashes)`` an ``entry`` or ``batch`` item's result gives: a
        failed file is its error; a failed batch gives none now, its files are sent again."""
        if key[0] == "batch":
            if not isinstance(value, BatchResult):  # a WorkerFailure (or nonsense from a worker)
                # Crashed or ran out of time: each file again, on its own, and the batches after
                # it small until finished ones show the files are quick again.
                self._per_file = max(self._per_file, BATCH_SECONDS)
                self.retry(key[1])
                return []
            done = len(value.results)
            self.observe(done, value.seconds)
            if done < len(key[1]):  # the worker stopped at the batch's time budget
                self._per_file = max(self._per_file, BATCH_SECONDS)
                self._retries.extend(entry_id for entry_id, _ in key[1][done:])
            return [(i, size, h) for (i, size), h in zip(key[1], value.results, strict=False)]
        _, entry_id, size = key
        if isinstance(value, WorkerFailure):
            value = FileHashes(size_read=0, error=value.message)
        elif not isinstance(value, FileHashes):
            value = FileHashes(size_read=0, error=f"worker answered {type(value).__name__}, not file hashes")
        return [(entry_id, size, value)]

    def observe(self, files: int, seconds: float) -> None:
        """A batch of ``files`` took ``seconds`` in its worker: later batches are sized by it
        (a moving average, so one slow file does not shrink every batch after it)."""
        if files > 0:
            self._per_file = 0.7 * self._per_file + 0.3 * (seconds / files)

    def _batch_files(self) -> int:
        k = self._scale
        return max(1, min(BATCH_FILES * k, int(BATCH_SECONDS * k / max(self._per_file, 1e-6))))

    def _job(self, ref: EntryRef, timeout: float) -> HashJob:
        o = self._options
        return HashJob(ref, o.media_only, o.perceptual, o.decode_policy, o.archive_limits, timeout)

    def _timeout(self, size: int) -> float:
        return self._options.timeout + size / self._options.min_rate

    def _single(self, entry_id: int, size: int, ref: EntryRef) -> WorkItem:
        timeout = self._timeout(size)
        return WorkItem(("entry", entry_id, size), self._job(ref, timeout), timeout)

    def _generate(
        self, pending: Sequence[int], media: Sequence[Evidence], carving: Iterable[WorkItem]
    ) -> Iterator[WorkItem]:
        for ev in media:
            if ev.info.kind != "folder":
                timeout = self._options.timeout + ev.info.size / self._options.min_rate
                yield WorkItem(("medium", ev.info.evidence_id), MediumJob(ev.spec), timeout)
        yield from carving  # long items first, like the largest entries
        batch: list[tuple[int, int, str]] = []
        batch_bytes = 0
        for start in range(0, len(pending), _READ):
            for entry_id, size, text in self._store.ref_texts_by_id(pending[start : start + _READ]):
                if size > SMALL_FILE:
                    yield self._single(entry_id, size, ref_from_json(text))
                    continue
                batch.append((entry_id, size, text))
                batch_bytes += size
                if len(batch) >= self._batch_files() or batch_bytes >= BATCH_BYTES * self._scale:
                    yield self._batch(batch)
                    batch, batch_bytes = [], 0
        if batch:
            yield self._batch(batch)

    def _batch(self, batch: list[tuple[int, int, str]]) -> WorkItem:
        """A batch item, even of one file, so that every small file's time is measured and the
        batch length can grow again after slow files. The worker stops taking the batch's files
        after :data:`BATCH_BUDGET` seconds and returns what it finished; the rest are sent again.
        So a batch takes about one file's time beyond its budget, and one file's allowance
        (plus the budget) is its timeout: a batch that still runs out holds a file that hangs,
        and is sent again file by file. The references go as stored text (decoded by the
        worker); only the first is decoded here, for the template job."""
        timeout = self._timeout(sum(size for _, size, _ in batch)) + BATCH_BUDGET
        template = self._job(ref_from_json(batch[0][2]), timeout)
        key = ("batch", tuple((entry_id, size) for entry_id, size, _ in batch))
        return WorkItem(key, HashBatch(template, tuple(text for _, _, text in batch), BATCH_BUDGET), timeout)
