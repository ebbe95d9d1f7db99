"""Contract tests every reader in the table must pass, each on its own real sample file.

Adding a reader means adding its sample to SAMPLES; the first test fails until that is done.
Binary formats (BINARY) have no lines: their ``line`` is a record or row number, and instead of
a bad line appended, a cut-short copy of the sample must fail naming the file. Formats whose
empty form is not a comment-only text file give one in EMPTY (made by make_samples.py).
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from triage.errors import HashSetError
from triage.hashsets import READERS, HashSetReader, load_hashset
from triage.hashsets.base import ALGORITHM_ORDER, HEX_DIGITS
from triage.hashsets.source import Source

SAMPLES: dict[str, str] = {
    "csv": "known.csv",
    "md5deep-size": "md5deep-size.txt",
    "sumfile": "sha256sum.txt",
    "plain": "plain-md5.txt",
    "hashdeep": "hashdeep.txt",
    "nsrl": "NSRLFile.txt",
    "zip": "nsrl-rds.zip",
    "nsrl-rdsv3": "nsrl-rdsv3.db",
    "hashkeeper": "hashkeeper.hsh",
    "encase": "encase.hash",
    "vics": "vics-1.json",
    "caid": "caid.json",
    "pdq": "threatexchange.pdq",
    "vpdq": "video-clip.vpdq.txt",
}
#: Formats without lines: KnownHash.line is a record (EnCase), row (SQLite) or member line (zip).
BINARY = {"encase", "nsrl-rdsv3", "zip"}


def _empty_sqlite(samples: ModuleType, path: Path) -> None:
    samples.write_rdsv3(path, rows=())


#: Writes the format's form of "a set with no hashes" at the given path.
EMPTY: dict[str, Callable[[ModuleType, Path], None]] = {
    "encase": lambda s, p: p.write_bytes(s.encase_hash([])),
    "zip": lambda s, p: p.write_bytes(s.nsrl_zip(())),
    "nsrl-rdsv3": _empty_sqlite,
    "vics": lambda s, p: p.write_bytes(s.vics_json([], s.VICS_1)),
    "caid": lambda s, p: p.write_bytes(s.vics_json([], s.CAID_1)),
}

by_name = pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)


def test_every_reader_has_a_sample() -> None:
    assert sorted(r.name for r in READERS) == sorted(SAMPLES)
    assert len({r.name for r in READERS}) == len(READERS)
    assert READERS[-1].name == "plain", "the plain-list fallback must be last"


@by_name
def test_sample_is_detected_as_its_format(reader: HashSetReader, data_dir: Path) -> None:
    assert load_hashset(data_dir / SAMPLES[reader.name]).info.format == reader.name


@by_name
def test_hashes_are_well_formed_and_traceable(reader: HashSetReader, data_dir: Path) -> None:
    path = data_dir / SAMPLES[reader.name]
    loaded = load_hashset(path)
    raw = path.read_bytes()
    lines = [] if reader.name in BINARY else raw.decode("utf-8-sig").splitlines()
    assert loaded.hashes
    for known in loaded.hashes:
        assert known.algorithm in ALGORITHM_ORDER
        assert len(known.value) == HEX_DIGITS[known.algorithm]
        assert known.value == known.value.lower()
        int(known.value, 16)
        assert known.line is not None and known.line >= 1
        if reader.name not in BINARY:
            assert known.value in lines[known.line - 1].lower(), "line must point at the hash"
    info = loaded.info
    assert info.sha256 == hashlib.sha256(raw).hexdigest()
    assert info.path == os.path.abspath(path)
    assert info.name == path.name
    assert info.entries == len(loaded.hashes) == sum(n for _, n in info.counts)
    assert [a for a, _ in info.counts] == [a for a in ALGORITHM_ORDER if a in dict(info.counts)]


@by_name
def test_reader_used_directly_gives_the_same_hashes(reader: HashSetReader, data_dir: Path) -> None:
    path = data_dir / SAMPLES[reader.name]
    with Source(path, str(path)) as source:
        assert reader.detect(source.sniff())
        direct = tuple(reader.read(source))
    assert direct == load_hashset(path).hashes == load_hashset(path, format=reader.name).hashes


@by_name
def test_a_bad_line_names_the_file_and_line(reader: HashSetReader, data_dir: Path, tmp_path: Path) -> None:
    if reader.name in BINARY:
        pytest.skip("binary format: see test_a_cut_short_binary_set_names_the_file")
    good = (data_dir / SAMPLES[reader.name]).read_bytes()
    bad_line = len(good.decode("utf-8-sig").splitlines()) + 1
    path = tmp_path / f"bad-{reader.name}.txt"
    path.write_bytes(good + b"this is not a hash\n")
    with pytest.raises(HashSetError, match=rf"{path.name} line {bad_line}: .*this is not a hash"):
        load_hashset(path)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_a_cut_short_binary_set_names_the_file(name: str, data_dir: Path, tmp_path: Path) -> None:
    good = (data_dir / SAMPLES[name]).read_bytes()
    path = tmp_path / f"cut-{SAMPLES[name]}"
    path.write_bytes(good[: len(good) - 7])
    with pytest.raises(HashSetError, match=rf"^{path}( byte offset \d+)?: \S"):
        load_hashset(path, format=name)


@by_name
def test_no_hashes_is_an_error(reader: HashSetReader, samples: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("# nothing\n\n")
    if reader.name in EMPTY:
        EMPTY[reader.name](samples, path)
    with pytest.raises(HashSetError, match="no hashes found"):
        load_hashset(path, format=reader.name)


@by_name
def test_detector_answers_every_sample_without_raising(reader: HashSetReader, data_dir: Path) -> None:
    for sample in data_dir.iterdir():
        with Source(sample, str(sample)) as source:
            assert reader.detect(source.sniff()) in (True, False)


@by_name
def test_loaded_set_survives_pickling(reader: HashSetReader, data_dir: Path) -> None:
    loaded = load_hashset(data_dir / SAMPLES[reader.name])
    assert pickle.loads(pickle.dumps(loaded)) == loaded
