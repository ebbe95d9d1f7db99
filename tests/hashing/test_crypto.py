"""The one-pass digests equal hashlib's, whatever the chunking."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from triage.hashing.crypto import Digests, MultiDigest, digest_chunks

TESTDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata"
FILES = ["media/alps.jpg", "hashsets/sample.jpg", "video/chair-19-sd-bar.mp4", "pdq/expected/pdq-README.md"]


def expected(data: bytes) -> Digests:
    return Digests(
        len(data),
        hashlib.md5(data).hexdigest(),
        hashlib.sha1(data).hexdigest(),
        hashlib.sha256(data).hexdigest(),
    )


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("chunk", [1, 4096, 1 << 20])
def test_corpus_files_match_hashlib(name, chunk):
    path = TESTDATA / name
    if not path.exists():
        pytest.skip(f"shared test corpus not available ({path})")
    data = path.read_bytes()
    if chunk == 1:
        data = data[:5000]  # byte-at-a-time is slow; a prefix is enough
    chunks = (data[i : i + chunk] for i in range(0, len(data), chunk))
    assert digest_chunks(chunks) == expected(data)


def test_empty_stream():
    assert digest_chunks([]) == expected(b"")
    assert digest_chunks([b"", b""]) == expected(b"")


def test_accepts_memoryview_and_bytearray():
    data = bytes(range(256)) * 1000
    digest = MultiDigest()
    digest.update(memoryview(data)[:1000])
    digest.update(bytearray(data[1000:]))
    assert digest.size == len(data)
    assert digest.result() == expected(data)
