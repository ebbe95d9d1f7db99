"""vPDQ video hashing and matching against Meta's reference output for ThreatExchange's clips.

(a) Conformance: at every-frame sampling our frame list has the reference's length, and every
    frame pair where both qualities are >= 50 is within 31 bits (vPDQ's own criterion).
(b) Matching by the vPDQ rule: every chair edit matches the original chair clip; the pattern,
    doorknob and padded-dimension clips do not. Checked with our hashes, the reference's, and
    mixed.
(c) Damaged input: a truncated clip keeps its frames with a note; junk is a one-line error.
"""

from __future__ import annotations

import os
import random
import tempfile
from functools import cache
from itertools import pairwise
from pathlib import Path

import pytest

from triage.hashing.video import VideoDecodeError, VideoHashes, hash_video_bytes, hash_video_file
from triage.hashing.video_match import format_vpdq, frames_by_video, match_video, parse_vpdq
from triage.records import FrameHash, KnownHash

VIDEO = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "video"
EXPECTED = VIDEO / "vpdq-expected"
ORIGINAL = "chair-orig-22-sd-bar"
CHAIRS = ["chair-19-sd-bar", "chair-22-sd-grey-bar", "chair-22-sd-sepia-bar", "chair-22-with-small-logo-bar"]
OTHERS = ["pattern-sd-grey-bar", "doorknob-hd-no-bar", "test-padded-dimensions"]
CLIPS = [ORIGINAL, *CHAIRS, *OTHERS]

needs_corpus = pytest.mark.skipif(
    not EXPECTED.exists(), reason=f"shared video corpus not available ({VIDEO})"
)


@cache
def ours(name: str, every: float | None) -> VideoHashes:
    """Our hashes of one clip, computed once per test session (every-frame hashing takes ~2 s)."""
    return hash_video_file(VIDEO / f"{name}.mp4", every_seconds=every)


@cache
def reference(name: str) -> tuple[FrameHash, ...]:
    return parse_vpdq((EXPECTED / f"{name}.txt").read_text())


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


# --------------------------------------------------------------------------- (a) conformance


@needs_corpus
@pytest.mark.parametrize("name", CLIPS)
def test_every_frame_meets_the_vpdq_criterion(name):
    result, expected = ours(name, None), reference(name)
    assert result.note is None
    assert len(result.frames) == len(expected) == result.frame_count
    compared = 0
    for mine, theirs in zip(result.frames, expected, strict=True):
        assert mine.frame == theirs.frame
        assert abs(mine.timestamp - theirs.timestamp) < 0.0006  # the reference prints 3 decimals
        if mine.quality >= 50 and theirs.quality >= 50:
            compared += 1
            assert distance(mine.pdq, theirs.pdq) < 31, f"frame {mine.frame}"
    assert compared >= len(expected) // 2


@needs_corpus
def test_one_per_second_is_the_reference_frame_selection():
    dense, sparse = ours(ORIGINAL, None), ours(ORIGINAL, 1.0)
    assert (sparse.fps, sparse.frame_count, sparse.width, sparse.height) == (30.0, 673, 480, 720)
    assert [f.frame for f in sparse.frames] == list(range(0, 673, 30))  # frameMod = int(1 s x 30 fps)
    assert set(sparse.frames) <= set(dense.frames)
    assert sparse.duration == pytest.approx(673 / 30)


@needs_corpus
def test_reference_lists_read_and_write_back_unchanged():
    text = (EXPECTED / "chair-19-sd-bar.txt").read_text()
    assert format_vpdq(parse_vpdq(text)) == text


# --------------------------------------------------------------------------- (b) matching


def _ok(query, known) -> bool:
    found = match_video(query, known)
    return found is not None and found.matched


@needs_corpus
@pytest.mark.parametrize("name", CHAIRS)
def test_chair_edits_match_the_original(name):
    known_dense = ours(ORIGINAL, None).frames
    assert _ok(ours(name, None).frames, known_dense)  # every frame on both sides
    assert _ok(ours(name, 1.0).frames, known_dense)  # default sampling against a dense known list
    assert _ok(ours(name, 1.0).frames, reference(ORIGINAL))  # ... and against the reference's list
    assert _ok(ours(name, None).frames, reference(ORIGINAL))
    assert _ok(reference(name), reference(ORIGINAL))  # the reference's lists among themselves


@needs_corpus
@pytest.mark.parametrize("name", [n for n in CHAIRS if n.startswith("chair-22")])
def test_same_cut_matches_at_one_per_second_on_both_sides(name):
    assert _ok(ours(name, 1.0).frames, ours(ORIGINAL, 1.0).frames)


@needs_corpus
def test_a_recut_sampled_sparsely_on_both_sides_is_missed():
    """chair-19 starts 111 frames into the original: 1 fps samples on both sides fall 0.7 s
    apart and the scene moves too much for that. Documented in docs/video.md."""
    found = match_video(ours("chair-19-sd-bar", 1.0).frames, ours(ORIGINAL, 1.0).frames)
    assert found is None or found.query_share < 0.5


@needs_corpus
@pytest.mark.parametrize("name", OTHERS)
def test_other_clips_do_not_match_the_original(name):
    for query in (ours(name, 1.0).frames, ours(name, None).frames, reference(name)):
        for known in (ours(ORIGINAL, None).frames, reference(ORIGINAL)):
            assert not _ok(query, known)
            assert not _ok(known, query)


@needs_corpus
def test_shares_ranges_and_sampling_density():
    recut = match_video(ours("chair-19-sd-bar", None).frames, ours(ORIGINAL, None).frames)
    assert recut.query_share == 1.0
    assert recut.known_share == pytest.approx(564 / 673, abs=0.01)  # the 3.7 s cut off the start
    assert recut.ranges == ((0.0, pytest.approx(563 / 30)),)
    assert recut.best_distance == 0 and recut.mean_distance < 10
    # The same query sampled at 1 fps still matches entirely, but covers few of the known frames.
    sparse = match_video(ours("chair-19-sd-bar", 1.0).frames, ours(ORIGINAL, None).frames)
    assert sparse.query_share == 1.0 and sparse.known_share < 0.3
    assert sparse.query_frames == 19
    logo = match_video(ours("chair-22-with-small-logo-bar", None).frames, ours(ORIGINAL, None).frames)
    assert 0.8 <= logo.query_share < 1.0 and len(logo.ranges) > 1
    assert all(start <= end for start, end in logo.ranges)
    assert all(a[1] < b[0] for a, b in pairwise(logo.ranges))


# --------------------------------------------------------------------------- matching rule


def frame(n: int, value: int, quality: int = 100) -> FrameHash:
    return FrameHash(n, n / 30, format(value, "064x"), quality)


def test_distance_is_inclusive_and_quality_filters_both_sides():
    known = [frame(0, 0), frame(1, (1 << 200) - 1, quality=10)]
    assert match_video([frame(0, (1 << 31) - 1)], known).best_distance == 31
    assert match_video([frame(0, (1 << 32) - 1)], known) is None
    assert match_video([frame(0, (1 << 200) - 1)], known) is None  # its twin is low quality
    assert match_video([frame(0, 0, quality=49)], known) is None  # nothing left to compare


def test_thresholds_and_ranges():
    known = [frame(0, 0), frame(1, 0xFF)]
    query = [frame(n, 0 if n in (0, 1, 3, 4, 5) else (1 << 256) - 1) for n in range(8)]
    found = match_video(query, known)
    assert (found.query_matched, found.query_frames, found.known_matched) == (5, 8, 2)
    assert found.query_share == 5 / 8 and found.known_share == 1.0 and not found.matched
    assert found.ranges == ((0.0, 1 / 30), (0.1, 5 / 30))
    assert match_video(query, known, threshold=0.6).matched
    assert not match_video(query, known, threshold=0.0, known_threshold=1.01).matched


def test_frames_by_video_groups_a_hash_sets_vpdq_entries():
    def known(video: str, n: int) -> KnownHash:
        labels = (("video", video), ("frame", str(n)), ("timestamp", f"{n / 30:.3f}"), ("quality", "90"))
        return KnownHash("pdq", format(n, "064x"), video, None, None, labels)

    grouped = frames_by_video([known("b", 1), known("a", 2), known("a", 0), KnownHash("md5", "0" * 32)])
    assert sorted(grouped) == ["a", "b"]
    assert [f.frame for f in grouped["a"]] == [0, 2] and grouped["a"][1].quality == 90


# --------------------------------------------------------------------------- (c) damaged input


@needs_corpus
def test_truncated_clip_keeps_its_first_frames_with_a_note(tmp_path):
    data = (VIDEO / "chair-19-sd-bar.mp4").read_bytes()
    half = tmp_path / "half.mp4"
    half.write_bytes(data[: len(data) // 2])
    result = hash_video_file(half, every_seconds=None)
    assert 0 < len(result.frames) < 564
    assert result.note and "\n" not in result.note and "564" in result.note
    full = ours("chair-19-sd-bar", None).frames
    assert result.frames[:100] == full[:100]


@needs_corpus
def test_bytes_and_chunks_give_the_file_result(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    data = (VIDEO / "test-padded-dimensions.mp4").read_bytes()
    chunks = (data[i : i + 4096] for i in range(0, len(data), 4096))
    assert hash_video_bytes(chunks) == ours("test-padded-dimensions", 1.0)
    assert hash_video_bytes(data, max_frames=2).note == "stopped after max_frames=2 hashed frames"
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("junk", ["ftyp", "empty", "text"])
def test_junk_is_a_one_line_error(tmp_path, monkeypatch, junk):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rng = random.Random(5)
    data = {
        "ftyp": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + rng.randbytes(50_000),
        "empty": b"",
        "text": b"not a video at all\n" * 100,
    }[junk]
    with pytest.raises(VideoDecodeError) as caught:
        hash_video_bytes(data, suffix=".mp4")
    assert "\n" not in str(caught.value) and "cannot open" in str(caught.value)
    assert os.listdir(tmp_path) == []


def test_missing_file_and_bad_sampling(tmp_path):
    with pytest.raises(VideoDecodeError):
        hash_video_file(tmp_path / "absent.mp4")
    with pytest.raises(VideoDecodeError, match="every_seconds"):
        hash_video_file(tmp_path / "absent.mp4", every_seconds=0)
