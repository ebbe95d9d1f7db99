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
