"""Benchmark the compiled hash-set index against the issue's targets, with a numpy brute force
as the baseline in the same run (the two must return the same matches).

    python benchmarks/index.py            # 10 million hashes (needs ~3 GB disk in --work)
    python benchmarks/index.py --n 1000000 --queries 50

1. build: a plain list of N random SHA-256 is compiled (what ``triage hashset build`` runs) in a
   child process (time and peak memory of that process);
2. exact lookups: 1,000,000 queries (half present) batched, vs ``np.isin`` on the raw bytes;
3. PDQ: N random 256-bit hashes plus neighbours planted at every distance 0..31 of each query,
   searched at radius 31 by the index's multi-index search vs a brute-force XOR/popcount;
4. the index file's bytes per hash.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from triage.hashsets.compiled import CompiledIndex
from triage.hashsets.mih import MultiIndexHamming
from triage.hashsets.search import popcount

#: Run in a child process, so that its peak memory is measured alone.
BUILD = "\n".join(
    [
        "import sys",
        "from triage.hashsets import build_index",
        "build_index([(sys.argv[1], 'alert')], sys.argv[2])",
    ]
)


def write_list(path: Path, hashes: np.ndarray) -> None:
    with open(path, "w") as fh:
        for start in range(0, len(hashes), 1 << 20):
            block = hashes[start : start + (1 << 20)].tobytes().hex()
            fh.write("\n".join(block[i : i + 64] for i in range(0, len(block), 64)) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--queries", type=int, default=100, help="PDQ queries")
    ap.add_argument("--work", type=Path, default=None, help="folder for the temporary files")
    args = ap.parse_args()
    rng = np.random.default_rng(42)
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        work = Path(tmp)
        sha = rng.integers(0, 256, size=(args.n, 32), dtype=np.uint8)
        write_list(work / "sha256.txt", sha)
        index = work / "sha256.idx"
        started = time.perf_counter()
        code = BUILD
        cmd = [sys.executable, "-c", code, str(work / "sha256.txt"), str(index)]
        subprocess.run(cmd, check=True, capture_output=True)
        build_s = time.perf_counter() - started
        peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
        rows.append(("build, s", f"{build_s:.1f}", "<= 60", "ok" if build_s <= 60 else "MISSED"))
        rows.append(("build peak memory, GB", f"{peak_gb:.2f}", "<= 2", "ok" if peak_gb <= 2 else "MISSED"))
        per_hash = index.stat().st_size / args.n
        rows.append(
            ("index bytes per hash", f"{per_hash:.1f}", "<= 40", "ok" if per_hash <= 40 else "MISSED")
        )

        opened = CompiledIndex(index)
        q = 1_000_000
        queries = np.concatenate(
            [sha[rng.integers(0, args.n, q // 2)], rng.integers(0, 256, (q // 2, 32), np.uint8)]
        )
        opened.lookup("sha256", queries[:10])  # builds the prefix array once (part of opening)
        started = time.perf_counter()
        found_q, found_r = opened.lookup("sha256", queries)
        rate = q / (time.perf_counter() - started)
        started = time.perf_counter()
        brute = np.flatnonzero(np.isin(queries.view("S32").ravel(), sha.view("S32").ravel()))
        brute_s = time.perf_counter() - started
        table = opened.hashes("sha256")
        same = np.array_equal(np.unique(found_q), brute) and np.all(table[found_r] == queries[found_q])
        rows.append(
            ("exact lookups per s", f"{rate:,.0f}", ">= 500,000", "ok" if rate >= 500_000 else "MISSED")
        )
        rows.append(
            ("  numpy isin baseline, lookups per s", f"{q / brute_s:,.0f}", "", "same" if same else "DIFFER")
        )
        del opened, table, sha, queries

        pdq = rng.integers(0, 2**64, size=(args.n, 4), dtype=np.uint64)
        centres = pdq[rng.integers(0, args.n, args.queries)].copy()
        planted = []
        for c in centres:
            for distance in range(32):
                row = c.copy()
                for bit in rng.choice(256, size=distance, replace=False):
                    row[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
                planted.append(row)
        pdq[rng.choice(args.n, len(planted), replace=False)] = np.array(planted)
        started = time.perf_counter()
        search = MultiIndexHamming(pdq, 256)
        prep_s = time.perf_counter() - started
        times, brute_times, missed, hits, results = [], [], 0, 0, []
        # The index's queries run back to back (as in a scan), the brute force after them: a
        # brute-force pass between two queries would evict everything from the CPU caches.
        for c in centres:
            started = time.perf_counter()
            results.append(search.search_packed(c, 31)[0])
            times.append(time.perf_counter() - started)
        for c, found in zip(centres, results, strict=True):
            started = time.perf_counter()
            expected = np.flatnonzero(popcount(pdq ^ c).sum(axis=1) <= 31)
            brute_times.append(time.perf_counter() - started)
            missed += len(set(expected.tolist()) ^ set(found.tolist()))
            hits += len(expected)
        ms = 1000 * float(np.mean(times))
        rows.append(("PDQ search at radius 31, ms/query", f"{ms:.2f}", "<= 5", "ok" if ms <= 5 else "MISSED"))
        rows.append(("  worst query, ms", f"{1000 * max(times):.2f}", "", ""))
        rows.append(("  numpy brute force, ms/query", f"{1000 * float(np.mean(brute_times)):.1f}", "", ""))
        rows.append(("  matches found / differing from brute force", f"{hits} / {missed}", "0 missed",
                     "ok" if missed == 0 else "MISSED"))  # fmt: skip
        rows.append(("  search tables built on open, s", f"{prep_s:.1f}", "", ""))
    print(f"hashes: {args.n:,}; PDQ queries: {args.queries} (each with 32 planted neighbours)")
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>14}  {'target':>10}  result")
    for name, value, target, result in rows:
        print(f"{name:<{width}}  {value:>14}  {target:>10}  {result}")


if __name__ == "__main__":
    main()
