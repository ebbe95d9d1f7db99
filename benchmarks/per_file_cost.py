"""Where a scan's time goes, per file: each step measured on its own, in CPU microseconds a file.

    python benchmarks/per_file_cost.py [--files 100000] [--dir /tmp/triage-bench-image] [--sample 20000]

On the ext4 image of ``benchmarks/small_image.py`` (built if missing) and a case scanned from it,
each step of the pipeline is run again in this process on ``--sample`` of the files, with
``time.process_time`` (CPU time, so machine load inflates it less than wall time):

- parent, listing: the TSK walk (``Entry`` records), encoding rows, inserting them;
- parent, feeding: reading batches of references back from the store;
- inter-process traffic: pickling a batch and its results both ways;
- worker: decoding references, pytsk3 open + read, the three digests, media sniffing, the whole
  per-file task (non-media files), and per picture the whole task (PDQ, pHash...);
- parent, results: matching against an (empty) index, storing results;
- reports: report.json and files.csv rows.

Prints a table (the figures of ``docs/speed.md``). Not a timed test.
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from small_image import build_image

from triage.case.codec import entry_row, ref_from_json
from triage.case.store import CaseStore
from triage.evidence import open_evidence, read_entry
from triage.hashing.crypto import MultiDigest
from triage.hashsets import open_match_index
from triage.media.sniff import SNIFF_BYTES, sniff
from triage.records import CaseInfo
from triage.reports import csv_report, json_report
from triage.scan import tasks
from triage.scan.jobs import BatchResult, HashBatch, HashJob
from triage.scan.options import ScanOptions


def cpu_us(fn: Callable[[], object], files: int) -> float:
    t = time.process_time()
    fn()
    return (time.process_time() - t) / max(files, 1) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/triage-bench-image"))
    ap.add_argument("--sample", type=int, default=20_000)
    a = ap.parse_args()
    a.dir.mkdir(parents=True, exist_ok=True)
    image = build_image(a.dir, a.files)
    work = Path(tempfile.mkdtemp(dir=a.dir))
    try:
        case = work / "case"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "triage",
                "scan",
                str(image),
                "--out",
                str(case),
                "--quiet",
                "--case-number",
                "COST",
                "--examiner",
                "bench",
                "--format",
                "json",
            ]
        )
        rows = measure(image, case, work, a.sample)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"\nPer-file cost, ext4 image of {a.files:,} small files, {a.sample:,} files sampled "
        "(CPU microseconds a file, one process)"
    )
    print(f"{'where':<10}{'step':<52}{'us/file':>9}")
    for where, step, us in rows:
        print(f"{where:<10}{step:<52}{us:>9.1f}")


def measure(image: Path, case: Path, work: Path, n: int) -> list[tuple[str, str, float]]:
    out: list[tuple[str, str, float]] = []

    def add(where: str, step: str, fn: Callable[[], object], files: int) -> None:
        out.append((where, step, cpu_us(fn, files)))

    ev = open_evidence(image, "EV1")
    entries: list = []

    def walk() -> None:
        for e in ev.entries():
            entries.append(e)
            if len(entries) >= n:
                break

    add("parent", "listing: TSK walk into Entry records", walk, n)
    add("parent", "listing: encode rows (location, ref JSON)", lambda: [entry_row(e) for e in entries], n)
    store = CaseStore.create(work / "c2", case_info(case), command_line=["x"], tool={})
    store.add_evidence(ev.info)
    add("parent", "listing: insert rows (executemany, one commit)", lambda: store.add_entries(entries), n)
    ev.close()
    ids, _ = store.read_order(256 * 1024)
    add(
        "parent", "feeding: read references back (ref_texts_by_id)", lambda: store.ref_texts_by_id(ids[:n]), n
    )
    texts = [t for _, _, t in store.ref_texts_by_id(ids[:n])]
    o = ScanOptions()
    template = HashJob(
        ref_from_json(texts[0]), o.media_only, o.perceptual, o.decode_policy, o.archive_limits, 10.0
    )
    batches = [HashBatch(template, tuple(texts[i : i + 64])) for i in range(0, len(texts), 64)]
    add("worker", "decode references into jobs", lambda: [b.jobs for b in batches], n)
    jobs = [j for b in batches for j in b.jobs]
    conn = sqlite3.connect(case / "case.sqlite")
    pictures = {r[0] for r in conn.execute("SELECT ref FROM entries WHERE media_kind = 'picture'")}
    plain = [j for j, t in zip(jobs, texts, strict=True) if t not in pictures]
    pics = [j for j, t in zip(jobs, texts, strict=True) if t in pictures]
    datas: list[bytes] = []
    add(
        "worker",
        "pytsk3 open + read (warm page cache)",
        lambda: datas.extend(b"".join(read_entry(j.ref)) for j in plain),
        len(plain),
    )

    def digests() -> None:
        for d in datas:
            m = MultiDigest()
            m.update(d)
            m.result()

    add("worker", "MD5 + SHA-1 + SHA-256", digests, len(datas))
    add("worker", "media sniffing", lambda: [sniff(d[:SNIFF_BYTES]) for d in datas], len(datas))
    add("worker", "whole task, a non-media file", lambda: [tasks.process(j) for j in plain], len(plain))
    if pics:
        add(
            "worker",
            f"whole task, a picture ({len(pics)} PNGs)",
            lambda: [tasks.process(j) for j in pics],
            len(pics),
        )
    results = [tasks.process(b) for b in batches]
    pickled = [pickle.dumps(b) for b in batches]
    answers = [pickle.dumps(r) for r in results]

    def ipc() -> None:
        for b, r in zip(pickled, answers, strict=True):
            pickle.loads(pickle.dumps(pickle.loads(b)))
            pickle.loads(pickle.dumps(pickle.loads(r)))

    add("ipc", "pickle a batch and its results, both ways", ipc, n)
    index = open_match_index([])
    hashes = [h for r in results if isinstance(r, BatchResult) for h in r.results]
    add(
        "parent",
        "match against the index (no sets)",
        lambda: [index.match(h, o.match_policy) for h in hashes],
        len(hashes),
    )
    add(
        "parent",
        "store results (executemany, one commit)",
        lambda: store.record_results([(i, h, []) for i, h in zip(ids, hashes, strict=False)]),
        len(hashes),
    )
    store.close()
    with CaseStore.open(case, read_only=True) as full:
        files = full.summary()["files"]
        add(
            "reports",
            "report.json, a file row",
            lambda: sum(map(len, json_report.render_chunks(full))),
            files,
        )
        add(
            "reports",
            "files.csv, a file row",
            lambda: sum(map(len, csv_report.render_files_chunks(full))),
            files,
        )
    return out


def case_info(case: Path) -> CaseInfo:
    with CaseStore.open(case, read_only=True) as s:
        return s.case_info()


if __name__ == "__main__":
    main()
