"""A folder as evidence: regular files only, symlinks never followed, stable order."""

from __future__ import annotations

import os

import pytest

from triage.errors import EvidenceError
from triage.evidence import open_evidence, read_entry
from triage.locator import Location


@pytest.fixture
def tree(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(b"\xff\xd8\xffoutside")
    root = tmp_path / "case"
    (root / "DCIM" / "sub").mkdir(parents=True)
    (root / "DCIM" / "a.jpg").write_bytes(b"\xff\xd8\xffA")
    (root / "DCIM" / "sub" / "b.png").write_bytes(b"\x89PNG\r\n\x1a\nB")
    (root / "notes.txt").write_bytes(b"hello\n")
    os.symlink(outside, root / "link_to_outside")
    os.symlink(outside / "secret.jpg", root / "DCIM" / "link.jpg")
    os.symlink(root / "DCIM", root / "loop")  # inside, but still never followed
    os.utime(root / "notes.txt", ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))
    return root


def test_symlinks_are_not_followed(tree):
    ev = open_evidence(tree, "EV2")
    assert ev.info.kind == "folder" and ev.spec.kind == "folder"
    entries = list(ev.entries())
    # a folder's files come before its sub-folders' files; names sorted
    assert [e.path for e in entries] == ["/notes.txt", "/DCIM/a.jpg", "/DCIM/sub/b.png"]
    assert ev.warnings == [
        "3 symbolic link(s) listed in the folder were not followed:"
        " '/link_to_outside', '/loop', '/DCIM/link.jpg'"
    ]


def test_entries_and_content(tree):
    ev = open_evidence(tree, "EV2")
    by_path = {e.path: e for e in ev.entries()}
    a = by_path["/DCIM/a.jpg"]
    assert str(a.location) == "EV2/DCIM/a.jpg" and a.location == Location("EV2", None, "/DCIM/a.jpg")
    assert a.size == 4 and not a.deleted and a.inode is None
    assert b"".join(read_entry(a.ref)) == b"\xff\xd8\xffA"
    notes = by_path["/notes.txt"]
    assert notes.mtime == "2023-11-14T22:13:20.1234567Z"
    assert notes.ctime is not None


def test_a_file_swapped_for_a_symlink_is_not_read(tree):
    ev = open_evidence(tree, "EV2")
    a = next(e for e in ev.entries() if e.path == "/DCIM/a.jpg")
    os.remove(tree / "DCIM" / "a.jpg")
    os.symlink(tree.parent / "outside" / "secret.jpg", tree / "DCIM" / "a.jpg")
    with pytest.raises(EvidenceError):
        list(read_entry(a.ref))


def test_undecodable_names_survive(tmp_path):
    root = tmp_path / "raw"
    root.mkdir()
    name = os.fsdecode(b"bad\xffname.jpg")
    (root / name).write_bytes(b"x")
    (entry,) = open_evidence(root, "EV3").entries()
    assert entry.path == "/" + name
    assert "%FF" in str(entry.location)
    assert Location.parse(str(entry.location)).path == entry.path


def test_a_file_changed_after_listing_is_refused_not_misattributed(tmp_path):
    from triage.errors import EvidenceError

    root = tmp_path / "ev"
    root.mkdir()
    (root / "swap.txt").write_bytes(b"listed content!!")
    (root / "grow.txt").write_bytes(b"small")
    ev = open_evidence(root, "EV1")
    entries = {e.path: e for e in ev.entries()}
    (root / "swap.txt").unlink()
    (root / "swap.txt").write_bytes(b"other content!")  # a new file under the listed name
    with open(root / "grow.txt", "ab") as f:
        f.write(b"x" * 100_000)
    for name, reason in (("/swap.txt", "replaced|changed size"), ("/grow.txt", "changed size")):
        with pytest.raises(EvidenceError, match=reason):
            b"".join(read_entry(entries[name].ref))


def test_special_files_are_reported_not_read(tmp_path):
    root = tmp_path / "ev"
    root.mkdir()
    os.mkfifo(root / "pipe")
    (root / "a.txt").write_bytes(b"a")
    ev = open_evidence(root, "EV1")
    assert [e.path for e in ev.entries()] == ["/a.txt"]
    assert ev.warnings == ["not read: /pipe is a named pipe (FIFO)"]
