"""Throughput of ``triage scan`` on a folder of mixed files, against hashdeep in the same run.

    python benchmarks/scan_throughput.py [--gb 1.0] [--dir /tmp/triage-bench-mixed] [--jobs 2]

Builds (once, cached) a folder of >= 1 GB of mixed files: large and small random files and a few
hundred generated JPEG pictures. Then times, on a warm page cache (each tool runs once to warm up,
then is measured):

- ``hashdeep -c md5,sha1,sha256 -r DIR``: the baseline (Debian package ``hashdeep``);
- ``hashlib`` alone: the three digests over the same files in ``--jobs`` processes, i.e. the
  ceiling for a Python tool;
- ``triage scan DIR`` (``--media-only`` off): all files get three digests, pictures also PDQ and
  pHash, everything written to a case store with reports.

Prints a table of MB/s and the ratio to hashdeep. Target: triage >= 1.5x hashdeep.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def build_corpus(root: Path, gigabytes: float) -> int:
    """Write the mixed folder once; return its size in bytes."""
    marker = root / ".complete-v2"
    if marker.exists():
        return int(marker.read_text())
    from PIL import Image, ImageDraw

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    rng = random.Random(42)
    target = int(gigabytes * 1e9)
    total = 0
    # 300 pictures of about 2 megapixels with some structure (not flat colour).
    for i in range(300):
        # A photo-like picture: a gradient with noise reaching every edge (no flat border, which
        # would make every picture take the letterbox path), with shapes on it.
        base = Image.linear_gradient("L").resize((1600, 1200)).convert("RGB")
        noise = Image.effect_noise((1600, 1200), 40).convert("RGB")
        tint = Image.new("RGB", (1600, 1200), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        img = Image.blend(Image.blend(base, noise, 0.3), tint, 0.4).rotate(rng.randrange(360))
        img = Image.blend(img, noise, 0.2)
        d = ImageDraw.Draw(img)
        for _ in range(40):
            x, y = rng.randrange(1600), rng.randrange(1200)
            d.ellipse(
                (x, y, x + rng.randrange(20, 400), y + rng.randrange(20, 400)),
                fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)),
            )
        p = root / f"pics/{i % 10}/img{i:04d}.jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        img.save(p, quality=90)
        total += p.stat().st_size
    # Small files (documents, caches) and large ones (videos, archives) of random bytes.
    i = 0
    while total < target:
        size = rng.choice([rng.randrange(1_000, 64_000)] * 6 + [rng.randrange(1_000_000, 50_000_000)])
        p = root / f"data/{i % 50}/f{i:06d}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(size))
        total += size
        i += 1
    marker.write_text(str(total))
    return total


def _digest_file(path: str) -> int:
    md5, sha1, sha256 = hashlib.md5(), hashlib.sha1(), hashlib.sha256()
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            n += len(chunk)
            md5.update(chunk)
            sha1.update(chunk)
            sha256.update(chunk)
    return n


def run_hashlib(root: Path, jobs: int) -> None:
    files = [str(p) for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".complete")]
    with ProcessPoolExecutor(jobs) as pool:
        sum(pool.map(_digest_file, files, chunksize=16))


def run_hashdeep(root: Path) -> None:
    subprocess.run(
        ["hashdeep", "-c", "md5,sha1,sha256", "-r", str(root)], check=True, stdout=subprocess.DEVNULL
    )


def run_triage(root: Path, jobs: int) -> None:
    out = Path(tempfile.mkdtemp(prefix="triage-bench-case-")) / "case"
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "triage",
                "scan",
                str(root),
                "--out",
                str(out),
                "--case-number",
                "BENCH",
                "--examiner",
                "benchmark",
                "--jobs",
                str(jobs),
                "--quiet",
            ],
            stdout=subprocess.DEVNULL,
        )
        if proc.returncode not in (0, 1):
            raise SystemExit(f"triage scan failed with exit code {proc.returncode}")
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gb", type=float, default=1.0)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-mixed")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    size = build_corpus(args.dir, args.gb)
    files = sum(1 for p in args.dir.rglob("*") if p.is_file() and not p.name.startswith(".complete"))
    have_hashdeep = shutil.which("hashdeep") is not None
    print(f"corpus: {args.dir} ({files:,} files, {size / 1e6:,.0f} MB), jobs={args.jobs}, warm page cache")
    print(f"{'folder':22} {'run':34} {'seconds':>8} {'MB/s':>8} {'x hashdeep':>11}")
    # The whole mix (300 pictures of 2 MP get PDQ with 8 variants, pHash, border search), then
    # the non-picture files alone: the cryptographic path that hashdeep also does.
    for label, folder in (("all (pictures + data)", args.dir), ("data only", args.dir / "data")):
        nbytes = sum(
            p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
        )
        runs = [("hashlib x3 digests (ceiling)", run_hashlib, (folder, args.jobs))]
        if have_hashdeep:
            runs.insert(0, ("hashdeep -c md5,sha1,sha256 -r", run_hashdeep, (folder,)))
        runs.append(("triage scan (all files)", run_triage, (folder, args.jobs)))
        results = []
        for name, fn, fargs in runs:
            timed(fn, *fargs)  # warm the page cache and the tool
            seconds = min(timed(fn, *fargs) for _ in range(2))
            results.append((name, seconds, nbytes / seconds / 1e6))
        base = results[0][2] if have_hashdeep else None
        for name, seconds, mbps in results:
            ratio = f"{mbps / base:.2f}" if base else "n/a"
            print(f"{label:22} {name:34} {seconds:8.2f} {mbps:8.1f} {ratio:>11}")
    if not have_hashdeep:
        print("hashdeep not installed (apt-get install hashdeep): no baseline ratio")


if __name__ == "__main__":
    main()
