"""Run a command and measure its whole process tree: wall time, CPU seconds and peak memory.

Why CPU seconds: the benchmarks run on a small machine shared with other work, where wall time
says as much about the neighbours as about the tool. The CPU time of every process of the tree
(workers and fork servers included, which ``getrusage(RUSAGE_CHILDREN)`` misses when a fork
server exits unreaped) is what the tool itself costs. Peak memory is the largest sum of the
tree's resident set sizes seen at one sample (every ``interval`` seconds); each process's last
``interval`` of CPU before it ends is not seen (under 0.05 s a process by default).

Used by the other benchmarks as ``from proctree import run_tree`` (they run as scripts, so this
folder is on ``sys.path``). Needs psutil.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class TreeRun:
    seconds: float  # wall
    cpu: float  # user + system seconds of every process of the tree
    peak_rss: int  # bytes: the largest sum of the tree's RSS at one sample
    returncode: int


def run_tree(cmd: list[str], *, interval: float = 0.05, **popen: object) -> TreeRun:
    """Run ``cmd`` to its end, sampling its process tree."""
    cpu: dict[tuple[int, float], float] = {}  # (pid, start time) -> last CPU seen
    peak = 0
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **popen)  # type: ignore
    top = psutil.Process(proc.pid)
    while proc.poll() is None:
        total = 0
        try:
            procs = [top, *top.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for p in procs:
            try:
                with p.oneshot():
                    t = p.cpu_times()
                    cpu[(p.pid, p.create_time())] = t.user + t.system
                    total += p.memory_info().rss
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                continue
        peak = max(peak, total)
        time.sleep(interval)
    _, err = proc.communicate()
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    return TreeRun(seconds, sum(cpu.values()), peak, proc.returncode)
