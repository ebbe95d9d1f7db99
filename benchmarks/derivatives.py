"""Derivative search (issue #13): recall per edit, false positives over all pairs, and cost.

    python benchmarks/derivatives.py --corpus ../deriv-corpus [--jobs 2] [--cost-files 200]
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
import pickle
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
from triage.hashing.file import hash_chunks
from triage.hashing.perceptual import to_rgb
from triage.hashsets import MatchIndex, build_index, open_match_index
from triage.records import DecodePolicy, FileHashes, MatchPolicy
from triage.scan.derivatives import SeedIndex

POLICY = DecodePolicy(derivatives=True)
#: Edits PDQ already finds (the corpus generator's PDQ_EDITS): the scan must keep finding them.
PDQ_EDITS = ("jpeg70", "resize50", "grey", "mirror")


def _hashes(path: str) -> tuple[str, FileHashes]:
    """What a scan's worker computes for one file: digests, PDQ and variants, signature. Only
    the signature (from the same decoded pixels) for files PDQ is not measured on (distractors'
    copies, traps): the rest would cost half the time and change nothing here."""
    data = Path(path).read_bytes()
    if Path(path).name.startswith("o_") or "/originals/" in path:
        return path, hash_chunks([data], policy=POLICY)
    image = decode_picture(data, POLICY)
    rgb = to_rgb(image)
    found = signature(rgb, image.info[ORIGINAL_SIZE][0] / rgb.size[0])
    return path, FileHashes(size_read=len(data), features=found.to_bytes() if found else None)


def _signature(path: str) -> tuple[str, bytes | None]:
    return path, _hashes(path)[1].features


def _manifest(corpus: Path) -> list[dict[str, str]]:
    with (corpus / "manifest.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def _seeds_source2(corpus: Path, originals: list[dict[str, str]]) -> list[tuple[str, Signature]]:
    """The originals compiled as a lab's reference pictures (``hashset build --alert-images``)."""
    with tempfile.TemporaryDirectory(prefix="triage-refs-") as tmp:
        folder = Path(tmp) / "refs"
        folder.mkdir()
        for r in originals:
            os.symlink(corpus / r["path"], folder / Path(r["path"]).name)
        toc = build_index([], Path(tmp) / "refs.idx", pictures=[(folder, "alert", "1")])
        for _, name, why in toc["unusable"]:
            print(f"  source 2: {name}: {why}")
        seeds = MatchIndex.open(Path(tmp) / "refs.idx").reference_seeds()
    return [(seed["entry_id"], Signature.from_bytes(data)) for seed, data in seeds]


def _search(
    rows: list[dict[str, str]], hashes: dict[str, FileHashes], seeds: list[tuple[str, Signature]]
) -> tuple[dict[str, set[str]], int, float]:
    """Originals each non-original file is a derivative of, pairs compared, seconds."""
    index = SeedIndex(seeds, DEFAULT_DERIVATIVE_POLICY)
    found: dict[str, set[str]] = {}
    pairs, started = 0, time.monotonic()
    for r in rows:
        if r["kind"] == "original":
            continue
        data = hashes[r["path"]].features
        matched: set[str] = set()
        if data:
            sig = Signature.from_bytes(data)
            pairs += len(seeds)
            matched = {
                index.seeds[k][0] for k in index.candidates(sig) if verify(index.seeds[k][1], sig) is not None
            }
        found[r["path"]] = matched
    return found, pairs, time.monotonic() - started


def _sample(rows: list[dict[str, str]], distractors: int) -> list[dict[str, str]]:
    """Every original and its copies, every trap, and the first ``distractors`` distractors (in
    name order) with their copies."""
    names = sorted(Path(r["path"]).stem for r in rows if r["kind"] == "distractor")[:distractors]
    kept = set(names)

    def keep(r: dict[str, str]) -> bool:
        stem = Path(r["path"]).stem
        if r["kind"] == "distractor":
            return stem in kept
        if r["kind"] == "edit" and not r["base"]:
            return stem[2:] in kept
        return True

    return [r for r in rows if keep(r)]


def quality(corpus: Path, jobs: int, cache: Path | None = None, distractors: int = 400) -> None:
    rows = _sample(_manifest(corpus), distractors)
    started = time.monotonic()
    if cache is not None and cache.exists():
        hashes = pickle.loads(cache.read_bytes())  # a file this benchmark wrote (--cache)
    else:
        with Pool(jobs) as pool:
            done = pool.map(_hashes, [str(corpus / r["path"]) for r in rows], chunksize=8)
        hashes = {r["path"]: h for r, (_, h) in zip(rows, done, strict=True)}
        if cache is not None:
            cache.write_bytes(pickle.dumps(hashes))
    took = time.monotonic() - started
    load = os.getloadavg()[0]
    print(f"hashed as a scan does: {len(rows)} pictures in {took:.0f} s, --jobs {jobs}, load {load:.1f}")
    originals = [r for r in rows if r["kind"] == "original"]
    seeds1 = [(r["base"], Signature.from_bytes(f)) for r in originals if (f := hashes[r["path"]].features)]
    unusable = [r["base"] for r in originals if not hashes[r["path"]].features]
    print(f"originals: {len(originals)}, without a signature: {len(unusable)} {unusable[:5]}")
    pdq = open_match_index([(str(corpus / "known.csv"), "alert")])
    by_pdq = {
        r["path"]: {m.entry_id for m in pdq.match(hashes[r["path"]], MatchPolicy()) if m.entry_id}
        for r in rows
        if r["kind"] != "original"
    }
    columns = {}
    false: list[str] = []
    for name, seeds in (("source 1", seeds1), ("source 2", _seeds_source2(corpus, originals))):
        found, pairs, took = _search(rows, hashes, seeds)
        print(f"{name}: {len(seeds)} seeds, {pairs:,} pairs in {took:.0f} s")
        hits: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
        wrong = 0
        for r in rows:
            if r["kind"] == "original":
                continue
            matched = set(found[r["path"]])
            if r["kind"] == "edit" and r["base"]:
                derivative = r["base"] in matched
                hits[r["edit"]].append((derivative, derivative or r["base"] in by_pdq[r["path"]]))
                matched.discard(r["base"])
            wrong += len(matched)
            false += [f"{name}: {r['path']} ~ original {o}" for o in sorted(matched)]
        columns[name] = (hits, wrong, pairs)
    hits1, hits2 = columns["source 1"][0], columns["source 2"][0]
    print(
        "\n| edit | PDQ today | derivative (source 1) | scan: PDQ or derivative (1) | derivative (source 2) |"
    )
    print("|---|---|---|---|---|")
    means: dict[str, list[float]] = defaultdict(list)
    for edit in sorted(hits1, key=lambda e: (e in PDQ_EDITS, e)):
        n = len(hits1[edit])
        today = sum(r["base"] in by_pdq[r["path"]] for r in rows if r["kind"] == "edit" and r["edit"] == edit
                    and r["base"]) / n  # fmt: skip
        d1 = sum(a for a, _ in hits1[edit]) / n
        both = sum(b for _, b in hits1[edit]) / n
        d2 = sum(a for a, _ in hits2[edit]) / max(1, len(hits2[edit]))
        if edit not in PDQ_EDITS:
            means["d1"].append(d1)
            means["d2"].append(d2)
            means["both"].append(both)
        print(f"| {edit} | {today:.2f} | {d1:.2f} | {both:.2f} | {d2:.2f} |")
    if means["d1"]:

        def _m(v: list[float]) -> str:
            return f"{sum(v) / len(v):.2f} (min {min(v):.2f})"

        print(
            f"| **mean of the #13 edits** | | {_m(means['d1'])} | {_m(means['both'])} | {_m(means['d2'])} |"
        )
    for name, (_, wrong, pairs) in columns.items():
        print(f"\nfalse positives, {name}: {wrong} over {pairs:,} pairs (all non-original files x all seeds)")
    for line in false[:40]:
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
            verify(index.seeds[k][1], sig)
    per = (time.monotonic() - started) / len(probe)
    memory = index.nbytes
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
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--distractors", type=int, default=400, help="distractors used (with their copies)")
    parser.add_argument("--cache", type=Path, help="keep the hashes here, to measure thresholds again")
    args = parser.parse_args()
    if not args.skip_quality:
        quality(args.corpus, args.jobs, args.cache, args.distractors)
    if not args.skip_cost:
        cost(args.corpus, args.cost_files, args.jobs)
        scale(args.corpus, args.scale_seeds, args.jobs)


if __name__ == "__main__":
    main()
