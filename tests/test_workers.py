"""The worker pool: a crash or a hang costs one item, never the run."""

import os
import signal
import time

from triage.scan.pool import run_pool
from triage.scan.scheduler import WorkerFailure, WorkItem

BEHAVE = f"{__name__}:behave"


def behave(payload):
    """Worker function for the tests: the payload says what to do."""
    kind, value = payload
    if kind == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if kind == "hang":
        time.sleep(60)
    if kind == "raise":
        raise ValueError("bad\ninput")
    return value * 2


def test_results_come_back_for_every_item():
    items = [WorkItem(i, ("ok", i), 30) for i in range(50)]
    got = dict(run_pool(BEHAVE, items, jobs=2))
    assert got == {i: i * 2 for i in range(50)}


def test_crash_hang_and_exception_are_per_item_failures():
    items = [
        WorkItem("a", ("ok", 1), 30),
        WorkItem("crash", ("crash", 0), 30),
        WorkItem("hang", ("hang", 0), 1.5),
        WorkItem("raise", ("raise", 0), 30),
        WorkItem("b", ("ok", 2), 30),
        WorkItem("c", ("ok", 3), 30),
    ]
    started = time.monotonic()
    got = dict(run_pool(BEHAVE, items, jobs=2))
    assert time.monotonic() - started < 20
    assert got["a"] == 2 and got["b"] == 4 and got["c"] == 6
    assert isinstance(got["crash"], WorkerFailure) and "SIGSEGV" in got["crash"].message
    assert isinstance(got["hang"], WorkerFailure) and "timed out" in got["hang"].message
    assert isinstance(got["raise"], WorkerFailure)
    assert got["raise"].message == "ValueError: bad input"


def test_a_run_of_crashing_items_does_not_stop_the_pool():
    items = [WorkItem(i, ("crash", 0), 30) for i in range(12)] + [WorkItem("last", ("ok", 5), 30)]
    got = dict(run_pool(BEHAVE, items, jobs=2))
    assert all(isinstance(got[i], WorkerFailure) for i in range(12))
    assert got["last"] == 10
