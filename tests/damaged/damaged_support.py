"""Helpers for the damaged- and hostile-input tests of issue #12: run the real command line, build
the cases (tests/data/damaged/make_damaged.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
SHARED = REPO / ".." / "shared" / "testdata"


def run_triage(*args: str, timeout: float = 300, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "triage", *args]
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        command, capture_output=True, text=True, env=env, timeout=timeout, **kwargs
    )


def scan_args(evidence: list[str], out: Path, *extra: str) -> list[str]:
    inventory = () if "--hashset" in extra else ("--inventory-only",)
    args = ["scan", *evidence, "--out", str(out), "--case-number", "C-12", "--examiner", "J. Doe"]
    return [*args, *extra, *inventory]


def shared() -> Path:
    """The shared corpus, or skip the test saying why."""
    if not SHARED.is_dir():
        pytest.skip("shared test corpus ../shared/testdata is not present")
    return SHARED


def _load_make_damaged():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_damaged", DATA / "damaged" / "make_damaged.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_damaged = _load_make_damaged()


def _tree_rss(root: int) -> int:
    """Summed resident memory (bytes) of ``root`` and its descendants, read from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    return total


def peak_tree_rss(args: list[str], timeout: float = 600) -> tuple[int, subprocess.CompletedProcess[str]]:
    """Run ``triage ARGS`` and sample the summed resident memory of it and all its descendants
    every 10 ms (Linux /proc); returns (peak bytes, the finished process)."""
    import time

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "triage", *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak, deadline = 0, time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.01)
    out, err = proc.communicate(timeout=60)
    return peak, subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
