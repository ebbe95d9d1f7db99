"""``triage scan --resume``: continue a scan that was killed part-way (power loss, kill -9, Ctrl-C).

Listing writes every entry to the case before any is hashed, and results commit in batches, so a
killed scan's store says exactly what is left to do: the entries still pending. A resume reads
everything else from the case itself (settings, hash sets, evidence), never from new options, so
the finished case is what the original command would have produced. It refuses, in one line,
whenever that cannot be promised: the scan already finished, listing never completed, an
evidence item or a hash set is not the one the scan started with.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from triage.case.store import CaseStore
from triage.errors import CaseError, EvidenceError, HashSetError, TriageError
from triage.evidence import Evidence, open_evidence
from triage.hashsets import MatchIndex, open_match_index
from triage.records import HashSetInfo
from triage.scan.options import SETTINGS_KEYS, Progress, ProgressFn, ScanOptions, ScanResult
from triage.scan.pipeline import run_remaining
from triage.scan.pool import LocalScheduler
from triage.scan.scheduler import Scheduler

__all__ = ["resume", "why_not_resumable"]


def why_not_resumable(case_dir: Path) -> str | None:
    """None when ``triage scan --resume case_dir`` can continue the scan, else the one-line
    reason (no case was created yet, listing never finished...). Reads the case only."""
    try:
        store = CaseStore.open(Path(case_dir), read_only=True)
    except TriageError as e:
        return str(e)
    try:
        _check_case(store, None)
    except TriageError as e:
        return str(e)
    finally:
        store.close()
    return None


def resume(
    case_dir: Path,
    *,
    jobs: int | None = None,
    command_line: Sequence[str],
    on_progress: ProgressFn | None = None,
    scheduler: Scheduler | None = None,
) -> ScanResult:
    """Finish the killed scan in ``case_dir``: hash its pending entries, then run the stages
    that follow as :func:`triage.scan.pipeline.scan` does. ``jobs`` changes only the speed."""
    started_clock = time.monotonic()
    store = CaseStore.open(Path(case_dir))
    opened: list[Evidence] = []
    try:
        options = _check_case(store, jobs)
        scheduler = scheduler or LocalScheduler()
        scheduler.warm_up()
        index = _reopen_hashsets(store.hashsets())
        recorded = store.evidence()
        for item in recorded:
            opened.append(_reopen_evidence(item))
        scheduler.check(opened)
        media = [
            ev
            for ev, item in zip(opened, recorded, strict=True)
            if options.hash_evidence and (item["verification"] == "not computed" or not item["md5"])
        ]
        dropped = store.drop_pending_members()
        progress = _progress(store)
        store.audit(
            "scan resumed",
            command_line=list(command_line),
            pending=progress.files_total - progress.files_done,
            dropped_members=dropped,
            jobs=options.jobs,
        )
    except BaseException:
        store.close()
        raise
    finally:
        for ev in opened:
            ev.close()
    return run_remaining(
        store, opened, index, options, progress, on_progress, media, started_clock, scheduler
    )


def _check_case(store: CaseStore, jobs: int | None) -> ScanOptions:
    where = store.case_dir
    if store.finished_at is not None:
        raise CaseError(
            f"the scan in {where} already finished; nothing to resume"
            " ('triage report' writes its reports again)"
        )
    listing = [s for s in store.stages() if s["name"] == "listing"]
    if not listing or not listing[0]["finished_at"]:
        raise CaseError(f"the scan in {where} was killed while listing; start a new scan")
    settings = store.settings()
    missing = [k for k in SETTINGS_KEYS if k not in settings]
    if missing:
        raise CaseError(
            f"the case in {where} does not record {', '.join(missing)} (made by an older triage);"
            " start a new scan"
        )
    options = ScanOptions.from_settings(settings, jobs)
    if options.carve and any(e["action"] == "carving planned" for e in store.audit_events()):
        raise CaseError(
            f"the scan in {where} was killed while carving, which cannot resume; start a new scan"
        )
    return options


def _reopen_hashsets(recorded: Sequence[HashSetInfo]) -> MatchIndex:
    """The same sets with the same roles; each set's SHA-256 must be the recorded one."""
    specs: dict[str, str] = {}
    # A raw set's category scheme given on the command line (--category-scheme) is recorded
    # with the set, not in the file: give it again (a scheme the file declares wins anyway).
    schemes = {info.path: info.category_scheme for info in recorded if info.index is None}
    for info in recorded:
        path = info.index or info.path
        if not Path(path).is_file():
            raise HashSetError(f"hash set {path} is missing (the scan started with it)")
        if info.index is None:
            specs[path] = info.role
        else:  # an index given as --ignore-set made all its sets ignore sets
            roles = {i.role for i in recorded if i.index == info.index}
            specs[path] = "ignore" if roles == {"ignore"} else "alert"
    try:
        index = open_match_index(list(specs.items()), schemes)
    except TriageError as e:
        raise HashSetError(f"hash sets cannot be loaded again: {e}") from e
    now = {(i.path, i.index): i for i in index.infos}
    for info in recorded:
        again = now.get((info.path, info.index))
        if again is None or again.sha256 != info.sha256 or again.role != info.role:
            raise HashSetError(f"hash set {info.path} changed since the scan started")
    return index


def _reopen_evidence(item: dict[str, Any]) -> Evidence:
    eid, source = item["id"], item["source"]
    try:
        ev = open_evidence(source, eid)
    except TriageError as e:
        raise EvidenceError(f"evidence {eid} cannot be opened again from {source}: {e}") from e
    if (ev.info.kind, ev.info.size) != (item["kind"], item["size"]):
        ev.close()
        raise EvidenceError(
            f"evidence {eid} at {source} is not the item the scan started with"
            f" (now {ev.info.kind}, {ev.info.size} bytes; was {item['kind']}, {item['size']} bytes)"
        )
    return ev


def _progress(store: CaseStore) -> Progress:
    """Totals from the case, so the display and ETA count what the first run already did."""
    summary = store.summary()
    pending_bytes = sum(size for _, size, _ in store.pending_order())
    files_done = int(summary["files"]) - int(summary["pending"])
    bytes_done = int(summary["bytes"]) - pending_bytes
    return Progress(
        stage="hashing",
        files_total=int(summary["files"]),
        files_done=files_done,
        bytes_total=int(summary["bytes"]),
        bytes_done=bytes_done,
        matches=int(summary["match_rows"]),
        errors=int(summary["errors"]),
        files_before=files_done,
        bytes_before=bytes_done,
    )
