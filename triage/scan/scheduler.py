"""The seam between a scan and whatever runs its work items.

A scan turns its work into :class:`WorkItem` records (plain, picklable data: an address in the
evidence and the settings, never an open handle) and hands them, with the *name* of the task
function that does them, to a :class:`Scheduler`. The scheduler yields ``(key, result)`` pairs in
completion order, where ``result`` is what the task returned or a :class:`WorkerFailure` for an
item that raised, crashed its worker or ran past its timeout: one item's failure is that item's
recorded error, never the scan's.

The task is named (``"module:function"``), not passed as a function, so the work items and the
scan's stages import nothing that runs in a worker; each worker imports the task module once.
The embedded process pool (:class:`triage.scan.pool.LocalScheduler`) is the default; a distributed engine
implements the same two methods.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

#: Hash, carve and whole-medium items (:mod:`triage.scan.jobs`).
HASH_TASK = "triage.scan.tasks:process"
#: Thumbnails of matched pictures and video frames (:mod:`triage.scan.thumbnails`).
THUMBNAIL_TASK = "triage.scan.thumbnails:render_job"


@dataclass(frozen=True)
class WorkItem:
    key: Any  # returned with the result, never sent to the worker
    payload: Any
    timeout: float  # seconds of wall time before the worker is stopped


@dataclass(frozen=True)
class WorkerFailure:
    """An item whose worker crashed, hung or raised; ``message`` is one line."""

    message: str


class Scheduler(Protocol):
    """Runs work items somewhere; see the module docstring for the contract."""

    #: How many times longer than the local pool's the small-file batches should be: an item's
    #: round trip through a remote scheduler costs milliseconds (Dask: ~4 ms, measured in
    #: benchmarks/cluster.py) where a local pipe costs ~50 us, so fewer, longer items pay.
    batch_scale: int

    def warm_up(self) -> None:
        """Get ready early (start processes, connect), while the parent lists the evidence."""

    def check(self, opened: Sequence[Any]) -> None:
        """Before anything is written or sent: check where the work will run (a cluster's workers
        must see the same evidence, ``opened`` (:class:`~triage.evidence.Evidence`), with the same
        software); raises a :class:`~triage.errors.TriageError` that refuses the scan."""

    def record(self, store: Any) -> None:
        """Write what :meth:`check` found (who will compute the results) to the case ``store``."""

    def run(self, task: str, items: Iterable[WorkItem], slots: int) -> Iterator[tuple[Any, Any]]:
        """Run ``task`` over ``items`` with at most ``slots`` in flight; yield ``(key, result)``.
        ``items`` is asked for its next item whenever a slot is free (it may grow meanwhile)."""
        ...


def resolve(task: str) -> Callable[[Any], Any]:
    """The function a task name (``"package.module:function"``) stands for."""
    module, sep, name = task.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"task name {task!r} is not 'module:function'")
    fn = getattr(importlib.import_module(module), name)
    if not callable(fn):
        raise ValueError(f"task {task!r} is not a function")
    return fn
