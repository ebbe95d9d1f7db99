"""Free space of ext2/3/4 and exFAT volumes (``triage.evidence.carving.unalloc``), on real images: the
corpus's ext2 and exFAT images and a generated ext4 (tests/data/make_free_space_fixtures.py)
with 64-bit descriptors, flex_bg, a ``BLOCK_UNINIT`` group and a partial last group."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from tsk_ranges import allocated_ranges

from triage.evidence import open_evidence
from triage.evidence.carving.unalloc import carve_areas

REPO = Path(__file__).resolve().parents[2]
EXT4 = REPO / "tests" / "data" / "free_space" / "ext4_uninit.img.gz"
CORPUS = {"ext2": ["pytsk/image.raw", "sleuthkit/image.dd", "dfvfs/ext2.E01"]}
CORPUS["exfat"] = ["dfir_ntfs/exfat_win.raw.gz", "dfir_ntfs/win_exfat_7.raw.gz"]


@pytest.fixture
def ext4(tmp_path) -> Path:
    out = tmp_path / "ext4_uninit.img"
    out.write_bytes(gzip.decompress(EXT4.read_bytes()))
    return out


def _image(rel: str, testdata: Path, gunzip) -> Path:
    return gunzip(rel) if rel.endswith(".gz") else testdata / "disk" / rel


def _runs(path: Path) -> tuple[list[tuple[int, int]], list[str], list[str]]:
    ev = open_evidence(path, "EV1")
    try:
        areas, notes = carve_areas(ev.spec, ev.info.volumes)
    finally:
        ev.close()
    return [r for a in areas for r in a.runs], notes, [str(a.volume) for a in areas]


def _check_no_overlap(path: Path) -> list[tuple[int, int]]:
    runs, notes, _ = _runs(path)
    assert notes == [] and runs
    used = allocated_ranges(path)
    assert used
    for start, length in runs:
        for a, b in used:
            assert start + length <= a or start >= b, (path.name, start, length, a, b)
    return runs


@pytest.mark.parametrize("rel", [r for v in CORPUS.values() for r in v if not r.endswith(".E01")])
def test_free_runs_never_overlap_allocated_files(rel, testdata, gunzip):
    _check_no_overlap(_image(rel, testdata, gunzip))


def test_ext2_free_space_matches_the_superblock_count(testdata):
    for rel in CORPUS["ext2"]:
        runs, notes, volumes = _runs(testdata / "disk" / rel)
        assert notes == [] and volumes == ["fs@0(ext2)"]
        sb = (testdata / "disk" / rel).read_bytes()[1024:2048] if rel.endswith((".raw", ".dd")) else None
        if sb is not None:
            free, log_bs = struct.unpack_from("<I", sb, 12)[0], struct.unpack_from("<I", sb, 24)[0]
            assert sum(n for _, n in runs) == free * (1024 << log_bs), rel
    runs, _, _ = _runs(testdata / "disk" / "dfvfs" / "ext2.E01")
    assert sum(n for _, n in runs) == 3928 * 1024  # fsstat: Free Blocks: 3928


def test_ext4_uninit_group_is_free_except_its_superblock_copy(ext4):
    runs = _check_no_overlap(ext4)
    data = ext4.read_bytes()
    free = struct.unpack_from("<I", data, 1024 + 12)[0]
    assert sum(n for _, n in runs) == free * 1024  # superblock's free count (mke2fs: 1918)
    # Group 1 (blocks 1025-2048) is BLOCK_UNINIT: 1025 (superblock copy) and 1026 (descriptor
    # table copy) are in use, 1027-2048 free; the last group stops at block 3299.
    assert (1027 * 1024, (2049 - 1027) * 1024) in runs
    assert all(not (s <= 1025 * 1024 < s + n or s <= 1026 * 1024 < s + n) for s, n in runs)
    assert runs[-1] == (3075 * 1024, (3300 - 3075) * 1024)


def test_broken_ext_map_is_a_note_not_an_exception(testdata, tmp_path):
    image = tmp_path / "image.dd"
    data = bytearray((testdata / "disk" / "sleuthkit" / "image.dd").read_bytes())
    struct.pack_into("<I", data, 2048, 0x7FFFFFFF)  # group 0's block bitmap: past the end
    image.write_bytes(bytes(data))
    runs, notes, _ = _runs(image)
    assert runs == [] and len(notes) == 1
    assert notes[0].startswith("fs@0(ext2): cannot read the allocation map, not carved: ext group 0")


def _jpeg() -> bytes:
    im = Image.new("RGB", (64, 48))
    im.putdata([(x * 4, y * 5, 128) for y in range(48) for x in range(64)])
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85)
    return buf.getvalue()


@pytest.mark.parametrize(
    "rel,fs_type", [("sleuthkit/image.dd", "ext2"), ("dfir_ntfs/exfat_win.raw.gz", "exfat"), ("", "ext4")]
)
def test_picture_written_into_free_space_is_carved_at_its_offset(
    rel, fs_type, testdata, gunzip, ext4, tmp_path
):
    image = tmp_path / "copy.img"
    shutil.copy(_image(rel, testdata, gunzip) if rel else ext4, image)
    image.chmod(0o644)
    jpeg = _jpeg()
    runs, _, _ = _runs(image)
    start, length = max(runs, key=lambda r: r[1])
    assert length >= len(jpeg) + 8192
    offset = start + 4096  # inside the run, away from its edges
    data = bytearray(image.read_bytes())
    data[offset : offset + len(jpeg)] = jpeg
    image.write_bytes(bytes(data))
    out = tmp_path / "case"
    cmd = [sys.executable, "-m", "triage", "scan", str(image), "--out", str(out), "--carve"]
    cmd += ["--case-number", "C-1", "--examiner", "J. Doe", "-j", "1", "--inventory-only"]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    carved = [f["location"] for f in report["files"] if "carved" in f["flags"]]
    assert f"EV1/fs@0({fs_type})/$unalloc@{offset}+{len(jpeg)}(carved jpeg)" in carved
    assert not [e for e in report["errors"] if "carving not supported" in e["message"]]


# --------------------------------------------------------------------------- hostile maps
# Corrupt copies of real images (found in review): each must end as a one-line note or be carved
# inside its partition and the image, quickly and in bounded memory.

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "mbr_fat_ext2.dd"


def test_fat_claiming_more_sectors_than_its_partition_is_cut_at_the_partition(tmp_path):
    """p1 (FAT12) of the fixture claims 128 more sectors: its free runs stop where p2 starts,
    and the case says what was cut."""
    data = bytearray(FIXTURE.read_bytes())
    p1 = 32768
    (total16,) = struct.unpack_from("<H", data, p1 + 19)
    struct.pack_into("<H", data, p1 + 19, total16 + 128)
    (tmp_path / "disk.dd").write_bytes(bytes(data))
    ev = open_evidence(tmp_path / "disk.dd", "EV1")
    try:
        areas, notes = carve_areas(ev.spec, ev.info.volumes)
        p1_end = next(v.offset + v.length for v in ev.info.volumes if v.offset == p1)
    finally:
        ev.close()
    fat = next(a for a in areas if a.volume is not None and a.volume.offset == p1)
    assert fat.runs and max(off + n for off, n in fat.runs) <= p1_end
    assert any("past the end of its partition" in n for n in notes)


def test_fat_boot_sector_with_no_clusters_is_a_note(tmp_path):
    data = bytearray(FIXTURE.read_bytes())
    struct.pack_into("<H", data, 32768 + 22, 0xFFFF)  # sectors per FAT: the data would start past the end
    (tmp_path / "disk.dd").write_bytes(bytes(data))
    notes = _runs(tmp_path / "disk.dd")[1]
    assert any("cannot read the allocation map" in n for n in notes)


def test_exfat_fat_chain_that_loops_is_a_note(testdata, gunzip, tmp_path):
    """The allocation bitmap's first FAT entry points at itself: read naively, the same cluster
    would be stitched into the bitmap again and again."""
    data = bytearray(gunzip("dfir_ntfs/exfat_win.raw.gz").read_bytes())
    fat_off, sector = struct.unpack_from("<I", data, 0x50)[0], 1 << data[0x6C]
    struct.pack_into("<I", data, fat_off * sector + 2 * 4, 2)
    (tmp_path / "exfat.raw").write_bytes(bytes(data))
    notes = _runs(tmp_path / "exfat.raw")[1]
    assert notes and "loops" in notes[-1]


def test_ext_group_geometry_the_kernel_refuses_is_a_note(ext4, tmp_path):
    """A huge blocks-per-group with a BLOCK_UNINIT group once made the reader set 2^30 bits one by one."""
    data = bytearray(ext4.read_bytes())
    struct.pack_into("<I", data, 1024 + 0x20, 0x40000000)  # blocks per group
    struct.pack_into("<I", data, 1024 + 0x28, 0x40000000)  # inodes per group
    (tmp_path / "ext4.img").write_bytes(bytes(data))
    ev = open_evidence(tmp_path / "ext4.img", "EV1")
    try:
        areas, notes = carve_areas(ev.spec, ev.info.volumes)
    finally:
        ev.close()
    assert areas == [] and len(notes) == 1 and "implausible ext superblock" in notes[0]
