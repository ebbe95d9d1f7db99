"""A scan through a Dask cluster against the embedded pool, on the same evidence, in the same run.

    python benchmarks/cluster.py [--pictures 10] [--files 4000] [--rounds 3] [--dir /tmp/triage-bench-cluster]

Needs ``pip install '.[cluster]'`` and ``mkfs.ext4``. Builds (once, cached in ``--dir``):

- a folder of ``--pictures`` 12-megapixel JPEGs (4000 x 3000), where the decoders dominate;
- an ext4 disk image of ``--files`` small files (0-6 KB text, 1% small PNGs) made with
  ``mkfs.ext4 -d``, where the cost per item (round trips, the client's store) dominates.

Then scans each, ``--rounds`` times, alternating the embedded pool (``--jobs 2``) and a
``distributed.LocalCluster`` of 2 one-thread worker processes (started once, outside the times),
so that load from other processes on the machine hits both sides alike; the table gives the
median seconds of each and their ratio. Last, the single writer's absorb rate: results stored per
second by :class:`~triage.case.store.CaseStore` (``record_results`` in the scan's transactions
of 5,000), measured on real results of the small-file image. Not a timed test.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def build_pictures(root: Path, count: int) -> Path:
    folder = root / f"pictures-{count}"
    if (folder / ".complete").exists():
        return folder
    import numpy as np
    from PIL import Image

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(7)
    for i in range(count):
        y, x = np.mgrid[0:3000, 0:4000]
        base = ((x * (i + 3) + y * 7) % 256).astype(np.uint8)
        noise = rng.integers(0, 40, size=(3000, 4000), dtype=np.uint8)
        rgb = np.stack([base, base // 2 + noise, 255 - base], axis=-1)
        Image.fromarray(rgb, "RGB").save(folder / f"photo{i:03d}.jpg", quality=90)
    (folder / ".complete").write_text("ok")
    return folder


def build_image(root: Path, files: int) -> Path:
    image = root / f"small-{files}.ext4"
    if image.exists():
        return image
    from PIL import Image, ImageDraw

    tree = root / f"small-tree-{files}"
    shutil.rmtree(tree, ignore_errors=True)
    rng = random.Random(11)
    for i in range(files):
        folder = tree / f"d{i // 500:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        if i % 100 == 7:
            img = Image.new("RGB", (96, 96), (rng.randrange(256), 90, 160))
            ImageDraw.Draw(img).ellipse((10, 10, 80, 70), fill=(250, rng.randrange(256), 20))
            buf = io.BytesIO()
            img.save(buf, "PNG")
            (folder / f"icon{i:06d}.png").write_bytes(buf.getvalue())
        else:
            (folder / f"file{i:06d}.txt").write_bytes(b"line %d\n" % i * rng.randrange(0, 600))
    size_mb = max(32, files * 12 // 1024 + 16)
    subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-d", str(tree), str(image), f"{size_mb}M"], check=True, capture_output=True
    )
    shutil.rmtree(tree)
    return image


def scan_once(evidence: Path, scheduler: object | None, out: Path) -> float:
    from triage.records import CaseInfo
    from triage.scan.options import ScanOptions
    from triage.scan.pipeline import scan

    options = ScanOptions(jobs=2, formats=("json",), thumbnails="none")
    started = time.monotonic()
    result = scan(
        [(str(evidence), "EV1")],
        [],
        out,
        CaseInfo("BENCH-1", "bench"),
        options,
        command_line=["bench"],
        scheduler=scheduler,  # type: ignore[arg-type]
    )
    return time.monotonic() - started, result.files


def hashing_seconds(case: Path) -> float:
    """The hashing stage's wall time, from the case's recorded stage times."""
    from datetime import datetime

    from triage.case.store import CaseStore

    store = CaseStore.open(case)
    try:
        stage = next(s for s in store.stages() if s["name"] == "hashing")
    finally:
        store.close()
    parse = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))  # noqa: E731
    return (parse(stage["finished_at"]) - parse(stage["started_at"])).total_seconds()


def round_trips(scheduler: object, items: int) -> float:
    """Items per second through a scheduler when the work itself is nothing (``len`` of the
    payload): what sending, running in a child and answering cost per item."""
    from triage.scan.scheduler import WorkItem

    started = time.monotonic()
    got = sum(1 for _ in scheduler.run("builtins:len", (WorkItem(i, (i,), 30) for i in range(items)), 2))  # type: ignore[attr-defined]
    assert got == items
    return items / (time.monotonic() - started)


#: Assumed, not measured here: the lab's shared storage as seen by all workers together (a
#: 10 GbE NAS), the cores per worker machine, and Dask's overhead per task from its own
#: documentation ("about 1 ms"), which bounds one scheduler at about 1,000 items/s.
STORAGE_MB_S = 1000.0
CORES = 8
DASK_ITEMS_S = 1000.0
#: Small files per Dask item at most: feed.BATCH_FILES x DaskScheduler.batch_scale.
DASK_BATCH = 64 * 8


def project(per_picture: float, per_small: float, absorb: float) -> list[tuple[int, float, float, str]]:
    """SIMULATED throughput for ``machines`` of :data:`CORES` cores: each core hashes at the
    measured per-file cost; a scan is capped by the storage (4 MB per picture, 3 KB per small
    file), by the scheduler's items per second (a picture per item; up to :data:`DASK_BATCH`
    small files per batch) and by the client's store (``absorb`` results/s)."""
    rows = []
    for machines in (1, 2, 10, 100):
        cores = machines * CORES
        caps = {
            "workers": (cores / per_picture, cores / per_small),
            "storage": (STORAGE_MB_S / 4.0, STORAGE_MB_S * 1000 / 3.0),
            "scheduler": (DASK_ITEMS_S, DASK_ITEMS_S * DASK_BATCH),
            "client store": (absorb, absorb),
        }
        pictures = min(c[0] for c in caps.values())
        small = min(c[1] for c in caps.values())
        limit = "/".join(sorted({min(caps, key=lambda k: caps[k][0]), min(caps, key=lambda k: caps[k][1])}))
        rows.append((machines, pictures, small, limit))
    return rows


def absorb_rate(image: Path) -> tuple[int, float]:
    """Results per second the store takes: the entries of the small-file image (repeated to
    20,000 or more) given one real result each, stored in transactions of 5,000 as the scan
    commits them."""
    from triage.case.store import CaseStore
    from triage.evidence import open_evidence
    from triage.hashing.file import hash_chunks
    from triage.records import CaseInfo

    ev = open_evidence(image, "EV1")
    entries = list(ev.entries())
    ev.close()
    sample = hash_chunks([b"line 1\n" * 40])
    target = Path(tempfile.mkdtemp(prefix="absorb-")) / "case"
    store = CaseStore.create(target, CaseInfo("BENCH-2", "bench"), command_line=["bench"], tool={})
    try:
        store.add_evidence(ev.info)
        ids = store.add_entries(entries * max(1, -(-20_000 // max(1, len(entries)))))
        started = time.monotonic()
        for i in range(0, len(ids), 5000):
            store.record_results([(e, sample, ()) for e in ids[i : i + 5000]])
        seconds = time.monotonic() - started
    finally:
        store.close()
        shutil.rmtree(target.parent, ignore_errors=True)
    return len(ids), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pictures", type=int, default=10)
    parser.add_argument("--files", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-cluster")
    args = parser.parse_args()
    import distributed

    from triage.scan.dask_scheduler import DaskScheduler
    from triage.scan.pool import LocalScheduler

    args.dir.mkdir(parents=True, exist_ok=True)
    pictures = f"{args.pictures} x 12-MP JPEG (folder)"
    small = f"{args.files:,} small files (ext4 image)"
    evidence = {pictures: build_pictures(args.dir, args.pictures), small: build_image(args.dir, args.files)}
    load = os.getloadavg()
    print(f"load average before: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    rows = []
    per_file: dict[str, float] = {}
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        for label, path in evidence.items():
            times: dict[str, list[float]] = {"pool": [], "dask": []}
            for r in range(args.rounds + 1):  # round 0 warms caches and both sides' processes
                for side in ("pool", "dask") if r % 2 == 0 else ("dask", "pool"):
                    out = work / f"{side}-{len(rows)}-{r}"
                    if side == "pool":
                        seconds, files = scan_once(path, LocalScheduler(), out)
                    else:
                        dask = DaskScheduler(cluster.scheduler_address)
                        try:
                            seconds, files = scan_once(path, dask, out)
                        finally:
                            dask.close()
                        # core-seconds per file while hashing (2 workers)
                        per_file[label] = 2 * hashing_seconds(out) / max(1, files)
                    if r:
                        times[side].append(seconds)
            pool, dask_s = statistics.median(times["pool"]), statistics.median(times["dask"])
            rows.append((label, pool, dask_s, dask_s / pool))
        dask = DaskScheduler(cluster.scheduler_address)
        try:
            dask.check([])
            trips = {"dask": round_trips(dask, 2000)}
        finally:
            dask.close()
        trips["pool"] = round_trips(LocalScheduler(), 2000)
    print()
    print(f"{'evidence':34} {'pool 2 procs':>13} {'Dask 2x1 thr':>13} {'ratio':>7}")
    for label, pool, dask_s, ratio in rows:
        print(f"{label:34} {pool:12.2f}s {dask_s:12.2f}s {ratio:6.2f}x")
    n, seconds = absorb_rate(evidence[small])
    absorb = n / seconds
    print()
    print(f"case store absorb rate: {n:,} results in {seconds:.2f} s = {absorb:,.0f} results/s (measured)")
    print(f"items/s with no work: Dask {trips['dask']:,.0f}, pool {trips['pool']:,.0f} (measured, 2 workers)")
    print(
        f"core-seconds per file while hashing (Dask, measured): {pictures} {per_file[pictures]:.3f},"
        f" {small} {per_file[small]:.4f}"
    )
    print()
    print(
        f"SIMULATED, {CORES} cores a machine, storage {STORAGE_MB_S:.0f} MB/s,"
        f" Dask {DASK_ITEMS_S:.0f} items/s:"
    )
    print(f"{'machines':>8} {'12-MP pictures/s':>17} {'small files/s':>14}  limited by")
    for machines, pics, files, limit in project(per_file[pictures], per_file[small], absorb):
        print(f"{machines:>8} {pics:17,.0f} {files:14,.0f}  {limit}")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (medians of {args.rounds} rounds)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
