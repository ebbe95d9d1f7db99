"""Files inside files and carving (issue 3), end to end through ``triage scan`` on the fixtures
built by tests/data/make_inside_fixtures.py, plus the pieces they rest on."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from triage.evidence import open_evidence, read_entry
from triage.evidence.carving.carve import find_pictures
from triage.locator import Carved, Location, Volume
from triage.records import EntryRef

INSIDE = Path(__file__).resolve().parent / "data" / "inside"
EXPECTED = json.loads((INSIDE / "expected.json").read_text())
REPO = Path(__file__).resolve().parents[1]


def scan(evidence: list[str], out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["scan", *evidence, "--out", str(out), "--case-number", "C-1", "--examiner", "J. Doe", "-j", "2"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    inventory = () if "--hashset" in extra else ("--inventory-only",)
    cmd = [sys.executable, "-m", "triage", *args, *extra, *inventory]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def _report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def known_set(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sets") / "known.csv"
    rows = [("A", "nested c.jpg"), ("T", "thumbnail"), ("C", "carved"), ("S", "ads"), ("Z", "7z")]
    path.write_text("id,category,md5\n" + "".join(f"{i},1,{EXPECTED[k]}\n" for i, k in rows))
    return path


@pytest.fixture(scope="module")
def folder_case(tmp_path_factory, known_set) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("folder") / "case"
    return out, scan([str(INSIDE / "folder")], out, "--hashset", str(known_set))


def test_archives_nested_twice_are_listed_hashed_and_matched(folder_case):
    out, proc = folder_case
    assert proc.returncode == 1, proc.stderr
    report = _report(out)
    files = {f["location"]: f for f in report["files"]}
    deep = "EV1/nested.zip>middle.tar.gz>inner.zip>photos/c.jpg"
    assert files[deep]["md5"] == EXPECTED["nested c.jpg"]
    assert files[deep]["path"] == "/nested.zip>middle.tar.gz>inner.zip>photos/c.jpg"
    assert files["EV1/nested.zip>top.jpg"]["md5"] == EXPECTED["nested top.jpg"]
    assert files["EV1/single.jpg.gz>{decompressed}"]["md5"] == EXPECTED["gz"]
    assert files["EV1/pics.7z>seven/e.jpg"]["md5"] == EXPECTED["7z"]
    assert Location.parse(deep).members == ("middle.tar.gz", "inner.zip", "photos/c.jpg")
    matched = {m["entry_id"]: m["location"] for m in report["matches"]}
    assert matched == {
        "A": deep,
        "T": "EV1/thumb.jpg>{exif-thumbnail}",
        "Z": "EV1/pics.7z>seven/e.jpg",
    }


def test_exif_thumbnail_differs_from_its_picture(folder_case):
    files = {f["location"]: f for f in _report(folder_case[0])["files"]}
    thumb = files["EV1/thumb.jpg>{exif-thumbnail}"]
    assert thumb["md5"] == EXPECTED["thumbnail"] != files["EV1/thumb.jpg"]["md5"]
    assert thumb["flags"] == ["embedded"] and thumb["pdq"]


def test_encrypted_member_is_flagged_not_an_error(folder_case):
    report = _report(folder_case[0])
    files = {f["location"]: f for f in report["files"]}
    locked = files["EV1/locked.7z>seven/e.jpg"]
    assert locked["flags"] == ["encrypted"] and locked["md5"] is None
    assert not [e for e in report["errors"] if "locked" in (e["location"] or "")]


def test_bomb_and_deep_nesting_stop_at_their_limits(folder_case):
    report = _report(folder_case[0])
    errors = {e["location"]: e["message"] for e in report["errors"]}
    assert errors["EV1/bomb.zip"] == "archive limit: expansion ratio 200:1 exceeded at this entry"
    assert errors["EV1/deep.zip"].startswith("archive limit: nesting depth 5 reached at level1.zip>")
    locations = [f["location"] for f in report["files"]]
    assert "EV1/deep.zip>level1.zip>level2.zip>level3.zip>level4.zip>level5.zip" in locations
    assert not [x for x in locations if "level6" in x or "bottom.jpg" in x]
    assert report["settings"]["scan_options"]["archive_limits"]["max_depth"] == 5


def test_a_child_can_be_read_again_from_its_reference():
    ev = open_evidence(INSIDE / "folder", "EV1")
    top = next(e for e in ev.entries() if e.path == "/nested.zip")
    ref = EntryRef(
        source=top.ref.source, fs_path=top.ref.fs_path, members=("middle.tar.gz", "inner.zip", "photos/c.jpg")
    )
    assert hashlib.md5(b"".join(read_entry(ref))).hexdigest() == EXPECTED["nested c.jpg"]


def test_carving_finds_a_picture_whose_directory_entry_is_gone(tmp_path, known_set):
    image = INSIDE / "carve_fat.dd"
    off, length = int(EXPECTED["carved offset"]), int(EXPECTED["carved length"])
    plain = scan([str(image)], tmp_path / "plain", "--hashset", str(known_set))
    assert plain.returncode == 0, plain.stderr  # not found without carving
    assert plain.stdout == "" or "0 matches" in plain.stdout
    proc = scan([str(image)], tmp_path / "carved", "--hashset", str(known_set), "--carve")
    assert proc.returncode == 1, proc.stderr
    report = _report(tmp_path / "carved")
    location = f"EV1/fs@0(fat12)/$unalloc@{off}+{length}(carved jpeg)"
    carved = [f for f in report["files"] if "carved" in f["flags"]]
    assert [f["location"] for f in carved] == [location]
    assert carved[0]["md5"] == EXPECTED["carved"] and carved[0]["deleted"] is True
    assert [m["location"] for m in report["matches"]] == [location]
    assert report["settings"]["scan_options"]["carve"] is True
    ref = EntryRef(source=open_evidence(image, "EV1").spec, byte_range=(off, length))
    assert hashlib.md5(b"".join(read_entry(ref))).hexdigest() == EXPECTED["carved"]


def test_picture_in_an_ntfs_alternate_stream_matches(tmp_path, known_set):
    proc = scan([str(INSIDE / "ads_ntfs.dd")], tmp_path / "case", "--hashset", str(known_set))
    assert proc.returncode == 1, proc.stderr
    matches = _report(tmp_path / "case")["matches"]
    assert [(m["entry_id"], m["path"]) for m in matches] == [("S", "/cover.txt:hidden.png")]


def test_carved_locations_round_trip():
    cases = [
        Location("EV1", Volume("p1", 32256, "fat16"), carved=Carved(52428800, 34210, "jpeg")),
        Location("EV1", None, members=("{exif-thumbnail}",), carved=Carved(1, 2, "png")),
        Location("EV1", Volume("p1", 1, "ntfs"), "/$unalloc@1+2(carved jpeg)", "5", ("a>b",)),
        Location("EV1", None, "/$unalloc@1+2(carved jpeg)"),
    ]
    assert str(cases[0]) == "EV1/p1@32256(fat16)/$unalloc@52428800+34210(carved jpeg)"
    for loc in cases:
        assert Location.parse(str(loc)) == loc
    assert str(cases[3]) != "EV1/$unalloc@1+2(carved jpeg)"  # a real name cannot pose as carved


def test_carver_ends_pictures_by_structure_not_first_footer():
    thumbed = (INSIDE / "folder" / "thumb.jpg").read_bytes()  # holds a thumbnail's EOI early
    buf = b"\x00" * 100 + thumbed + b"\xff\xd9junk" + b"GIF89a broken"
    found = find_pictures(buf, len(buf), lambda s, e, k: True)
    assert found[0] == (100, 100 + len(thumbed), "jpeg")
