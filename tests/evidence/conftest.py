"""Shared fixtures for the evidence tests: the conformance corpus and gunzipped images."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from triage.evidence import reader

REPO = Path(__file__).resolve().parents[2]
TESTDATA = REPO / ".." / "shared" / "testdata"
FIXTURES = REPO / "tests" / "data"


@pytest.fixture(scope="session")
def testdata() -> Path:
    if not (TESTDATA / "disk").is_dir():
        pytest.skip("shared conformance corpus (<repo>/../shared/testdata) is absent")
    return TESTDATA.resolve()


@pytest.fixture(scope="session")
def gunzip(tmp_path_factory, testdata):
    """Decompress ``disk/<name>.gz`` once per session into a temporary folder."""
    out_dir = tmp_path_factory.mktemp("gunzipped")

    def _gunzip(rel: str) -> Path:
        src = testdata / "disk" / rel
        out = out_dir / Path(rel).name.removesuffix(".gz")
        if not out.exists():
            with gzip.open(src, "rb") as fin, open(out, "wb") as fout:
                shutil.copyfileobj(fin, fout)
        return out

    return _gunzip


@pytest.fixture(autouse=True)
def _fresh_handle_cache():
    """Each test starts and ends without cached image handles (temporary files get deleted)."""
    reader.clear_cache()
    yield
    reader.clear_cache()
