"""Containers and hard cases: split sets, E01 metadata, odd file systems, broken inputs."""

from __future__ import annotations

import hashlib
import multiprocessing
import shutil
import time

import pytest

from triage.errors import EvidenceError, UsageError
from triage.evidence import OPENERS, iter_medium, open_evidence, read_entry
from triage.evidence.rawimage import find_segments
from triage.locator import Location


def _md5(chunks) -> str:
    h = hashlib.md5()
    for c in chunks:
        h.update(c)
    return h.hexdigest()


def test_opener_table_ends_with_raw_fallback():
    assert [name for name, _d, _o in OPENERS][-1] == "raw"
    assert len({name for name, _d, _o in OPENERS}) == len(OPENERS)


def test_a_raising_detector_is_skipped(monkeypatch, testdata):
    def broken(path, head):
        raise RuntimeError("detector bug")

    monkeypatch.setattr("triage.evidence.OPENERS", [("broken", broken, None), *OPENERS])
    ev = open_evidence(testdata / "disk" / "sleuthkit" / "image.dd", "EV1")
    assert ev.info.kind == "raw"


def test_e01_info_and_stored_hash_verifies(testdata):
    ev = open_evidence(testdata / "disk" / "sleuthkit" / "imageformat_mmls_1.E01", "EV1")
    info = ev.info
    assert info.kind == "ewf" and info.size == 62915072
    assert info.stored_md5 == "8ec671e301095c258224aad701740503"
    assert info.stored_sha1 == "067bc6ab29685ee19b0cf82c9d15ac510d1e7d95"
    details = dict(info.details)
    assert details["case_number"] == "1" and details["examiner_name"] == "Rishwanth"
    assert details["acquiry_date"] == "Wed May 16 15:05:08 2018"
    assert _md5(iter_medium(ev.spec)) == info.stored_md5


def test_split_e01_segments_and_medium(testdata):
    ev = open_evidence(testdata / "disk" / "dfvfs" / "ext2.split.E01", "EV1")
    assert [p.rsplit("/", 1)[-1] for p in ev.info.segments] == ["ext2.split.E01", "ext2.split.E02"]
    assert _md5(iter_medium(ev.spec, 1 << 20)) == ev.info.stored_md5 == "196066add11fb71c4c49cf1bb50d6d24"


def test_split_raw_finds_every_segment_and_equals_the_e01(testdata):
    ev = open_evidence(testdata / "disk" / "dfvfs" / "ext2.splitraw.000", "EV1")
    assert ev.info.kind == "splitraw" and len(ev.info.segments) == 2
    assert ev.info.size == 4194304
    # the split raw and the split E01 hold the same 4 MiB ext2
    assert _md5(iter_medium(ev.spec)) == "196066add11fb71c4c49cf1bb50d6d24"


@pytest.mark.parametrize(
    "names, given, expected",
    [
        (["d.000", "d.001", "d.002"], "d.000", ["d.000", "d.001", "d.002"]),
        (["d.001", "d.002"], "d.001", ["d.001", "d.002"]),
        (["d.aa", "d.ab", "d.ac"], "d.aa", ["d.aa", "d.ab", "d.ac"]),
        (["d.000", "d.001"], "d.001", ["d.000", "d.001"]),  # not the first: extended backwards
    ],
)
def test_split_raw_naming(tmp_path, names, given, expected):
    for n in names:
        (tmp_path / n).write_bytes(b"x")
    segments, _ = find_segments(tmp_path / given)
    assert [p.name for p in segments] == expected


def test_fat32_small_opens_as_fat32(gunzip):
    ev = open_evidence(gunzip("dfir_ntfs/fat32_small.raw.gz"), "EV1")
    assert [(v.label, v.fs_type) for v in ev.info.volumes] == [("fs", "fat32")]
    entries = list(ev.entries())
    assert {e.path for e in entries} == {"/test/1.TXT", "/test/2.TXT", "/test/.2.TXT.swp"}
    assert all(e.ref.fs_type == "fat32" for e in entries)
    # a reader in another process reopens it with the recorded explicit type
    one = next(e for e in entries if e.path == "/test/1.TXT")
    assert len(b"".join(read_entry(one.ref))) == one.size


def test_fat32_loop_terminates_with_a_warning(gunzip):
    ev = open_evidence(gunzip("dfir_ntfs/fat32_loop.raw.gz"), "EV1")
    start = time.monotonic()
    entries = list(ev.entries())
    assert time.monotonic() - start < 20
    assert any("loop" in w for w in ev.warnings), ev.warnings
    assert len(entries) == len({(e.path, e.inode) for e in entries})


def test_bogus_file_is_refused(testdata):
    with pytest.raises(EvidenceError, match="not a recognised disk image or file system"):
        open_evidence(testdata / "disk" / "dfvfs" / "bogus.001", "EV1")


def test_missing_path_is_refused(tmp_path):
    with pytest.raises(EvidenceError, match="evidence not found"):
        open_evidence(tmp_path / "nope.E01", "EV1")


@pytest.mark.parametrize("keep", [5000, 200_000])
def test_truncated_e01_fails_cleanly(testdata, tmp_path, keep):
    src = (testdata / "disk" / "sleuthkit" / "imageformat_mmls_1.E01").read_bytes()
    cut = tmp_path / "cut.E01"
    cut.write_bytes(src[:keep])
    with pytest.raises(EvidenceError) as err:
        open_evidence(cut, "EV1")
    assert "\n" not in str(err.value)


def test_e01_missing_its_second_segment_fails_cleanly(testdata, tmp_path):
    shutil.copy(testdata / "disk" / "dfvfs" / "ext2.split.E01", tmp_path / "only.E01")
    with pytest.raises(EvidenceError, match="truncated, corrupt or missing a segment"):
        open_evidence(tmp_path / "only.E01", "EV1")


def test_non_ascii_image_name(testdata):
    path = testdata / "disk" / "dfvfs" / "ímynd.dd"
    ev = open_evidence(path, "EV1")
    assert ev.info.source == str(path)
    entry = next(e for e in ev.entries() if e.path == "/passwords.txt")
    assert b"".join(read_entry(entry.ref)).startswith(b"place,user,password")


# md5 of The Sleuth Kit's icat output for these meta addresses (recorded with icat 4.11.1)
ICAT_MD5 = [
    ("pytsk/image.raw", "/passwords.txt", "39cb097008d17660abd0539891a672af"),
    ("pytsk/image.raw", "/$OrphanFiles/OrphanFile-13", "d41d8cd98f00b204e9800998ecf8427e"),
    ("dfvfs/ext2.split.E01", "/a_directory/a_file", "85bebf486af24792085f769afa46717d"),
    ("sleuthkit/imageformat_mmls_1.E01", "p1:/$UpCase:$Info", "fc6146cf9b02b98df4925a81e935c97d"),
    ("sleuthkit/imageformat_mmls_1.E01", "p1:/$MFT", "81c0173a516f574fa94f0b34877fd332"),
    (
        "sleuthkit/imageformat_mmls_1.E01",
        "p1:/System Volume Information/IndexerVolumeGuid",
        "65c6c3322232cc91420100456b3fc849",
    ),
    (
        "sleuthkit/imageformat_mmls_1.E01",
        "p2:/System Volume Information/IndexerVolumeGuid",
        "13a7b54757738b47d264eb57c88abe5a",
    ),
]


@pytest.mark.parametrize("image, where, md5", ICAT_MD5)
def test_read_entry_equals_icat(testdata, image, where, md5):
    label, _, path = where.rpartition(":/") if ":/" in where else ("", "", where[1:])
    ev = open_evidence(testdata / "disk" / image, "EV1")
    matches = [
        e for e in ev.entries() if e.path == "/" + path and (not label or e.location.volume.label == label)
    ]
    assert len(matches) == 1
    (entry,) = matches
    assert _md5(read_entry(entry.ref, chunk_size=4096)) == md5
    assert Location.parse(str(entry.location)) == entry.location


def test_deleted_name_without_metadata(testdata):
    ev = open_evidence(testdata / "disk" / "sleuthkit" / "image.dd", "EV1")
    entry = next(e for e in ev.entries() if e.path == "/a_directory/another_file~")
    assert entry.deleted and entry.size == 0 and "no-meta" in entry.flags and entry.ref.inode is None
    with pytest.raises(EvidenceError, match="no metadata"):
        list(read_entry(entry.ref))


def test_orphans_are_flagged(testdata):
    ev = open_evidence(testdata / "disk" / "plaso" / "syslog_image.dd", "EV1")
    orphans = [e for e in ev.entries() if "orphan" in e.flags]
    assert [e.path for e in orphans] == [f"/$OrphanFiles/OrphanFile-{i}" for i in (14, 15, 16)]
    assert all(e.deleted for e in orphans)
    assert [len(b"".join(read_entry(e.ref))) for e in orphans] == [e.size for e in orphans]


def test_ntfs_streams_and_times(testdata):
    ev = open_evidence(testdata / "disk" / "sleuthkit" / "imageformat_mmls_1.E01", "EV1")
    entries = {(e.location.volume.label, e.path): e for e in ev.entries()}
    info = entries[("p1", "/$UpCase:$Info")]
    assert info.inode == "10-128-4" and (info.ref.attr_type, info.ref.attr_id) == (128, 4)
    guid = entries[("p1", "/System Volume Information/IndexerVolumeGuid")]
    assert guid.mtime and guid.mtime.startswith("2018-") and guid.mtime.endswith("Z")
    assert str(guid.location) == "EV1/p1@65536(ntfs)/System Volume Information/IndexerVolumeGuid#38-128-1"


def test_listing_is_deterministic(testdata):
    path = testdata / "disk" / "sleuthkit" / "imageformat_mmls_1.E01"
    runs = []
    for _ in range(2):
        ev = open_evidence(path, "EV1")
        runs.append([str(e.location) for e in ev.entries()])
        ev.close()
    assert runs[0] == runs[1] and runs[0]


def test_invalid_evidence_id_is_a_usage_error(testdata):
    with pytest.raises(UsageError):
        open_evidence(testdata / "disk" / "sleuthkit" / "image.dd", "bad id/with slash")


def test_a_folder_has_no_medium(tmp_path):
    with pytest.raises(EvidenceError):
        list(iter_medium(open_evidence(tmp_path, "EV1").spec))


def _read_all(refs):
    return [_md5(read_entry(r)) for r in refs]


def test_forked_workers_read_through_their_own_handles(testdata):
    """The parent's cached E01 handle is not reused after fork (shared file offsets)."""
    ev = open_evidence(testdata / "disk" / "sleuthkit" / "imageformat_mmls_1.E01", "EV1")
    refs = [e.ref for e in ev.entries() if e.size and e.size < 300_000]
    expected = _read_all(refs)  # fills this process's cache
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        results = pool.map(_read_all, [refs[::2], refs[1::2]])
    assert results == [expected[::2], expected[1::2]]


def test_small_fat32_free_space_uses_32_bit_fat_entries(gunzip, tmp_path):
    """fat32_small has too few clusters for FAT32, yet its FAT holds 32-bit entries: clusters
    marked in use there must not be carved as free space (they hold live files' bytes)."""
    import shutil
    import struct

    from triage.evidence.carving.unalloc import carve_areas

    image = tmp_path / "fat32_small.raw"
    shutil.copy(gunzip("dfir_ntfs/fat32_small.raw.gz"), image)
    data = bytearray(image.read_bytes())
    bps, spc, reserved = struct.unpack_from("<HBH", data, 11)
    fat = reserved * bps
    for c in range(10, 200):  # a chain of clusters 10..199, in use
        struct.pack_into("<I", data, fat + 4 * c, c + 1 if c < 199 else 0x0FFFFFFF)
    image.write_bytes(bytes(data))
    ev = open_evidence(image, "EV1")
    areas, _notes = carve_areas(ev.spec, ev.info.volumes)
    ev.close()
    (nfats,) = struct.unpack_from("<B", data, 16)
    (fatsz,) = struct.unpack_from("<I", data, 36)
    first_data = (reserved + nfats * fatsz) * bps
    used = range(first_data + (10 - 2) * spc * bps, first_data + (200 - 2) * spc * bps)
    for area in areas:
        for start, length in area.runs:
            assert start + length <= used.start or start >= used.stop, (start, length)
