"""One scan, end to end: evidence → entries → hashes → matches → case store → reports.

The parent process is the only writer of the case database. It

1. loads every known-hash set and opens every evidence item *before* creating anything, so bad
   input fails with one clear error and leaves no half-made case folder;
2. lists every entry of every evidence item into the store (metadata only; fast) so totals and
   an ETA are known, and so a killed scan leaves a store that says what was still to do;
3. sends each entry's address to worker processes (:mod:`triage.scan.pool`), which read and hash
   the bytes; matches against the index happen here, in the parent, where the index lives once;
4. commits results in batches (one transaction each), then writes the reports and the manifest.

No terminal output here: progress goes to a callback the command line renders.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from triage.case.store import CaseStore
from triage.errors import ClusterError, EvidenceError, UsageError
from triage.evidence import Evidence, open_evidence
from triage.evidence.ewf_checksums import FLAG as CHECKSUM_FLAG
from triage.hashsets import MatchIndex, open_match_index
from triage.locator import valid_evidence_id
from triage.records import DAMAGE_PREFIX, UNREAD_FLAGS, CaseInfo, Entry, FileHashes, Match
from triage.reports import write_reports
from triage.scan.children import carve_items, record_carved, record_children
from triage.scan.derivatives import FeatureSpill, search_case
from triage.scan.feed import SMALL_FILE, Feed
from triage.scan.integrity import record_medium, verify_after
from triage.scan.options import Progress, ProgressFn, ScanOptions, ScanResult
from triage.scan.pool import LocalScheduler
from triage.scan.preflight import (
    absolute_evidence_path,
    check_case_dir,
    check_case_info,
    check_distinct_evidence,
)
from triage.scan.provenance import record_setup, tool_info
from triage.scan.scheduler import HASH_TASK, Scheduler, WorkerFailure, WorkItem
from triage.scan.thumbnails import make_thumbnails
from triage.timeutil import now_utc

__all__ = ["Progress", "ProgressFn", "ScanOptions", "ScanResult", "run_remaining", "scan"]


def scan(
    sources: Sequence[tuple[str, str]],
    hashsets: Sequence[str | tuple[str, str]],
    case_dir: Path,
    case: CaseInfo,
    options: ScanOptions,
    *,
    command_line: Sequence[str],
    on_progress: ProgressFn | None = None,
    scheduler: Scheduler | None = None,
    category_scheme: str | None = None,
) -> ScanResult:
    """Scan ``sources`` (pairs of path and evidence id) into a new case folder ``case_dir``.

    ``hashsets`` are raw set files or compiled indexes, each a path (an alert set) or a pair
    of path and role (``alert`` or ``ignore``); see :func:`triage.hashsets.open_match_index`.
    ``scheduler`` runs the work items (default: this machine's process pool).
    """
    started_clock = time.monotonic()
    ids = [eid for _, eid in sources]
    for eid in ids:
        if not valid_evidence_id(eid):
            raise UsageError(f"evidence id {eid!r}: use 1-64 letters, digits, '.', '_' or '-'")
    if len(set(ids)) != len(ids):
        raise UsageError("evidence ids must be unique")
    if not sources:
        raise UsageError("no evidence given")
    check_distinct_evidence(sources)
    check_case_dir(case_dir, [path for path, _ in sources])
    check_case_info(case)
    scheduler = scheduler or LocalScheduler()
    scheduler.warm_up()  # workers get ready while we load sets and list

    specs = [(h, "alert") if isinstance(h, str) else h for h in hashsets]
    index = open_match_index(
        [(absolute_evidence_path(path), role) for path, role in specs], {"": category_scheme}
    )
    opened: list[Evidence] = []
    try:
        for path, eid in sources:
            opened.append(_open_as_given(path, eid))
        scheduler.check(opened)  # a cluster's workers see the same evidence and software, or no case
        store = CaseStore.create(case_dir, case, command_line=list(command_line), tool=tool_info())
        try:
            progress = Progress()
            record_setup(store, options, index, opened)
            _list_entries(store, opened, progress, on_progress)
        except BaseException:
            store.close()
            raise
    finally:
        for ev in opened:
            ev.close()
    media = opened if options.hash_evidence else []
    return run_remaining(
        store, opened, index, options, progress, on_progress, media, started_clock, scheduler
    )


def _open_as_given(path: str, eid: str) -> Evidence:
    """Open by the absolute path (stored, for ``--resume`` from any folder); a relative path as
    the examiner gave it is kept in the item's details for the report."""
    ev = open_evidence(absolute_evidence_path(path), eid)
    if str(path) != ev.info.source:
        ev.info = replace(ev.info, details=(*ev.info.details, ("path as given", str(path))))
    return ev


@dataclass
class _Run:
    """What every stage after listing works with, passed as one value instead of seven."""

    store: CaseStore
    opened: Sequence[Evidence]
    index: MatchIndex
    options: ScanOptions
    progress: Progress
    on_progress: ProgressFn | None
    media: Sequence[Evidence]  # evidence whose whole-image hash is still to be computed
    scheduler: Scheduler

    def commit(self, results: Results) -> None:
        """Store a batch of results; their feature signatures go to the side file first."""
        if self.options.decode_policy.derivatives:
            FeatureSpill(self.store.case_dir).add(results)
        self.store.record_results(results)

    def tick(self, stage: str | None = None) -> None:
        if stage is not None:
            self.progress.stage = stage
        if self.on_progress:
            self.on_progress(self.progress)

    def found(self, rows: Sequence[tuple[int, FileHashes, Sequence[Match]]]) -> None:
        """Count entries discovered while hashing (archive members, carved pictures)."""
        self.progress.files_total += len(rows)
        self.progress.files_done += len(rows)
        self.progress.matches += sum(len(m) for _, _, m in rows)
        self.progress.errors += sum(h.error is not None for _, h, _ in rows)


def run_remaining(
    store: CaseStore,
    opened: Sequence[Evidence],
    index: MatchIndex,
    options: ScanOptions,
    progress: Progress,
    on_progress: ProgressFn | None,
    media: Sequence[Evidence],
    started_clock: float,
    scheduler: Scheduler | None = None,
) -> ScanResult:
    """Everything after listing, shared by a new scan and a resumed one (:mod:`triage.scan.resume`):
    hash the pending entries (and the ``media`` whose image hash is still missing), custody
    stages, finish, reports and manifest. Closes ``store``."""
    run = _Run(store, opened, index, options, progress, on_progress, media, scheduler or LocalScheduler())
    try:
        run.scheduler.record(store)  # who computes the results (a cluster's workers), for the report
        _hash_and_match(run)
        if options.decode_policy.derivatives:
            _derivatives(run)
        _after_hashing(run)
        _note_checksum_damage(store)
        finished = now_utc()
        store.stage("scan", store.started_at, finished)
        store.finish(finished)
        summary = store.summary()
        mismatched = tuple(e["id"] for e in store.evidence() if e.get("verification") == "mismatch")
        # The log commits to the findings themselves, so a row changed later is named by verify.
        store.audit("scan finished", summary=summary, findings=store.findings_digest())
        damage = _damage_notes(store)
        sign_key = Path(options.sign_key) if options.sign_key else None
        reports = write_reports(store.case_dir, store, options.formats, sign_key=sign_key)
    except (KeyboardInterrupt, ClusterError):  # Ctrl-C, or the cluster's scheduler went away
        store.audit("scan interrupted", files_done=progress.files_done, files_total=progress.files_total)
        raise
    finally:
        store.close()
    return ScanResult(
        case_dir=store.case_dir,
        files=summary["files"],
        media_files=summary["media_files"],
        bytes=summary["bytes"],
        matches=summary["matches"],
        matched_files=summary["matched_files"],
        errors=summary["errors"],
        seconds=time.monotonic() - started_clock,
        reports=tuple(reports),
        integrity_failures=mismatched,
        damage=damage,
        match_rows=summary["match_rows"],
        no_files=bool(summary["no_files"]),
        raw_loads=index.raw_loads,
    )


def _note_checksum_damage(store: CaseStore) -> None:
    """One evidence-level damage note per E01 with files flagged ``checksum-error`` (printed on
    stderr with the other damage notes), recorded once even when a resumed scan gets here again."""
    recorded = {(e["evidence_id"], e["message"]) for e in store.iter_errors() if e["entry_id"] is None}
    for evidence_id, count in store.flag_counts(CHECKSUM_FLAG).items():
        note = (
            f"{DAMAGE_PREFIX}{count} file(s) have bytes in E01 chunks whose checksum failed"
            f" (flagged {CHECKSUM_FLAG}; their digests are of the damaged copy)"
        )
        if (evidence_id, note) not in recorded:
            store.record_error(None, evidence_id, note)


def _damage_notes(store: CaseStore) -> tuple[str, ...]:
    """The evidence-level errors that say a medium is damaged, as ``EVn: text``: evidence-level
    errors come first in :meth:`iter_errors`, so only those are read."""
    notes = []
    for e in store.iter_errors():
        if e["location"] is not None:
            break
        if e["entry_id"] is None and str(e["message"]).startswith(DAMAGE_PREFIX):
            notes.append(f"{e['evidence_id']}: {str(e['message'])[len(DAMAGE_PREFIX) :]}")
    return tuple(notes)


def stage_name(store: CaseStore, base: str) -> str:
    """``base``, or ``base (resumed)``... when an earlier run of this case recorded it: stages
    are stored by name, and a resumed scan must not overwrite the first run's times."""
    taken = {s["name"] for s in store.stages()}
    name, n = base, 1
    while name in taken:
        name, n = f"{base} (resumed{'' if n == 1 else f' {n}'})", n + 1
    return name


#: Entries stored per transaction while listing. Each commit syncs the database to disk (about
#: 17 ms); a scan killed while listing starts again (``--resume`` refuses it), so small
#: transactions would buy nothing but time: 1,000 per commit cost 1.7 s of 2.4 s for 100,000 entries.
LISTING_BATCH = 20_000


def _list_entries(
    store: CaseStore, opened: Sequence[Evidence], progress: Progress, on_progress: ProgressFn | None
) -> None:
    started = now_utc()
    for ev in opened:
        batch: list[Entry] = []
        try:
            for entry in ev.entries():
                batch.append(entry)
                progress.files_total += 1
                progress.bytes_total += entry.size
                if len(batch) >= LISTING_BATCH:
                    store.add_entries(batch)
                    batch.clear()
                if on_progress and progress.files_total % 1000 == 0:
                    on_progress(progress)
        except EvidenceError as e:
            # The medium is damaged past some point: keep what was listed, record why it stopped.
            store.record_error(None, ev.info.evidence_id, f"{DAMAGE_PREFIX}listing stopped: {e}")
            progress.errors += 1
        store.add_entries(batch)
        for warning in ev.warnings:
            store.record_error(None, ev.info.evidence_id, warning)
            progress.errors += 1
    store.stage("listing", started, now_utc())
    if on_progress:
        on_progress(progress)


Results = list[tuple[int, FileHashes, Sequence[Match]]]


def _hash_and_match(run: _Run) -> None:
    store = run.store
    name, started = stage_name(store, "hashing"), now_utc()
    run.tick("hashing")
    results: Results = []
    # Largest first: the long jobs start early and the short ones fill the gaps, so no worker
    # idles at the end while another finishes one big video (longest-processing-time rule);
    # small files then in disk order (CaseStore.read_order). Only ids are held (two arrays);
    # entries are read back from the store in batches.
    # A deleted name whose metadata is gone has no content to read (flag "no-meta"); one whose
    # metadata was reused by another file ("realloc") would read *that* file's bytes, which
    # must not be attributed to this name (they are hashed under their own, allocated name).
    # Both are listed with their flags, not hashed, and not counted as errors; so is NTFS's
    # $BadClus:$Bad, a sparse stream as long as the volume ("bad-cluster-map"): UNREAD_FLAGS.
    to_read, unread = store.read_order(SMALL_FILE, UNREAD_FLAGS)
    results.extend((i, FileHashes(size_read=0), ()) for i in unread)
    run.progress.files_done += len(results)
    carving = carve_items(store, run.opened, run.options) if run.options.carve else []
    try:
        _collect(run, to_read, carving, results)
    finally:
        run.commit(results)  # what finished is kept, Ctrl-C or not
    store.stage(name, started, now_utc())
    run.tick("reporting")


def _collect(
    run: _Run,
    to_read: Sequence[int],
    carving: list[WorkItem],
    results: Results,
) -> None:
    """Take results from the workers as they come; commit every ``options.batch`` results or 2 s."""
    store, options, index, progress = run.store, run.options, run.index, run.progress
    stored = {ev.info.evidence_id: ev for ev in run.opened}
    last_commit = time.monotonic()
    feed = Feed(store, to_read, run.media, options, carving, run.scheduler.batch_scale)
    for key, value in run.scheduler.run(HASH_TASK, feed, options.jobs):
        kind = key[0]
        if kind == "medium":
            record_medium(store, stored[key[1]].info, value)
            continue
        if kind == "carve":
            _, eid, volume, _size = key
            if isinstance(value, WorkerFailure):
                where = volume or "outside partitions"
                store.record_error(None, eid, f"carving {where} failed: {value.message}")
                progress.errors += 1
                continue
            found = record_carved(store, stored[eid].spec, eid, volume, value, index, options.match_policy)
            results.extend(found)
            run.found(found)
            continue
        for entry_id, size, hashes in feed.settle(key, value):
            _take(run, entry_id, size, hashes, results)
        now = time.monotonic()
        if len(results) >= options.batch or now - last_commit > 2.0:
            run.commit(results)
            results.clear()
            last_commit = now
        run.tick()


def _take(run: _Run, entry_id: int, size: int, value: FileHashes, results: Results) -> None:
    """One entry's result: matched against the sets, its children (archive members, embedded
    pictures) stored and matched, counted."""
    policy = run.options.match_policy
    matches = run.index.match(value, policy) if value.error is None or value.sha256 else []
    results.append((entry_id, value, matches))
    if value.children:
        parent = run.store.entries_by_id([entry_id])[0][1]
        inner = record_children(run.store, parent, value, run.index, policy)
        results.extend(inner)
        run.found(inner)
    run.progress.files_done += 1
    run.progress.bytes_done += size
    run.progress.matches += len(matches)
    run.progress.errors += value.error is not None


def _derivatives(run: _Run) -> None:
    """Derivative search: every picture against the seeds (pictures matched directly)."""
    store = run.store
    name, started = stage_name(store, "derivatives"), now_utc()
    run.tick("derivatives")
    run.progress.matches += search_case(store, run.index.reference_seeds(), run.options.jobs)
    store.stage(name, started, now_utc())


def _after_hashing(run: _Run) -> None:
    """Custody stages that need the hashing done: thumbnails of matches, evidence hashed again."""
    store, options, progress = run.store, run.options, run.progress
    name, started = stage_name(store, "thumbnails"), now_utc()
    run.tick("thumbnails")
    make_thumbnails(
        store,
        options.thumbnails,
        options.decode_policy,
        jobs=options.jobs,
        timeout=options.timeout,
        scheduler=run.scheduler,
    )
    store.stage(name, started, now_utc())
    if options.verify_after and options.hash_evidence:
        run.tick("verifying evidence")
        total = sum(ev.info.size for ev in run.opened if ev.info.kind != "folder")
        finished: dict[str, int] = {}

        def on_bytes(eid: str, done: int, size: int) -> None:
            finished[eid] = done
            progress.read_done, progress.read_total, progress.read_label = sum(finished.values()), total, eid
            run.tick()

        verify_after(store, run.opened, on_bytes=on_bytes)
    progress.stage = "reporting"
