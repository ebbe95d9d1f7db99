"""A real case folder (real SQLite, real audit log) with hostile names, for the report tests.

The records are what the pipeline would store after scanning a disk image whose file names were
chosen by an adversary: markup, a spreadsheet formula, a right-to-left override, a newline, a
byte that is not UTF-8.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from triage.case.store import CaseStore
from triage.locator import Location, Volume
from triage.records import (
    CaseInfo,
    DecodePolicy,
    Entry,
    EntryRef,
    EvidenceInfo,
    FileHashes,
    HashSetInfo,
    Match,
    MatchPolicy,
    SourceSpec,
    VolumeInfo,
)
from triage.scan.provenance import tool_info

HOSTILE_NAMES = (
    "<script>alert(1)</script>.jpg",
    '=HYPERLINK("x").jpg',
    "\u202egpj.exe",
    "two\nlines.jpg",
    "bad\udcffbyte.jpg",
)
SOURCE = SourceSpec("raw", ("/evidence/disk.dd",))
VOLUME = Volume("p1", 1048576, "ntfs")
HASHSET = "/sets/known.csv"


def _hex(seed: str, algorithm: str) -> str:
    return hashlib.new(algorithm, seed.encode("utf-8", "surrogateescape")).hexdigest()


def _pdq(seed: str) -> str:
    return hashlib.sha256(b"pdq" + seed.encode("utf-8", "surrogateescape")).hexdigest()


def entry(i: int, name: str, *, deleted: bool = False) -> Entry:
    path = f"/Users/a/{name}"
    return Entry(
        evidence_id="EV1",
        location=Location("EV1", VOLUME, path, str(100 + i)),
        path=path,
        size=1000 + i,
        deleted=deleted,
        ref=EntryRef(
            SOURCE, volume_offset=VOLUME.offset, fs_type="ntfs", inode=100 + i, attr_type=128, attr_id=1
        ),
        inode=str(100 + i),
        mtime="2026-01-02T03:04:05Z",
        crtime="2025-12-31T23:59:59.5Z",
        flags=("orphan",) if deleted else (),
    )


def hashes(name: str) -> FileHashes:
    return FileHashes(
        size_read=100,
        md5=_hex(name, "md5"),
        sha1=_hex(name, "sha1"),
        sha256=_hex(name, "sha256"),
        media_type="image/jpeg",
        media_kind="picture",
        width=640,
        height=480,
        pdq=_pdq(name),
        pdq_quality=90,
        phash="8f373714acfcf4d0",
    )


def build_case(case_dir: Path, *, finish: bool = True) -> Path:
    """Create and fill a case the way the pipeline does; returns the case folder (store closed)."""
    store = CaseStore.create(
        case_dir,
        CaseInfo("2026-<b>042</b>", "Examiner <X>", "Agency & Co", "first line\nsecond \u202e line"),
        command_line=["triage", "scan", "--case", "2026-042", "/evidence/disk.dd"],
        tool=tool_info(),
    )
    store.set_setting("decode_policy", DecodePolicy().as_dict())
    store.set_setting("match_policy", MatchPolicy().as_dict())
    store.audit("scan started", options={"jobs": 2})
    store.stage("listing", "2026-03-01T10:00:00Z", "2026-03-01T10:00:05Z")
    store.add_hashset(HashSetInfo(HASHSET, "ab" * 32, "csv", 3, (("sha256", 2), ("pdq", 1)), "known <set>"))
    store.add_evidence(
        EvidenceInfo(
            "EV1", "/evidence/disk.dd", "raw", 64 * 1024 * 1024, ("/evidence/disk.dd",),
            volumes=(VolumeInfo("p1", 1048576, 60 * 1024 * 1024, "NTFS / exFAT (0x07)", "ntfs"),
                     VolumeInfo("p2", 0, 0, "<img src=x onerror=alert(2)>", None, "no file system found")),
            details=(("description", "<script>alert(3)</script>"),),
        )
    )  # fmt: skip
    store.audit("evidence opened", evidence_id="EV1", source=Path("/evidence/disk.dd"))
    store.set_evidence_hashes("EV1", md5="0" * 32, sha1="1" * 40, sha256="2" * 64, verification="none stored")
    names = (*HOSTILE_NAMES, "plain.jpg", "unprocessed.jpg")
    ids = store.add_entries([entry(i, n, deleted=(i % 2 == 1)) for i, n in enumerate(names)])
    results = []
    for entry_id, name in zip(ids[:5], names[:5], strict=True):
        h = hashes(name)
        matches = []
        if name.startswith("<script>"):
            matches.append(
                Match("exact", "sha256", 0, HASHSET, h.sha256 or "", h.sha256 or "", "K-1", "cat <1>")
            )
        elif name.startswith("\u202e"):
            known = f"{int(h.pdq or '0', 16) ^ 0xFFF:064x}"  # 12 bits differ
            matches.append(
                Match("perceptual", "pdq", 12, HASHSET, h.pdq or "", known, "K-2", "cat 2", "n\u202eame")
            )
        else:
            matches.append(
                Match("exact", "md5", 0, HASHSET, h.md5 or "", h.md5 or "", f"K-{3 + len(results)}")
            )
        results.append((entry_id, h, matches))
    failed = FileHashes(size_read=10, md5=_hex("p", "md5"), error="picture decode failed: <bad>")
    results.append((ids[5], failed, []))
    store.record_results(results)
    store.record_error(None, "EV1", "listing stopped: unreadable sector at 4096")
    if finish:
        store.finish("2026-03-01T10:01:00Z")
        store.audit("scan finished", summary=store.summary())
    store.close()
    return case_dir


@pytest.fixture
def make_case():
    """The case builder, for tests that need more than one case or an unfinished one."""
    return build_case


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    return build_case(tmp_path / "case")


@pytest.fixture
def records():
    """The record builders, for tests that add more hostile entries to a case."""
    return entry, hashes, HASHSET
