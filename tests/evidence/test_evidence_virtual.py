"""Virtual disks (VHD fixed/dynamic/differential, VMDK sparse and descriptor + flat extents,
QCOW 1/2) through the libyal bindings: what they hold, their parents, and reads in workers.

The listings themselves are compared with fls in ``test_evidence_catalogue.py``; here the
logical content is checked byte for byte against the raw image it was made from, and the
containers built at test time (fixed VHD, flat VMDK) cover the layouts the corpus lacks.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import shutil
from pathlib import Path

import pytest
from expected_listings import CONTENT_MD5
from fls_listing import assert_same_as_fls
from image_builders import write_fixed_vhd, write_flat_vmdk

from triage.errors import EvidenceError
from triage.evidence import OPENERS, iter_medium, open_evidence, read_entry
from triage.locator import Location

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "data"
EXT2_MD5 = "196066add11fb71c4c49cf1bb50d6d24"  # dfvfs's 4 MiB ext2 (= ext2.splitraw, ext2.E01)
SLEUTHKIT_VDISK_MD5 = "a528fc1bec79f4fef062f2bf1008c045"  # the ext2 in sleuthkit/image.{vhd,vmdk,qcow}


def _md5(chunks, limit: int | None = None) -> str:
    h = hashlib.md5()
    left = limit
    for c in chunks:
        if left is not None:
            c = c[:left]
            left -= len(c)
        h.update(c)
    return h.hexdigest()


# (image, kind, logical size, md5 of the first `size of the raw` bytes, raw size, disk type)
VDISKS = [
    ("sleuthkit/image.vhd", "vhdi", 104448, SLEUTHKIT_VDISK_MD5, 102400, "dynamic"),
    ("sleuthkit/image.vmdk", "vmdk", 102400, SLEUTHKIT_VDISK_MD5, 102400, "monolithic_sparse"),
    ("sleuthkit/image.qcow", "qcow", 102400, SLEUTHKIT_VDISK_MD5, 102400, None),
    ("dfvfs/ext2.vhd", "vhdi", 4212736, EXT2_MD5, 4194304, "dynamic"),
    ("dfvfs/ext2.vmdk", "vmdk", 4194304, EXT2_MD5, 4194304, "monolithic_sparse"),
    ("dfvfs/ext2.qcow2", "qcow", 4194304, EXT2_MD5, 4194304, None),
]


def test_virtual_disks_sit_before_the_raw_fallback():
    names = [n for n, _d, _o in OPENERS]
    assert names.index("vhdi") < names.index("raw") and names.index("vmdk") < names.index("splitraw")
    assert names.index("qcow") < names.index("raw")


@pytest.mark.parametrize("image, kind, size, md5, raw_size, disk_type", VDISKS, ids=[v[0] for v in VDISKS])
def test_logical_content_is_the_raw_disk(testdata, image, kind, size, md5, raw_size, disk_type):
    ev = open_evidence(testdata / "disk" / image, "EV1")
    assert ev.info.kind == kind and ev.info.size == size
    assert [v.fs_type for v in ev.info.volumes] == ["ext2"]
    # VHD rounds the disk up to whole CHS cylinders; the rest is zeros
    assert _md5(iter_medium(ev.spec, 65536), limit=raw_size) == md5
    details = dict(ev.info.details)
    if disk_type:
        assert details["disk_type"] == disk_type
    assert details["media_size"] == str(size)
    for entry in ev.entries():
        if entry.name in CONTENT_MD5:
            assert _md5(read_entry(entry.ref)) == CONTENT_MD5[entry.name]


def test_differential_vhd_reads_through_its_parent(testdata):
    folder = testdata / "disk" / "dfvfs"
    ev = open_evidence(folder / "image-differential.vhd", "EV1")
    assert ev.spec.kind == "vhdi"
    assert [Path(p).name for p in ev.spec.paths] == ["image-differential.vhd", "image.vhd"]
    details = dict(ev.info.details)
    assert details["disk_type"] == "differential" and details["parent_filename"] == "image.vhd"
    assert details["parent_identifier"] == "d49c5c80-350a-4a89-898a-5ad6d10f6578"
    parent = open_evidence(folder / "image.vhd", "EV2")
    assert _md5(iter_medium(ev.spec)) == _md5(iter_medium(parent.spec)) == "221a58695f266d7ce045f2e54926e6e2"
    entry = next(e for e in ev.entries() if e.path == "/passwords.txt")
    assert _md5(read_entry(entry.ref)) == CONTENT_MD5["passwords.txt"]


def test_differential_vhd_without_its_parent_is_refused(testdata, tmp_path):
    shutil.copy(testdata / "disk" / "dfvfs" / "image-differential.vhd", tmp_path)
    with pytest.raises(EvidenceError, match=r"needs its parent 'image\.vhd'") as err:
        open_evidence(tmp_path / "image-differential.vhd", "EV1")
    assert "\n" not in str(err.value)


def test_differential_vhd_with_a_foreign_parent_is_refused(testdata, tmp_path):
    shutil.copy(testdata / "disk" / "dfvfs" / "image-differential.vhd", tmp_path)
    # same name, another disk
    shutil.copy(testdata / "disk" / "sleuthkit" / "image.vhd", tmp_path / "image.vhd")
    with pytest.raises(EvidenceError, match="the child expects d49c5c80"):
        open_evidence(tmp_path / "image-differential.vhd", "EV1")


def test_fixed_vhd(testdata, tmp_path):
    raw = (testdata / "disk" / "sleuthkit" / "image.dd").read_bytes()
    ev = open_evidence(write_fixed_vhd(raw, tmp_path / "fixed.vhd"), "EV1")
    assert ev.info.kind == "vhdi" and ev.info.size == len(raw)
    assert dict(ev.info.details)["disk_type"] == "fixed"
    assert _md5(iter_medium(ev.spec)) == hashlib.md5(raw).hexdigest()
    assert_same_as_fls(ev, (testdata / "expected" / "sleuthkit_image.dd.txt").read_text(encoding="utf-8"))


def test_fixed_vhd_of_a_partitioned_disk_lists_every_slot(tmp_path):
    """The project's two-partition fixture inside a fixed VHD: same slots, same files, same bytes."""
    listing = json.loads((FIXTURES / "mbr_fat_ext2.json").read_text(encoding="utf-8"))
    ev = open_evidence(write_fixed_vhd((FIXTURES / "mbr_fat_ext2.dd").read_bytes(), tmp_path / "d.vhd"), "C")
    raw = open_evidence(FIXTURES / "mbr_fat_ext2.dd", "C")
    assert ev.info.volumes == raw.info.volumes
    want = {(e["volume"], e["path"]): e["md5"] for e in listing["entries"]}
    got = {(e.location.volume.label, e.path): _md5(read_entry(e.ref)) for e in ev.entries()}
    assert got == want


@pytest.mark.parametrize("pieces", [1, 2])
def test_vmdk_descriptor_with_flat_extents(testdata, tmp_path, pieces):
    raw = (testdata / "disk" / "sleuthkit" / "image.dd").read_bytes()
    descriptor = write_flat_vmdk(raw, tmp_path, "disk", pieces)
    ev = open_evidence(descriptor, "EV1")
    assert ev.info.kind == "vmdk" and ev.spec.paths == (str(descriptor),)
    assert [Path(p).name for p in ev.info.segments] == ["disk.vmdk"] + [
        f"disk-f{i + 1:03d}.vmdk" for i in range(pieces)
    ]
    assert _md5(iter_medium(ev.spec)) == hashlib.md5(raw).hexdigest()
    assert_same_as_fls(ev, (testdata / "expected" / "sleuthkit_image.dd.txt").read_text(encoding="utf-8"))


def test_vmdk_descriptor_missing_an_extent_is_refused(testdata, tmp_path):
    raw = (testdata / "disk" / "sleuthkit" / "image.dd").read_bytes()
    descriptor = write_flat_vmdk(raw, tmp_path, "disk", 2)
    (tmp_path / "disk-f002.vmdk").unlink()
    with pytest.raises(EvidenceError, match=r"disk-f002\.vmdk") as err:
        open_evidence(descriptor, "EV1")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("image", ["dfvfs/ext2.vmdk", "dfvfs/ext2.qcow2", "dfvfs/ext2.vhd"])
def test_truncated_virtual_disk_fails_cleanly(testdata, tmp_path, image):
    data = (testdata / "disk" / image).read_bytes()
    cut = tmp_path / Path(image).name
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(EvidenceError) as err:
        ev = open_evidence(cut, "EV1")
        list(ev.entries())
    assert "\n" not in str(err.value)


def _read_refs(refs):
    return [_md5(read_entry(r)) for r in refs]


def test_forked_workers_read_virtual_disks(testdata):
    refs = []
    for image in ("dfvfs/ext2.vhd", "dfvfs/ext2.vmdk", "dfvfs/ext2.qcow2", "dfvfs/image-differential.vhd"):
        ev = open_evidence(testdata / "disk" / image, "EV1")
        refs += [e.ref for e in ev.entries() if e.name in CONTENT_MD5]
    expected = _read_refs(refs)  # fills this process's cache
    assert sorted(set(expected)) == sorted(set(CONTENT_MD5.values()))
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(_read_refs, [refs[::2], refs[1::2]])
    assert results == [expected[::2], expected[1::2]]


def test_locations_parse_back(testdata):
    ev = open_evidence(testdata / "disk" / "dfvfs" / "ext2.qcow2", "EV1")
    locs = [str(e.location) for e in ev.entries()]
    assert "EV1/fs@0(ext2)/passwords.txt#14" in locs
    assert all(str(Location.parse(s)) == s for s in locs)


def test_renamed_monolithic_sparse_vmdk_still_reads(testdata, tmp_path):
    """Its embedded descriptor names the file as first called (ext2.vmdk); a renamed copy reads."""
    shutil.copy(testdata / "disk" / "dfvfs" / "ext2.vmdk", tmp_path / "exhibit-7.vmdk")
    ev = open_evidence(tmp_path / "exhibit-7.vmdk", "EV1")
    assert _md5(iter_medium(ev.spec)) == EXT2_MD5
    entry = next(e for e in ev.entries() if e.path == "/a_directory/a_file")
    assert _md5(read_entry(entry.ref)) == CONTENT_MD5["a_file"]
