"""A persistent child process that runs work items for a process that must not die with them.

Why: on a Dask worker, a decoder that segfaults or hangs on a hostile file would take the worker
down with it; Dask would then run the same item on the next worker, which dies too, until it gives
up on the scan (``KilledWorker``). So a cluster worker never runs an item itself: it hands it to
a child process of its own, waits for the answer with the item's deadline, and turns a crash or a
hang into a :class:`~triage.scan.scheduler.WorkerFailure` (the same words the local pool uses),
then starts a fresh child for the next item. The Dask worker itself survives every file.

The child is a plain ``subprocess`` (not ``multiprocessing``: Dask workers are daemon processes,
which may not have multiprocessing children) speaking length-prefixed pickles over its stdin and
stdout; its own stdout is moved to stderr so that nothing a library prints can corrupt them. It
starts once per worker thread and keeps its open evidence handles between items, like a pool
worker. It holds no scan's state: several scans may share it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from typing import IO, Any

from triage.scan.pool import MAX_TIMEOUT, death_message, timeout_message
from triage.scan.scheduler import WorkerFailure, resolve

_LEN = struct.Struct("!Q")
#: Seconds a fresh child may take to import triage before it counts as failing to start.
START_TIMEOUT = 120.0


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes | None:
    """``n`` bytes from ``fd``; None at end of file or when ``deadline`` (monotonic) passes."""
    parts, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
        data = os.read(fd, min(n - got, 1 << 20))
        if not data:
            return None
        parts.append(data)
        got += len(data)
    return b"".join(parts)


def _send(out: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_LEN.pack(len(data)) + data)
    out.flush()


class Child:
    """One child process; :meth:`call` runs one item in it."""

    def __init__(self) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "triage.scan.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        self.started = False

    def call(self, task: str, payload: Any, timeout: float) -> Any:
        """The task's result, or a :class:`WorkerFailure`; after a failure this child is dead."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        try:
            _send(self.proc.stdin, (task, payload))
        except (BrokenPipeError, OSError):
            return self._failed()
        if not self.started:  # the child says it is ready once its imports are done
            if _read_exact(fd, 1, time.monotonic() + START_TIMEOUT) is None:
                return self._failed()
            self.started = True
        deadline = time.monotonic() + min(max(timeout, 0.0), MAX_TIMEOUT)
        head = _read_exact(fd, _LEN.size, deadline)
        body = _read_exact(fd, _LEN.unpack(head)[0], deadline) if head is not None else None
        if body is None:
            if self.proc.poll() is None and time.monotonic() >= deadline:
                self.kill()
                return WorkerFailure(timeout_message(timeout))
            return self._failed()
        ok, value = pickle.loads(body)
        return value if ok else WorkerFailure(value)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _failed(self) -> WorkerFailure:
        try:
            code = self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        return WorkerFailure(death_message(code))

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                pipe and pipe.close()


_idle: list[Child] = []
_lock = threading.Lock()


def run_in_child(task: str, payload: Any, timeout: float) -> Any:
    """Run the task named ``task`` on ``payload`` in an idle child of this process (started if
    none is idle), within ``timeout`` seconds. Safe from several threads at once."""
    with _lock:
        child = _idle.pop() if _idle else None
    if child is None or not child.alive():
        child = Child()
    result = child.call(task, payload, timeout)
    if child.alive():
        with _lock:
            _idle.append(child)
    return result


def _main() -> None:
    """The child's loop: receive ``(task, payload)``, answer ``(ok, result)``."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a library prints goes to stderr, not into the answers
    sys.stdout = sys.stderr
    import triage.scan.tasks  # noqa: F401  (the heavy imports, before saying ready)

    inp = sys.stdin.buffer
    first = True
    while True:
        head = inp.read(_LEN.size)
        if len(head) < _LEN.size:
            return  # the worker went away
        task, payload = pickle.loads(inp.read(_LEN.unpack(head)[0]))
        if first:
            out.write(b"r")
            out.flush()
            first = False
        try:
            result: tuple[bool, Any] = (True, resolve(task)(payload))
        except BaseException as e:  # a child must answer for every item, whatever happened
            result = (False, " ".join(f"{type(e).__name__}: {e}".split())[:500])
        _send(out, result)


if __name__ == "__main__":
    _main()
