"""MatchIndex on real sets and real hashes: exact lookups, PDQ and pHash radius search."""

from __future__ import annotations

import csv
import hashlib
import random
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from triage.hashsets import BruteForceHamming, LoadedHashSet, MatchIndex, load_hashset, search
from triage.records import FileHashes, Match, MatchPolicy

POLICY = MatchPolicy()


def hamming(a: str, b: str) -> int:
    """Reference distance in plain Python: popcount of the XOR."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def file_hashes(content: bytes, **perceptual: object) -> FileHashes:
    return FileHashes(
        size_read=len(content),
        md5=hashlib.md5(content).hexdigest(),
        sha1=hashlib.sha1(content).hexdigest(),
        sha256=hashlib.sha256(content).hexdigest(),
        **perceptual,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def sets(data_dir: Path) -> dict[str, LoadedHashSet]:
    names = ("plain-md5.txt", "plain-mixed.txt", "sha256sum.txt", "known.csv", "pdq-list.txt", "generic.tsv")
    return {name: load_hashset(data_dir / name) for name in names}


@pytest.fixture(scope="module")
def index(sets: dict[str, LoadedHashSet]) -> MatchIndex:
    return MatchIndex.build(list(sets.values()))


@pytest.fixture(scope="module")
def reference_pdq(testdata: Path) -> dict[str, tuple[str, int]]:
    """{image path: (pdq, quality)} from Meta's C++ reference hasher."""
    table = testdata / "pdq" / "expected" / "cpp_reference_hashes.csv"
    with table.open(newline="") as fh:
        return {path: (value, int(q)) for value, q, path in csv.reader(fh) if value != "ERROR"}


# --------------------------------------------------------------------------- exact


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha256"])
def test_exact_match_on_each_algorithm(samples: ModuleType, index: MatchIndex, algorithm: str) -> None:
    content = samples.CONTENTS["charlie"]
    full = file_hashes(content)
    only = FileHashes(size_read=len(content), **{algorithm: getattr(full, algorithm)})
    matches = index.match(only, POLICY)
    assert matches and {m.algorithm for m in matches} == {algorithm}
    for m in matches:
        assert (m.kind, m.distance, m.file_hash, m.known_hash) == (
            "exact",
            0,
            m.known_hash,
            getattr(full, algorithm),
        )


def test_match_names_set_entry_category_and_name(
    samples: ModuleType, index: MatchIndex, sets: dict[str, LoadedHashSet]
) -> None:
    matches = index.match(file_hashes(samples.CONTENTS["alpha"]), POLICY)
    known = sets["known.csv"].info.path
    assert [m for m in matches if m.hashset == known] == [
        Match("exact", "md5", 0, known, samples.md5("alpha"), samples.md5("alpha"), "1001", "1", "alpha.jpg"),
        Match(
            "exact", "sha1", 0, known, samples.sha1("alpha"), samples.sha1("alpha"), "1001", "1", "alpha.jpg"
        ),
        Match(
            "exact",
            "sha256",
            0,
            known,
            samples.sha256("alpha"),
            samples.sha256("alpha"),
            "1001",
            "1",
            "alpha.jpg",
        ),
    ]


def test_a_file_in_two_sets_gives_a_match_per_set(
    samples: ModuleType, index: MatchIndex, sets: dict[str, LoadedHashSet]
) -> None:
    matches = index.match(FileHashes(size_read=0, md5=samples.md5("alpha")), POLICY)
    assert [m.hashset for m in matches] == sorted(
        [sets["plain-md5.txt"].info.path, sets["known.csv"].info.path]
    )


def test_upper_case_file_hash_matches(samples: ModuleType, index: MatchIndex) -> None:
    matches = index.match(FileHashes(size_read=0, md5=samples.md5("bravo").upper()), POLICY)
    assert matches and all(m.file_hash == samples.md5("bravo") for m in matches)


def test_unknown_file_has_no_match(index: MatchIndex) -> None:
    assert index.match(file_hashes(b"not in any set"), POLICY) == []
    assert index.match(FileHashes(size_read=0, error="unreadable"), POLICY) == []


def test_several_entries_with_one_hash_give_one_match_each(samples: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "dupes.csv"
    md5 = samples.md5("delta")
    path.write_text(f"id,category,md5\n7,A,{md5}\n3,B,{md5}\n3,B,{md5}\n")
    index = MatchIndex.build([load_hashset(path)])
    matches = index.match(FileHashes(size_read=0, md5=md5), POLICY)
    # ids 3 and 7; the identical third row is the same entry reported once.
    assert [(m.entry_id, m.category) for m in matches] == [("3", "B"), ("7", "A")]


def test_order_does_not_depend_on_set_order(samples: ModuleType, sets: dict[str, LoadedHashSet]) -> None:
    hashes = file_hashes(samples.CONTENTS["alpha"], pdq=samples.PDQ_ORIG, pdq_quality=100)
    forward = MatchIndex.build(list(sets.values())).match(hashes, POLICY)
    backward = MatchIndex.build(list(reversed(sets.values()))).match(hashes, POLICY)
    assert forward == backward
    assert [m.kind for m in forward] == sorted(m.kind for m in forward)  # exact before perceptual
    assert len(forward) > 3


def test_malformed_file_hash_is_a_caller_bug(index: MatchIndex) -> None:
    with pytest.raises(ValueError, match="pdq"):
        index.match(FileHashes(size_read=0, pdq="abc", pdq_quality=100), POLICY)


# --------------------------------------------------------------------------- PDQ


def test_pdq_within_at_and_beyond_the_radius(
    reference_pdq: dict[str, tuple[str, int]], tmp_path: Path
) -> None:
    orig, _ = reference_pdq["pdq/data/bridge-mods/aaa-orig.jpg"]
    path = tmp_path / "orig.txt"
    path.write_text(f"# triage-hashset: algorithm=pdq\n{orig}\n")
    loaded = load_hashset(path)
    index = MatchIndex.build([loaded])
    edits = {p: v for p, v in reference_pdq.items() if "/bridge-mods/" in p}
    distances = set()
    for edit, (value, quality) in edits.items():
        d = hamming(orig, value)
        distances.add(d)
        hashes = FileHashes(size_read=0, pdq=value, pdq_quality=quality)
        at = index.match(hashes, MatchPolicy(pdq_max_distance=d))
        assert [(m.kind, m.algorithm, m.distance, m.known_hash, m.file_hash) for m in at] == [
            ("perceptual", "pdq", d, orig, value)
        ], edit
        assert index.match(hashes, MatchPolicy(pdq_max_distance=d + 1))[0].distance == d
        if d > 0:
            assert index.match(hashes, MatchPolicy(pdq_max_distance=d - 1)) == [], edit
    assert max(distances) > 10, "the edits should span a range of distances"


def test_pdq_rotations_are_beyond_the_default_radius(reference_pdq: dict[str, tuple[str, int]]) -> None:
    """A rotated or mirrored photo is a different PDQ hash (far beyond 31 bits)."""
    orig = reference_pdq["pdq/data/reg-test-input/dih/bridge-1-original.jpg"][0]
    rotated = reference_pdq["pdq/data/reg-test-input/dih/bridge-2-rotate-90.jpg"][0]
    search_ = BruteForceHamming([orig], 256)
    assert hamming(orig, rotated) > 31
    assert search_.search(rotated, 31) == []
    assert search_.search(rotated, 256) == [(0, hamming(orig, rotated))]


def test_pdq_quality_below_minimum_gives_no_match(samples: ModuleType, index: MatchIndex) -> None:
    near = samples.PDQ_ORIG
    assert index.match(FileHashes(size_read=0, pdq=near, pdq_quality=50), POLICY)
    assert index.match(FileHashes(size_read=0, pdq=near, pdq_quality=49), POLICY) == []
    assert index.match(FileHashes(size_read=0, pdq=near, pdq_quality=None), POLICY) == []


def test_pdq_search_never_misses(testdata: Path, tmp_path: Path) -> None:
    """The index against a plain-Python popcount over the reference haystack and needles."""
    haystack_path = tmp_path / "haystack.txt"
    haystack_path.write_bytes(
        b"# triage-hashset: algorithm=pdq\n" + (testdata / "pdq" / "haystack.txt").read_bytes()
    )
    haystack = load_hashset(haystack_path)
    index = MatchIndex.build([haystack])
    needles = (testdata / "pdq" / "needles.txt").read_text().split()
    queries = needles + [k.value for k in haystack.hashes[::50]]
    for radius in (0, 31, 90):
        policy = MatchPolicy(pdq_max_distance=radius)
        for query in queries:
            distances = {(hamming(query, k.value), k.value) for k in haystack.hashes}
            expected = sorted((d, v) for d, v in distances if d <= radius)
            got = index.match(FileHashes(size_read=0, pdq=query, pdq_quality=100), policy)
            # identical entries (the same value twice in the list) are one match
            assert sorted((m.distance, m.known_hash) for m in got) == expected
            if radius == 0 and query not in needles:
                assert expected, "a haystack hash finds itself"


def test_blockwise_search_equals_one_block(testdata: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = (testdata / "pdq" / "haystack.txt").read_text().split()
    query = values[17]
    whole = BruteForceHamming(values, 256).search(query, 60)
    monkeypatch.setattr(search, "BLOCK_ROWS", 7)
    assert BruteForceHamming(values, 256).search(query, 60) == whole
    assert whole == [(i, hamming(query, v)) for i, v in enumerate(values) if hamming(query, v) <= 60]


def test_popcount_fallback_for_old_numpy() -> None:
    rng = np.random.default_rng(7)
    words = rng.integers(0, 2**63, size=(100, 4), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    fallback = search._popcount_table(words)
    assert fallback.tolist() == [[bin(int(w)).count("1") for w in row] for row in words]


# --------------------------------------------------------------------------- pHash


def flip(value: str, bits: list[int]) -> str:
    n = int(value, 16)
    for bit in bits:
        n ^= 1 << bit
    return f"{n:0{len(value)}x}"


def test_phash_radius(samples: ModuleType, index: MatchIndex, sets: dict[str, LoadedHashSet]) -> None:
    rng = random.Random(3)
    for distance in range(0, 12):
        query = flip(samples.PHASH_A, rng.sample(range(64), distance))
        assert hamming(query, samples.PHASH_A) == distance
        got = index.match(FileHashes(size_read=0, phash=query), POLICY)
        if distance <= POLICY.phash_max_distance:
            assert [(m.kind, m.algorithm, m.distance, m.known_hash, m.hashset) for m in got] == [
                ("perceptual", "phash", distance, samples.PHASH_A, sets["plain-mixed.txt"].info.path)
            ]
        else:
            assert got == []


def test_pdq_and_phash_match_in_two_sets(
    samples: ModuleType, index: MatchIndex, sets: dict[str, LoadedHashSet]
) -> None:
    got = index.match(FileHashes(size_read=0, pdq=samples.PDQ_ORIG, pdq_quality=100), POLICY)
    by_set = {(m.hashset, m.known_hash, m.distance, m.category) for m in got}
    d = hamming(samples.PDQ_ORIG, samples.PDQ_SHRINK_A_LOT)
    d2 = hamming(samples.PDQ_ORIG, samples.PDQ_SHARPEN_A_LOT)
    assert by_set == {
        (sets["pdq-list.txt"].info.path, samples.PDQ_ORIG, 0, "test-pdq"),
        (sets["pdq-list.txt"].info.path, samples.PDQ_SHRINK_A_LOT, d, "test-pdq"),
        (sets["known.csv"].info.path, samples.PDQ_ORIG, 0, "1"),
        (sets["generic.tsv"].info.path, samples.PDQ_SHARPEN_A_LOT, d2, "bridge"),
    }
    assert [m.distance for m in got] == sorted(m.distance for m in got)


def test_search_is_replaceable(samples: ModuleType, sets: dict[str, LoadedHashSet]) -> None:
    """The seam a faiss index will use: MatchIndex.build(sets, search=factory)."""
    built: list[int] = []

    def factory(values: Sequence[str], bits: int) -> BruteForceHamming:
        built.append(bits)
        return BruteForceHamming(values, bits)

    index = MatchIndex.build(list(sets.values()), search=factory)
    assert sorted(built) == [64, 256]
    hashes = FileHashes(size_read=0, pdq=samples.PDQ_ORIG, pdq_quality=100, phash=samples.PHASH_A)
    assert index.match(hashes, POLICY) == MatchIndex.build(list(sets.values())).match(hashes, POLICY)
