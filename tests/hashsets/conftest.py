"""Shared fixtures for the hash-set tests: the committed samples and the shared corpus."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "hashsets"
SHARED = REPO / ".." / "shared" / "testdata"


def _load_samples_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hashset_samples", DATA / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def samples() -> ModuleType:
    """tests/data/hashsets/make_samples.py: the contents and hashes the samples were made from."""
    return _load_samples_module()


@pytest.fixture(scope="session")
def testdata() -> Path:
    if not SHARED.is_dir():
        pytest.skip("shared test corpus ../shared/testdata is not present")
    return SHARED
