"""A known-hash set is untrusted input too: odd types and runaway nesting never crash a scan."""

import json

import pytest

from triage.errors import HashSetError
from triage.hashsets import load_hashset

MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def _vics(media: dict) -> str:
    return json.dumps({"odata.metadata": "http://github.com/VICSDATAMODEL/ProjectVic.svc/$metadata#Media",
                       "value": [media]})  # fmt: skip


@pytest.mark.parametrize("file_name", [["a", "b"], {"x": 1}, 42])
def test_non_text_names_ids_and_categories_become_text(tmp_path, file_name):
    path = tmp_path / "set.json"
    path.write_text(_vics({"MediaID": [1], "Category": {"c": 1}, "MD5": MD5,
                           "MediaFiles": [{"FileName": file_name}]}))  # fmt: skip
    (known,) = load_hashset(path).hashes
    assert all(isinstance(v, str) for v in (known.entry_id, known.category, known.name))
    hash(known)  # usable as a dictionary key by the matcher


def test_a_deeply_nested_record_is_a_one_line_error(tmp_path):
    path = tmp_path / "deep.json"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text('{"value": [{"MD5": "' + MD5 + '", "Extra": ' + deep + "}]}")
    with pytest.raises(HashSetError, match=r"nested too deeply|expected"):
        load_hashset(path)


def test_a_forged_index_table_of_contents_is_refused(tmp_path):
    """An index whose table of contents points an array at a negative offset is refused with a
    one-line HashSetError, never read with a wrong layout."""
    import struct
    from pathlib import Path

    from triage.hashsets import build_index, open_match_index

    sample = Path(__file__).resolve().parents[1] / "data" / "hashsets" / "known.csv"
    index = tmp_path / "sets.idx"
    build_index([(sample, "alert")], index)
    data = bytearray(index.read_bytes())
    offset, length, _end = struct.unpack_from("<QQ8s", data, len(data) - 24)
    toc = json.loads(bytes(data[offset : offset + length]))
    first = next(iter(toc["arrays"].values()))
    first["offset"] = -1
    text = json.dumps(toc).encode()
    assert len(text) <= length
    data[offset : offset + length] = text.ljust(length)
    index.write_bytes(bytes(data))
    with pytest.raises(HashSetError, match="damaged"):
        open_match_index([(str(index), "alert")])


def test_a_lone_surrogate_in_a_name_is_stored_as_escaped_text(tmp_path):
    path = tmp_path / "set.json"
    path.write_text(_vics({"MediaID": "a\udcffb", "MD5": MD5, "MediaFiles": [{"FileName": "x\ud800.jpg"}]}))
    (known,) = load_hashset(path).hashes
    for text in (known.entry_id, known.name):
        text.encode("utf-8")  # storable in SQLite and every report
    assert known.entry_id == "a\\udcffb"
