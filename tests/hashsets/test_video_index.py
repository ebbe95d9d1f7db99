"""vPDQ video matching through MatchIndex, raw vPDQ lists and compiled indexes alike."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from triage.hashing.video_match import parse_vpdq
from triage.hashsets import MatchIndex, build_index, load_hashset
from triage.records import FileHashes, MatchPolicy

EXPECTED = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "video" / "vpdq-expected"


@pytest.fixture(scope="module")
def lists(tmp_path_factory) -> Path:
    if not EXPECTED.is_dir():
        pytest.skip("shared test corpus (../shared/testdata) not present")
    root = tmp_path_factory.mktemp("vpdq")
    shutil.copy(EXPECTED / "chair-orig-22-sd-bar.txt", root / "chair-orig.txt")
    return root


def test_raw_and_compiled_sets_give_the_same_video_match(lists, tmp_path):
    query = FileHashes(size_read=1, frames=parse_vpdq((EXPECTED / "chair-19-sd-bar.txt").read_text()))
    raw = MatchIndex.build([load_hashset(lists / "chair-orig.txt")]).match(query, MatchPolicy())
    build_index([(lists / "chair-orig.txt", "alert")], tmp_path / "sets.idx")
    compiled = MatchIndex.open(tmp_path / "sets.idx").match(query, MatchPolicy())
    assert raw == compiled
    (match,) = raw
    assert (match.algorithm, match.entry_id, match.transform) == ("vpdq", "chair-orig", None)
    assert match.video.query_share == 1.0 and match.video.known_share == pytest.approx(0.84, abs=0.01)
    assert match.video.ranges == ((0.0, 18.767),)
    # Under the share threshold nothing is reported; an unrelated clip finds no candidate.
    assert (
        MatchIndex.build([load_hashset(lists / "chair-orig.txt")]).match(
            query, MatchPolicy(video_min_share=1.01)
        )
        == []
    )
    other = FileHashes(size_read=1, frames=parse_vpdq((EXPECTED / "pattern-sd-grey-bar.txt").read_text()))
    assert MatchIndex.build([load_hashset(lists / "chair-orig.txt")]).match(other, MatchPolicy()) == []
