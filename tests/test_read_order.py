"""Small files are read in disk order (CaseStore.read_order): after the large ones (largest
first), by file system and meta address, whatever order the walk listed them in.

Real folder evidence: the files are created in the reverse of their names' order, so the walk
(sorted by name) and the inode order disagree."""

from __future__ import annotations

import os

from triage.case.store import CaseStore
from triage.evidence import open_evidence
from triage.records import CaseInfo, FileHashes


def test_small_files_in_inode_order_after_the_large_ones(tmp_path):
    src = tmp_path / "evidence"
    src.mkdir()
    for i in reversed(range(40)):
        (src / f"f{i:02d}.txt").write_bytes(b"x" * (i + 1))
    (src / "big1.bin").write_bytes(b"b" * 3000)
    (src / "big2.bin").write_bytes(b"b" * 5000)
    ev = open_evidence(src, "EV1")
    store = CaseStore.create(tmp_path / "case", CaseInfo("C-1", "Ex"), command_line=["t"], tool={})
    store.add_evidence(ev.info)
    entries = list(ev.entries())
    ids = store.add_entries(entries)
    ev.close()
    by_id = dict(zip(ids, entries, strict=True))
    to_read, unreadable = store.read_order(small=2000)
    assert len(to_read) == 42 and len(unreadable) == 0
    names = [by_id[i].name for i in to_read]
    assert names[:2] == ["big2.bin", "big1.bin"]
    inodes = [os.stat(src / n).st_ino for n in names[2:]]
    assert inodes == sorted(inodes)
    walk = [e.name for e in entries if e.size <= 2000]
    assert names[2:] != walk  # the walk's order was not disk order here
    # settled entries are no longer pending
    store.record_results([(to_read[0], FileHashes(size_read=5000, md5="0" * 32), [])])
    assert len(store.read_order(small=2000)[0]) == 41
    store.close()
