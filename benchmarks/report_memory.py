"""Peak memory and time of writing report.json, files.csv and matches.csv for a large case, the
old way (each report built whole in memory, then written) against the streamed way (rows read
from the store's cursors and written as they come), in the same run.

    python benchmarks/report_memory.py              # 300,000 files
    python benchmarks/report_memory.py --n 1000000 --work /big/tmp

A case store is filled through the CaseStore API with realistic records: every file listed and
hashed (MD5/SHA-1/SHA-256, PDQ, pHash), one in a hundred matched by a hash set, one in two
hundred failed with an error. Each way then runs in its own child process, so that each peak RSS
(``ru_maxrss``) is its own; the two ways must write byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from triage.case.codec import safe_value
from triage.case.store import CaseStore
from triage.locator import Location, Volume
from triage.records import (
    CaseInfo,
    Entry,
    EntryRef,
    EvidenceInfo,
    FileHashes,
    HashSetInfo,
    Match,
    SourceSpec,
    VolumeInfo,
)
from triage.reports import WRITERS, _chunks, _write_atomic
from triage.reports.csv_report import cell
from triage.reports.json_report import FILE_FIELDS, MATCH_FIELDS, build_report, dumps_report, match_rows

FORMATS = ("json", "csv-files", "csv-matches")
SOURCE = SourceSpec("raw", ("/evidence/disk.dd",))
VOLUME = Volume("p1", 1048576, "ntfs")
HASHSET = "/sets/known.csv"
BATCH = 5000


def _hex(i: int, algorithm: str) -> str:
    return hashlib.new(algorithm, i.to_bytes(8, "little")).hexdigest()


def _entry(i: int) -> Entry:
    path = f"/Users/user{i % 7}/Pictures/{2010 + i % 15}/{i // 1000:04d}/IMG_{i:07d}.JPG"
    return Entry(
        evidence_id="EV1",
        location=Location("EV1", VOLUME, path, str(1000 + i)),
        path=path,
        size=200_000 + (i * 7919) % 3_000_000,
        deleted=i % 50 == 0,
        ref=EntryRef(SOURCE, volume_offset=VOLUME.offset, fs_type="ntfs", inode=1000 + i, attr_type=128),
        inode=str(1000 + i),
        mtime="2024-05-06T07:08:09Z",
        atime="2025-01-02T03:04:05Z",
        ctime="2024-05-06T07:08:09Z",
        crtime="2023-12-31T23:59:59.5Z",
        flags=("orphan",) if i % 50 == 0 else (),
    )


def _result(entry_id: int, i: int) -> tuple[int, FileHashes, list[Match]]:
    if i % 200 == 0:
        return (
            entry_id,
            FileHashes(size_read=4096, md5=_hex(i, "md5"), error="picture decode failed: truncated"),
            [],
        )
    h = FileHashes(
        size_read=200_000,
        md5=_hex(i, "md5"),
        sha1=_hex(i, "sha1"),
        sha256=_hex(i, "sha256"),
        media_type="image/jpeg",
        media_kind="picture",
        width=4032,
        height=3024,
        pdq=_hex(i, "sha3_256"),
        pdq_quality=100,
        phash=_hex(i, "md5")[:16],
    )
    matches = []
    if i % 100 == 1:
        sha = h.sha256 or ""
        matches.append(Match("exact", "sha256", 0, HASHSET, sha, sha, f"K-{i}", "1", f"series {i % 13}"))
    return entry_id, h, matches


def build(case_dir: Path, n: int) -> None:
    store = CaseStore.create(
        case_dir, CaseInfo("BENCH-1", "Examiner", "Agency", None), command_line=["triage", "scan"], tool={}
    )
    store.add_hashset(HashSetInfo(HASHSET, "ab" * 32, "vics", n // 100, (("sha256", n // 100),), "known"))
    store.add_evidence(
        EvidenceInfo(
            "EV1", "/evidence/disk.dd", "raw", 500 * 2**30, ("/evidence/disk.dd",),
            volumes=(VolumeInfo("p1", 1048576, 500 * 2**30 - 1048576, "NTFS", "ntfs"),),
        )
    )  # fmt: skip
    for start in range(0, n, BATCH):
        numbers = range(start, min(n, start + BATCH))
        ids = store.add_entries(_entry(i) for i in numbers)
        store.record_results(_result(entry_id, i) for entry_id, i in zip(ids, numbers, strict=True))
    store.finish("2026-03-01T10:01:00Z")
    store.close()


def _old_table(fields: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> bytes:
    """csv_report's table as it was before streaming: the whole file in one string."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(fields)
    for row in rows:
        safe = safe_value({f: row.get(f) for f in fields})
        writer.writerow([cell(safe[f]) for f in fields])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


OLD = {
    "json": lambda store: dumps_report(build_report(store)),
    "csv-files": lambda store: _old_table(FILE_FIELDS, store.iter_files()),
    "csv-matches": lambda store: _old_table(MATCH_FIELDS, match_rows(store)),
}


def child(way: str, case_dir: Path, out_dir: Path) -> None:
    """Write the three reports one way; print this process's peak RSS before and after, and time."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with CaseStore.open(case_dir, read_only=True) as store:
        idle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        for fmt in FORMATS:
            name, render = WRITERS[fmt]
            data = OLD[fmt](store) if way == "in-memory" else _chunks(render, store)
            _write_atomic(out_dir / name, data)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"idle_kb": idle, "peak_kb": peak, "seconds": seconds}))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300_000, help="files in the case")
    ap.add_argument("--work", type=Path, default=None, help="folder for the temporary case")
    ap.add_argument("--child", nargs=3, metavar=("WAY", "CASE", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        build(work / "case", args.n)
        db_mb = (work / "case" / "case.sqlite").stat().st_size / 2**20
        print(f"case store: {args.n:,} files, {db_mb:.0f} MB, built in {time.perf_counter() - start:.1f} s")
        results = {}
        for way in ("in-memory", "streamed"):
            run = subprocess.run(
                [sys.executable, __file__, "--child", way, str(work / "case"), str(work / way)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            results[way] = json.loads(run.stdout)
        sizes = {WRITERS[f][0]: (work / "streamed" / WRITERS[f][0]).stat().st_size for f in FORMATS}
        same = all(_sha256(work / "in-memory" / name) == _sha256(work / "streamed" / name) for name in sizes)
    print("reports: " + ", ".join(f"{name} {size / 2**20:.1f} MB" for name, size in sizes.items()))
    print(f"{'way':<10} {'peak RSS':>10} {'RSS before':>11} {'seconds':>8}")
    for way, r in results.items():
        print(f"{way:<10} {r['peak_kb'] / 1024:>7.0f} MB {r['idle_kb'] / 1024:>8.0f} MB {r['seconds']:>8.1f}")
    print(f"byte-identical: {'yes' if same else 'NO'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
