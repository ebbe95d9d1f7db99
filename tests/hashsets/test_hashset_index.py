"""Compiled index files: the same matches as the raw sets, versioned and cut-short files refused,
the multi-index Hamming search exact against brute force, categories normalised."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from triage import __version__
from triage.cli.main import cli
from triage.errors import HashSetError
from triage.hashsets import MatchIndex, build_index, load_hashset, open_match_index
from triage.hashsets.categories import normalise_category
from triage.hashsets.compiled import CompiledIndex
from triage.hashsets.mih import MultiIndexHamming
from triage.hashsets.search import BruteForceHamming
from triage.records import FileHashes, MatchPolicy

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "hashsets"
SHARED = REPO / ".." / "shared" / "testdata" / "hashsets"
MIX = [
    (DATA / "known.csv", "alert"),
    (DATA / "pdq-list.txt", "alert"),
    (DATA / "vics-1.json", "alert"),
    (DATA / "caid.json", "alert"),
    (DATA / "NSRLFile.txt", "ignore"),
    (DATA / "nsrl-rdsv3.db", "ignore"),
    (DATA / "plain-mixed.txt", "alert"),
]


@pytest.fixture(scope="module")
def index_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("idx") / "sets.idx"
    build_index(MIX, out)
    return out


def _queries() -> list[FileHashes]:
    """Every hash of every set as a file's hash, plus near copies of each PDQ."""
    found = []
    for path, _ in MIX:
        for k in load_hashset(path).hashes:
            if k.algorithm == "pdq":
                flipped = f"{int(k.value, 16) ^ 0b1011:064x}"
                found += [
                    FileHashes(0, pdq=k.value, pdq_quality=100),
                    FileHashes(0, pdq=flipped, pdq_quality=90),
                ]
            else:
                found.append(FileHashes(0, **{k.algorithm: k.value}))
    return found


def test_an_index_gives_the_same_matches_as_the_raw_sets(index_file):
    raw = MatchIndex.build([load_hashset(p, role=r) for p, r in MIX])
    compiled = MatchIndex.open(index_file)
    assert compiled.paths == raw.paths
    assert [i.role for i in compiled.infos] == [r for _, r in MIX]
    queries = _queries()
    total = 0
    for q in queries:
        expected = raw.match(q, MatchPolicy())
        assert compiled.match(q, MatchPolicy()) == expected
        total += len(expected)
    assert total > len(queries) // 2
    roles = {m.role for q in queries for m in compiled.match(q, MatchPolicy())}
    assert roles == {"alert", "ignore"}


def test_open_match_index_mixes_indexes_and_raw_sets(index_file):
    extra = DATA / "sha256sum.txt"
    joined = open_match_index([(index_file, "alert"), (extra, "ignore")])
    assert joined.paths[-1] == str(extra.resolve())
    assert joined.infos[-1].role == "ignore" and joined.infos[0].index == str(index_file.resolve())
    all_ignore = open_match_index([(index_file, "ignore")])
    assert {i.role for i in all_ignore.infos} == {"ignore"}
    with pytest.raises(HashSetError, match="given twice"):
        open_match_index([(index_file, "alert"), (DATA / "known.csv", "alert")])


def test_info_prints_every_source(index_file):
    result = CliRunner().invoke(cli, ["hashset", "info", str(index_file)])
    assert result.exit_code == 0, result.output
    for path, _ in MIX:
        assert str(path.resolve()) in result.output
    assert "role: ignore" in result.output and "format: nsrl-rdsv3" in result.output
    assert "sha256: " + load_hashset(DATA / "known.csv").info.sha256 in result.output
    assert "built: " in result.output and "md5 " in result.output


def test_build_command_with_roles(tmp_path):
    out = tmp_path / "cli.idx"
    args = [
        "hashset",
        "build",
        str(DATA / "known.csv"),
        "--ignore",
        str(DATA / "NSRLFile.txt"),
        "-o",
        str(out),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert [i.role for i in CompiledIndex(out).infos] == ["alert", "ignore"]


def test_a_shared_corpus_mix_builds(tmp_path):
    sets = [SHARED / "hashdeep.txt", SHARED / "md5deep.txt", SHARED / "ilookv3.hsh"]
    if not all(p.is_file() for p in sets):
        pytest.skip("shared test corpus (../shared/testdata/hashsets) not available")
    toc = build_index([(p, "alert") for p in sets], tmp_path / "shared.idx")
    raw = MatchIndex.build([load_hashset(p) for p in sets])
    compiled = MatchIndex.open(tmp_path / "shared.idx")
    for s in [load_hashset(p) for p in sets]:
        for k in s.hashes[:50]:
            q = FileHashes(0, **{k.algorithm: k.value})
            assert compiled.match(q, MatchPolicy()) == raw.match(q, MatchPolicy())
    assert sum(toc["counts"].values()) == sum(i.entries for i in raw.infos)


def test_an_index_of_another_version_is_refused(index_file, tmp_path):
    data = bytearray(index_file.read_bytes())
    other = tmp_path / "other-format.idx"
    other.write_bytes(data[:8] + struct.pack("<H", 99) + data[10:])
    with pytest.raises(HashSetError, match=r"index format 99\); this is triage .*rebuild"):
        MatchIndex.open(other)
    length = struct.unpack_from("<H", data, 10)[0]
    assert data[12 : 12 + length].decode() == __version__
    fake = b"9" * length  # same length, another version
    other.write_bytes(data[:12] + fake + data[12 + length :])
    with pytest.raises(HashSetError, match=f"built by triage {'9' * length} "):
        MatchIndex.open(other)
    with pytest.raises(HashSetError, match="rebuild"):
        open_match_index([(other, "alert")])


def test_a_truncated_index_is_refused(index_file, tmp_path):
    data = index_file.read_bytes()
    for keep in (len(data) - 1, len(data) // 2, 40):
        cut = tmp_path / f"cut{keep}.idx"
        cut.write_bytes(data[:keep])
        with pytest.raises(HashSetError, match=f"{cut.name}: the index is cut short"):
            MatchIndex.open(cut)


def test_a_failed_build_leaves_no_index(tmp_path):
    out = tmp_path / "bad.idx"
    with pytest.raises(HashSetError, match=r"malformed.txt line \d+"):
        build_index([(DATA / "known.csv", "alert"), (DATA / "malformed.txt", "alert")], out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bits", [256, 64])
def test_multi_index_hamming_is_exact(bits):
    """Random hashes plus planted neighbours at every radius 0..31: MIH == brute force."""
    rng = np.random.default_rng(bits)
    words = bits // 64
    base = rng.integers(0, 2**64, size=(30_000, words), dtype=np.uint64)
    queries = base[:6].copy()
    planted = []
    for q in queries:
        for distance in range(0, min(32, bits) + 1):
            row = q.copy()
            for bit in rng.choice(bits, size=distance, replace=False):
                row[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
            planted.append(row)
    stored = np.vstack([base, np.array(planted)])
    hexes = [r.astype(">u8").tobytes().hex() for r in stored]
    mih, brute = MultiIndexHamming(stored, bits), BruteForceHamming(hexes, bits)
    radii = range(32) if bits == 256 else (0, 4, 8, 12, 20, 31)
    for q in queries:
        qhex = q.astype(">u8").tobytes().hex()
        for radius in radii:
            assert mih.search(qhex, radius) == brute.search(qhex, radius), radius
        assert len(mih.search(qhex, 31)) >= 32


def test_categories_are_kept_and_normalised():
    assert normalise_category("vics", "1") == ("vics", "csam")
    assert normalise_category("vics", "0") == ("vics", "non-pertinent")
    assert normalise_category("caid", "a") == ("caid", "csam")
    assert normalise_category("nsrl", "nsrl") == ("custom", "known-good")
    assert normalise_category("csv", "holiday") == ("custom", "custom")
    assert normalise_category("csv", None) == ("custom", "uncategorised")
