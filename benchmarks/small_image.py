"""A disk image of many small files: ``triage scan`` against the pipeline an examiner could script.

    python benchmarks/small_image.py [--files 100000] [--dir /tmp/triage-bench-image] [--jobs 2]
                                     [--rounds 2] [--fs ext4]

Builds (once, cached) a folder of ``--files`` files of 200 B - 8 KB in 1,000 folders (random
bytes, 1% small PNG pictures) and an ext4 image of it with ``mkfs.ext4 -d`` (no mount needed),
then times, interleaved round by round so that machine load hits every side alike:

- ``fls -r -p``: listing only (the floor);
- ``tsk_recover -e`` + ``hashdeep -c md5,sha1,sha256 -r``: the peer pipeline (extract every
  file, then three digests; no typing, no perceptual hashes, no case, no report);
- ``triage scan IMAGE``: every file listed with its location, typed by content, three digests,
  pictures PDQ and pHash, all stored in the case database, reports written.

Prints a table with the median of the rounds and the ratio to the peer pipeline. Needs
sleuthkit, hashdeep and e2fsprogs (``apt-get install sleuthkit hashdeep e2fsprogs``). Not a
timed test.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from proctree import TreeRun, run_tree


def build_tree(root: Path, files: int, folders: int = 1000) -> Path:
    """``files`` files of 200 B - 8 KB spread over ``folders`` folders (cached by a marker)."""
    tree = root / f"tree-{files}"
    marker = root / f"tree-{files}.complete"
    if marker.exists():
        return tree
    from PIL import Image, ImageDraw

    shutil.rmtree(tree, ignore_errors=True)
    rng = random.Random(15)
    per = max(1, files // folders)
    for i in range(files):
        folder = tree / f"d{i // (per * 10):04d}" / f"s{(i // per) % 10}"
        if i % per == 0:
            folder.mkdir(parents=True, exist_ok=True)
        if i % 100 == 7:
            img = Image.new("RGB", (64, 64), (rng.randrange(256), 90, 160))
            ImageDraw.Draw(img).ellipse((8, 8, 50, 44), fill=(250, rng.randrange(256), 20))
            buf = io.BytesIO()
            img.save(buf, "PNG")
            (folder / f"icon{i:07d}.png").write_bytes(buf.getvalue())
        else:
            (folder / f"file{i:07d}.bin").write_bytes(rng.randbytes(rng.randrange(200, 8192)))
    marker.write_text("ok")
    return tree


def build_image(root: Path, files: int) -> Path:
    """An ext4 image holding :func:`build_tree`'s folder, made without mounting."""
    image = root / f"ext4-{files}.img"
    marker = root / f"ext4-{files}.complete"
    if marker.exists():
        return image
    tree = build_tree(root, files)
    blocks = sum(-(-p.stat().st_size // 4096) for p in tree.rglob("*") if p.is_file())
    # the files' blocks, their inodes (256 B), the folders, a journal and 10% to spare
    size_mb = int((blocks * 4096 * 1.1 + files * 300) / 2**20) + 96
    image.unlink(missing_ok=True)
    subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-b", "4096", "-N", str(files + files // 5 + 1000), "-d", str(tree),
         str(image), f"{size_mb}M"],
        check=True,
    )  # fmt: skip
    marker.write_text("ok")
    return image


def run_fls(image: Path) -> TreeRun:
    return run_tree(["fls", "-r", "-p", str(image)])


def run_peer(image: Path, work: Path) -> TreeRun:
    """Extract every allocated file, then hash the copies: the two runs added up."""
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        out = Path(tmp) / "out"
        a = run_tree(["tsk_recover", "-e", str(image), str(out)])
        b = run_tree(["hashdeep", "-c", "md5,sha1,sha256", "-r", str(out)])
        return TreeRun(a.seconds + b.seconds, a.cpu + b.cpu, max(a.peak_rss, b.peak_rss), b.returncode)


def run_triage(
    image: Path, work: Path, jobs: int, stages: dict[str, float], extra: Sequence[str] = ()
) -> TreeRun:
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        case = Path(tmp) / "case"
        cmd = [sys.executable, "-m", "triage", "scan", str(image), "--out", str(case), "--quiet",
               "--case-number", "BENCH", "--examiner", "bench", "--jobs", str(jobs), *extra]  # fmt: skip
        run = run_tree(cmd)
        conn = sqlite3.connect(case / "case.sqlite")
        for name, seconds in conn.execute(
            "SELECT name, (julianday(finished_at) - julianday(started_at)) * 86400 FROM stages"
        ):
            stages[name] = seconds
        conn.close()
        stages["reports and manifest"] = run.seconds - stages.get("scan", run.seconds)
        return run


def print_table(title: str, files: int, times: dict[str, list[TreeRun]], peer_label: str) -> None:
    """Median wall and CPU seconds per side, each as a multiple of the peer's."""
    peer = times[peer_label]
    peer_wall = statistics.median(r.seconds for r in peer)
    peer_cpu = statistics.median(r.cpu for r in peer)
    print(f"\n{title}")
    print(f"{'run':<36}{'wall s':>8}{'x peer':>8}{'CPU s':>8}{'x peer':>8}{'files/s':>9}{'peak MB':>9}")
    for label, runs in times.items():
        wall = statistics.median(r.seconds for r in runs)
        cpu = statistics.median(r.cpu for r in runs)
        peak = max(r.peak_rss for r in runs) / 2**20
        print(f"{label:<36}{wall:>8.2f}{wall / peer_wall:>8.2f}{cpu:>8.2f}{cpu / peer_cpu:>8.2f}"
              f"{files / wall:>9,.0f}{peak:>9.0f}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/triage-bench-image"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--build-only", action="store_true")
    # Where the peer extracts and triage writes its case: the same place for both. A tmpfs by
    # default: extracting 100,000 files onto a busy disk measured 5 to 50 s of system time.
    shm = Path("/dev/shm")
    ap.add_argument("--work", type=Path, default=shm if shm.is_dir() else Path(tempfile.gettempdir()))
    a = ap.parse_args()
    a.dir.mkdir(parents=True, exist_ok=True)
    image = build_image(a.dir, a.files)
    if a.build_only:
        print(image)
        return
    stages: dict[str, float] = {}
    peer = "tsk_recover -e + hashdeep (peer)"
    sides: dict[str, Callable[[], TreeRun]] = {
        "fls -r -p": lambda: run_fls(image),
        peer: lambda: run_peer(image, a.work),
        "triage scan": lambda: run_triage(image, a.work, a.jobs, stages),
    }
    times: dict[str, list[TreeRun]] = {k: [] for k in sides}
    for fn in sides.values():
        fn()  # warm-up: page cache, fork server, imports
    for _ in range(a.rounds):
        for label, fn in sides.items():  # interleaved: load hits every side alike
            times[label].append(fn())
    load = os.getloadavg()[0]
    print_table(
        f"ext4 image of {a.files:,} small files ({image.stat().st_size / 2**20:,.0f} MB), {a.jobs} worker "
        f"processes, output in {a.work}, median of {a.rounds} interleaved rounds, load average {load:.1f}"
        " at the end",
        a.files,
        times,
        peer,
    )
    print("\ntriage stages (last run, wall): " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))


if __name__ == "__main__":
    main()
