"""Split raw in each usual naming, built at test time from sleuthkit/image.dd: every segment
found from the first, the listing equals fls on the unsplit image, the medium is the image."""

from __future__ import annotations

import hashlib

import pytest
from fls_listing import assert_same_as_fls
from image_builders import write_split

from triage.evidence import iter_medium, open_evidence


@pytest.mark.parametrize(
    "suffixes",
    [["000", "001", "002"], ["001", "002", "003"], ["aa", "ab", "ac"], ["aaa", "aab", "aac"]],
    ids=lambda s: f"{s[0]}-{s[-1]}",
)
def test_split_raw_namings(testdata, tmp_path, suffixes):
    raw = (testdata / "disk" / "sleuthkit" / "image.dd").read_bytes()
    segments = write_split(raw, tmp_path, "exhibit", suffixes)
    ev = open_evidence(segments[0], "EV1")
    assert ev.info.kind == "splitraw"
    assert ev.info.segments == tuple(str(p) for p in segments)
    assert hashlib.md5(b"".join(iter_medium(ev.spec))).hexdigest() == hashlib.md5(raw).hexdigest()
    assert_same_as_fls(ev, (testdata / "expected" / "sleuthkit_image.dd.txt").read_text(encoding="utf-8"))


def test_a_missing_middle_segment_is_an_error_not_a_short_disk(tmp_path):
    from triage.errors import EvidenceError

    for i in (0, 2):
        (tmp_path / f"disk.{i:03d}").write_bytes(b"\0" * 4096)
    with pytest.raises(EvidenceError, match=r"disk\.001 is missing"):
        open_evidence(tmp_path / "disk.000", "EV1")
