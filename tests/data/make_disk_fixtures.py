#!/usr/bin/env python3
"""Build the small disk-image fixtures the evidence tests read (run from anywhere; commit the output).

Writes into ``tests/data/``:

* ``mbr_fat_ext2.dd``: an MBR disk with two partitions: FAT12 (p1) and ext2 (p2), holding
  small generated pictures (JPEG, PNG, a JPEG named ``.dat``, a GIF), a text file and ONE
  deleted JPEG on the FAT whose clusters are left intact (``mdel`` only marks the entry free);
* ``mbr_fat_ext2.E01``: the same disk as an E01 (``ewfacquire``, MD5 stored);
* ``mbr_fat_ext2.json``: the expected regular files per partition: path as The Sleuth Kit
  names it, deleted flag, size, MD5 of the content written.

Needs (only to build, never to test): Pillow, mkfs.vfat, mtools, mke2fs, ewfacquire.
Timestamps are fixed (files' mtimes, ``E2FSPROGS_FAKE_TIME``, ``mkfs.vfat --invariant``); the
E01 carries its acquisition date, so only the raw image is byte-reproducible.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
EPOCH = 1_700_000_000  # 2023-11-14T22:13:20Z: every file's mtime
SECTOR = 512


# --------------------------------------------------------------------------- pictures


def picture(seed: int, size: tuple[int, int] = (96, 64), text: str | None = None) -> Image.Image:
    """A benign generated picture: a two-colour gradient with a few shapes (fixed seed)."""
    rnd = random.Random(seed)
    w, h = size
    c1 = [rnd.randrange(256) for _ in range(3)]
    c2 = [rnd.randrange(256) for _ in range(3)]
    img = Image.new("RGB", size)
    px = img.load()
    for x in range(w):
        t = x / max(1, w - 1)
        col = tuple(int(a + (b - a) * t) for a, b in zip(c1, c2, strict=True))
        for y in range(h):
            px[x, y] = col
    draw = ImageDraw.Draw(img)
    for _ in range(4):
        x0, y0 = rnd.randrange(w), rnd.randrange(h)
        x1, y1 = x0 + rnd.randrange(4, w // 2), y0 + rnd.randrange(4, h // 2)
        fill = tuple(rnd.randrange(256) for _ in range(3))
        (draw.ellipse if rnd.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=fill)
    if text:
        draw.text((4, 4), text, fill=(255, 255, 255))
    return img


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


# --------------------------------------------------------------------------- file systems


def run(*cmd: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, **(env or {})})


def build_fat(size: int, files: dict[str, bytes], delete: list[str]) -> bytes:
    """A FAT12 file system image of ``size`` bytes holding ``files`` (``/DIR/NAME`` keys);
    the names in ``delete`` are removed afterwards with ``mdel`` (data left in place)."""
    env = {"MTOOLS_SKIP_CHECK": "1", "MTOOLS_NO_VFAT": "0", "TZ": "UTC", "SOURCE_DATE_EPOCH": str(EPOCH)}
    with tempfile.TemporaryDirectory() as tmp:
        img = Path(tmp) / "fat.img"
        img.write_bytes(b"\0" * size)
        run("mkfs.vfat", "-F", "12", "-i", "5EED1234", "--invariant", str(img))
        made: set[str] = set()
        for dest, data in files.items():
            parts = dest.strip("/").split("/")
            for i in range(1, len(parts)):
                d = "/".join(parts[:i])
                if d not in made:
                    run("mmd", "-i", str(img), "::/" + d, env=env)
                    made.add(d)
            src = Path(tmp) / "src"
            src.write_bytes(data)
            os.utime(src, (EPOCH, EPOCH))
            run("mcopy", "-m", "-o", "-i", str(img), str(src), "::" + dest, env=env)
        for dest in delete:
            run("mdel", "-i", str(img), "::" + dest, env=env)
        return img.read_bytes()


def build_ext2(size: int, files: dict[str, bytes], label: str = "triage") -> bytes:
    """An ext2 file system image (1 KiB blocks) populated with ``mke2fs -d``."""
    env = {"E2FSPROGS_FAKE_TIME": str(EPOCH), "TZ": "UTC"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        for dest, data in files.items():
            p = root / dest.strip("/")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            os.utime(p, (EPOCH, EPOCH))
        for d in sorted(root.rglob("*"), reverse=True):
            if d.is_dir():
                os.utime(d, (EPOCH, EPOCH))
        os.utime(root, (EPOCH, EPOCH))
        img = Path(tmp) / "ext2.img"
        uuid = "5eed0000-0000-4000-8000-000000000002"
        run(
            "mke2fs", "-q", "-t", "ext2", "-b", "1024", "-N", "32", "-m", "0", "-L", label,
            "-U", uuid, "-E", f"hash_seed={uuid}", "-d", str(root), str(img), str(size // 1024),
            env=env,
        )  # fmt: skip
        # mke2fs -d copies each source's ctime (the time it was written above): pin them.
        used = 12 + len(list(root.rglob("*")))
        script = Path(tmp) / "ctime.cmd"
        script.write_text("".join(f"sif <{i}> ctime @{EPOCH}\n" for i in range(12, used)))
        run("debugfs", "-w", "-f", str(script), str(img), env=env)
        return img.read_bytes()


def build_mbr(partitions: list[tuple[int, bytes]], align: int = 64) -> tuple[bytes, list[int]]:
    """A disk: MBR (fixed disk signature) then each ``(type byte, file system image)`` at the
    next multiple of ``align`` sectors. Returns the disk and each partition's byte offset."""
    entries, body, offsets = [], bytearray(), []
    lba = align
    for ptype, data in partitions:
        sectors = -(-len(data) // SECTOR)
        offsets.append(lba * SECTOR)
        # CHS fields set to the LBA-only marker values; TSK and Linux use the LBA fields.
        entries.append(struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", ptype, b"\xfe\xff\xff", lba, sectors))
        body += b"\0" * (lba * SECTOR - SECTOR - len(body)) + data
        lba = -(-(lba + sectors) // align) * align
    mbr = bytearray(SECTOR)
    mbr[440:444] = struct.pack("<I", 0x5EED7E57)
    for i, e in enumerate(entries):
        mbr[446 + 16 * i : 462 + 16 * i] = e
    mbr[510:512] = b"\x55\xaa"
    disk = bytes(mbr) + bytes(body)
    disk += b"\0" * (lba * SECTOR - len(disk))  # pad to the end of the last alignment unit
    return disk, offsets


def fat_deleted_name(path: str) -> str:
    """How TSK names a deleted FAT 8.3 entry: its first character became 0xE5, shown as ``_``."""
    folder, _, name = path.rpartition("/")
    return f"{folder}/_{name[1:]}"


def make_ewf(raw: Path, target_base: Path) -> Path:
    """An E01 of ``raw`` (best compression, MD5 stored, fixed case fields)."""
    for old in target_base.parent.glob(target_base.name + ".E0*"):
        old.unlink()
    run(
        "ewfacquire", "-u", "-q", "-t", str(target_base), "-c", "deflate:best", "-f", "encase6",
        "-C", "TRIAGE-TEST-1", "-D", "two-partition test disk", "-e", "triage tests",
        "-E", "EV-FIXTURE", "-N", "generated by tests/data/make_disk_fixtures.py", str(raw),
    )  # fmt: skip
    return target_base.with_name(target_base.name + ".E01")


# --------------------------------------------------------------------------- the fixture


def main() -> None:
    jpeg = lambda seed, **k: encode(picture(seed, **k), "JPEG", quality=85)  # noqa: E731
    fat_files = {
        "/DCIM/SUNSET.JPG": jpeg(1, text="p1"),
        "/DCIM/SHAPES.PNG": encode(picture(2), "PNG"),
        "/README.TXT": b"Fixture for triage: not a picture.\n",
        "/DCIM/GONE.JPG": jpeg(3, text="del"),
    }
    fat_deleted = ["/DCIM/GONE.JPG"]
    ext_files = {
        "/photos/blue.jpg": jpeg(4),
        "/photos/renamed.dat": jpeg(5, text="dat"),
        "/anim.gif": encode(picture(6).convert("P", palette=Image.Palette.ADAPTIVE), "GIF"),
        "/photos/notes.txt": b"ext2 side: holiday list\n",
    }
    fat = build_fat(320 * 1024, fat_files, fat_deleted)
    ext = build_ext2(256 * 1024, ext_files)
    disk, offsets = build_mbr([(0x01, fat), (0x83, ext)])
    raw = HERE / "mbr_fat_ext2.dd"
    raw.write_bytes(disk)
    os.utime(raw, (EPOCH, EPOCH))
    expected = []
    for label, fs_type, offset, files, deleted in (
        ("p1", "fat12", offsets[0], fat_files, fat_deleted),
        ("p2", "ext2", offsets[1], ext_files, []),
    ):
        for path, data in files.items():
            gone = path in deleted
            expected.append(
                {
                    "volume": label,
                    "offset": offset,
                    "fs_type": fs_type,
                    "path": fat_deleted_name(path) if gone else path,
                    "deleted": gone,
                    "size": len(data),
                    "md5": hashlib.md5(data).hexdigest(),
                }
            )
    listing = {
        "image": raw.name,
        "size": len(disk),
        "md5": hashlib.md5(disk).hexdigest(),
        "entries": expected,
    }
    (HERE / "mbr_fat_ext2.json").write_text(json.dumps(listing, indent=2) + "\n")
    if shutil.which("ewfacquire"):
        make_ewf(raw, HERE / "mbr_fat_ext2")
    else:
        print("ewfacquire not found: E01 not rebuilt", file=sys.stderr)
    print(f"wrote {raw} ({len(disk)} bytes), {len(expected)} expected entries")


if __name__ == "__main__":
    main()
