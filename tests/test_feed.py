"""Small files go to the workers in batches (triage.scan.feed), yet a crash still costs one file.

Real files in a real folder evidence, hashed by the real worker function; the only thing made up
is the crash, injected by a wrapper around the worker (no real file crashes Pillow on purpose)."""

from __future__ import annotations

import hashlib
import os
import signal
from pathlib import Path

import pytest

from triage.case.store import CaseStore
from triage.evidence import open_evidence
from triage.records import CaseInfo
from triage.scan.feed import BATCH_FILES, Feed
from triage.scan.jobs import HashBatch, HashJob
from triage.scan.options import ScanOptions
from triage.scan.pool import run_pool
from triage.scan.scheduler import HASH_TASK
from triage.scan.tasks import process

BOOM = "boom.bin"


def crash_on_boom(job):
    """The real worker, except that a job holding ``boom.bin`` kills its process (SIGSEGV)."""
    jobs = job.jobs if isinstance(job, HashBatch) else (job,)
    if any(isinstance(j, HashJob) and (j.ref.fs_path or "").endswith(BOOM) for j in jobs):
        os.kill(os.getpid(), signal.SIGSEGV)
    return process(job)


@pytest.fixture
def listed(tmp_path):
    src = tmp_path / "evidence"
    src.mkdir()
    for i in range(300):
        (src / f"note{i:03d}.txt").write_bytes(f"note {i}\n".encode() * (i + 1))
    (src / BOOM).write_bytes(b"\x00" * 100)
    ev = open_evidence(src, "EV1")
    store = CaseStore.create(tmp_path / "case", CaseInfo("C-1", "Ex"), command_line=["t"], tool={})
    store.add_evidence(ev.info)
    store.add_entries(list(ev.entries()))
    ev.close()
    yield store, src
    store.close()


def _run(store: CaseStore, task: str, options: ScanOptions) -> tuple[dict, list]:
    order = [i for i, _size, _flags in store.pending_order()]
    feed = Feed(store, order, (), options)
    got, items = {}, []
    for key, value in run_pool(task, feed, options.jobs):
        items.append(key[0])
        for entry_id, _size, hashes in feed.settle(key, value):
            assert entry_id not in got
            got[entry_id] = hashes
    return got, items


def test_small_files_travel_in_batches_and_a_crash_costs_one_file(listed):
    store, src = listed
    got, items = _run(store, f"{__name__}:crash_on_boom", ScanOptions(jobs=2))
    names = {i: e.path.rsplit("/", 1)[-1] for i, e in store.entries_by_id(list(got))}
    assert len(got) == 301  # every file answered exactly once
    failed = {names[i]: h.error for i, h in got.items() if h.error}
    assert list(failed) == [BOOM] and "SIGSEGV" in failed[BOOM]
    for i, h in got.items():
        if names[i] != BOOM:
            assert h.md5 == hashlib.md5((src / names[i]).read_bytes()).hexdigest()
    # Far fewer items than files: batched; the crashed batch's files came back one by one.
    assert items.count("batch") < 301 / 4 and items.count("entry") >= 2


def test_large_files_are_not_batched(listed, monkeypatch):
    store, _ = listed
    monkeypatch.setattr("triage.scan.feed.SMALL_FILE", 0)
    got, items = _run(store, HASH_TASK, ScanOptions(jobs=2))
    assert len(got) == 301 and set(items) == {"entry"} and not any(h.error for h in got.values())


def test_batch_length_follows_the_measured_cost(listed):
    store, _ = listed
    feed = Feed(store, [], (), ScanOptions())
    feed.observe(10, 10.0)  # one second a file: one file a batch
    for _ in range(10):
        feed.observe(10, 10.0)
    assert feed._batch_files() == 1
    for _ in range(40):
        feed.observe(64, 0.001)  # cheap files: the largest batches
    assert feed._batch_files() == BATCH_FILES


def test_a_scan_of_many_small_files_matches_what_it_should(tmp_path):
    """End to end through the pipeline: batched hashing gives every file its digest and match."""
    from triage.scan.pipeline import scan

    src = tmp_path / "evidence"
    src.mkdir()
    for i in range(500):
        (src / f"f{i:03d}.txt").write_bytes(b"x" * i)
    known = tmp_path / "known.csv"
    known.write_text(f"id,md5\nK-1,{hashlib.md5(b'x' * 123).hexdigest()}\n")
    result = scan([(str(src), "EV1")], [str(known)], tmp_path / "case", CaseInfo("C-1", "Ex"),
                  ScanOptions(jobs=2, formats=("json",)), command_line=["t"])  # fmt: skip
    assert result.files == 500 and result.errors == 0 and result.matched_files == 1
    store = CaseStore.open(tmp_path / "case", read_only=True)
    rows = {r["path"]: r for r in store.iter_files()}
    store.close()
    assert all(rows[f"/f{i:03d}.txt"]["md5"] == hashlib.md5(b"x" * i).hexdigest() for i in range(500))
    assert Path(tmp_path / "case" / "report.json").exists()


def test_a_batch_stopped_at_its_time_budget_sends_the_rest_again(listed, monkeypatch):
    """With no time budget at all each batch returns after its first file: every file is still
    answered exactly once, the others through the items sent again."""
    store, _ = listed
    monkeypatch.setattr("triage.scan.feed.BATCH_BUDGET", 0.0)
    got, items = _run(store, HASH_TASK, ScanOptions(jobs=2))
    assert len(got) == 301 and not any(h.error for h in got.values())
    assert items.count("entry") >= 3  # the rest of the first batches came back one by one


def test_a_failed_batch_makes_the_next_batches_small(listed):
    from triage.scan.scheduler import WorkerFailure

    store, _ = listed
    feed = Feed(store, [], (), ScanOptions())
    for _ in range(40):
        feed.observe(64, 0.001)
    assert feed._batch_files() == BATCH_FILES
    assert feed.settle(("batch", ((1, 10), (2, 10))), WorkerFailure("timed out after 120 s")) == []
    assert feed._batch_files() == 1
    for _ in range(20):  # quick files again: batches grow back
        feed.observe(1, 0.0001)
    assert feed._batch_files() == BATCH_FILES
