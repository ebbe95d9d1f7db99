#!/usr/bin/env python3
"""Build the damaged disk images of issue #12 (run from anywhere; commit the output).

Seized media is damaged as often as not; each image here is one way it happens, made from a
healthy file system built by the real tools, then broken at a known place. Writes gzip files
into ``tests/data/damaged/`` (each well under 1 MB) and ``damaged/expected.json``, which says
for each image what was done to it and which files it holds:

* ``ntfs.dd.gz``: a healthy NTFS (``mkntfs``, files copied in with ``ntfscp``): its
  ``$BadClus:$Bad`` is a sparse stream as long as the volume;
* ``ntfs_half.dd.gz``: the same NTFS cut to its first half (a partial acquisition);
* ``ntfs_mft_overwritten.dd.gz``: two user files' MFT records overwritten with random bytes;
  their names are still in the root folder's index (allocated, as ``fls`` shows them);
* ``ntfs_root_overwritten.dd.gz``: the root folder's MFT record (5) overwritten: no folder
  reaches any file, yet every other record and its ``$FILE_NAME`` (name, parent) is intact;
* ``fat32_root_overwritten.dd.gz``: FAT32 whose root-folder cluster is overwritten: the
  subfolder ``DIR`` and its files are only reachable through their own directory cluster;
* ``ext4_root_overwritten.dd.gz``: ext4 whose root folder's block is overwritten: the inode
  table still holds every file (``ils`` lists them);
* ``ext4_symlinks.dd.gz``: a healthy ext4 holding one file and 40 symbolic links (inodes in use
  that no walk lists as files): must not be called damaged;
* ``gpt_backup_only.dd.gz``: a GPT disk (``sgdisk``) with a FAT12 partition whose primary GPT
  header is zeroed; the backup header at the disk's end is intact;
* ``gpt_huge_count.dd.gz``: a GPT whose primary header claims 2^31-1 partition entries (header
  CRC recomputed, so it looks valid); the backup header is zeroed.

Needs (only to build, never to test): mkntfs/ntfscp (ntfs-3g), mkfs.fat, mtools, mke2fs,
debugfs, sgdisk. Every random byte comes from a fixed seed and every timestamp is fixed, so a
rebuild gives the same file systems (mkntfs stamps its own volume serial and times).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent / "damaged"
SECTOR = 512
MTIME = 1_700_000_000


def run(*cmd: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ, **(env or {})})
    return proc.stdout


def content(name: str, size: int) -> bytes:
    """Fixed pseudo-random bytes for a file (seeded by its name), non-resident on NTFS."""
    return random.Random(name).randbytes(size)


def write_gz(name: str, data: bytes) -> None:
    with gzip.GzipFile(OUT / name, "wb", mtime=0) as f:
        f.write(data)


# --------------------------------------------------------------------------- NTFS

NTFS_FILES = {f"file{i:02}.bin": 3000 + 100 * i for i in range(10)}


def build_ntfs(work: Path) -> bytes:
    img = work / "ntfs.img"
    with open(img, "wb") as f:
        f.truncate(4 * 1024 * 1024)
    run("mkntfs", "-F", "-Q", "-q", "-s", "512", "-c", "1024", "-L", "DAMAGED", str(img))
    for name, size in NTFS_FILES.items():
        src = work / name
        src.write_bytes(content(name, size))
        run("ntfscp", str(img), str(src), name)
    return img.read_bytes()


def mft_record_of(data: bytes, name: str) -> int:
    """Offset of the MFT record whose $FILE_NAME is ``name`` (UTF-16LE), found by content."""
    needle = name.encode("utf-16-le")
    pos = 0
    while (pos := data.find(b"FILE0", pos)) >= 0:
        if pos % 1024 == 0 and needle in data[pos : pos + 1024]:
            return pos
        pos += 1
    raise SystemExit(f"no MFT record for {name}")


def overwrite_mft_records(data: bytes, names: list[str]) -> bytes:
    out = bytearray(data)
    rnd = random.Random("mft")
    for name in names:
        pos = mft_record_of(data, name)
        # The MFT mirror holds records 0-3 only, so user records are gone for good.
        out[pos : pos + 1024] = rnd.randbytes(1024)
    return bytes(out)


# --------------------------------------------------------------------------- FAT32 / ext4

FAT_FILES = {"ROOT1.TXT": 1500, "DIR/A.BIN": 5000, "DIR/B.BIN": 7000, "DIR/SUB/C.BIN": 9000}


def build_fat32(work: Path) -> tuple[bytes, int]:
    """A FAT32 image and the byte offset of its root-folder cluster."""
    img = work / "fat32.img"
    with open(img, "wb") as f:
        f.truncate(40 * 1024 * 1024)
    run("mkfs.fat", "-F", "32", "-s", "1", "-n", "DAMAGED", "--invariant", str(img))
    env = {"MTOOLS_SKIP_CHECK": "1"}
    run("mmd", "-i", str(img), "::DIR", env=env)
    run("mmd", "-i", str(img), "::DIR/SUB", env=env)
    for name, size in FAT_FILES.items():
        src = work / name.replace("/", "_")
        src.write_bytes(content(name, size))
        os.utime(src, (MTIME, MTIME))
        run("mcopy", "-m", "-i", str(img), str(src), f"::{name}", env=env)
    data = img.read_bytes()
    reserved, fats = struct.unpack_from("<HB", data, 14)
    fat_size = struct.unpack_from("<I", data, 36)[0]
    root_cluster = struct.unpack_from("<I", data, 44)[0]
    per_cluster = data[13]
    first_data = (reserved + fats * fat_size) * SECTOR
    return data, first_data + (root_cluster - 2) * per_cluster * SECTOR


EXT_FILES = {"top.bin": 2500, "docs/a.bin": 6000, "docs/b.bin": 7000, "docs/deep/c.bin": 12000}


def build_ext4(work: Path) -> tuple[bytes, int]:
    """An ext4 image and the byte offset of its root folder's (only) block."""
    root = work / "ext_root"
    for name, size in EXT_FILES.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content(name, size))
    for p in [root, *root.rglob("*")]:
        os.utime(p, (MTIME, MTIME))
    img = work / "ext4.img"
    env = {"E2FSPROGS_FAKE_TIME": str(MTIME)}
    run(
        "mke2fs", "-q", "-t", "ext4", "-b", "1024", "-N", "64", "-O", "^has_journal",
        "-E", "root_owner=0:0,hash_seed=00000000-0000-0000-0000-000000000012",
        "-U", "00000000-0000-0000-0000-000000000012", "-d", str(root), str(img), "2048", env=env,
    )  # fmt: skip
    blocks = run("debugfs", "-R", "blocks /", str(img)).split()
    data = img.read_bytes()
    return data, int(blocks[0]) * 1024


def build_ext4_symlinks(work: Path) -> bytes:
    root = work / "links"
    (root / "d").mkdir(parents=True)
    (root / "f.txt").write_bytes(b"x\n")
    for i in range(40):
        (root / "d" / f"l{i:02}").symlink_to(f"/nowhere/{i}")
    img = work / "links.img"
    env = {"E2FSPROGS_FAKE_TIME": str(MTIME)}
    run(
        "mke2fs", "-q", "-t", "ext4", "-b", "1024", "-N", "64", "-O", "^has_journal",
        "-E", "root_owner=0:0,hash_seed=00000000-0000-0000-0000-000000000012",
        "-U", "00000000-0000-0000-0000-000000000013", "-d", str(root), str(img), "1024", env=env,
    )  # fmt: skip
    return img.read_bytes()


def overwrite(data: bytes, offset: int, length: int, seed: str) -> bytes:
    out = bytearray(data)
    out[offset : offset + length] = random.Random(seed).randbytes(length)
    return bytes(out)


# --------------------------------------------------------------------------- GPT


def build_gpt(work: Path) -> tuple[bytes, int]:
    """A 4 MiB GPT disk with one FAT12 partition at LBA 2048 holding two files."""
    img = work / "gpt.img"
    with open(img, "wb") as f:
        f.truncate(4 * 1024 * 1024)
    run("sgdisk", "-U", "00000000-0000-0000-0000-000000000012", "-n", "1:2048:6143", "-t", "1:0700",
        "-u", "1:00000000-0000-0000-0000-0000000000a1", str(img))  # fmt: skip
    part = work / "part.img"
    with open(part, "wb") as f:
        f.truncate(4096 * SECTOR)
    run("mkfs.fat", "-F", "12", "-n", "GPTPART", "--invariant", str(part))
    env = {"MTOOLS_SKIP_CHECK": "1"}
    for name in ("GPT1.BIN", "GPT2.BIN"):
        src = work / name
        src.write_bytes(content(name, 4000))
        os.utime(src, (MTIME, MTIME))
        run("mcopy", "-m", "-i", str(part), str(src), f"::{name}", env=env)
    data = bytearray(img.read_bytes())
    data[2048 * SECTOR : 6144 * SECTOR] = part.read_bytes()
    return bytes(data), len(data)


def gpt_backup_only(data: bytes) -> bytes:
    out = bytearray(data)
    out[SECTOR : 2 * SECTOR] = bytes(SECTOR)  # primary header gone; entries and backup intact
    return bytes(out)


def gpt_huge_count(data: bytes) -> bytes:
    out = bytearray(data)
    header = bytearray(out[SECTOR : 2 * SECTOR])
    size = struct.unpack_from("<I", header, 12)[0]
    struct.pack_into("<I", header, 80, 0x7FFFFFFF)
    struct.pack_into("<I", header, 16, 0)
    struct.pack_into("<I", header, 16, zlib.crc32(bytes(header[:size])))
    out[SECTOR : 2 * SECTOR] = header
    out[-SECTOR:] = bytes(SECTOR)  # no backup to fall back on
    return bytes(out)


def main() -> int:
    OUT.mkdir(exist_ok=True)
    expected: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ntfs = build_ntfs(work)
        write_gz("ntfs.dd.gz", ntfs)
        write_gz("ntfs_half.dd.gz", ntfs[: len(ntfs) // 2])
        gone = ["file03.bin", "file07.bin"]
        write_gz("ntfs_mft_overwritten.dd.gz", overwrite_mft_records(ntfs, gone))
        root_record = mft_record_of(ntfs, "$MFT") + 5 * 1024
        write_gz("ntfs_root_overwritten.dd.gz", overwrite(ntfs, root_record, 1024, "root"))
        expected["ntfs"] = {"files": NTFS_FILES, "mft_overwritten": gone, "size": len(ntfs)}

        fat, root_at = build_fat32(work)
        write_gz("fat32_root_overwritten.dd.gz", overwrite(fat, root_at, SECTOR, "fat"))
        expected["fat32_root_overwritten"] = {"files": FAT_FILES, "root_cluster_offset": root_at}

        ext, root_block = build_ext4(work)
        write_gz("ext4_root_overwritten.dd.gz", overwrite(ext, root_block, 1024, "ext"))
        expected["ext4_root_overwritten"] = {"files": EXT_FILES, "root_block_offset": root_block}

        write_gz("ext4_symlinks.dd.gz", build_ext4_symlinks(work))

        gpt, _ = build_gpt(work)
        write_gz("gpt_backup_only.dd.gz", gpt_backup_only(gpt))
        write_gz("gpt_huge_count.dd.gz", gpt_huge_count(gpt))
        expected["gpt"] = {"partition_offset": 2048 * SECTOR, "files": ["GPT1.BIN", "GPT2.BIN"]}
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    for p in sorted(OUT.iterdir()):
        print(f"{p.name}: {p.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
