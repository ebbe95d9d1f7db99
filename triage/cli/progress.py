"""Progress on stderr: a rich bar on a terminal, a plain line every few seconds in a log.

Batch scripts redirect stderr to a file; a redrawn bar there is noise, so when stderr is not a
terminal we print one self-contained line (files, bytes, rates, ETA) at most every 10 s.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from triage.cli.text import plural, size_text
from triage.scan.options import Progress as ScanProgress

PLAIN_INTERVAL = 10.0
TTY_INTERVAL = 0.1


def _mb(n: float) -> str:
    return size_text(n)


def _rates(p: ScanProgress) -> tuple[float, float, float | None]:
    """Files/s, bytes/s and the ETA of *this run*: a resumed scan starts with work done by an
    earlier run (``files_before``, ``bytes_before``), which must not count as done in no time."""
    elapsed = max(1e-6, time.monotonic() - p.started)
    fps = max(0, p.files_done - p.files_before) / elapsed
    bps = max(0, p.bytes_done - p.bytes_before) / elapsed
    eta = None
    if p.stage == "hashing" and bps > 0 and p.bytes_total:
        eta = max(0.0, (p.bytes_total - p.bytes_done) / bps)
    return fps, bps, eta


def describe(p: ScanProgress) -> str:
    """One plain line describing the scan so far (used in logs and as the bar's text)."""
    fps, bps, eta = _rates(p)
    if p.stage == "listing":
        return f"listing: {plural(p.files_total, 'file')}, {_mb(p.bytes_total)}"
    if p.read_total and p.stage == "verifying evidence":
        return f"{p.stage} {p.read_label}: {_mb(p.read_done)}/{_mb(p.read_total)}"
    eta_text = f", ETA {eta:,.0f} s" if eta is not None else ""
    return (
        f"{p.stage}: {p.files_done:,}/{p.files_total:,} files, {_mb(p.bytes_done)}/{_mb(p.bytes_total)}, "
        f"{fps:,.1f} files/s, {_mb(bps)}/s{eta_text}; {plural(p.matches, 'hash match', 'hash matches')},"
        f" {plural(p.errors, 'error')}"
    )


@contextmanager
def progress_printer(enabled: bool = True) -> Iterator[Callable[[ScanProgress], None] | None]:
    """Yield a progress callback for :func:`triage.scan.pipeline.scan` (``None`` when disabled)."""
    if not enabled:
        yield None
        return
    console = Console(stderr=True)
    if not console.is_terminal:
        last = [0.0]

        def plain(p: ScanProgress) -> None:
            now = time.monotonic()
            if now - last[0] >= PLAIN_INTERVAL:
                last[0] = now
                print(describe(p), file=sys.stderr, flush=True)

        yield plain
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("listing", total=None, detail="")
        last = [0.0]

        def rich_cb(p: ScanProgress) -> None:
            now = time.monotonic()
            if now - last[0] < TTY_INTERVAL and p.stage != "reporting":
                return
            last[0] = now
            fps, bps, _ = _rates(p)
            if p.read_total and p.stage == "verifying evidence":
                bar.update(
                    task,
                    description=f"{p.stage} {p.read_label}",
                    total=p.read_total,
                    completed=p.read_done,
                    detail=f"{_mb(p.read_done)}/{_mb(p.read_total)}",
                )
            elif p.stage == "listing":
                bar.update(
                    task,
                    description="listing",
                    total=None,
                    detail=f"{plural(p.files_total, 'file')}, {_mb(p.bytes_total)}",
                )
            else:
                bar.update(  # this run's bytes: the bar's own ETA must not count earlier runs' work
                    task,
                    description=p.stage,
                    total=max(1, p.bytes_total - p.bytes_before),
                    completed=max(0, p.bytes_done - p.bytes_before),
                    detail=(
                        f"{p.files_done:,}/{p.files_total:,} files {fps:,.0f}/s {_mb(bps)}/s "
                        f"· {plural(p.matches, 'hash match', 'hash matches')} · {plural(p.errors, 'error')}"
                    ),
                )

        yield rich_cb
