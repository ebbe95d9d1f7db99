"""Enumeration overhead against ``fls -r``, and carving throughput (issue 3).

    python benchmarks/inside_files.py [--files 100000] [--carve-mb 256] [--dir /tmp/triage-bench-inside]

1. Enumeration: builds (once, cached) an ext4 image holding ``--files`` small files in nested
   folders (``mkfs.ext4 -d``), then times, on a warm page cache, ``fls -r -p`` (baseline) and
   triage's listing (``open_evidence(...).entries()``, every entry built as a record) on the same
   image in the same run. Target: triage <= 1.5x fls. Two more rows show where the time goes:
   a bare pytsk3 walk that reads each entry's fields into a tuple (the floor of any walker built on
   pytsk3) and building the listing records alone, with no file system.
2. Carving: builds a FAT32 image of ``--carve-mb`` MB whose data area holds random bytes and
   generated JPEG/PNG/GIF pictures with no directory entries (all unallocated), then times the
   worker's carving over every unallocated run (one process) and reports MB/s of unallocated
   space scanned, with the pictures found.

Needs e2fsprogs, dosfstools, sleuthkit. Prints a table; not a timed test.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build_ext4(root: Path, files: int) -> Path:
    image = root / f"ext4_{files}.img"
    if image.exists():
        return image
    tree = root / "tree"
    subprocess.run(["rm", "-rf", str(tree)], check=True)
    for i in range(files):
        d = tree / f"d{i // 1000:03d}" / f"s{(i // 100) % 10}"
        if i % 100 == 0:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"file{i:06d}.txt").write_bytes(b"x" * (i % 50))
    size_mb = max(64, files // 1000 * 6)
    subprocess.run(
        ["mkfs.ext4", "-q", "-N", str(files + 5000), "-d", str(tree), str(image), f"{size_mb}M"], check=True
    )
    subprocess.run(["rm", "-rf", str(tree)], check=True)
    return image


def time_it(fn, repeat: int = 2) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm up
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bare_walk(image: Path) -> int:
    """The floor for any walker on pytsk3: every folder opened, each child's name, meta address,
    size, flags and four times read into a tuple; no records, no paths, no time formatting."""
    import pytsk3

    fs = pytsk3.FS_Info(pytsk3.Img_Info(str(image)))
    count, stack = 0, [int(fs.info.root_inum)]
    directory = int(pytsk3.TSK_FS_NAME_TYPE_DIR)
    while stack:
        for f in fs.open_dir(inode=stack.pop()):
            info = f.info
            name, meta = info.name, info.meta
            if name.name in (b".", b".."):
                continue
            if int(name.type) == directory:
                stack.append(int(meta.addr))
                continue
            count += 1
            _ = (name.name, int(name.meta_addr), int(meta.size), int(meta.flags), meta.mtime, meta.atime,
                 meta.ctime, meta.crtime)  # fmt: skip
    return count


def records_only(count: int) -> int:
    """What building ``count`` listing records costs on its own (frozen dataclasses: EntryRef,
    Location, Entry per file), without any file system."""
    from triage.locator import Location, Volume
    from triage.records import Entry, EntryRef

    volume = Volume("p1", 0, "ext4")
    for i in range(count):
        ref = EntryRef(source=None, volume_offset=0, fs_type="ext4", inode=i)  # type: ignore[arg-type]
        path = f"/d/s/file{i:06d}.txt"
        Entry("EV1", Location("EV1", volume, path, str(i)), path, i, False, ref, str(i))
    return count


def enumeration(root: Path, files: int) -> None:
    from triage.evidence import open_evidence

    image = build_ext4(root, files)
    counts = {}

    def fls() -> None:
        out = subprocess.run(["fls", "-r", "-p", str(image)], capture_output=True, check=True).stdout
        counts["fls"] = out.count(b"\n")

    def ours() -> None:
        ev = open_evidence(image, "EV1")
        counts["triage"] = sum(1 for _ in ev.entries())
        ev.close()

    def bare() -> None:
        counts["bare"] = bare_walk(image)

    def records() -> None:
        counts["records"] = records_only(files)

    rows = [("fls -r -p (baseline)", "fls", time_it(fls))]
    rows.append(("pytsk3 walk, no records", "bare", time_it(bare)))
    rows.append(("records only, no walk", "records", time_it(records)))
    rows.append(("triage listing", "triage", time_it(ours)))
    print(f"\nEnumeration: ext4 image, {files:,} files ({image.stat().st_size / 1e6:.0f} MB)")
    print(f"{'tool':<26}{'entries':>10}{'seconds':>10}{'x fls':>8}{'us/entry':>10}")
    base = rows[0][2]
    for label, key, seconds in rows:
        per = seconds / max(1, counts[key]) * 1e6
        print(f"{label:<26}{counts[key]:>10,}{seconds:>10.2f}{seconds / base:>8.2f}{per:>10.2f}")


def build_fat(root: Path, mb: int) -> tuple[Path, int]:
    from PIL import Image, ImageDraw

    image = root / f"carve_{mb}.img"
    rng = random.Random(7)
    subprocess.run(["rm", "-f", str(image)], check=True)
    subprocess.run(["truncate", "-s", f"{mb}M", str(image)], check=True)
    subprocess.run(["mkfs.fat", "-F", "32", str(image)], check=True, capture_output=True)
    pictures = 0
    with open(image, "r+b") as f:
        pos = 4 * 1024 * 1024
        end = mb * 1024 * 1024 - 1024 * 1024
        while pos < end:
            f.seek(pos)
            if rng.random() < 0.5:
                img = Image.new("RGB", (320, 240), (rng.randrange(256), 80, 160))
                ImageDraw.Draw(img).ellipse([20, 20, 200, 200], fill=(255, rng.randrange(256), 0))
                buf = io.BytesIO()
                img.save(buf, rng.choice(["JPEG", "PNG", "GIF"]))
                f.write(buf.getvalue())
                pictures += 1
                pos += len(buf.getvalue())
            else:
                f.write(os.urandom(256 * 1024))
                pos += 256 * 1024
            pos = (pos + 4095) // 4096 * 4096
    return image, pictures


def carving(root: Path, mb: int) -> None:
    from triage.evidence import open_evidence
    from triage.evidence.carving.carve import MAX_CARVE
    from triage.evidence.carving.plan import JOB_BYTES  # noqa: F401 - same piece sizes as a scan
    from triage.evidence.carving.unalloc import carve_areas
    from triage.records import DecodePolicy
    from triage.scan.tasks import CarveJob, process

    image, written = build_fat(root, mb)
    ev = open_evidence(image, "EV1")
    areas, _ = carve_areas(ev.spec, ev.info.volumes)
    pieces = []
    for area in areas:
        for off, length in area.runs:
            for start in range(off, off + length, 16 << 20):
                n = min(16 << 20, off + length - start)
                pieces.append((start, n, min(off + length - start, n + MAX_CARVE)))
    for perceptual in (False, True):
        job = CarveJob(ev.spec, areas[0].volume, tuple(pieces), perceptual, DecodePolicy())
        t = time.perf_counter()
        result = process(job)
        dt = time.perf_counter() - t
        if not perceptual:
            print(f"\nCarving: FAT32 image {mb} MB, {written} pictures written into unallocated space")
            print(f"{'mode':<34}{'MB scanned':>11}{'found':>7}{'seconds':>9}{'MB/s':>8}")
        mode = "validate + hashes" + (" + PDQ/pHash" if perceptual else "")
        mb = result.scanned / 1e6
        print(f"{mode:<34}{mb:>11.0f}{len(result.carved):>7}{dt:>9.2f}{mb / dt:>8.0f}")
    ev.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--carve-mb", type=int, default=256)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/triage-bench-inside"))
    a = ap.parse_args()
    a.dir.mkdir(parents=True, exist_ok=True)
    enumeration(a.dir, a.files)
    carving(a.dir, a.carve_mb)


if __name__ == "__main__":
    main()
