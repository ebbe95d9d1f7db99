"""How a scan grows with the number of files: time (linear would be the files' ratio) and the peak
memory of the whole process tree (parent, fork server, workers, report writers).

    python benchmarks/scale.py [--files 100000 300000 1000000] [--dir /tmp/triage-bench-image] [--jobs 2]

Builds (once, cached) the ext4 images of ``benchmarks/small_image.py`` for each count, scans each
once with ``triage scan`` and prints wall and CPU seconds, each as a multiple of the smallest
image's, beside the files' own ratio, and the peak resident memory of the process tree (sampled
every 50 ms; target: at most 1 GB at 1,000,000 files). A 1,000,000-file image takes about 7 GB
of disk and the better part of an hour to build and scan on 2 cores. Not a timed test.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from proctree import TreeRun, run_tree
from small_image import build_image


def scan(image: Path, jobs: int) -> TreeRun:
    with tempfile.TemporaryDirectory(dir=image.parent) as tmp:
        cmd = ["triage", "scan", str(image), "--out", str(Path(tmp) / "case"), "--quiet",
               "--case-number", "SCALE", "--examiner", "bench", "--jobs", str(jobs)]  # fmt: skip
        return run_tree(cmd)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, nargs="+", default=[100_000, 300_000])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/triage-bench-image"))
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    a.dir.mkdir(parents=True, exist_ok=True)
    counts = sorted(a.files)
    images = {n: build_image(a.dir, n) for n in counts}
    runs = {n: scan(images[n], a.jobs) for n in counts}
    base = runs[counts[0]]
    print(f"\nScale: ext4 images of small files, {a.jobs} worker processes, one scan each, "
          f"load average {os.getloadavg()[0]:.1f} at the end")  # fmt: skip
    print(f"{'files':>10}{'x files':>9}{'wall s':>9}{'x wall':>8}{'CPU s':>9}{'x CPU':>8}{'peak MB':>9}")
    for n in counts:
        r = runs[n]
        print(f"{n:>10,}{n / counts[0]:>9.1f}{r.seconds:>9.1f}{r.seconds / base.seconds:>8.2f}"
              f"{r.cpu:>9.1f}{r.cpu / base.cpu:>8.2f}{r.peak_rss / 2**20:>9.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
