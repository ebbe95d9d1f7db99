"""The case store on real SQLite files: round trips, batches, refusals, a killed writer."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from triage.case.store import CaseStore
from triage.errors import CaseError
from triage.locator import Location, Volume
from triage.records import (
    CaseInfo,
    Entry,
    EntryRef,
    EvidenceInfo,
    FileHashes,
    HashSetInfo,
    Match,
    SourceSpec,
    VolumeInfo,
)

TOOL = {"name": "triage", "version": "0.1.0"}
RAW = SourceSpec("raw", ("/evidence/disk.dd",))
FOLDER = SourceSpec("folder", ("/evidence/folder",))
NAMES = ("<script>alert(1)</script>.jpg", '=HYPERLINK("x").jpg', "\u202egpj.exe", "new\nline.jpg",
         "bad\udcffbyte.jpg", "日本語.jpg", "123")  # fmt: skip


def make_entries() -> list[Entry]:
    vol = Volume("p2", 1048576, "ntfs")
    out = []
    for i, name in enumerate(NAMES):
        path = f"/dir/{name}"
        out.append(
            Entry("EV1", Location("EV1", vol, path, f"{64 + i}-128-3"), path, 10 * i, i % 2 == 0,
                  EntryRef(RAW, volume_offset=vol.offset, fs_type="ntfs", inode=64 + i,
                           attr_type=128, attr_id=3),
                  inode=f"{64 + i}-128-3", mtime="2026-11-22T00:30:39Z", atime=None,
                  ctime="2026-11-22T00:30:39.1234567Z", crtime=None, flags=("realloc",) if i == 1 else ())
        )  # fmt: skip
    folder_path = "/DCIM/p1@0(ntfs)/x\udc80.jpg"
    out.append(
        Entry("EV2", Location("EV2", None, folder_path), folder_path, 5, False,
              EntryRef(FOLDER, fs_path="/evidence/folder/DCIM/p1@0(ntfs)/x\udc80.jpg"))
    )  # fmt: skip
    out.append(
        Entry("EV1", Location("EV1", vol, "/a.zip", "70", ("photos/c.jpg",)), "/a.zip>photos/c.jpg", 7, False,
              EntryRef(RAW, volume_offset=vol.offset, fs_type="ntfs", inode=70), flags=("orphan", "no-meta"))
    )  # fmt: skip
    return out


def new_store(case_dir: Path) -> CaseStore:
    store = CaseStore.create(
        case_dir, CaseInfo("C-1", "Ex", extra=(("court", "X"),)), command_line=["t"], tool=TOOL
    )
    store.add_evidence(
        EvidenceInfo("EV1", "/evidence/disk.dd", "raw", 1 << 20, ("/evidence/disk.dd",), "A" * 32, None,
                     (VolumeInfo("p1", 512, 1000, "Linux (0x83)", None, "no file system"),
                      VolumeInfo("p2", 1048576, 2000, "NTFS (0x07)", "ntfs")), (("examiner", "E01 person"),))
    )  # fmt: skip
    store.add_evidence(EvidenceInfo("EV2", "/evidence/folder\udcff", "folder", 0))
    store.add_hashset(HashSetInfo("/sets/a.csv", "c" * 64, "csv", 2, (("md5", 1), ("pdq", 1)), "A"))
    return store


@pytest.fixture
def store(tmp_path):
    s = new_store(tmp_path / "case")
    yield s
    s.close()


def _pending(store):
    """The pending entries in walk order, as a resume reads them back."""
    return store.entries_by_id(sorted(i for i, _size, _flags in store.pending_order()))


def test_entries_round_trip_through_pending_entries(store):
    entries = make_entries()
    ids = store.add_entries(entries)
    assert ids == list(range(1, len(entries) + 1))  # walk order
    assert _pending(store) == list(zip(ids, entries, strict=True))
    store.record_results([(ids[0], FileHashes(size_read=0, md5="d" * 32), [])])
    store.record_error(ids[1], None, "worker timed out after 60 s")
    assert [i for i, _ in _pending(store)] == ids[2:]
    assert [i for i, _ in _pending(store)] == ids[2:]  # reading never changes state


def test_reopened_store_reads_everything_back(tmp_path):
    store = new_store(tmp_path / "case")
    ids = store.add_entries(make_entries())
    store.set_setting("match_policy", {"pdq_max_distance": 31, "b": [1, 2]})
    store.stage("listing", "2026-01-01T00:00:00Z", None)
    store.stage("listing", "2026-01-01T00:00:00Z", "2026-01-01T00:00:09Z")
    store.set_evidence_hashes("EV1", md5="a" * 32, sha1="b" * 40, sha256=None, verification="verified")
    store.finish("2026-01-01T00:01:00Z")
    store.close()
    with CaseStore.open(tmp_path / "case") as s:
        assert s.case_info() == CaseInfo("C-1", "Ex", extra=(("court", "X"),))
        assert s.finished_at == "2026-01-01T00:01:00Z" and s.started_at.endswith("Z")
        assert s.command_line() == ["t"] and s.tool() == TOOL
        assert s.settings() == {"match_policy": {"b": [1, 2], "pdq_max_distance": 31}}
        assert s.stages() == [{"name": "listing", "started_at": "2026-01-01T00:00:00Z",
                               "finished_at": "2026-01-01T00:00:09Z"}]  # fmt: skip
        ev1, ev2 = s.evidence()
        assert (ev1["id"], ev1["verification"], ev1["md5"], ev1["stored_md5"]) == (
            "EV1",
            "verified",
            "a" * 32,
            "A" * 32,
        )
        assert [v["label"] for v in ev1["volumes"]] == ["p1", "p2"] and ev1["volumes"][0][
            "error"
        ] == "no file system"
        assert ev1["details"] == [("examiner", "E01 person")]
        assert ev2["source"] == "/evidence/folder\udcff" and ev2["verification"] == "not computed"
        assert s.hashsets() == [HashSetInfo("/sets/a.csv", "c" * 64, "csv", 2, (("md5", 1), ("pdq", 1)), "A")]
        assert [i for i, _ in _pending(s)] == ids


def test_results_matches_errors_and_summary(store):
    ids = store.add_entries(make_entries())
    pdq = "f" * 64
    store.record_results([
        (ids[4], FileHashes(10, md5="1" * 32, sha256="2" * 64, media_type="image/jpeg",
                            media_kind="picture", width=4, height=3, pdq=pdq, pdq_quality=80,
                            phash="0" * 16, error="decode failed"),
         [Match("perceptual", "pdq", 3, "/sets/a.csv", pdq, "e" * 64, "K9", "c", "n"),
          Match("exact", "md5", 0, "/sets/a.csv", "1" * 32, "1" * 32, "K1")]),
        (ids[0], FileHashes(0, md5="3" * 32, media_type="video/mp4", media_kind="video"), []),
    ])  # fmt: skip
    store.record_error(None, "EV2", "evidence warning")
    files = list(store.iter_files())
    assert [f["location"] for f in files] == sorted(f["location"] for f in files)
    bad = next(f for f in files if f["entry_id"] == ids[4])
    assert (
        bad["path"] == "/dir/bad\udcffbyte.jpg"
        and bad["status"] == "hashed"
        and bad["error"] == "decode failed"
    )
    assert (bad["pdq"], bad["pdq_quality"], bad["width"], bad["deleted"]) == (pdq, 80, 4, True)
    matches = list(store.iter_matches())
    assert [(m["kind"], m["algorithm"], m["distance"], m["entry_id"]) for m in matches] == [
        ("exact", "md5", 0, "K1"), ("perceptual", "pdq", 3, "K9")]  # fmt: skip
    assert all(m["file_id"] == ids[4] and m["sha256"] == "2" * 64 for m in matches)
    errors = store.errors()
    assert errors[0] == {
        "entry_id": None,
        "evidence_id": "EV2",
        "location": None,
        "message": "evidence warning",
    }
    assert errors[1]["entry_id"] == ids[4] and errors[1]["location"] == str(make_entries()[4].location)
    assert store.summary() == {
        "files": 9, "media_files": 2, "pictures": 1, "videos": 1, "matches": 2, "matched_files": 1,
        "errors": 2, "deleted": 4, "bytes": sum(e.size for e in make_entries()), "pending": 7,
        "known_good": 0, "conflicts": 0, "match_rows": 2, "no_files": False,
    }  # fmt: skip


def test_a_failing_batch_is_rolled_back_whole(store):
    ids = store.add_entries(make_entries())
    good = (
        ids[0],
        FileHashes(1, md5="1" * 32),
        [Match("exact", "md5", 0, "/sets/a.csv", "1" * 32, "1" * 32)],
    )
    with pytest.raises(CaseError, match="not in this case"):
        store.record_results([good, (9999, FileHashes(1), [])])
    with pytest.raises(CaseError, match="rolled back"):  # a match against a hash set the case never loaded
        store.record_results([(ids[1], FileHashes(1), [Match("exact", "md5", 0, "/nope", "1", "1")])])
    assert store.summary()["matches"] == 0 and len(_pending(store)) == len(ids)
    store.record_results([good])
    with pytest.raises(CaseError, match="already has results"):
        store.record_results([good])
    assert store.summary()["matches"] == 1


def test_invalid_writes_are_refused(store):
    with pytest.raises(CaseError, match="verification"):
        store.set_evidence_hashes("EV1", md5=None, sha1=None, sha256=None, verification="probably fine")
    with pytest.raises(CaseError, match="no evidence"):
        store.set_evidence_hashes("EV9", md5=None, sha1=None, sha256=None, verification="verified")
    with pytest.raises(CaseError, match="JSON"):
        store.set_setting("x", object())
    with pytest.raises(CaseError, match="not in this case"):
        store.record_error(12345, None, "no such entry")


def test_create_refuses_an_existing_case(tmp_path):
    new_store(tmp_path / "case").close()
    before = (tmp_path / "case" / "case.sqlite").read_bytes()
    with pytest.raises(CaseError, match="already holds a case"):
        CaseStore.create(tmp_path / "case", CaseInfo("C-2", "Other"), command_line=[], tool=TOOL)
    assert (tmp_path / "case" / "case.sqlite").read_bytes() == before
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "audit.jsonl").write_text("{}\n")
    with pytest.raises(CaseError, match="already holds a case"):
        CaseStore.create(tmp_path / "other", CaseInfo("C-2", "Other"), command_line=[], tool=TOOL)


def test_open_refuses_what_is_not_a_case(tmp_path):
    with pytest.raises(CaseError, match=r"no case\.sqlite"):
        CaseStore.open(tmp_path)
    (tmp_path / "case.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(CaseError, match="not a database"):
        CaseStore.open(tmp_path)
    (tmp_path / "case.sqlite").unlink()
    sqlite3.connect(tmp_path / "case.sqlite").execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(CaseError, match="not a triage case"):
        CaseStore.open(tmp_path)


def test_open_refuses_another_schema_version(tmp_path):
    new_store(tmp_path / "case").close()
    conn = sqlite3.connect(tmp_path / "case" / "case.sqlite")
    with conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(CaseError, match="schema version 99"):
        CaseStore.open(tmp_path / "case")


def test_closed_case_folder_holds_only_the_database_and_log(tmp_path):
    store = new_store(tmp_path / "case")
    store.add_entries(make_entries())
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    store.close()
    assert sorted(os.listdir(tmp_path / "case")) == ["audit.jsonl", "case.sqlite"]


def test_read_only_store_refuses_writes(tmp_path):
    new_store(tmp_path / "case").close()
    with CaseStore.open(tmp_path / "case", read_only=True) as s, pytest.raises(CaseError, match="read-only"):
        s.audit("x")


KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from triage.case.store import CaseStore
    from triage.locator import Location
    from triage.records import CaseInfo, Entry, EntryRef, EvidenceInfo, SourceSpec

    def entry(i):
        path = "/" + "d" * 200 + f"/{i:06d}.jpg"
        return Entry("EV1", Location("EV1", None, path), path, i, False,
                     EntryRef(SourceSpec("folder", ("/e",)), fs_path="/e" + path))

    class StallingBatch:  # a batch the walk is still producing when the scan is killed
        def __iter__(self):
            yield from (entry(i) for i in range(100, 20100))
            print("in batch", flush=True)
            time.sleep(600)

    case = CaseInfo("K-1", "Ex")
    store = CaseStore.create(Path(sys.argv[1]), case, command_line=["x"], tool={"version": "0"})
    store._conn.execute("PRAGMA cache_size = -2000")  # small cache: the batch spills into the file
    store.add_evidence(EvidenceInfo("EV1", "/e", "folder", 0))
    store.add_entries([entry(i) for i in range(100)])
    store.add_entries(StallingBatch())
    """
)


def test_killed_writer_leaves_a_consistent_case(tmp_path):
    case_dir = tmp_path / "case"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(case_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "in batch"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    # The uncommitted batch had spilled pages into the database: only the journal can undo them.
    assert (case_dir / "case.sqlite-journal").exists()
    with CaseStore.open(case_dir) as store:
        assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.summary()["files"] == 100
        pending = _pending(store)
        assert [e.size for _, e in pending] == list(range(100))
        assert [a["action"] for a in store.audit_events()] == ["case created"]
    assert sorted(os.listdir(case_dir)) == ["audit.jsonl", "case.sqlite"]


def test_case_folder_names_that_are_special_in_uris(tmp_path):
    case_dir = tmp_path / "case #1 ?ü%20"
    new_store(case_dir).close()
    with CaseStore.open(case_dir) as s:
        assert s.case_info().case_number == "C-1"
    assert sorted(os.listdir(case_dir)) == ["audit.jsonl", "case.sqlite"]
