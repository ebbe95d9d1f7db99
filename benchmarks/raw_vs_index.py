"""How much faster a scan starts when its known-hash set is a compiled index rather than the raw
file (the figure ``triage scan`` quotes on stderr when a raw set loads slowly).

    python benchmarks/raw_vs_index.py                 # 1,000,000 rows, 2 rounds
    python benchmarks/raw_vs_index.py --rows 200000 --rounds 3

A CSV of N rows (id, category, MD5, SHA-256: 2N hashes, random values) is written once. Each
round then runs, each in a fresh child process and interleaved so machine load hits all alike:

1. raw: what every scan does with ``--hashset lab.csv``: ``open_match_index`` on the CSV;
2. build: ``triage hashset build`` of the CSV into an index (once per set, not per scan);
3. index: what a scan does with ``--hashset lab.idx``: ``open_match_index`` on the index, plus
   one lookup so the index is really usable.

It prints the median of each and the ratios raw/index and raw/(build+index).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_SETUP = "import sys, time; from triage.hashsets import build_index, open_match_index"
_SETUP += "; from triage.records import FileHashes, MatchPolicy; t = time.perf_counter()"
_PRINT = "; print(time.perf_counter() - t)"
#: Each runs in a fresh child (imports done before the clock starts) and prints its seconds.
RAW = _SETUP + "; open_match_index([(sys.argv[1], 'alert')])" + _PRINT
BUILD = _SETUP + "; build_index([(sys.argv[1], 'alert')], sys.argv[2])" + _PRINT
INDEX = _SETUP + "; ix = open_match_index([(sys.argv[1], 'alert')])"
INDEX += "; ix.match(FileHashes(0, md5='0' * 32), MatchPolicy())" + _PRINT


def child(code: str, *args: str) -> float:
    done = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    return float(done.stdout.split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        csv = Path(work) / "lab.csv"
        with open(csv, "w") as f:
            f.write("id,category,md5,sha256\n")
            for i in range(a.rows):
                f.write(f"K-{i},1,{os.urandom(16).hex()},{os.urandom(32).hex()}\n")
        times: dict[str, list[float]] = {"raw": [], "build": [], "index": []}
        for r in range(a.rounds):
            idx = Path(work) / f"lab{r}.idx"
            times["raw"].append(child(RAW, str(csv)))
            times["build"].append(child(BUILD, str(csv), str(idx)))
            times["index"].append(child(INDEX, str(idx)))
            print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"rows {a.rows:,} ({2 * a.rows:,} hashes), CSV {csv.stat().st_size / 2**20:.0f} MiB")
        print(f"median: raw load {med['raw']:.2f} s, build {med['build']:.2f} s, index {med['index']:.3f} s")
        print(
            f"raw / index load: {med['raw'] / med['index']:.0f}x; raw / (build + index): "
            f"{med['raw'] / (med['build'] + med['index']):.2f}x"
        )


if __name__ == "__main__":
    main()
