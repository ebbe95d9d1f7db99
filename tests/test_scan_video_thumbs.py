"""``triage scan`` stores frame thumbnails of matched videos (issue 6): a copy of a chair clip
matched by vPDQ against the reference frame list of the original clip, a small clip matched
exactly by MD5, and a damaged (truncated) clip matched by MD5 that gives no thumbnail and no
crash. Blurred and greyscale by default, nothing with ``--thumbnails none``, and each frame in
report.html only inside a closed ``<details>``."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from triage.case.store import CaseStore
from triage.reports import html_report
from triage.scan.thumbnails import SIZE, frame_choice, video_frame_thumbnails

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO / ".." / "shared" / "testdata"
VIDEO = TESTDATA / "video"


@pytest.fixture(scope="module")
def evidence(tmp_path_factory) -> Path:
    clip = VIDEO / "chair-22-sd-grey-bar.mp4"
    small = VIDEO / "test-padded-dimensions.mp4"
    expected = VIDEO / "vpdq-expected" / "chair-orig-22-sd-bar.txt"
    if not (clip.exists() and small.exists() and expected.exists()):
        pytest.skip("shared test corpus (../shared/testdata) not present")
    root = tmp_path_factory.mktemp("video-thumbs")
    ev = root / "ev"
    ev.mkdir()
    shutil.copy(clip, ev / "clip.mp4")
    shutil.copy(small, ev / "small.mp4")
    (ev / "broken.mp4").write_bytes(clip.read_bytes()[:3000])  # the header only: cannot be opened
    known = root / "known.csv"
    md5 = {name: hashlib.md5((ev / name).read_bytes()).hexdigest() for name in ("small.mp4", "broken.mp4")}
    known.write_text(f"id,category,md5\nV-1,1,{md5['small.mp4']}\nV-2,1,{md5['broken.mp4']}\n")
    shutil.copy(expected, root / "chair-orig.txt")
    return root


def _scan(root: Path, name: str, *extra: str) -> Path:
    out = root / name
    proc = subprocess.run(
        [sys.executable, "-m", "triage", "scan", str(root / "ev"), "--hashset", str(root / "known.csv"),
         "--hashset", str(root / "chair-orig.txt"), "--out", str(out), "--case-number", "C-6",
         "--examiner", "J. Doe", "--jobs", "2", "-q", *extra],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # matches found
    return out


@pytest.fixture(scope="module")
def blurred(evidence) -> Path:
    return _scan(evidence, "case")


def _frames(case: Path) -> dict[str, list[tuple[int, float, str, bytes]]]:
    with sqlite3.connect(case / "case.sqlite") as db:
        rows = db.execute(
            "SELECT e.path, t.frame, t.timestamp, t.mode, t.jpeg FROM frame_thumbnails AS t"
            " JOIN entries AS e ON e.id = t.entry ORDER BY e.path, t.timestamp"
        ).fetchall()
    found: dict[str, list[tuple[int, float, str, bytes]]] = {}
    for path, frame, timestamp, mode, jpeg in rows:
        found.setdefault(path, []).append((frame, timestamp, mode, jpeg))
    return found


def test_matched_video_frames_are_stored_blurred_and_greyscale(blurred):
    frames = _frames(blurred)
    assert set(frames) == {"/clip.mp4", "/small.mp4"}  # the damaged clip has none
    # vPDQ: one matched range 0-22 s, so its first frame, then the middle and last matched ones.
    assert [(f, t) for f, t, _, _ in frames["/clip.mp4"]] == [(0, 0.0), (330, 11.0), (660, 22.0)]
    # Exact (MD5) only: first, middle and last sampled frames.
    assert [(f, t) for f, t, _, _ in frames["/small.mp4"]] == [(0, 0.0), (60, 2.0), (120, 4.0)]
    for rows in frames.values():
        for _, _, mode, jpeg in rows:
            with Image.open(io.BytesIO(jpeg)) as im:
                assert mode == "blurred" and im.mode == "L" and max(im.size) == SIZE
    report = json.loads((blurred / "report.json").read_text(encoding="utf-8"))
    assert report["settings"]["thumbnails"] == {
        "policy": "blurred", "size": SIZE, "blur_radius": 6, "video_frames": 3,
    }  # fmt: skip
    (event,) = [e for e in report_events(blurred) if e["action"] == "thumbnails stored"]
    assert event["details"]["videos"] == 2 and event["details"]["video_frames"] == 6
    assert event["details"]["videos_failed"] == 1  # the damaged clip: counted, no crash
    broken = [f for f in report["files"] if f["path"] == "/broken.mp4"]
    assert broken[0]["error"] and broken[0]["media_kind"] == "video"


def report_events(case: Path) -> list[dict]:
    lines = (case / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_report_html_shows_frames_only_inside_details(blurred):
    html = (blurred / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/jpeg;base64,") == 6
    shown = re.findall(
        r'<details class="thumb"><summary>Show the blurred, greyscale frame at ([0-9:.]+)</summary>'
        r'<figure><img src="data:image/jpeg;base64,[A-Za-z0-9+/=]+" width="\d+" height="\d+" alt="[^"]*">'
        r"<figcaption>([^<]*)</figcaption></figure></details>",
        html,
    )
    assert sorted(shown) == sorted(
        [("0:00.0", "0:00.0 · frame 0"), ("0:11.0", "0:11.0 · frame 330"), ("0:22.0", "0:22.0 · frame 660"),
         ("0:00.0", "0:00.0 · frame 0"), ("0:02.0", "0:02.0 · frame 60"), ("0:04.0", "0:04.0 · frame 120")]
    )  # fmt: skip
    assert "<details open" not in html and "Thumbnails of matched pictures and video frames" in html
    clip = html.index('<h3><code class="loc">EV1/<wbr>clip.mp4</code></h3>')  # the clip's own block
    assert clip < html.index("frame 330") < html.index('<div class="file">', clip)


def test_report_html_is_deterministic(blurred):
    with CaseStore.open(blurred, read_only=True) as store:
        assert html_report.render(store) == html_report.render(store)
        assert html_report.render(store) == (blurred / "report.html").read_bytes()


def test_clear_policy_keeps_colour(blurred):
    with CaseStore.open(blurred, read_only=True) as store:
        ((entry_id, entry, ranges),) = [v for v in store.matched_videos() if v[1].path == "/clip.mp4"]
        assert ranges == [(0.0, 22.0)]
        chosen = frame_choice(store.frames(entry_id), ranges)
    found = video_frame_thumbnails(entry, chosen, "clear")
    assert [(f, t) for f, t, *_ in found] == [(0, 0.0), (330, 11.0), (660, 22.0)]
    with Image.open(io.BytesIO(found[1][4])) as im:
        assert im.mode == "RGB" and max(im.size) == SIZE


def test_thumbnails_none_stores_no_frames(evidence):
    case = _scan(evidence, "case-none", "--thumbnails", "none")
    assert _frames(case) == {}
    html = (case / "report.html").read_text(encoding="utf-8")
    assert "Video frames" not in html and "data:image/jpeg" not in html and "shows no pictures" in html


def test_frame_choice_picks_range_starts_then_middle_and_last():
    frames = [{"frame": n * 30, "timestamp": float(n)} for n in range(23)]
    assert frame_choice(frames, []) == [(0, 0.0), (330, 11.0), (660, 22.0)]
    assert frame_choice(frames, [(10.0, 12.0), (3.0, 5.0)]) == [(90, 3.0), (300, 10.0), (360, 12.0)]
    assert frame_choice(frames, [(1.0, 1.0), (3.0, 3.0), (5.0, 5.0), (7.0, 7.0)]) == [
        (30, 1.0), (90, 3.0), (150, 5.0),
    ]  # fmt: skip
    assert frame_choice(frames[:1], []) == [(0, 0.0)] and frame_choice([], []) == [(0, 0.0)]
