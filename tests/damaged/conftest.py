"""Damaged evidence for issue #12: the fixtures of tests/data/damaged (made by
tests/data/make_damaged_images.py), decompressed per test, and the corpus images cut short."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from damaged_cases import CORPUS, DAMAGED


@pytest.fixture
def damaged(tmp_path: Path):
    """``damaged("ntfs_half.dd")``: the fixture, decompressed into the test's folder."""

    def make(name: str) -> Path:
        out = tmp_path / name
        out.write_bytes(gzip.decompress((DAMAGED / f"{name}.gz").read_bytes()))
        return out

    return make


@pytest.fixture
def cut_corpus(tmp_path: Path):
    """``cut_corpus("dfvfs/ext2.vmdk")``: the first half of a corpus image (a partial copy)."""

    def make(rel: str) -> Path:
        src = CORPUS / rel
        if not src.is_file():
            pytest.skip(f"corpus image {rel} absent (../shared/testdata)")
        data = src.read_bytes()
        out = tmp_path / f"half_{src.name}"
        out.write_bytes(data[: len(data) // 2])
        return out

    return make
