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

from triage.scan.options import Progress as ScanProgress

PLAIN_INTERVAL = 10.0
TTY_INTERVAL = 0.1


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def _rates(p: ScanProgress) -> tuple[float, float, float | None]:
    elapsed = max(1e-6, time.monotonic() - p.started)
    fps = p.files_done / elapsed
    bps = p.bytes_done / elapsed
    eta = None
    if p.stage == "hashing" and bps > 0 and p.bytes_total:
        eta = max(0.0, (p.bytes_total - p.bytes_done) / bps)
    return fps, bps, eta


def describe(p: ScanProgress) -> str:
    """One plain line describing the scan so far (used in logs and as the bar's text)."""
    fps, bps, eta = _rates(p)
    if p.stage == "listing":
        return f"listing: {p.files_total:,} files, {_mb(p.bytes_total)}"
    if p.read_total and p.stage == "verifying evidence":
        return f"{p.stage} {p.read_label}: {_mb(p.read_done)}/{_mb(p.read_total)}"
    eta_text = f", ETA {eta:,.0f} s" if eta is not None else ""
    return (
        f"{p.stage}: {p.files_done:,}/{p.files_total:,} files, {_mb(p.bytes_done)}/{_mb(p.bytes_total)}, "
        f"{fps:,.1f} files/s, {bps / 1e6:,.1f} MB/s{eta_text}; {p.matches:,} matches, {p.errors:,} errors"
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
                    detail=f"{p.files_total:,} files, {_mb(p.bytes_total)}",
                )
            else:
                bar.update(
                    task,
                    description=p.stage,
                    total=max(1, p.bytes_total),
                    completed=p.bytes_done,
                    detail=(
                        f"{p.files_done:,}/{p.files_total:,} files {fps:,.0f}/s {bps / 1e6:,.1f} MB/s "
                        f"· {p.matches:,} matches · {p.errors:,} errors"
                    ),
                )

        yield rich_cb
