"""Many small files: ``triage scan`` against hashdeep on the same folder, in the same run.

    python benchmarks/small_files.py [--files 100000] [--dir /tmp/triage-bench-small] [--jobs 2]

A seized drive holds hundreds of thousands of small files (caches, icons, documents), where a
tool's cost per file (listing, sending work to a process, storing a row, the report) matters more
than its MB/s. Builds (once, cached) a folder of ``--files`` text files of 0-3 KB in nested folders
and 1% small generated PNG pictures, then times on a warm page cache (one warm-up run each):

- ``hashdeep -c md5,sha1,sha256 -r DIR``: the baseline (three digests, no case, no report);
- ``triage scan DIR``: every file listed, typed by content and given three digests, pictures PDQ
  and pHash, all stored in the case database, with report.json and report.html written.

The two run interleaved, round by round, so machine load hits both alike. Prints files/s, the
wall time and the CPU time of the whole process tree (``proctree.py``) as multiples of hashdeep's
(target: at most 2x), with the scan's own stage times. Not a timed test.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from proctree import TreeRun, run_tree


def build(root: Path, files: int) -> Path:
    tree = root / f"tree-{files}"
    marker = tree / ".complete"
    if marker.exists():
        return tree
    from PIL import Image, ImageDraw

    shutil.rmtree(tree, ignore_errors=True)
    rng = random.Random(11)
    for i in range(files):
        folder = tree / f"d{i // 1000:03d}" / f"s{(i // 100) % 10}"
        if i % 100 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        if i % 100 == 7:
            img = Image.new("RGB", (96, 96), (rng.randrange(256), 90, 160))
            ImageDraw.Draw(img).ellipse((10, 10, 80, 70), fill=(250, rng.randrange(256), 20))
            buf = io.BytesIO()
            img.save(buf, "PNG")
            (folder / f"icon{i:06d}.png").write_bytes(buf.getvalue())
        else:
            (folder / f"file{i:06d}.txt").write_bytes(b"line %d\n" % i * rng.randrange(0, 300))
    marker.write_text("ok")
    return tree


def _seconds(a: str, b: str) -> float:
    return (datetime.fromisoformat(b.rstrip("Z")) - datetime.fromisoformat(a.rstrip("Z"))).total_seconds()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/triage-bench-small"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    a.dir.mkdir(parents=True, exist_ok=True)
    tree = build(a.dir, a.files)

    def hashdeep() -> TreeRun:
        return run_tree(["hashdeep", "-c", "md5,sha1,sha256", "-r", str(tree)])

    stages: dict[str, float] = {}

    def triage() -> TreeRun:
        with tempfile.TemporaryDirectory() as tmp:
            case = Path(tmp) / "case"
            cmd = [sys.executable, "-m", "triage", "scan", str(tree), "--out", str(case), "--quiet",
                   "--case-number", "BENCH", "--examiner", "bench", "--jobs", str(a.jobs)]  # fmt: skip
            run = run_tree(cmd)
            conn = sqlite3.connect(case / "case.sqlite")
            for name, start, end in conn.execute("SELECT name, started_at, finished_at FROM stages"):
                stages[name] = _seconds(start, end)
            conn.close()
            stages["reports and manifest"] = run.seconds - stages.get("scan", run.seconds)
            json.loads((case / "report.json").read_text())  # written whole
        return run

    sides = {"hashdeep -c md5,sha1,sha256 -r": hashdeep, "triage scan": triage}
    runs: dict[str, list[TreeRun]] = {k: [] for k in sides}
    for fn in sides.values():
        fn()  # warm-up: page cache, fork server, imports
    for _ in range(a.rounds):
        for label, fn in sides.items():  # interleaved: load hits both sides alike
            runs[label].append(fn())
    base = runs["hashdeep -c md5,sha1,sha256 -r"]
    base_wall = statistics.median(r.seconds for r in base)
    base_cpu = statistics.median(r.cpu for r in base)
    print(f"\nSmall files: {a.files:,} files in {tree} ({a.jobs} worker processes), median of {a.rounds} "
          f"interleaved rounds, load average {os.getloadavg()[0]:.1f} at the end")  # fmt: skip
    print(f"{'tool':<34}{'wall s':>8}{'files/s':>10}{'x hashdeep':>12}{'CPU s':>8}{'x hashdeep':>12}")
    for label, rs in runs.items():
        wall = statistics.median(r.seconds for r in rs)
        cpu = statistics.median(r.cpu for r in rs)
        print(f"{label:<34}{wall:>8.2f}{a.files / wall:>10,.0f}{wall / base_wall:>12.2f}"
              f"{cpu:>8.2f}{cpu / base_cpu:>12.2f}")  # fmt: skip
    print("\ntriage stages (last run, wall): " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))


if __name__ == "__main__":
    main()
