"""Picture hashing throughput (PDQ + pHash through ``hash_chunks``) and the three-digest pass.

    python benchmarks/perceptual.py [--count 200] [--dir /tmp/triage-bench-photos] [--jobs 2]

Generates (once, cached in ``--dir``) ``--count`` textured JPEGs of 3264x2448 (8 megapixels):
smooth colour fields, shapes and grain, each different. Then measures on a warm page cache:

- baseline: ``Image.open(path).convert("RGB")`` + ``pdqhash.compute`` + ``imagehash.phash``,
  i.e. the obvious full-resolution decode (no digests, no draft, no squash);
- ours: ``hash_chunks`` on the file's 1 MiB chunks with the default DecodePolicy (MD5, SHA-1,
  SHA-256, draft decode, PDQ squash, pHash), and with ``draft_jpeg=False`` for comparison;
each in 1 process and in ``--jobs`` processes (multiprocessing Pool). Target: ours >= 15
pictures/s on 2 cores. Then the digest line: MultiDigest over a 256 MB buffer against plain
hashlib (three sequential whole-buffer passes) and against one thread per digest.
Finally the effect of draft decoding on PDQ / pHash bits for some of the generated pictures.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import Pool
from pathlib import Path

import imagehash
import numpy as np
import pdqhash
from PIL import Image, ImageDraw, ImageFilter

from triage.hashing.crypto import MultiDigest
from triage.hashing.decode import DEFAULT_POLICY, decode_picture
from triage.hashing.file import hash_chunks
from triage.hashing.perceptual import pdq_hash, phash, to_rgb
from triage.records import DecodePolicy

SIZE = (3264, 2448)
CHUNK = 1 << 20


def make_photo(args: tuple[Path, int]) -> None:
    """One textured 8 MP JPEG: a blurred random colour field, shapes, and fine grain."""
    path, seed = args
    rng = np.random.default_rng(seed)
    field = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).resize(SIZE, Image.BICUBIC)
    draw = ImageDraw.Draw(field)
    for _ in range(25):
        x, y = int(rng.integers(0, SIZE[0])), int(rng.integers(0, SIZE[1]))
        w, h = int(rng.integers(40, 900)), int(rng.integers(40, 900))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x, y, x + w, y + h), fill=colour)
    field = field.filter(ImageFilter.GaussianBlur(2))
    grain = rng.normal(0, 12, (SIZE[1], SIZE[0], 1))
    pixels = np.clip(np.asarray(field, dtype=np.int16) + grain, 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, quality=90)


def build(folder: Path, count: int, jobs: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"photo{i:04d}.jpg" for i in range(count)]
    todo = [(p, i) for i, p in enumerate(paths) if not p.exists()]
    if todo:
        print(f"generating {len(todo)} pictures of {SIZE[0]}x{SIZE[1]} in {folder} ...", flush=True)
        with Pool(jobs) as pool:
            pool.map(make_photo, todo)
    return paths


def baseline(path: Path) -> tuple[str, str]:
    rgb = Image.open(path).convert("RGB")
    vector, _quality = pdqhash.compute(np.asarray(rgb))
    return str(vector[:8]), str(imagehash.phash(rgb))


def ours(path: Path, policy: DecodePolicy = DEFAULT_POLICY) -> str | None:
    with open(path, "rb") as f:
        result = hash_chunks(iter(lambda: f.read(CHUNK), b""), policy=policy)
    assert result.pdq and not result.error, result
    return result.pdq


def ours_nodraft(path: Path) -> str | None:
    return ours(path, DecodePolicy(draft_jpeg=False))


def rate(func, paths: list[Path], jobs: int) -> float:
    start = time.perf_counter()
    if jobs == 1:
        for p in paths:
            func(p)
    else:
        with Pool(jobs) as pool:
            pool.map(func, paths, chunksize=4)
    return len(paths) / (time.perf_counter() - start)


def crypto_rates(megabytes: int = 256) -> list[tuple[str, float]]:
    data = os.urandom(megabytes << 20)
    view = memoryview(data)
    chunks = [view[i : i + CHUNK] for i in range(0, len(data), CHUNK)]

    def plain() -> None:
        for name in ("md5", "sha1", "sha256"):
            hashlib.new(name, data).hexdigest()

    def multi() -> None:
        digest = MultiDigest()
        for c in chunks:
            digest.update(c)
        digest.result()

    def threaded() -> None:
        hashes = [hashlib.md5(), hashlib.sha1(), hashlib.sha256()]
        with ThreadPoolExecutor(2) as pool:
            for c in chunks:
                a, b = pool.submit(hashes[1].update, c), pool.submit(hashes[2].update, c)
                hashes[0].update(c)
                a.result()
                b.result()

    out = []
    for label, func in (
        ("hashlib, 3 sequential whole-buffer passes (baseline)", plain),
        ("MultiDigest, one pass, 1 MiB chunks (ours)", multi),
        ("one thread per digest, 1 MiB chunks (rejected)", threaded),
    ):
        best = 0.0
        for _ in range(3):
            start = time.perf_counter()
            func()
            best = max(best, megabytes / (time.perf_counter() - start))
        out.append((label, best))
    return out


def draft_effect(paths: list[Path]) -> tuple[list[int], list[int]]:
    """Bits that change in PDQ and pHash when a picture is draft-decoded."""
    pdq_bits, ph_bits = [], []
    for p in paths:
        data = p.read_bytes()
        full = to_rgb(decode_picture(data, DecodePolicy(draft_jpeg=False)))
        draft = to_rgb(decode_picture(data, DecodePolicy()))
        pdq_bits.append(pdq_hash(full)[0] - pdq_hash(draft)[0])
        ph_bits.append(phash(full) - phash(draft))
    return pdq_bits, ph_bits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-photos")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    paths = build(args.dir, args.count, args.jobs)
    megabytes = sum(p.stat().st_size for p in paths) / 1e6
    for p in paths:  # warm the page cache
        p.read_bytes()
    print(f"\n{len(paths)} JPEGs of {SIZE[0]}x{SIZE[1]}, {megabytes:.0f} MB, cores: {os.cpu_count()}\n")
    rows = [
        ("baseline: full decode + pdqhash + phash", baseline),
        ("ours: hash_chunks, no draft (3 digests too)", ours_nodraft),
        ("ours: hash_chunks, default policy (3 digests too)", ours),
    ]
    base = {}
    print(f"| {'pipeline':<52} | {'procs':>5} | {'pictures/s':>10} | {'vs baseline':>11} |")
    print(f"|{'-' * 54}|{'-' * 7}|{'-' * 12}|{'-' * 13}|")
    for label, func in rows:
        for jobs in (1, args.jobs):
            r = rate(func, paths, jobs)
            base.setdefault(jobs, r)
            print(f"| {label:<52} | {jobs:>5} | {r:>10.1f} | {r / base[jobs]:>10.2f}x |", flush=True)
    print(f"\n| {'digest pass over a 256 MB buffer, 1 process':<56} | {'MB/s':>7} |")
    print(f"|{'-' * 58}|{'-' * 9}|")
    for label, mbs in crypto_rates():
        print(f"| {label:<56} | {mbs:>7.0f} |", flush=True)
    pdq_bits, ph_bits = draft_effect(paths[:40])
    print(
        f"\ndraft vs full decode on {len(pdq_bits)} generated pictures: PDQ bits changed "
        f"mean {np.mean(pdq_bits):.1f} max {max(pdq_bits)}; pHash bits mean {np.mean(ph_bits):.2f} "
        f"max {max(ph_bits)}"
    )


if __name__ == "__main__":
    main()
