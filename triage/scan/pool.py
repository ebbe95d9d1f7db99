"""A small process pool that survives its workers: a crash or a hang costs one item, not the scan.

Why not ``concurrent.futures.ProcessPoolExecutor``: when one of its workers dies (a decoder
segfaults on a hostile file) the whole pool is marked broken, and it has no per-task timeout. Here
every worker owns one duplex pipe and works on one item at a time; the parent waits on the pipes
and the process sentinels together, so it sees at once which item crashed its worker or ran past
its deadline, records that item as failed, and starts a fresh worker.

Items and results are plain picklable data; the task is named (see :mod:`triage.scan.scheduler`,
whose seam :class:`LocalScheduler` implements) and each worker imports it once. Workers keep
their own open handles (a disk image opened once per worker, not per file); that is why items
are addresses, not handles.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import signal
import time
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

from triage.errors import TriageError
from triage.scan.scheduler import WorkerFailure, WorkItem, resolve

#: Fresh workers in a row that may die before they are even ready; then the pool gives up, since
#: the fault is the environment (a worker cannot start), not a hostile file.
MAX_STILLBORN = 4
_READY = "ready"
#: No single item may keep a worker longer than this (seconds), whatever its size claims.
MAX_TIMEOUT = 24 * 3600.0

#: Modules the fork server imports once, so each worker starts with them loaded.
_PRELOAD = ("triage.scan.tasks",)


def _worker_main(conn: Connection, task: str) -> None:
    """Loop in the child: import the task, say it is ready, then receive a payload, send back
    ``(ok, result)``."""
    try:
        fn = resolve(task)
    except Exception:  # a task that cannot be imported: the worker dies stillborn, and says why
        return
    try:
        conn.send(_READY)
    except (BrokenPipeError, OSError):
        return
    while True:
        try:
            payload = conn.recv()
        except (EOFError, OSError):
            return
        if payload is None:
            return
        try:
            result: tuple[bool, Any] = (True, fn(payload))
        except BaseException as e:  # a worker must answer for every item, whatever happened
            text = " ".join(f"{type(e).__name__}: {e}".split())
            result = (False, text[:500])
        try:
            conn.send(result)
        except (BrokenPipeError, OSError):
            return


class _Worker:
    def __init__(self, ctx: mp.context.BaseContext, task: str) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, task), daemon=True)
        self.proc.start()
        child.close()
        self.item: WorkItem | None = None
        self.deadline = 0.0
        self.ready = False

    def assign(self, item: WorkItem) -> None:
        """Send an item. A worker that died before it could take it is noticed by the caller's
        wait (its sentinel is ready), so a broken pipe here is not an error of its own."""
        self.item = item
        # A size read from hostile metadata can ask for an absurd timeout: clamp it.
        self.deadline = time.monotonic() + min(max(item.timeout, 0.0), MAX_TIMEOUT)
        try:
            self.conn.send(item.payload)
        except (BrokenPipeError, ConnectionResetError):
            self.deadline = time.monotonic()

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send(None)
        self.proc.join(2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(2)
        self.conn.close()


def _context() -> mp.context.BaseContext:
    # forkserver: workers start from a clean, single-threaded server process (the parent runs a
    # progress thread), yet restarting a crashed worker costs a fork, not a fresh interpreter.
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(list(_PRELOAD))
        return ctx
    return mp.get_context("spawn")


def warm_up() -> None:
    """Start the fork server now, so it imports the worker modules while the parent does other
    work (loading hash sets, listing); without it the first items wait for those imports."""
    ctx = _context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def run_pool(task: str, items: Iterable[WorkItem], jobs: int) -> Iterator[tuple[Any, Any]]:
    """Run the function named ``task`` (``"module:function"``) over ``items`` in ``jobs``
    processes; yield ``(key, result)`` as they finish. ``items`` is asked for its next item
    whenever a worker is free, until every worker is idle and it has none.

    ``result`` is a :class:`WorkerFailure` for an item that raised, crashed its worker or timed
    out. Order of results is completion order. Closing the generator stops every worker.
    """
    ctx = _context()
    source = iter(items)
    workers = [_Worker(ctx, task) for _ in range(max(1, jobs))]
    stillborn = 0  # workers in a row that died before finishing any item
    try:
        while True:
            for w in workers:
                # Asked again after every result, even once it ran out: a source may hold new
                # items after the caller saw a result (a failed batch sent again file by file).
                nxt = next(source, None) if w.item is None else None
                if nxt is not None:
                    w.assign(nxt)
            busy = [w for w in workers if w.item is not None]
            if not busy:
                return
            wait_for = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = set(wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], wait_for))
            for i, w in enumerate(workers):
                item = w.item
                if item is None:
                    continue
                state, value = _poll(w, ready)
                if state == "ready":
                    stillborn = 0
                elif state == "done":
                    w.item = None
                    yield item.key, value
                elif state == "failed":  # the worker crashed or hung: replace it
                    w.kill()
                    if not w.ready:
                        stillborn += 1
                        if stillborn >= MAX_STILLBORN:
                            raise TriageError(f"worker processes cannot start or keep failing: {value}")
                    workers[i] = _Worker(ctx, task)
                    yield item.key, WorkerFailure(value)
    finally:
        for w in workers:
            w.stop()


def _poll(w: _Worker, ready: set) -> tuple[str, Any]:
    """What a busy worker has to say: ``("done", result)`` when its item is answered (a
    :class:`WorkerFailure` when the task raised), ``("failed", message)`` when it crashed or ran
    past its deadline, ``("ready", None)`` when a new worker has just started (the item's time
    starts now, not while it was starting), ``("busy", None)`` while it works."""
    item = w.item
    if item is None:
        return "busy", None
    if w.conn in ready:
        try:
            message = w.conn.recv()
        except (EOFError, OSError):
            return "failed", _death_message(w)
        if message == _READY:
            w.ready = True
            w.deadline = time.monotonic() + min(max(item.timeout, 0.0), MAX_TIMEOUT)
            return "ready", None
        ok, value = message
        return "done", (value if ok else WorkerFailure(value))
    if w.proc.sentinel in ready:
        return "failed", _death_message(w)
    if time.monotonic() >= w.deadline:
        return "failed", timeout_message(item.timeout)
    return "busy", None


def _death_message(w: _Worker) -> str:
    w.proc.join(1)
    return death_message(w.proc.exitcode)


def timeout_message(timeout: float) -> str:
    """How an item that ran past its deadline is recorded (the same words on every scheduler)."""
    return f"timed out after {min(timeout, MAX_TIMEOUT):.0f} s; worker stopped"


def death_message(code: int | None) -> str:
    """How an item whose worker died is recorded, from the worker's exit code (negative: a signal)."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"worker crashed ({name}) while processing this item"
    return f"worker exited (code {code}) while processing this item"


class LocalScheduler:
    """The embedded pool as a :class:`~triage.scan.scheduler.Scheduler`: the default, needing no
    server."""

    batch_scale = 1

    def warm_up(self) -> None:
        warm_up()

    def check(self, opened: Any) -> None:
        """Nothing to check: the workers are this machine's processes, with its software."""

    def record(self, store: Any) -> None:
        """Nothing to add: the case's tool versions are this machine's."""

    def run(self, task: str, items: Iterable[WorkItem], slots: int) -> Iterator[tuple[Any, Any]]:
        return run_pool(task, items, slots)
