"""#12 item 6: a gzip whose content starts with a 512-byte zero block is a file, not an empty TAR."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

from damaged_support import make_damaged

from triage.evidence.archives.expand import expand
from triage.hashing.file import hash_chunks
from triage.records import ArchiveLimits, DecodePolicy, FileHashes


def hasher(chunks, video_path=None) -> FileHashes:  # type: ignore[no-untyped-def]
    return hash_chunks(chunks, perceptual=False, policy=DecodePolicy())


def listed(path: Path) -> tuple[list[tuple[str, str | None]], str | None]:
    with path.open("rb") as f:
        children, error = expand(f, path.stat().st_size, hasher, ArchiveLimits())
    return [(c.members[-1], c.hashes.md5) for c in children], error


def test_gzip_of_content_starting_with_a_zero_block_is_hashed(tmp_path: Path) -> None:
    path = make_damaged.make_zero_block_gzip(tmp_path)
    children, error = listed(path)
    want = hashlib.md5(make_damaged.zero_block_gzip_content()).hexdigest()
    assert error is None
    assert [md5 for _, md5 in children] == [want]
    assert children[0][0] == "sector.bin"  # the gzip's FNAME


def test_tar_gz_still_lists_its_members(tmp_path: Path) -> None:
    data = make_damaged.picture(4)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        info = tarfile.TarInfo("d/p.jpg")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    path = tmp_path / "a.tar.gz"
    path.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    children, error = listed(path)
    assert error is None
    assert children == [("d/p.jpg", hashlib.md5(data).hexdigest())]
