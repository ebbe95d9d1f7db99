"""APFS through libfsapfs: a bare container (dfvfs/apfs.raw) and the same container in a GPT
partition (built at test time), listed, located and read in worker processes.

There is no fls reference for APFS; the expected list (``expected_listings.APFS_RAW``) was
written by hand from what pyfsapfs shows for the image.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from dataclasses import replace

import pytest
from expected_listings import APFS_RAW, CONTENT_MD5
from image_builders import write_gpt_disk

from triage.errors import EvidenceError
from triage.evidence import open_evidence, read_entry
from triage.locator import Location, Volume
from triage.records import VolumeInfo


def _md5(chunks) -> str:
    h = hashlib.md5()
    for c in chunks:
        h.update(c)
    return h.hexdigest()


@pytest.fixture
def apfs_raw(testdata):
    return testdata / "disk" / "dfvfs" / "apfs.raw"


def test_bare_container_volumes_and_files(apfs_raw):
    ev = open_evidence(apfs_raw, "EV1")
    size = apfs_raw.stat().st_size
    assert ev.info.kind == "raw"
    assert ev.info.volumes == (
        VolumeInfo("fs", 0, size, "APFS container (no partition table)", "apfs"),
        VolumeInfo("apfs1", 0, size, "APFS volume 'apfs_test'", "apfs"),
    )
    assert ev.warnings == []
    entries = list(ev.entries())
    assert {(e.path, e.inode, e.size) for e in entries} == APFS_RAW
    assert all(not e.deleted and e.location.volume == Volume("apfs1", 0, "apfs") for e in entries)
    assert all(e.ref.fs_type == "apfs" and e.ref.volume_index == 0 for e in entries)
    pw = next(e for e in entries if e.path == "/passwords.txt")
    assert str(pw.location) == "EV1/apfs1@0(apfs)/passwords.txt#18"
    assert Location.parse(str(pw.location)) == pw.location
    assert pw.mtime == "2022-01-14T07:19:41.2133334Z"
    assert pw.crtime and pw.crtime.startswith("2022-01-14T07:19:41")


def test_file_content(apfs_raw):
    ev = open_evidence(apfs_raw, "EV1")
    got = {e.name: _md5(read_entry(e.ref, chunk_size=16)) for e in ev.entries()}
    for name, md5 in CONTENT_MD5.items():
        assert got[name] == md5
    assert got["a_resourcefork"] == hashlib.md5(b"").hexdigest()


def test_container_in_a_gpt_partition(apfs_raw, tmp_path):
    offset = write_gpt_disk(apfs_raw.read_bytes(), tmp_path / "gpt.raw")
    ev = open_evidence(tmp_path / "gpt.raw", "EV1")
    slots = [(v.label, v.offset, v.fs_type) for v in ev.info.volumes]
    assert ("p1", offset, "apfs") in slots and ("apfs1", offset, "apfs") in slots
    assert slots.index(("apfs1", offset, "apfs")) == slots.index(("p1", offset, "apfs")) + 1
    assert ev.warnings == []  # TSK's "no file system in p1" is replaced by the APFS container
    entries = list(ev.entries())
    assert {(e.path, e.inode, e.size) for e in entries} == APFS_RAW
    pw = next(e for e in entries if e.path == "/passwords.txt")
    assert str(pw.location) == f"EV1/apfs1@{offset}(apfs)/passwords.txt#18"
    assert _md5(read_entry(pw.ref)) == CONTENT_MD5["passwords.txt"]


def _read_refs(refs):
    return [_md5(read_entry(r)) for r in refs]


def test_forked_workers_read_apfs(apfs_raw):
    refs = [e.ref for e in open_evidence(apfs_raw, "EV1").entries()]
    expected = _read_refs(refs)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(_read_refs, [refs[::2], refs[1::2]])
    assert results == [expected[::2], expected[1::2]]


def test_a_reference_without_volume_index_is_refused(apfs_raw):
    """Volume 0 is never guessed: in a multi-volume container it would read another file."""
    entry = next(e for e in open_evidence(apfs_raw, "EV1").entries() if e.path == "/passwords.txt")
    with pytest.raises(EvidenceError, match="no volume index"):
        list(read_entry(replace(entry.ref, volume_index=None)))
