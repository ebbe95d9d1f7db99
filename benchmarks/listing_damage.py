"""What the damage checks and the orphan search cost on healthy file systems (#12): nothing, we claim.

    python benchmarks/listing_damage.py [--files 20000] [--rounds 5] [--dir /tmp/triage-bench-damage]

After each folder walk of FAT or ext, triage compares what the allocation maps hold with what the
walk reached (one read of the superblock or of the FAT) and counts what the walk reached; only a
walk that reached under half of it searches for orphans. Builds (once, cached) an ext4 image of
``--files`` small files in nested folders (``mke2fs -d``) and a FAT32 image of a quarter as many
(``mcopy -s``), then lists each with triage's walker as shipped and with the census and the checks
switched off, interleaved round by round so machine load hits both alike. Prints the median
listing time of each and their ratio. Not a timed test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from triage.evidence import damage
from triage.evidence.tskwalk import FsWalker
from triage.evidence.volumes import scan_volumes
from triage.records import SourceSpec


def tree(root: Path, files: int) -> Path:
    top = root / f"tree-{files}"
    if (top / ".complete").exists():
        return top
    for i in range(files):
        d = top / f"d{i // 500:03}" / f"s{i // 50 % 10}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:06}.txt").write_bytes(os.urandom(i % 3000))
    (top / ".complete").write_text("")
    return top


def build(root: Path, files: int) -> dict[str, Path]:
    root.mkdir(parents=True, exist_ok=True)
    ext, fat = root / f"ext4-{files}.img", root / f"fat32-{files}.img"
    if not ext.exists():
        src = tree(root, files)
        subprocess.run(["mke2fs", "-q", "-t", "ext4", "-d", str(src), str(ext), "200M"], check=True)
    if not fat.exists():
        src = tree(root, files // 4)
        with open(fat, "wb") as f:
            f.truncate(200 * 1024 * 1024)
        subprocess.run(["mkfs.fat", "-F", "32", str(fat)], check=True, capture_output=True)
        env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
        for d in sorted(src.iterdir()):
            if d.is_dir():
                subprocess.run(["mcopy", "-s", "-i", str(fat), str(d), "::"], check=True, env=env)
    return {"ext4": ext, "fat32": fat}


class _NoCensus(damage.Census):
    def add(self, addr: int, size: int = 0, is_dir: bool = False) -> None:
        pass


class PlainWalker(FsWalker):
    """The walk with the census and the damage checks switched off."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.census = _NoCensus(addrs=None)

    def _orphan_search(self):
        return iter(())


def list_once(image: Path, walker_class: type[FsWalker]) -> tuple[float, int]:
    import pytsk3

    img = pytsk3.Img_Info(str(image))
    _slots, opened, _warnings = scan_volumes(img)
    spec = SourceSpec("raw", (str(image),))
    start = time.perf_counter()
    n = sum(1 for vol in opened for _ in walker_class(vol, "EV1", spec).entries())
    return time.perf_counter() - start, n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/triage-bench-damage"))
    args = ap.parse_args()
    images = build(args.dir, args.files)
    print(f"load average at start: {os.getloadavg()}")
    for name, image in images.items():
        times: dict[str, list[float]] = {"with checks": [], "without": []}
        counts = set()
        list_once(image, FsWalker)  # warm the page cache
        for _ in range(args.rounds):
            for label, cls in (("with checks", FsWalker), ("without", PlainWalker)):
                seconds, n = list_once(image, cls)
                times[label].append(seconds)
                counts.add(n)
        with_, without = statistics.median(times["with checks"]), statistics.median(times["without"])
        print(
            f"{name}: {sorted(counts)} files; median listing {with_:.3f} s with the checks, "
            f"{without:.3f} s without: ratio {with_ / without:.3f}"
        )
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
