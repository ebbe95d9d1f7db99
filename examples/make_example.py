#!/usr/bin/env python3
"""Build the example evidence used in the README and the demo scan (deterministic output).

* ``examples/evidence/case1.dd``: an MBR disk with one FAT12 partition holding ten generated
  pictures (gradients, shapes, a caption; six JPEG, four PNG) in two folders; one of them,
  ``/DCIM/100TRIP/harbour.jpg``, is deleted afterwards with its data left in place.
* ``examples/evidence/case2/``: a plain folder with three generated pictures and a text file.

Every picture is benign and generated from a fixed seed; file times are fixed. The disk-image
helpers (mkfs.vfat + mtools, the MBR writer) are those of ``tests/data/make_disk_fixtures.py``.
Run: ``python examples/make_example.py`` (needs Pillow, dosfstools and mtools).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "evidence"
EPOCH = 1_700_000_000  # 2023-11-14T22:13:20Z


def _fixture_helpers():
    path = HERE.parent / "tests" / "data" / "make_disk_fixtures.py"
    spec = importlib.util.spec_from_file_location("make_disk_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


#: (path on the FAT, seed, format, caption); the same seeds always give the same pictures.
CASE1 = [
    ("/DCIM/100TRIP/beach.jpg", 101, "JPEG", "beach"),
    ("/DCIM/100TRIP/harbour.jpg", 102, "JPEG", "harbour"),
    ("/DCIM/100TRIP/hills.jpg", 103, "JPEG", "hills"),
    ("/DCIM/100TRIP/market.png", 104, "PNG", "market"),
    ("/DCIM/100TRIP/sunset.jpg", 105, "JPEG", "sunset"),
    ("/Pictures/diagram.png", 106, "PNG", "diagram"),
    ("/Pictures/logo.png", 107, "PNG", "logo"),
    ("/Pictures/poster.jpg", 108, "JPEG", "poster"),
    ("/Pictures/screenshot.png", 109, "PNG", "screen"),
    ("/Pictures/wallpaper.jpg", 110, "JPEG", "wallpaper"),
]
CASE1_DELETED = ["/DCIM/100TRIP/harbour.jpg"]
CASE2 = [
    ("garden.jpg", 201, "JPEG", "garden"),
    ("kitchen.png", 202, "PNG", "kitchen"),
    ("holiday/lake.jpg", 203, "JPEG", "lake"),
]


def _render(helpers, seed: int, fmt: str, caption: str) -> bytes:
    img = helpers.picture(seed, size=(200, 150), text=caption)
    if fmt == "JPEG":
        return helpers.encode(img, "JPEG", quality=88)
    return helpers.encode(img.quantize(64), "PNG", optimize=True)


def build_case1(helpers) -> Path:
    files = {path: _render(helpers, seed, fmt, cap) for path, seed, fmt, cap in CASE1}
    fat = helpers.build_fat(720 * 1024, files, CASE1_DELETED)
    disk, _offsets = helpers.build_mbr([(0x01, fat)], align=64)
    out = OUT / "case1.dd"
    out.write_bytes(disk)
    os.utime(out, (EPOCH, EPOCH))
    return out


def build_case2(helpers) -> Path:
    root = OUT / "case2"
    if root.exists():
        shutil.rmtree(root)
    for rel, seed, fmt, cap in CASE2:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(_render(helpers, seed, fmt, cap))
        os.utime(p, (EPOCH, EPOCH))
    (root / "readme.txt").write_bytes(b"Example folder evidence for triage: three pictures and this note.\n")
    os.utime(root / "readme.txt", (EPOCH, EPOCH))
    for d in (root / "holiday", root):
        os.utime(d, (EPOCH, EPOCH))
    return root


def build_known_hashes(helpers) -> Path:
    """``examples/known-hashes.csv``: the lab's known set for the demo.

    * K-0001: the MD5 of the deleted ``harbour.jpg`` in case1.dd (an exact match on a deleted file);
    * K-0002: the SHA-256 of ``garden.jpg`` in case2 (an exact match);
    * K-0003: the PDQ of a *resized and recompressed* copy of ``wallpaper.jpg`` (a perceptual
      match: the bytes differ, so only PDQ finds it, reported with its distance);
    * K-0004/5: hashes of pictures that are not in the evidence (no match).
    """
    import io

    from PIL import Image

    from triage.hashing.file import hash_chunks

    render = {path: (seed, fmt, cap) for path, seed, fmt, cap in CASE1 + CASE2}
    harbour = _render(helpers, *render["/DCIM/100TRIP/harbour.jpg"])
    garden = _render(helpers, *render["garden.jpg"])
    wallpaper = Image.open(io.BytesIO(_render(helpers, *render["/Pictures/wallpaper.jpg"])))
    buf = io.BytesIO()
    wallpaper.resize((wallpaper.width * 3 // 2, wallpaper.height * 3 // 2)).save(buf, "JPEG", quality=70)
    near = hash_chunks([buf.getvalue()])
    other1 = hash_chunks([_render(helpers, 901, "JPEG", "other")])
    other2 = hash_chunks([_render(helpers, 902, "PNG", "unrelated")])
    rows = [
        "id,category,name,md5,sha256,pdq",
        f"K-0001,1,harbour scene,{hashlib.md5(harbour).hexdigest()},,",
        f"K-0002,2,garden scene,,{hashlib.sha256(garden).hexdigest()},",
        f"K-0003,1,wallpaper (resized copy),,,{near.pdq}",
        f"K-0004,1,not in evidence,{other1.md5},,{other1.pdq}",
        f"K-0005,2,not in evidence,,{other2.sha256},",
    ]
    out = HERE / "known-hashes.csv"
    out.write_text(
        "# Example known-hash set for the triage demo (benign generated pictures).\n" + "\n".join(rows) + "\n"
    )
    return out


def main() -> None:
    helpers = _fixture_helpers()
    OUT.mkdir(parents=True, exist_ok=True)
    case1 = build_case1(helpers)
    case2 = build_case2(helpers)
    print(build_known_hashes(helpers))
    print(f"{case1}: {case1.stat().st_size} bytes, md5 {hashlib.md5(case1.read_bytes()).hexdigest()}")
    for p in sorted(case2.rglob("*")):
        if p.is_file():
            print(f"{p}: {p.stat().st_size} bytes, md5 {hashlib.md5(p.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
