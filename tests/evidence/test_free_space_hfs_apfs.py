"""Free space of HFS+ and APFS (``triage.evidence.carving.freespace_hfs`` / ``freespace_apfs``), on the
corpus's dfvfs/hfsplus.raw and dfvfs/apfs.raw.

Reference numbers, measured once with other tools and pinned here (no tool is needed at test time):

- hfsplus.raw: ``blkls -A`` (The Sleuth Kit 4.11) lists 971 unallocated 4096-byte blocks, in
  three runs 26-185, 194-273 and 282-1012; ``fsstat`` and the volume header's ``freeBlocks``
  say 971 too.
- apfs.raw: TSK cannot read APFS; the space manager's own ``sm_free_count`` is 904 blocks of
  4096, and every block from 110 on is free (the image is freshly made: each block holding any
  non-zero byte lies before 110).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pyfsapfs
import pytest
import pytsk3
from PIL import Image
from tsk_ranges import allocated_ranges

from triage.evidence import open_evidence
from triage.evidence.carving.freespace_apfs import apfs_runs, fletcher64
from triage.evidence.carving.freespace_hfs import hfs_runs
from triage.evidence.carving.unalloc import carve_areas

REPO = Path(__file__).resolve().parents[2]
BS = 4096
HFS_BLKLS_RUNS = [(26, 160), (194, 80), (282, 731)]  # blkls -A, as (first block, count)
APFS_SM_FREE = 904  # spaceman_phys_t sm_dev[main].sm_free_count


@pytest.fixture
def hfsplus(testdata) -> Path:
    return testdata / "disk" / "dfvfs" / "hfsplus.raw"


@pytest.fixture
def apfs(testdata) -> Path:
    return testdata / "disk" / "dfvfs" / "apfs.raw"


def _areas(path: Path) -> tuple[dict[str, list[tuple[int, int]]], list[str]]:
    ev = open_evidence(path, "EV1")
    try:
        areas, notes = carve_areas(ev.spec, ev.info.volumes)
    finally:
        ev.close()
    return {str(a.volume): list(a.runs) for a in areas}, notes


def _apfs_extents(path: Path) -> list[tuple[int, int]]:
    """Byte ranges of every file's data extents in every APFS volume, from libfsapfs."""
    container = pyfsapfs.container()
    container.open(str(path))
    ranges = []
    for v in range(container.get_number_of_volumes()):
        todo = [container.get_volume(v).get_root_directory()]
        while todo:
            for fe in todo.pop().sub_file_entries:
                for i in range(fe.get_number_of_extents()):
                    off, size, _flags = fe.get_extent(i)
                    ranges.append((off, off + size))
                if fe.number_of_sub_file_entries:
                    todo.append(fe)
    container.close()
    return ranges


def _assert_disjoint(runs, used) -> None:
    assert runs and used
    for start, length in runs:
        for a, b in used:
            assert start + length <= a or start >= b, (start, length, a, b)


def test_hfs_free_runs_equal_blkls_and_the_volume_header(hfsplus):
    runs = hfs_runs(pytsk3.Img_Info(str(hfsplus)), 0)
    assert runs == [(first * BS, n * BS) for first, n in HFS_BLKLS_RUNS]
    free_blocks = struct.unpack_from(">I", hfsplus.read_bytes(), 1024 + 48)[0]
    assert sum(n for _, n in runs) == free_blocks * BS == 971 * BS


def test_hfs_is_carved_through_carve_areas_and_never_overlaps_files(hfsplus):
    areas, notes = _areas(hfsplus)
    assert notes == [] and list(areas) == ["fs@0(hfs)"]
    used = allocated_ranges(hfsplus)
    assert len(used) >= 8  # the special files, the data and the resource fork
    _assert_disjoint(areas["fs@0(hfs)"], used)


def test_apfs_free_space_equals_the_space_manager_count(apfs):
    runs = apfs_runs(pytsk3.Img_Info(str(apfs)), 0)
    assert runs == [(110 * BS, APFS_SM_FREE * BS)]
    data = apfs.read_bytes()
    assert struct.unpack_from("<Q", data, 40)[0] == 110 + APFS_SM_FREE  # nx_block_count
    # Everything the container wrote (superblocks, checkpoints, B-trees, file data) is outside.
    assert max(b for b in range(len(data) // BS) if data[b * BS : (b + 1) * BS].strip(b"\0")) < 110
    assert fletcher64(data[:BS]) == struct.unpack_from("<Q", data)[0]


def test_apfs_free_runs_never_overlap_file_extents(apfs):
    areas, notes = _areas(apfs)
    assert notes == []
    extents = _apfs_extents(apfs)
    assert len(extents) >= 2
    _assert_disjoint(areas["fs@0(apfs)"], extents)


def test_apfs_free_space_is_listed_once(apfs):
    areas, _ = _areas(apfs)
    assert list(areas) == ["fs@0(apfs)"]


def test_broken_maps_are_notes_not_exceptions(hfsplus, apfs, tmp_path):
    hfs = bytearray(hfsplus.read_bytes())
    struct.pack_into(">I", hfs, 1024 + 112 + 12, 9)  # allocation file: 9 blocks, extents hold 1
    (tmp_path / "hfs.raw").write_bytes(bytes(hfs))
    areas, notes = _areas(tmp_path / "hfs.raw")
    assert areas == {} and len(notes) == 1
    assert notes[0].startswith("fs@0(hfs): cannot read the allocation map, not carved: HFS+ allocation file")
    assert "extents overflow file" in notes[0]

    data = bytearray(apfs.read_bytes())
    for b in range(len(data) // BS):  # every chunk-info block (object type 7): checksum broken
        if struct.unpack_from("<I", data, b * BS + 24)[0] & 0xFFFF == 7:
            data[b * BS + 100] ^= 0xFF
    (tmp_path / "apfs.raw").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="chunk-info block 0: bad checksum"):
        apfs_runs(pytsk3.Img_Info(str(tmp_path / "apfs.raw")), 0)


def _jpeg() -> bytes:
    im = Image.new("RGB", (64, 48))
    im.putdata([(x * 4, y * 5, 128) for y in range(48) for x in range(64)])
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85)
    return buf.getvalue()


@pytest.mark.parametrize("name,block,volume", [("hfsplus", 300, "fs@0(hfs)"), ("apfs", 500, "fs@0(apfs)")])
def test_picture_written_into_free_space_is_carved(name, block, volume, testdata, tmp_path):
    image = tmp_path / f"{name}.raw"
    shutil.copy(testdata / "disk" / "dfvfs" / f"{name}.raw", image)
    image.chmod(0o644)
    jpeg = _jpeg()
    offset = block * BS
    areas, _ = _areas(image)
    assert any(s <= offset and offset + len(jpeg) <= s + n for s, n in areas[volume])
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
    assert f"EV1/{volume}/$unalloc@{offset}+{len(jpeg)}(carved jpeg)" in carved
    assert not [e for e in report["errors"] if "carving not supported" in e["message"]]


# --------------------------------------------------------------------------- hostile maps
# Corrupt copies built in tmp_path (found in review): a map may claim more than the image holds
# or list the same chunk many times; carving must stay inside the image, count each byte once,
# say what it could not carve, and finish quickly.


def _reblock(data: bytearray, n: int, block: bytearray) -> None:
    struct.pack_into("<Q", block, 0, fletcher64(bytes(block)))
    data[n * BS : (n + 1) * BS] = block


def test_hfs_header_claiming_far_more_blocks_than_the_image(hfsplus, tmp_path):
    data = bytearray(hfsplus.read_bytes())
    struct.pack_into(">I", data, 1024 + 44, 32_000_000)  # total blocks: 131 GB on a 4 MB image
    struct.pack_into(">QII", data, 1024 + 112, 4_000_000, 0, 1000)  # allocation file: 1000 blocks
    struct.pack_into(">II", data, 1024 + 128, 1, 1000)
    for i in range(1, 8):
        struct.pack_into(">II", data, 1024 + 128 + 8 * i, 0, 0)
    (tmp_path / "hfs.raw").write_bytes(bytes(data))
    areas, notes = _areas(tmp_path / "hfs.raw")
    runs = areas["fs@0(hfs)"]
    assert runs and all(off + n <= len(data) for off, n in runs)
    assert len(notes) == 1 and "past the end of its partition or of the image" in notes[0]


def test_truncated_apfs_image_is_carved_inside_and_noted(apfs, tmp_path):
    data = apfs.read_bytes()[:2_000_000]
    (tmp_path / "apfs.raw").write_bytes(data)
    areas, notes = _areas(tmp_path / "apfs.raw")
    assert all(off + n <= len(data) for off, n in areas["fs@0(apfs)"])
    assert len(notes) == 1 and "past the end of its partition or of the image" in notes[0]


def test_apfs_chunks_listed_many_times_are_counted_once(apfs, tmp_path):
    """One chunk-info block listing the whole container 126 times (and overlapping chunks): the
    free space is the container's once, not 126 times."""
    data = bytearray(apfs.read_bytes())
    cib_block = next(  # the chunk-info block (object type 7) of the corpus image
        b for b in range(len(data) // BS) if struct.unpack_from("<I", data, b * BS + 24)[0] & 0xFFFF == 7
    )
    cib = bytearray(data[cib_block * BS : (cib_block + 1) * BS])
    struct.pack_into("<I", cib, 36, 126)
    for j in range(126):
        struct.pack_into("<QQIIQ", cib, 40 + 32 * j, 4, j % 3, 1014, 1014, 0)
    _reblock(data, cib_block, cib)
    (tmp_path / "apfs.raw").write_bytes(bytes(data))
    areas, notes = _areas(tmp_path / "apfs.raw")
    runs = areas["fs@0(apfs)"]
    assert runs == [(0, 1014 * BS)] and notes == []
