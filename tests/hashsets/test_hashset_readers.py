"""Each format on real files: the committed samples, the shared corpus, and error cases."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import pytest

from triage.errors import HashSetError
from triage.hashsets import load_hashset

# --------------------------------------------------------------------------- fixtures in sync


def test_committed_samples_match_their_generator(samples: ModuleType, data_dir: Path) -> None:
    for name, data in samples.samples().items():
        assert (data_dir / name).read_bytes() == data, f"{name}: run tests/data/hashsets/make_samples.py"


# --------------------------------------------------------------------------- plain lists


def test_plain_list_with_bom_crlf_comments_and_upper_case(samples: ModuleType, data_dir: Path) -> None:
    loaded = load_hashset(data_dir / "plain-md5.txt")
    assert [(k.algorithm, k.value, k.line) for k in loaded.hashes] == [
        ("md5", samples.md5("alpha"), 3),
        ("md5", samples.md5("bravo"), 4),
    ]
    assert loaded.info.format == "plain"
    assert loaded.info.counts == (("md5", 2),)


def test_plain_list_types_each_line_by_length(samples: ModuleType, data_dir: Path) -> None:
    loaded = load_hashset(data_dir / "plain-mixed.txt")  # also: no newline at the end
    assert [(k.algorithm, k.value) for k in loaded.hashes] == [
        ("md5", samples.md5("charlie")),
        ("sha1", samples.sha1("charlie")),
        ("sha256", samples.sha256("charlie")),
        ("phash", samples.PHASH_A),
    ]


def test_plain_list_in_utf16(samples: ModuleType, data_dir: Path) -> None:
    loaded = load_hashset(data_dir / "plain-utf16.txt")
    assert [k.value for k in loaded.hashes] == [samples.sha1("alpha"), samples.sha1("bravo")]


def test_declared_pdq_list(samples: ModuleType, data_dir: Path) -> None:
    loaded = load_hashset(data_dir / "pdq-list.txt")
    assert [(k.algorithm, k.value, k.category, k.line) for k in loaded.hashes] == [
        ("pdq", samples.PDQ_ORIG, "test-pdq", 4),
        ("pdq", samples.PDQ_SHRINK_A_LOT, "test-pdq", 5),
    ]


def test_undeclared_64_hex_list_is_sha256(samples: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "pdq-but-undeclared.txt"
    path.write_text(f"{samples.PDQ_ORIG}\n")
    assert load_hashset(path).hashes[0].algorithm == "sha256"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "{pdq}\n# triage-hashset: algorithm=pdq\n",
            2,
            "a triage-hashset directive must come before the first hash",
        ),
        ("# triage-hashset algorithm=pdq\n{pdq}\n", 1, "expected '# triage-hashset: key=value'"),
        ("# triage-hashset: algorithm=sha512\n{pdq}\n", 1, "unknown algorithm 'sha512'"),
        ("# triage-hashset: colour=red\n{pdq}\n", 1, "unknown triage-hashset setting 'colour'"),
        (
            "# triage-hashset: algorithm=pdq\n# triage-hashset: algorithm=md5\n{pdq}\n",
            2,
            "the algorithm is declared twice",
        ),
        ("# triage-hashset: algorithm=pdq\n{pdq}\n{md5}\n", 3, "expected a pdq hash of 64 hex digits"),
    ],
)
def test_directive_errors(samples: ModuleType, tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "set.txt"
    path.write_text(text.format(pdq=samples.PDQ_ORIG, md5=samples.md5("alpha")))
    with pytest.raises(HashSetError, match=rf"set.txt line {line}: {message}"):
        load_hashset(path)


def test_directive_spellings(samples: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "set.txt"
    path.write_text(f"## Triage-Hashset: Algorithm = PDQ\n{samples.PDQ_ORIG.upper()}\n")
    assert load_hashset(path).hashes[0].algorithm == "pdq"


def test_malformed_line_message(samples: ModuleType, data_dir: Path) -> None:
    path = data_dir / "malformed.txt"
    with pytest.raises(HashSetError) as caught:
        load_hashset(path)
    assert str(caught.value) == (
        f"{path} line {samples.MALFORMED_LINE}: expected a hex hash of 16, 32, 40 or 64 digits, found 'xyz'"
    )


def test_error_names_the_file_as_given(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(data_dir)
    with pytest.raises(HashSetError, match=r"^malformed.txt line 7: "):
        load_hashset("malformed.txt")


def test_empty_set_is_an_error(data_dir: Path) -> None:
    with pytest.raises(HashSetError, match=r"empty\.txt: no hashes found"):
        load_hashset(data_dir / "empty.txt")


def test_zero_byte_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "zero.txt").write_bytes(b"")
    with pytest.raises(HashSetError, match="no hashes found"):
        load_hashset(tmp_path / "zero.txt")


def test_missing_file_folder_and_unknown_format(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(HashSetError, match=r"nope\.txt: cannot open"):
        load_hashset(tmp_path / "nope.txt")
    with pytest.raises(HashSetError, match="is a folder"):
        load_hashset(tmp_path)
    with pytest.raises(HashSetError, match="unknown hash-set format 'nope'"):
        load_hashset(data_dir / "plain-md5.txt", format="nope")


def test_large_plain_list_loads_whole(tmp_path: Path) -> None:
    """200,000 MD5 lines, every one loaded with its line number. Its speed is measured by
    ``benchmarks/index.py``, not here: a timed test fails on a busy machine, not on slow code."""
    path = tmp_path / "big.txt"
    path.write_text("".join(f"{os.urandom(16).hex()}\n" for _ in range(200_000)))
    loaded = load_hashset(path)
    assert loaded.info.entries == 200_000
    assert loaded.hashes[-1].line == 200_000


def test_windows_1252_name_is_read(samples: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "old-tool.md5"
    path.write_bytes(f"{samples.md5('alpha')}  caf".encode() + b"\xe9.jpg\r\n")
    assert load_hashset(path).hashes[0].name == "café.jpg"


# --------------------------------------------------------------------------- sum files, md5deep


def test_sha256sum_text_binary_and_escaped_names(samples: ModuleType, data_dir: Path) -> None:
    loaded = load_hashset(data_dir / "sha256sum.txt")
    assert loaded.info.format == "sumfile"
    assert [(k.value, k.name) for k in loaded.hashes] == [
        (samples.sha256("alpha"), "photos/alpha.jpg"),
        (samples.sha256("bravo"), "photos/bravo.jpg"),
        (samples.sha256("charlie"), "photos\\charlie.jpg"),
    ]


def test_sumfile_bad_line(samples: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "sums.txt"
    path.write_text(f"{samples.md5('alpha')}  a.jpg\n{samples.md5('bravo')}\n")
    with pytest.raises(HashSetError, match=r"sums.txt line 2: expected '<hex hash>  <file name>'"):
        load_hashset(path)


def test_md5deep_size_keeps_size_as_label(samples: ModuleType, data_dir: Path) -> None:
    loaded = load_hashset(data_dir / "md5deep-size.txt")
    first = loaded.hashes[0]
    assert (first.value, first.name, first.labels) == (
        samples.md5("alpha"),
        "/case/alpha.txt",
        (("size", "20"),),
    )


def test_shared_md5deep_samples(testdata: Path) -> None:
    plain = load_hashset(testdata / "hashsets" / "md5deep.txt")
    sized = load_hashset(testdata / "hashsets" / "md5deep-size.txt")
    assert (plain.info.format, sized.info.format) == ("sumfile", "md5deep-size")
    assert [(k.value, k.name) for k in plain.hashes] == [(k.value, k.name) for k in sized.hashes]
    assert plain.hashes[0].value == "92e792c43c35e96fed3f9566083326fc"
    assert plain.hashes[-1].name == "/Users/jessek/nasm-2.02.tar.bz2"
    assert [k.labels for k in sized.hashes][:2] == [(("size", "669416"),), (("size", "298"),)]


def test_shared_ilook_sets_read_as_csv(testdata: Path) -> None:
    for name in ("ilookv3.hsh", "ilookv4.hsh"):
        loaded = load_hashset(testdata / "hashsets" / name)
        assert loaded.info.format == "csv"
        assert loaded.info.counts == (("md5", 5), ("sha1", 5))
        assert loaded.hashes[0].name == "fccu-docprop-0.1.tar.gz"
        assert loaded.hashes[0].value == "b5e254df3bb37efcdfd883d69897770a"


def test_shared_files_outside_this_scope_fail_cleanly(testdata: Path) -> None:
    with pytest.raises(HashSetError, match=r"sample.jpg: a binary file"):
        load_hashset(testdata / "hashsets" / "sample.jpg")
    with pytest.raises(HashSetError, match=r"sample.c line 1: not a recognised"):
        load_hashset(testdata / "hashsets" / "sample.c")


def test_shared_pdq_lists_need_the_declaration(testdata: Path, tmp_path: Path) -> None:
    haystack = testdata / "pdq" / "haystack.txt"
    assert load_hashset(haystack).info.counts == (("sha256", 1350),)
    declared = tmp_path / "haystack-pdq.txt"
    declared.write_bytes(b"# triage-hashset: algorithm=pdq\n" + haystack.read_bytes())
    loaded = load_hashset(declared)
    assert loaded.info.counts == (("pdq", 1350),)
    assert loaded.hashes[0].line == 2


# --------------------------------------------------------------------------- CSV


def test_csv_with_several_hash_columns(samples: ModuleType, data_dir: Path) -> None:
    loaded = load_hashset(data_dir / "known.csv")
    assert loaded.info.counts == (("md5", 3), ("sha1", 2), ("sha256", 1), ("pdq", 1))
    row = [k for k in loaded.hashes if k.entry_id == "1001"]
    assert [(k.algorithm, k.value) for k in row] == [
        ("md5", samples.md5("alpha")),
        ("sha1", samples.sha1("alpha")),
        ("sha256", samples.sha256("alpha")),
        ("pdq", samples.PDQ_ORIG),
    ]
    assert {(k.category, k.name, k.labels, k.line) for k in row} == {
        ("1", "alpha.jpg", (("Source", "lab"),), 2)
    }
    bravo = next(k for k in loaded.hashes if k.entry_id == "1002")
    assert bravo.value == samples.md5("bravo")
    assert bravo.labels == (("Source", "lab"), ("Notes", "seen twice, once renamed"))


def test_powershell_export_csv(samples: ModuleType, data_dir: Path) -> None:
    loaded = load_hashset(data_dir / "powershell.csv")
    assert [(k.algorithm, k.value, k.name, k.line) for k in loaded.hashes] == [
        ("sha256", samples.sha256("delta"), "C:\\evidence\\delta.txt", 3),
        ("md5", samples.md5("charlie"), "C:\\evidence\\charlie.txt", 4),
    ]


def test_tab_separated_generic_hash_column(samples: ModuleType, data_dir: Path) -> None:
    loaded = load_hashset(data_dir / "generic.tsv")
    assert [(k.algorithm, k.value, k.category) for k in loaded.hashes] == [
        ("phash", samples.PHASH_B, "bars"),
        ("pdq", samples.PDQ_SHARPEN_A_LOT, "bridge"),
    ]


def test_shared_pdq_csv_follows_the_rule(testdata: Path) -> None:
    loaded = load_hashset(testdata / "pdq" / "expected" / "PDQMD5TestData.csv")
    assert loaded.info.format == "csv"
    # a generic "Hash" column: 64 digits undeclared are SHA-256, the two video MD5s are MD5
    assert loaded.info.counts == (("md5", 2), ("sha256", 16))


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        (["md5,name", "{md5},a.jpg,extra"], 2, r"expected 2 fields as in the header, found 3"),
        (["id,MD5", "1,abc"], 2, r"column 'MD5': expected a md5 hash of 32 hex digits, found 'abc'"),
        (["id,md5,sha1", "1,,"], 2, r"no hash in this row \(hash columns: 'md5', 'sha1'\)"),
        (["MD5,md5 hash", "{md5},{md5}"], 1, r"columns 'MD5' and 'md5 hash' both hold md5 hashes"),
        (["hash,algorithm", "{md5},crc32"], 2, r"column 'algorithm': unknown algorithm 'crc32'"),
        (["hash,algorithm", "{md5},sha1"], 2, r"column 'hash': expected a sha1 hash of 40 hex digits"),
        (["md5,name", '{md5},"unterminated'], 2, r"not valid CSV"),
    ],
)
def test_csv_errors(samples: ModuleType, tmp_path: Path, rows: list[str], line: int, message: str) -> None:
    path = tmp_path / "set.csv"
    path.write_text("\n".join(rows).format(md5=samples.md5("alpha")) + "\n")
    with pytest.raises(HashSetError, match=rf"set.csv line {line}: {message}"):
        load_hashset(path)


def test_csv_quoted_field_spanning_lines_keeps_record_start(samples: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    path.write_text(f'md5,notes\n{samples.md5("alpha")},"two\nlines"\n{samples.md5("bravo")},x\n')
    loaded = load_hashset(path)
    assert [(k.line, k.labels) for k in loaded.hashes] == [
        (2, (("notes", "two\nlines"),)),
        (4, (("notes", "x"),)),
    ]
