"""NTFS free space: ``$Bitmap`` (MFT entry 6), one bit per cluster."""

from __future__ import annotations

import pytsk3

from triage.evidence.carving.runs import Run, free_bits, merge, past_end
from triage.evidence.volumes import open_fs


def ntfs_runs(img: pytsk3.Img_Info, offset: int) -> list[Run]:
    fs = open_fs(img, offset, "ntfs")
    cluster = int(fs.info.block_size)
    # Only clusters the image holds, and the bitmap bytes they need: a damaged or hostile
    # $Bitmap size must not become one huge read (what lies past the image is noted by the
    # caller through past_end).
    claimed = int(fs.info.block_count)
    clusters = min(claimed, max(0, (int(img.get_size()) - offset) // cluster))
    f = fs.open_meta(inode=6)  # $Bitmap
    size = min(int(f.info.meta.size), (clusters + 7) // 8)
    bitmap = f.read_random(0, size) if size else b""
    runs: list[Run] = []
    for first, n in free_bits(bitmap, clusters):
        runs.append((offset + first * cluster, n * cluster))
    return merge(runs) + past_end(img, offset, cluster, claimed)
