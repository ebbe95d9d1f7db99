"""#12 item 10: one giant picture at a time, so the scan's peak memory does not grow with --jobs.

Two generated 61-megapixel PNGs (0.8 MB each on disk) are scanned with --jobs 2 while the summed
resident memory of triage and its workers is sampled. Before, both workers decoded at once and
the peak was about that of one giant picture plus a second one's increment (measured: 1052 MiB
against 716 MiB for one picture alone, ratio 1.47); with the giant-picture slot the second waits
(784 MiB, ratio 1.10).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path

import pytest
from damaged_support import make_damaged, peak_tree_rss, scan_args

from triage.hashing import admission
from triage.hashing.file import hash_chunks
from triage.records import DecodePolicy


@pytest.fixture(scope="module")
def giants(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("giants")
    make_damaged.make_giant_png(folder / "a.png", seed=1)
    make_damaged.make_giant_png(folder / "b.png", seed=2)
    return folder


@pytest.fixture()
def own_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lock file of this test's own, so other scans on the machine do not share its slot."""
    path = tmp_path / "giant.lock"
    monkeypatch.setenv("TRIAGE_GIANT_LOCK", str(path))
    return path


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="memory is sampled from Linux /proc")
def test_two_giant_pictures_at_jobs_2_peak_like_one(giants: Path, tmp_path: Path, own_lock: Path) -> None:
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "a.png").write_bytes((giants / "a.png").read_bytes())
    one, done = peak_tree_rss(scan_args([str(alone)], tmp_path / "case1", "--jobs", "1", "--quiet"))
    assert done.returncode == 0, done.stderr
    two, done = peak_tree_rss(scan_args([str(giants)], tmp_path / "case2", "--jobs", "2", "--quiet"))
    assert done.returncode == 0, done.stderr
    # One more idle worker costs well under a quarter of one giant picture's peak.
    assert two < 1.25 * one, (
        f"peak {two / 2**20:.0f} MiB with two giants at --jobs 2, {one / 2**20:.0f} with one"
    )


def test_a_giant_picture_not_admitted_keeps_its_digests(giants: Path, own_lock: Path) -> None:
    data = (giants / "a.png").read_bytes()
    fd = os.open(own_lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another worker holds the slot
        with admission.waiting_at_most(0.3):
            hashes = hash_chunks(iter([data]), perceptual=True, policy=DecodePolicy())
    finally:
        os.close(fd)
    assert hashes.md5 == hashlib.md5(data).hexdigest() and hashes.pdq is None
    assert hashes.error and "giant-picture slot" in hashes.error


def test_pictures_under_the_threshold_never_wait(own_lock: Path) -> None:
    fd = os.open(own_lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with admission.waiting_at_most(0), admission.picture_slot(admission.GIANT_PIXELS):
            pass
        with (
            pytest.raises(admission.NotAdmitted),
            admission.waiting_at_most(0),
            admission.picture_slot(admission.GIANT_PIXELS + 1),
        ):
            pass
    finally:
        os.close(fd)
