"""Hostile archives (review 2): repeated member names, a name flagged UTF-8 that is not, the time
and member-count limits, metering of what a TAR skips, and carving across pieces. Every archive
is generated in tmp_path with the standard library / py7zr and real generated pictures."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import py7zr
import pytest
from PIL import Image, ImageDraw

from triage.evidence import open_evidence, read_entry
from triage.evidence.archives.expand import expand, read_member
from triage.hashing.file import hash_chunks
from triage.locator import Location, member_id
from triage.records import ArchiveLimits, DecodePolicy, EntryRef, FileHashes, SourceSpec
from triage.scan.tasks import CarveJob, HashJob, process

REPO = Path(__file__).resolve().parents[1]
THUMBED = REPO / "tests" / "data" / "inside" / "folder" / "thumb.jpg"  # a JPEG with an EXIF thumbnail


def picture(seed: int) -> bytes:
    img = Image.new("RGB", (48, 32), (seed * 50 % 256, 90, 200))
    ImageDraw.Draw(img).ellipse([4 + seed, 4, 30, 28], fill=(255, seed * 40 % 256, 0))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


A, B = picture(1), picture(2)
MD5 = {hashlib.md5(A).hexdigest(): "A", hashlib.md5(B).hexdigest(): "B"}


def hasher(chunks, video_path=None) -> FileHashes:  # type: ignore[no-untyped-def]
    return hash_chunks(chunks, perceptual=False, policy=DecodePolicy())


def expanded(path: Path, limits: ArchiveLimits | None = None) -> tuple[dict[str, str], str | None]:
    """``{rendered member chain: "A"/"B"/md5}`` and the entry's error."""
    with path.open("rb") as f:
        children, error = expand(f, path.stat().st_size, hasher, limits or ArchiveLimits())
    out = {}
    for c in children:
        key = str(Location("EV1", None, "", None, c.members))[len("EV1>") :]
        out[key] = MD5.get(c.hashes.md5 or "", c.hashes.md5 or c.hashes.error or "")
    return out, error


def dup_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z, pytest.warns(UserWarning, match="Duplicate name"):
        z.writestr("same.jpg", A)
        z.writestr("same.jpg", B)
        z.writestr("same.jpg#2", A)  # a real name that looks like the marker
    return path


def dup_tar(path: Path) -> Path:
    with tarfile.open(path, "w") as t:
        for data in (A, B, A):
            info = tarfile.TarInfo("d/same.jpg")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def dup_7z(path: Path) -> Path:
    with py7zr.SevenZipFile(path, "w") as z:
        z.writestr(A, "same.jpg")
        z.writestr(B, "same.jpg")
        z.writestr(A, "other.jpg")
    return path


def test_repeated_names_in_a_zip_get_distinct_members_and_read_back(tmp_path):
    path = dup_zip(tmp_path / "dup.zip")
    children, error = expanded(path)
    assert error is None
    assert children == {"same.jpg": "A", "same.jpg#2": "B", "same.jpg%232": "A"}
    top = path.read_bytes()
    assert read_member([top], (member_id("same.jpg", 2),), ArchiveLimits()) == B
    assert read_member([top], ("same.jpg",), ArchiveLimits()) == A
    assert read_member([top], ("same.jpg#2",), ArchiveLimits()) == A


def test_repeated_names_in_a_tar_and_a_nested_tar_gz(tmp_path):
    inner = dup_tar(tmp_path / "inner.tar").read_bytes()
    outer = tmp_path / "outer.tar.gz"
    with tarfile.open(outer, "w:gz") as t:
        for _ in range(2):
            info = tarfile.TarInfo("inner.tar")
            info.size = len(inner)
            t.addfile(info, io.BytesIO(inner))
    children, error = expanded(outer)
    assert error is None
    for top in ("inner.tar", "inner.tar#2"):
        assert children[f"{top}>d/same.jpg"] == "A"
        assert children[f"{top}>d/same.jpg#2"] == "B"
        assert children[f"{top}>d/same.jpg#3"] == "A"
    chain = Location.parse("EV1/x>inner.tar#2>d/same.jpg#2").members
    assert read_member([outer.read_bytes()], chain, ArchiveLimits()) == B


def test_7z_with_a_repeated_name_loses_no_member_and_is_not_damaged(tmp_path):
    children, error = expanded(dup_7z(tmp_path / "dup.7z"))
    assert error is None
    assert children == {"same.jpg": "A", "same.jpg#2": "B", "other.jpg": "A"}
    top = (tmp_path / "dup.7z").read_bytes()
    assert read_member([top], (member_id("same.jpg", 2),), ArchiveLimits()) == B


def bad_utf8_zip(path: Path, local_too: bool) -> Path:
    """A zip whose second name is flagged UTF-8 but is the bytes FF FE (not UTF-8)."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("first.jpg", A)
        z.writestr("xx.jpg", B)
        z.writestr("last.jpg", A)
    raw = bytearray(path.read_bytes())
    for sig, flag_at in ((b"PK\x01\x02", 8), (b"PK\x03\x04", 6)):
        if sig == b"PK\x03\x04" and not local_too:
            continue
        at = raw.find(sig + bytes(0), 0)
        while at >= 0:
            name_at = at + (46 if sig == b"PK\x01\x02" else 30)
            if raw[name_at : name_at + 6] == b"xx.jpg":
                raw[name_at : name_at + 2] = b"\xff\xfe"
                (flags,) = struct.unpack_from("<H", raw, at + flag_at)
                struct.pack_into("<H", raw, at + flag_at, flags | 0x800)
            at = raw.find(sig, at + 4)
    path.write_bytes(bytes(raw))
    with pytest.raises(UnicodeDecodeError):
        zipfile.ZipFile(path)
    return path


def test_a_name_flagged_utf8_that_is_not_is_escaped_and_the_rest_is_read(tmp_path):
    children, error = expanded(bad_utf8_zip(tmp_path / "bad.zip", local_too=True))
    assert error is None
    assert children == {"first.jpg": "A", "%FF%FE.jpg": "B", "last.jpg": "A"}
    top = (tmp_path / "bad.zip").read_bytes()
    assert read_member([top], Location.parse("EV1/x>%FF%FE.jpg").members, ArchiveLimits()) == B
    # Only the central directory says so (the local header names another file): that member is
    # an error of its own, and the members after it are still read.
    children, error = expanded(bad_utf8_zip(tmp_path / "cd_only.zip", local_too=False))
    assert error is None
    assert children["first.jpg"] == children["last.jpg"] == "A"
    assert children["%FF%FE.jpg"].startswith("member damaged (zip): BadZipFile")


def test_scan_lists_every_repeated_member_at_its_own_location(tmp_path):
    folder = tmp_path / "ev"
    folder.mkdir()
    dup_zip(folder / "dup.zip")
    dup_tar(folder / "dup.tar")
    dup_7z(folder / "dup.7z")
    bad_utf8_zip(folder / "bad.zip", local_too=True)
    out = tmp_path / "case"
    args = ["scan", str(folder), "--out", str(out), "--case-number", "C", "--examiner", "E", "-j", "2"]
    args.append("--inventory-only")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    import json

    report = json.loads((out / "report.json").read_text())
    files = {f["location"]: MD5.get(f["md5"]) for f in report["files"] if ">" in f["location"]}
    assert files == {
        "EV1/dup.zip>same.jpg": "A",
        "EV1/dup.zip>same.jpg#2": "B",
        "EV1/dup.zip>same.jpg%232": "A",
        "EV1/dup.tar>d/same.jpg": "A",
        "EV1/dup.tar>d/same.jpg#2": "B",
        "EV1/dup.tar>d/same.jpg#3": "A",
        "EV1/dup.7z>same.jpg": "A",
        "EV1/dup.7z>same.jpg#2": "B",
        "EV1/dup.7z>other.jpg": "A",
        "EV1/bad.zip>first.jpg": "A",
        "EV1/bad.zip>%FF%FE.jpg": "B",
        "EV1/bad.zip>last.jpg": "A",
    }
    assert report["errors"] == []
    ev = open_evidence(folder, "EV1")
    top = next(e for e in ev.entries() if e.path == "/dup.7z")
    ref = EntryRef(source=top.ref.source, fs_path=top.ref.fs_path, members=(member_id("same.jpg", 2),))
    assert b"".join(read_entry(ref)) == B


def many_zip(path: Path, n: int) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for i in range(n):
            z.writestr(f"p{i}.jpg", picture(i % 5))
    return path


def test_time_limit_keeps_the_archive_hashes_and_records_the_reason(tmp_path):
    path = many_zip(tmp_path / "many.zip", 20)
    children, error = expanded(path, ArchiveLimits(max_seconds=0.0))
    assert children == {} and error is not None
    assert error.startswith("archive limit: time 0 s exceeded at ")
    ref = EntryRef(source=SourceSpec("folder", (str(tmp_path),)), fs_path=str(path))
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    # The worker's own time (the work item's timeout) ends expansion early, never the hashes.
    for job in (
        HashJob(ref, False, True, DecodePolicy(), ArchiveLimits(max_seconds=0.0)),
        HashJob(ref, False, True, DecodePolicy(), ArchiveLimits(), seconds=0.1),
    ):
        result = process(job)
        assert result.md5 == md5 and result.error.startswith("archive limit: time")
        assert result.children == ()
    result = process(HashJob(ref, False, True, DecodePolicy(), ArchiveLimits(), seconds=60))
    assert result.md5 == md5 and result.error is None and len(result.children) == 20


def test_member_count_limit(tmp_path):
    path = tmp_path / "empty.tar.gz"
    with tarfile.open(path, "w:gz") as t:
        for i in range(50):
            t.addfile(tarfile.TarInfo(f"e{i}"), io.BytesIO(b""))
    children, error = expanded(path, ArchiveLimits(max_members=10))
    assert len(children) == 10
    assert error == "archive limit: 10 members exceeded at e10"
    children, error = expanded(path)
    assert len(children) == 50 and error is None


def test_tar_headers_and_skipped_members_are_metered(tmp_path):
    """Members of a type tarfile skips (here an unknown one) are decompressed to be passed over:
    they count against the limits like members read."""
    path = tmp_path / "skipped.tar.gz"
    with tarfile.open(path, "w:gz") as t:
        for i in range(4):
            info = tarfile.TarInfo(f"odd{i}")
            info.type, info.size = b"Z", 8 << 20
            t.addfile(info, io.BytesIO(bytes(info.size)))
    assert path.stat().st_size < 200_000
    children, error = expanded(path, ArchiveLimits(max_total_bytes=20 << 20, max_ratio=10**6))
    assert children == {}
    assert error == f"archive limit: total expanded bytes {20 << 20} exceeded at this entry"


def test_a_picture_crossing_a_piece_keeps_its_thumbnail_inside(tmp_path):
    thumbed = THUMBED.read_bytes()
    piece = 4096
    start = piece - 20  # the JPEG starts before the piece boundary, its thumbnail after it
    image = tmp_path / "raw.dd"
    image.write_bytes(bytes(start) + thumbed + bytes(3 * piece))
    total = image.stat().st_size
    spec = SourceSpec("raw", (str(image),))
    pieces = tuple((o, piece, total - o) for o in range(0, total, piece))
    one_job = process(CarveJob(spec, None, pieces, False, DecodePolicy()))
    assert [(c.offset, c.length) for c in one_job.carved] == [(start, len(thumbed))]
    # The same boundary between two work items: the second looks back into the run.
    second = process(CarveJob(spec, None, pieces[1:], False, DecodePolicy(), behind=piece))
    assert second.carved == ()
    blind = process(CarveJob(spec, None, pieces[1:], False, DecodePolicy()))  # as before the fix
    assert len(blind.carved) == 1 and blind.carved[0].offset > piece  # the thumbnail alone
