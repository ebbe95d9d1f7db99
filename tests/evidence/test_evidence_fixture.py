"""The committed two-partition test disk (tests/data/make_disk_fixtures.py), raw and as E01."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from triage.evidence import iter_medium, open_evidence, read_entry
from triage.locator import Location

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "data"
LISTING = json.loads((FIXTURES / "mbr_fat_ext2.json").read_text(encoding="utf-8"))


def _md5(chunks) -> str:
    h = hashlib.md5()
    for c in chunks:
        h.update(c)
    return h.hexdigest()


@pytest.fixture(params=["mbr_fat_ext2.dd", "mbr_fat_ext2.E01"])
def disk(request):
    ev = open_evidence(FIXTURES / request.param, "CASE1")
    yield ev
    ev.close()


def test_both_partitions_are_found(disk):
    parts = [(v.label, v.offset, v.fs_type) for v in disk.info.volumes if v.label.startswith("p")]
    assert parts == [("p1", 32768, "fat12"), ("p2", 360448, "ext2")]
    assert disk.info.size == LISTING["size"]
    assert disk.warnings == []


def test_every_entry_is_listed_and_readable(disk):
    want = {
        (e["volume"], e["offset"], e["fs_type"], e["path"]): (e["deleted"], e["size"], e["md5"])
        for e in LISTING["entries"]
    }
    got = {}
    for entry in disk.entries():
        vol = entry.location.volume
        got[(vol.label, vol.offset, vol.fs_type, entry.path)] = (
            entry.deleted,
            entry.size,
            _md5(read_entry(entry.ref)),
        )
        assert Location.parse(str(entry.location)) == entry.location
        assert entry.mtime == "2023-11-14T22:13:20Z"
    assert got == want


def test_deleted_picture_is_recovered(disk):
    deleted = [e for e in disk.entries() if e.deleted]
    assert [e.path for e in deleted] == ["/DCIM/_ONE.JPG"]
    data = b"".join(read_entry(deleted[0].ref))
    assert data[:3] == b"\xff\xd8\xff" and data.endswith(b"\xff\xd9")


def test_medium_hash(disk):
    assert _md5(iter_medium(disk.spec)) == LISTING["md5"]
    if disk.info.kind == "ewf":
        assert disk.info.stored_md5 == LISTING["md5"]
        assert dict(disk.info.details)["case_number"] == "TRIAGE-TEST-1"


def test_shifted_image_moves_every_offset(tmp_path):
    """bulk_extractor's check: the same disk behind 64 KiB more bytes → offsets move by exactly that."""
    raw = (FIXTURES / "mbr_fat_ext2.dd").read_bytes()
    shift = 65536
    mbr = bytearray(raw[:512])
    for i in range(4):
        at = 446 + 16 * i + 8
        lba = int.from_bytes(mbr[at : at + 4], "little")
        if lba:
            mbr[at : at + 4] = (lba + shift // 512).to_bytes(4, "little")
    shifted = tmp_path / "shifted.dd"
    shifted.write_bytes(bytes(mbr) + b"\0" * shift + raw[512:])
    before = {
        (e.path, e.location.volume.offset) for e in open_evidence(FIXTURES / "mbr_fat_ext2.dd", "A").entries()
    }
    after = {(e.path, e.location.volume.offset) for e in open_evidence(shifted, "A").entries()}
    assert len(before) == 8 and after == {(p, o + shift) for p, o in before}
