"""Derivative search (issue #13): recall per edit, false positives over all pairs, and cost.

    python benchmarks/derivatives.py --corpus /work/deriv-corpus [--jobs 2] [--cost-files 200]
        [--scale-seeds 1000] [--skip-cost]

The corpus is made by ``benchmarks/derivative_corpus.py``: ``originals/*.jpg`` (the known
pictures), ``distractors/*.jpg``, ``edits/<edit>/<o|d>_<base>.jpg`` (each edit of originals and
distractors), ``traps/<trap>/*.jpg`` and ``manifest.csv`` (path, kind, base, edit).

Every picture is decoded and given its signature exactly as a scan's worker does
(:func:`triage.hashing.decode.decode_picture`, then :func:`triage.hashing.features.signature`
from the same pixels). The seeds are the originals' signatures, searched as the scan's
derivative stage searches them (:class:`triage.scan.derivatives.SeedIndex`, then
:func:`triage.hashing.derivative.verify`). Source 1 (seeds from the evidence: the original
found on the evidence by its hash) and source 2 (a set built from the lab's reference pictures)
both give the originals' own signature in this corpus, so one table serves both.

- recall of an edit: share of the originals whose edited copy matched *its own* original;
- false positives: any match between a distractor's copy or a trap and any original, and any
  match of an original's copy to another original (all pairs are searched);
- cost: ``triage scan`` of a folder of ``--cost-files`` pictures holding a handful of known
  ones, with and without ``--derivatives``, interleaved (A B A B) so the machine's load hits
  both alike; the ratio of wall times is printed with the load average;
- scale: time per picture and memory of the seed index with ``--scale-seeds`` seeds
  (synthetic: the corpus signatures repeated), extrapolated to 100,000 pictures.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

from triage.hashing.decode import ORIGINAL_SIZE, decode_picture
from triage.hashing.derivative import DEFAULT_DERIVATIVE_POLICY, verify
from triage.hashing.features import Signature, signature
from triage.hashing.perceptual import to_rgb
from triage.scan.derivatives import SeedIndex


def _signature(path: str) -> tuple[str, bytes | None]:
    image = decode_picture(Path(path).read_bytes())
    rgb = to_rgb(image)
    found = signature(rgb, image.info[ORIGINAL_SIZE][0] / rgb.size[0])
    return path, found.to_bytes() if found else None


def _manifest(corpus: Path) -> list[dict[str, str]]:
    with (corpus / "manifest.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def quality(corpus: Path, jobs: int) -> None:
    rows = _manifest(corpus)
    paths = [str(corpus / r["path"]) for r in rows]
    started = time.monotonic()
    with Pool(jobs) as pool:
        sigs = dict(pool.map(_signature, paths, chunksize=8))
    took = time.monotonic() - started
    print(
        f"signatures: {len(paths)} pictures in {took:.0f} s ({1000 * took * jobs / len(paths):.1f} ms each)"
    )
    originals = [r for r in rows if r["kind"] == "original"]
    unusable = [r["base"] for r in originals if sigs[str(corpus / r["path"])] is None]
    seeds = [(r["base"], Signature.from_bytes(b)) for r in originals if (b := sigs[str(corpus / r["path"])])]
    print(f"originals: {len(originals)}, without a usable signature: {len(unusable)} {unusable[:5]}")
    index = SeedIndex(seeds, DEFAULT_DERIVATIVE_POLICY)
    hits: dict[str, list[bool]] = defaultdict(list)
    false: list[str] = []
    pairs = 0
    started = time.monotonic()
    for r in rows:
        if r["kind"] == "original":
            continue
        data = sigs[str(corpus / r["path"])]
        sig = Signature.from_bytes(data) if data else None
        matched = set()
        if sig is not None:
            pairs += len(seeds)
            for k in index.candidates(sig):
                if verify(seeds[k][1], sig) is not None:
                    matched.add(seeds[k][0])
        own = r["path"].split("/")[-1].startswith("o_") and r["kind"] != "trap"
        if own:
            hits[r["edit"]].append(r["base"] in matched)
            matched.discard(r["base"])
        for other in sorted(matched):
            false.append(f"{r['path']} ~ original {other}")
    took = time.monotonic() - started
    print(f"search: {pairs:,} pairs in {took:.0f} s\n")
    print("| edit | recall | originals |\n|---|---|---|")
    recalls = []
    for edit in sorted(hits):
        share = sum(hits[edit]) / len(hits[edit])
        recalls.append(share)
        print(f"| {edit} | {share:.2f} | {len(hits[edit])} |")
    if recalls:
        print(f"| **mean** | **{sum(recalls) / len(recalls):.2f}** (min {min(recalls):.2f}) | |")
    print(f"\nfalse positives: {len(false)} over {pairs:,} pairs")
    for line in false[:30]:
        print("  ", line)


def cost(corpus: Path, files: int, jobs: int) -> None:
    """Paired, interleaved scans of one folder with and without derivative search."""
    rows = _manifest(corpus)
    known = [r for r in rows if r["kind"] == "original"][:5]
    others = [r for r in rows if r["kind"] != "original"][: max(0, files - len(known))]
    with tempfile.TemporaryDirectory(prefix="triage-deriv-") as tmp:
        folder = Path(tmp) / "evidence"
        folder.mkdir()
        for n, r in enumerate(known + others):
            shutil.copy(corpus / r["path"], folder / f"{n:05d}.jpg")
        sums = [hashlib.md5((corpus / r["path"]).read_bytes()).hexdigest() for r in known]
        known_csv = Path(tmp) / "known.csv"
        known_csv.write_text("md5,id\n" + "".join(f"{s},K{i}\n" for i, s in enumerate(sums)))
        times: dict[str, list[float]] = {"--derivatives": [], "--no-derivatives": []}
        found: dict[str, str] = {}
        for n, flag in enumerate(["--no-derivatives", "--derivatives"] * 2):
            out = Path(tmp) / f"case{n}"
            started = time.monotonic()
            done = subprocess.run(
                [sys.executable, "-m", "triage", "scan", str(folder), "--hashset", str(known_csv),
                 "--out", str(out), "--case-number", "BENCH", "--examiner", "bench", "--jobs", str(jobs),
                 "--quiet", "--thumbnails", "none", flag],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            times[flag].append(time.monotonic() - started)
            found[flag] = done.stdout.strip()
        load = os.getloadavg()
        with_, without = min(times["--derivatives"]), min(times["--no-derivatives"])
        print(
            f"\ncost: {len(known) + len(others)} pictures, {len(known)} seeds, --jobs {jobs},"
            f" load {load[0]:.1f}"
        )
        print(
            f"  without: {without:.1f} s, with: {with_:.1f} s (best of 2 each, interleaved);"
            f" ratio {with_ / without:.2f}"
        )
        for flag, line in found.items():
            print(f"  {flag}: {line}")


def scale(corpus: Path, n_seeds: int, jobs: int) -> None:
    """The seed index with ``n_seeds`` seeds: memory, and time per picture searched."""
    rows = _manifest(corpus)[:300]
    with Pool(jobs) as pool:
        sigs = [
            Signature.from_bytes(b)
            for _, b in pool.map(_signature, [str(corpus / r["path"]) for r in rows])
            if b
        ]
    seeds = [(i, sigs[i % len(sigs)]) for i in range(n_seeds)]
    index = SeedIndex(seeds, DEFAULT_DERIVATIVE_POLICY)
    probe = sigs[:100]
    started = time.monotonic()
    for sig in probe:
        for k in index.candidates(sig):
            verify(seeds[k][1], sig)
    per = (time.monotonic() - started) / len(probe)
    memory = index.all.nbytes + index.owner.nbytes if index.all is not None and index.owner is not None else 0
    hours = 100_000 * per / 3600
    print(f"\nscale: {n_seeds} seeds, index {memory / 1e6:.1f} MB; {1000 * per:.1f} ms a picture on one core"
          f" -> 100,000 pictures {hours:.1f} h on one core (load {os.getloadavg()[0]:.1f})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cost-files", type=int, default=200)
    parser.add_argument("--scale-seeds", type=int, default=1000)
    parser.add_argument("--skip-cost", action="store_true")
    args = parser.parse_args()
    quality(args.corpus, args.jobs)
    if not args.skip_cost:
        cost(args.corpus, args.cost_files, args.jobs)
        scale(args.corpus, args.scale_seeds, args.jobs)


if __name__ == "__main__":
    main()
