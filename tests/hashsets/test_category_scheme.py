"""A set can say which scheme its categories follow (``# triage-hashset: scheme=vics``), so its
categories are reported by name instead of as "custom" (issue #11); a compiled index keeps it."""

from __future__ import annotations

import pytest

from triage.errors import HashSetError
from triage.hashsets import build_index, load_hashset
from triage.hashsets.categories import normalise_category
from triage.hashsets.compiled import CompiledIndex

ROW = "K-1,1," + "a" * 32 + "\n"


def test_a_csv_set_names_its_scheme_and_an_index_keeps_it(tmp_path):
    path = tmp_path / "lab.csv"
    path.write_text("# triage-hashset: scheme=VICS\nid,category,md5\n" + ROW)
    info = load_hashset(path).info
    assert info.category_scheme == "vics"
    assert normalise_category(info.format, "1", info.category_scheme) == ("vics", "csam")
    assert normalise_category(info.format, "1") == ("custom", "custom")  # without the declaration
    build_index([(path, "alert")], tmp_path / "lab.idx")
    assert CompiledIndex(tmp_path / "lab.idx").infos[0].category_scheme == "vics"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("# triage-hashset: scheme=vics\n# triage-hashset: scheme=caid\n", "declared twice"),
        ("# triage-hashset: scheme=two words\n", "one word"),
    ],
)
def test_a_bad_scheme_declaration_names_the_line(tmp_path, lines, message):
    path = tmp_path / "bad.csv"
    path.write_text(lines + "id,category,md5\n" + ROW)
    with pytest.raises(HashSetError, match=message):
        load_hashset(path)


def test_hashset_build_can_name_the_scheme_of_sets_that_do_not(tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("id,category,md5\n" + ROW)
    declared = tmp_path / "declared.csv"
    declared.write_text("# triage-hashset: scheme=caid\nid,category,sha1\nK-2,A," + "b" * 40 + "\n")
    build_index([(plain, "alert"), (declared, "alert")], tmp_path / "sets.idx", category_scheme="VICS")
    schemes = [i.category_scheme for i in CompiledIndex(tmp_path / "sets.idx").infos]
    assert schemes == ["vics", "caid"]  # the set's own declaration wins
    with pytest.raises(HashSetError, match="one word"):
        build_index([(plain, "alert")], tmp_path / "bad.idx", category_scheme="not a word")
