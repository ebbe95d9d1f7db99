"""The formats of issue 4 on real files: the shared corpus (hashdeep, NSRL legacy RDS and its
zips, HashKeeper, PDQ lists, vPDQ frame lists) and the generated fixtures for formats with no
public sample (RDSv3 SQLite, EnCase .hash, VICS/CAID JSON; see make_samples.py for how each
follows its published layout). Expected counts come from counting lines independently."""

from __future__ import annotations

import re
import sqlite3
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from triage.errors import HashSetError
from triage.hashsets import load_hashset
from triage.hashsets import source as source_module

# --------------------------------------------------------------------------- shared corpus


def test_shared_hashdeep(testdata: Path) -> None:
    path = testdata / "hashsets" / "hashdeep.txt"
    rows = [t for t in path.read_text().splitlines() if t and not t.startswith(("%%%%", "#"))]
    loaded = load_hashset(path)
    assert loaded.info.format == "hashdeep"
    assert loaded.info.counts == (("md5", len(rows)), ("sha256", len(rows)))  # split by type
    size, md5, sha256, name = rows[0].split(",", 3)
    assert [(k.algorithm, k.value, k.name, k.labels) for k in loaded.hashes[:2]] == [
        ("md5", md5, name, (("size", size),)),
        ("sha256", sha256, name, (("size", size),)),
    ]


@pytest.mark.parametrize("name", ["NSRL-1.5.txt", "NSRL-2.0.txt"])
def test_shared_nsrl_legacy(testdata: Path, name: str) -> None:
    path = testdata / "hashsets" / "nsrl" / name
    rows = [t for t in path.read_text().splitlines() if t.startswith('"') and not t.startswith('"SHA-1"')]
    loaded = load_hashset(path)
    assert loaded.info.format == "nsrl"
    assert loaded.info.counts == (("md5", len(rows)), ("sha1", len(rows)))
    first = loaded.hashes[0]
    assert (first.algorithm, first.value, first.name, first.category) == (
        "sha1",
        "00d1034546f530d746131ce2a28a052db21652ec",
        "INFODESK.IC$",
        "nsrl",
    )
    assert ("CRC32", "CABEC7CD") in first.labels and ("ProductCode", "1") in first.labels
    assert loaded.hashes[1].value == "2193697c470774ea58da24b3bac5fcde"


def test_shared_nsrl_layouts_agree(testdata: Path) -> None:
    old, new = (load_hashset(testdata / "hashsets" / "nsrl" / n) for n in ("NSRL-1.5.txt", "NSRL-2.0.txt"))
    assert old.hashes == new.hashes  # the same set in the 1.5 (MD4) and 2.x column orders


@pytest.mark.parametrize("name", ["RDS-000001-15.zip", "RDS-000001-20.zip"])
def test_shared_nsrl_zip_is_read_in_place(testdata: Path, name: str) -> None:
    path = testdata / "hashsets" / "nsrl" / name
    with zipfile.ZipFile(path) as archive:
        member = archive.read("NSRLFile.txt").decode()
    rows = len(member.splitlines()) - 1
    loaded = load_hashset(path)
    assert loaded.info.format == "zip"
    assert loaded.info.counts == (("md5", rows), ("sha1", rows))
    assert loaded.hashes == load_hashset(testdata / "hashsets" / "nsrl" / "NSRL-2.0.txt").hashes


def test_shared_hashkeeper(testdata: Path) -> None:
    folder = testdata / "hashsets" / "hashkeeper"
    text = (folder / "Z00236.hsh").read_text()
    rows = [t for t in text.splitlines() if re.match(r"\d+,", t)]
    loaded = load_hashset(folder / "Z00236.hsh")
    assert loaded.info.format == "hashkeeper"
    assert loaded.info.counts == (("md5", len(rows)),) == (("md5", 6994),)
    first = loaded.hashes[0]
    assert (first.value, first.entry_id, first.name, first.line) == (
        "9497acf3cf8a2e90ae82dae37b6373e4",
        "4151044",
        "acsetups.pdb",
        2,
    )
    assert first.labels == (("hashset_id", "671"), ("file_size", "91136"))
    with zipfile.ZipFile(folder / "Z00236.zip") as archive:  # the original, one row fewer
        zipped_rows = len(
            [t for t in archive.read("Z00236.hsh").decode().splitlines() if re.match(r"\d+,", t)]
        )
    assert load_hashset(folder / "Z00236.zip").info.counts == (("md5", zipped_rows),)
    with pytest.raises(HashSetError, match=r"Z00236.hke line 1: a HashKeeper set description"):
        load_hashset(folder / "Z00236.hke")
    with pytest.raises(HashSetError, match=r"sample-hashkeeper line 1: not a recognised"):
        load_hashset(folder / "sample-hashkeeper")


def test_shared_pdq_lists_by_name_or_quality(testdata: Path, tmp_path: Path) -> None:
    for name in ("haystack.txt", "needles.txt"):
        original = testdata / "pdq" / name
        count = len(original.read_text().split())
        renamed = tmp_path / name.replace(".txt", ".pdq")
        renamed.write_bytes(original.read_bytes())
        loaded = load_hashset(renamed)
        assert (loaded.info.format, loaded.info.counts) == ("pdq", (("pdq", count),))
    table = testdata / "pdq" / "expected" / "cpp_reference_hashes.csv"
    good = tmp_path / "reference.csv"
    good.write_text("".join(table.read_text().splitlines(keepends=True)[:12]))
    loaded = load_hashset(good)
    assert loaded.info.format == "pdq" and loaded.info.counts == (("pdq", 12),)
    assert loaded.hashes[0].labels == (("quality", "100"),)
    assert loaded.hashes[0].entry_id == "pdq/data/bridge-mods/aaa-orig.jpg"
    with pytest.raises(HashSetError, match=r"cpp_reference_hashes.csv line 13: .*'ERROR"):
        load_hashset(table)  # the hasher's own failure lines are not hashes


def test_shared_vpdq_frame_lists(testdata: Path) -> None:
    files = sorted((testdata / "video" / "vpdq-expected").glob("*.txt"))
    assert files
    for path in files:
        frames = [t.split(",") for t in path.read_text().splitlines() if t.strip()]
        loaded = load_hashset(path)
        assert loaded.info.format == "vpdq"
        assert loaded.info.counts == (("pdq", len(frames)),)
        last, frame = loaded.hashes[-1], frames[-1]
        assert last.value == frame[2] and last.entry_id == path.stem
        assert last.labels == (
            ("video", path.stem),
            ("frame", frame[0]),
            ("timestamp", frame[3]),
            ("quality", frame[1]),
        )


def test_shared_non_sets_still_fail_cleanly(testdata: Path) -> None:
    with pytest.raises(HashSetError, match=r"sample.jpg: a binary file"):
        load_hashset(testdata / "hashsets" / "sample.jpg")
    with pytest.raises(HashSetError, match=r"sample.c line 1: not a recognised"):
        load_hashset(testdata / "hashsets" / "sample.c")


# --------------------------------------------------------------------------- hashdeep, NSRL, HashKeeper


def test_hashdeep_fixture(samples: ModuleType, data_dir: Path) -> None:
    loaded = load_hashset(data_dir / "hashdeep.txt")
    assert [(k.algorithm, k.value, k.name, k.line) for k in loaded.hashes] == [
        ("md5", samples.md5("alpha"), "/case/photos/alpha.jpg", 6),
        ("sha256", samples.sha256("alpha"), "/case/photos/alpha.jpg", 6),
        ("md5", samples.md5("bravo"), "/case/photos/bravo, copy.jpg", 7),
        ("sha256", samples.sha256("bravo"), "/case/photos/bravo, copy.jpg", 7),
    ]


def test_hashdeep_keeps_whirlpool_as_label(samples: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "h.txt"
    path.write_text(
        f"%%%% HASHDEEP-1.0\n%%%% size,sha1,whirlpool,filename\n20,{samples.sha1('alpha')},ABCD,a\n"
    )
    (known,) = load_hashset(path).hashes
    assert (known.algorithm, known.labels) == ("sha1", (("size", "20"), ("whirlpool", "abcd")))


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("%%%% HASHDEEP-1.0\n20,{md5},a\n", 2, r"expected the '%%%% size,...' column line"),
        ("%%%% HASHDEEP-1.0\n%%%% size,md5,name\n", 2, r"expected the column line"),
        ("%%%% HASHDEEP-1.0\n%%%% size,crc,filename\n", 2, r"unknown hashdeep column 'crc'"),
        ("%%%% HASHDEEP-1.0\n%%%% size,md5,filename\nx,{md5},a\n", 3, r"expected a file size in bytes"),
        ("%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n20,abc,a\n", 3, r"column 'md5': expected a md5 hash"),
    ],
)
def test_hashdeep_errors(samples: ModuleType, tmp_path: Path, body: str, line: int, message: str) -> None:
    path = tmp_path / "h.txt"
    path.write_text(body.format(md5=samples.md5("alpha")))
    with pytest.raises(HashSetError, match=rf"h.txt line {line}: {message}"):
        load_hashset(path)


def test_nsrl_fixture_and_bad_row(samples: ModuleType, data_dir: Path, tmp_path: Path) -> None:
    loaded = load_hashset(data_dir / "NSRLFile.txt")
    assert loaded.info.counts == (("md5", 3), ("sha1", 3))
    assert {k.category for k in loaded.hashes} == {"nsrl"}
    assert [k.value for k in loaded.hashes[:2]] == [samples.sha1("alpha"), samples.md5("alpha")]
    path = tmp_path / "NSRLFile.txt"
    path.write_bytes((data_dir / "NSRLFile.txt").read_bytes() + b'"00","11","22","x",1,1,"WIN",""\r\n')
    with pytest.raises(HashSetError, match=r"NSRLFile.txt line 5: column 'SHA-1': expected a sha1 hash"):
        load_hashset(path)


def test_hashkeeper_fixture(samples: ModuleType, data_dir: Path) -> None:
    loaded = load_hashset(data_dir / "hashkeeper.hsh")
    assert [(k.value, k.entry_id, k.name) for k in loaded.hashes] == [
        (samples.md5("alpha"), "1", "alpha.jpg"),
        (samples.md5("charlie"), "2", "C:\\photos\\charlie.jpg"),
    ]
    assert ("comments", "renamed") in loaded.hashes[1].labels


# --------------------------------------------------------------------------- zip, RDSv3, EnCase


def test_nsrl_zip_fixture_errors_name_archive_and_member(samples: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "rds.zip"
    path.write_bytes(samples.nsrl_zip(("alpha",)))
    assert [k.value for k in load_hashset(path).hashes] == [samples.sha1("alpha"), samples.md5("alpha")]
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr(
            "NSRLFile.txt", samples.nsrl_file_txt(("alpha",)) + b'"zz","11","","x",1,1,"W",""\r\n'
        )
    with pytest.raises(HashSetError, match=r"bad.zip \(member NSRLFile.txt\) line 3: column 'SHA-1'"):
        load_hashset(bad)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(
        HashSetError, match=r"other.zip: expected a zip holding one NSRLFile.txt .*readme.txt"
    ):
        load_hashset(other)


def test_rdsv3_fixture_matches_its_generator(samples: ModuleType, data_dir: Path, tmp_path: Path) -> None:
    """SQLite's bytes vary with its version, so the committed database is compared by content."""
    fresh = tmp_path / "fresh.db"
    samples.write_rdsv3(fresh)
    query = "SELECT * FROM FILE ORDER BY rowid"
    with sqlite3.connect(data_dir / "nsrl-rdsv3.db") as committed, sqlite3.connect(fresh) as built:
        assert committed.execute(query).fetchall() == built.execute(query).fetchall()


def test_rdsv3_reads_distinct_hashes_in_place(samples: ModuleType, data_dir: Path) -> None:
    path = data_dir / "nsrl-rdsv3.db"
    before = (path.read_bytes(), sorted(p.name for p in data_dir.iterdir()))
    loaded = load_hashset(path)
    distinct = {k for k, _ in samples.RDSV3_FILES}
    assert loaded.info.counts == tuple((a, len(distinct)) for a in ("md5", "sha1", "sha256"))
    assert {k.category for k in loaded.hashes} == {"nsrl"}
    assert {(k.algorithm, k.value) for k in loaded.hashes} == {
        (a, getattr(samples, a)(key)) for key in distinct for a in ("md5", "sha1", "sha256")
    }
    assert (path.read_bytes(), sorted(p.name for p in data_dir.iterdir())) == before  # no journal, no change


def test_rdsv3_without_the_view_reads_file_rows(samples: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "file-only.db"
    samples.write_rdsv3(path)
    with sqlite3.connect(path) as db:
        db.execute("DROP VIEW DISTINCT_HASH")
    loaded = load_hashset(path)
    assert loaded.info.entries == 3 * len(samples.RDSV3_FILES)
    third = [k for k in loaded.hashes if k.line == 3]
    assert {(k.name, k.labels) for k in third} == {("bravo.txt", (("file_size", "20"), ("package_id", "2")))}


def test_other_sqlite_is_not_a_set(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(HashSetError, match=r"other.db: a binary file"):
        load_hashset(path)


def test_encase_fixture_follows_tsk_layout(samples: ModuleType, data_dir: Path) -> None:
    """The fixture follows The Sleuth Kit's reader: name at 1032, records of 18 bytes from 1152."""
    loaded = load_hashset(data_dir / "encase.hash")
    assert [(k.value, k.line) for k in loaded.hashes] == [
        (samples.md5("alpha"), 1),
        (samples.md5("bravo"), 2),
        (samples.md5("delta"), 3),
    ]
    assert {(k.category, k.labels) for k in loaded.hashes} == {("Known", (("hashset", "triage sample set"),))}


def test_encase_errors_name_the_byte_offset(samples: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "e.hash"
    path.write_bytes(samples.encase_hash([samples.md5("alpha")]) + b"\x01\x02")
    with pytest.raises(HashSetError, match=r"e.hash byte offset 1170: expected an 18-byte MD5 record"):
        load_hashset(path)
    data = bytearray(samples.encase_hash([samples.md5("alpha"), samples.md5("bravo")]))
    data[16] = 5
    path.write_bytes(bytes(data))
    with pytest.raises(
        HashSetError, match=r"byte offset 1188: the header counts 5 records, the file holds 2"
    ):
        load_hashset(path)
    path.write_bytes(b"HASH\r\n\xff\x00" + bytes(100))
    with pytest.raises(HashSetError, match=r"byte offset 108: expected a header of 1152 bytes"):
        load_hashset(path)


# --------------------------------------------------------------------------- VICS, CAID


def test_vics_1_fixture(samples: ModuleType, data_dir: Path) -> None:
    loaded = load_hashset(data_dir / "vics-1.json")
    assert loaded.info.format == "vics"
    assert loaded.info.counts == (("md5", 2), ("sha1", 1), ("pdq", 1))  # the PhotoDNA-only record gives none
    first = loaded.hashes[0]
    assert [(k.algorithm, k.value) for k in loaded.hashes if k.entry_id == "1"] == [
        ("md5", samples.md5("alpha")),
        ("sha1", samples.sha1("alpha")),
        ("pdq", samples.PDQ_ORIG),
    ]
    assert (first.category, first.name, first.line) == ("1", "alpha.jpg", 2)
    assert first.labels == (
        ("MediaSize", "20"),
        ("IsPrecategorized", "false"),
        ("PhotoDNA", samples.PHOTODNA),
    )


def test_vics_2_indented_keeps_record_start_lines(data_dir: Path) -> None:
    lines = (data_dir / "vics-2.json").read_text().splitlines()
    starts = {
        str(n): i for i, t in enumerate(lines, start=0) for n in "12" if t.strip() == f'"MediaID": {n},'
    }
    loaded = load_hashset(data_dir / "vics-2.json")
    assert loaded.info.format == "vics"
    assert [(k.algorithm, k.value) for k in loaded.hashes] == [
        (k.algorithm, k.value) for k in load_hashset(data_dir / "vics-1.json").hashes
    ]
    assert {k.entry_id: k.line for k in loaded.hashes} == starts  # the '{' line above "MediaID"


def test_caid_fixture(data_dir: Path) -> None:
    loaded = load_hashset(data_dir / "caid.json")
    assert loaded.info.format == "caid"
    assert {k.category for k in loaded.hashes} == {"A"}


def test_vics_streams_across_tiny_chunks(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = load_hashset(data_dir / "vics-2.json")
    monkeypatch.setattr(source_module, "CHUNK_BYTES", 3)
    monkeypatch.setattr(source_module, "HEAD_BYTES", 200)
    assert load_hashset(data_dir / "vics-2.json") == whole


@pytest.mark.parametrize(
    ("cut", "line", "message"),
    [
        (lambda t: t[: t.index('"MediaID": 2')], 3, r"expected a record"),
        (
            lambda t: t + "this is not a hash\n",
            6,
            r"expected the end of the JSON document, found 'this is not",
        ),
        (lambda t: t.replace('"value"', '"values"'), None, r"expected a 'value' array"),
        (lambda t: t.replace('"Category": 1, "MD5": "', '"Category": 1, "MD5": "ZZ', 1), 2, r"column 'MD5'"),
    ],
)
def test_vics_errors(data_dir: Path, tmp_path: Path, cut: object, line: int | None, message: str) -> None:
    path = tmp_path / "v.json"
    path.write_text(cut((data_dir / "vics-1.json").read_text()))  # type: ignore[operator]
    where = "v.json" if line is None else f"v.json line {line}"
    with pytest.raises(HashSetError, match=rf"{where}: {message}"):
        load_hashset(path)


# --------------------------------------------------------------------------- PDQ lists, vPDQ


def test_threatexchange_pdq_fixture(samples: ModuleType, data_dir: Path) -> None:
    loaded = load_hashset(data_dir / "threatexchange.pdq")
    assert [(k.value, k.entry_id, k.labels) for k in loaded.hashes] == [
        (samples.PDQ_ORIG, "te-1001", (("quality", "100"),)),
        (samples.PDQ_SHARPEN_A_LOT, "te-1002", (("quality", "90"),)),
        (samples.PDQ_SHRINK_A_LOT, None, (("quality", "85"),)),
    ]


def test_pdq_quality_out_of_range(samples: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "q.pdq"
    path.write_text(f"{samples.PDQ_ORIG},100\n{samples.PDQ_ORIG},101\n")
    with pytest.raises(HashSetError, match=r"q.pdq line 2: expected a PDQ quality from 0 to 100, found 101"):
        load_hashset(path)


def test_vpdq_fixture(samples: ModuleType, data_dir: Path) -> None:
    loaded = load_hashset(data_dir / "video-clip.vpdq.txt")
    assert [(k.value, k.entry_id, k.labels) for k in loaded.hashes] == [
        (
            h,
            "video-clip.vpdq",
            (("video", "video-clip.vpdq"), ("frame", str(f)), ("timestamp", t), ("quality", str(q))),
        )
        for f, q, h, t in samples.VPDQ_FRAMES
    ]


def test_vics_cases_form_reads_the_media_of_every_case(data_dir: Path) -> None:
    """A ``$metadata#Cases`` export nests media in each case (two cases here): every case's media
    are read, the same hashes as the flat ``#Media`` form, each with its own start line and its
    case's number kept as a label."""
    path = data_dir / "vics-cases.json"
    lines = path.read_text().splitlines()
    starts = {str(n): i for i, t in enumerate(lines) for n in "12" if t.strip() == f'"MediaID": {n},'}
    loaded = load_hashset(path)
    assert loaded.info.format == "vics"
    flat = load_hashset(data_dir / "vics-1.json")
    assert sorted((k.algorithm, k.value, k.entry_id) for k in loaded.hashes) == sorted(
        (k.algorithm, k.value, k.entry_id) for k in flat.hashes
    )
    assert {k.entry_id: k.line for k in loaded.hashes} == starts
    cases = {k.entry_id: dict(k.labels).get("CaseNumber") for k in loaded.hashes}
    assert cases == {"1": "2026-0042", "2": "2026-0043"}
    assert dict(next(k for k in loaded.hashes if k.entry_id == "1").labels)["CaseID"] == "c-17"


def test_vics_cases_form_decoded_whole_when_not_so_named(tmp_path: Path, data_dir: Path) -> None:
    """A case holding ``Media`` under a ``#Media`` context (a tool that names it wrongly) is read
    too, not taken for a media record without hashes."""
    text = (data_dir / "vics-cases.json").read_text().replace("$metadata#Cases", "$metadata#Media")
    (tmp_path / "cases.json").write_text(text)
    loaded = load_hashset(tmp_path / "cases.json")
    assert {k.entry_id for k in loaded.hashes} == {"1", "2"}
