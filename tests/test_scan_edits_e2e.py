"""``triage scan`` end to end on edited copies: a video matched by vPDQ against the reference frame
list of the original chair clip, and mirrored, turned, letterboxed and EXIF-rotated copies of a
shared photo matched by PDQ with the transform reported (issue 5)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from triage.hashing.file import hash_chunks

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO / ".." / "shared" / "testdata"
SCHEMA = json.loads((REPO / "docs" / "report-schema.json").read_text())


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> tuple[dict, str]:
    clip = TESTDATA / "video" / "chair-22-sd-grey-bar.mp4"
    photo = TESTDATA / "media" / "FreshFlower.jpg"
    if not clip.exists() or not photo.exists():
        pytest.skip("shared test corpus (../shared/testdata) not present")
    root = tmp_path_factory.mktemp("edits")
    ev = root / "ev"
    ev.mkdir()
    shutil.copy(clip, ev / "clip.mp4")
    img = Image.open(photo).convert("RGB")
    img.thumbnail((800, 800))
    img.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(ev / "mirror.jpg", quality=90)
    img.transpose(Image.Transpose.ROTATE_90).save(ev / "rot90.png")
    box = Image.new("RGB", (img.width, img.height + 160), (0, 0, 0))
    box.paste(img, (0, 80))
    box.save(ev / "letterbox.png")
    exif = Image.Exif()
    exif[0x0112] = 6
    img.transpose(Image.Transpose.ROTATE_90).save(ev / "exif6.jpg", quality=92, exif=exif.tobytes())
    known = root / "known.csv"
    known.write_text(f"id,category,pdq\nP-1,1,{hash_chunks([photo.read_bytes()]).pdq}\n")
    frames = root / "chair-orig.txt"
    shutil.copy(TESTDATA / "video" / "vpdq-expected" / "chair-orig-22-sd-bar.txt", frames)
    out = root / "case"
    proc = subprocess.run(
        [sys.executable, "-m", "triage", "scan", str(ev), "--hashset", str(known), "--hashset", str(frames),
         "--out", str(out), "--case-number", "C-5", "--examiner", "J. Doe", "--jobs", "2", "-q"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    return json.loads((out / "report.json").read_text()), (out / "report.html").read_text()


def test_report_validates_against_the_schema(case):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(case[0], SCHEMA)


def test_video_matches_by_vpdq_with_shares_and_ranges(case):
    report, html = case
    (match,) = [m for m in report["matches"] if m["path"] == "/clip.mp4"]
    assert (match["kind"], match["algorithm"], match["entry_id"]) == ("perceptual", "vpdq", "chair-orig")
    video = match["video"]
    assert video["query_share"] == 1.0 and video["query_frames"] == 23  # 22.4 s at one frame a second
    assert 0.2 < video["known_share"] < 0.4  # 1 fps against every frame: about 1/30 of them, plus neighbours
    assert video["known_frames"] == 673 and video["ranges"] == [[0.0, 22.0]]
    assert match["distance"] <= 31 and match["transform"] is None
    (file,) = [f for f in report["files"] if f["path"] == "/clip.mp4"]
    assert file["frames"] == 23 and file["media_kind"] == "video"
    assert "depends on how densely each side was sampled" in html and "0:00-0:22" in html


def test_edited_pictures_match_with_the_transform_reported(case):
    report, html = case
    found = {m["path"]: m for m in report["matches"] if m["algorithm"] == "pdq"}
    assert {p: m["transform"] for p, m in found.items()} == {
        "/mirror.jpg": "mirror", "/rot90.png": "rot90", "/letterbox.png": "cropped", "/exif6.jpg": "original",
    }  # fmt: skip
    assert all(m["distance"] <= 31 and m["entry_id"] == "P-1" for m in found.values())
    files = {f["path"]: f for f in report["files"]}
    assert files["/exif6.jpg"]["orientation"] == 6
    width, height = files["/letterbox.png"]["width"], files["/letterbox.png"]["height"]
    assert files["/letterbox.png"]["crop_box"] == [0, 80, width, height - 80]
    assert "mirrored left-right" in html and "turned 90° counter-clockwise" in html
