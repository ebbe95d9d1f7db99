"""Location strings: stable, readable, safe, and parse back to the same address."""

import pytest

from triage.errors import UsageError
from triage.locator import Carved, Location, Volume, member_id, member_name, quote_path, unquote_path


@pytest.mark.parametrize(
    "loc, text",
    [
        (
            Location("EV1", Volume("p2", 1048576, "ntfs"), "/Users/a/c.jpg", "1234"),
            "EV1/p2@1048576(ntfs)/Users/a/c.jpg#1234",
        ),
        (Location("EV1", None, "/DCIM/IMG_0001.jpg"), "EV1/DCIM/IMG_0001.jpg"),
        (
            Location("EV1", Volume("fs", 0, "ext2"), "/$OrphanFiles/OrphanFile-13", "13"),
            "EV1/fs@0(ext2)/$OrphanFiles/OrphanFile-13#13",
        ),
        (
            Location("EV1", Volume("p1", 32256, "fat16"), "/a/b.zip", "5", ("photos/c.jpg",)),
            "EV1/p1@32256(fat16)/a/b.zip#5>photos/c.jpg",
        ),
        (Location("EV1", Volume("p1", 0, "ntfs"), "/x.jpg", "64-128-3"), "EV1/p1@0(ntfs)/x.jpg#64-128-3"),
    ],
)
def test_render_and_parse(loc, text):
    assert str(loc) == text
    assert Location.parse(text) == loc


@pytest.mark.parametrize(
    "name",
    [
        "a#b>c%d",
        "line\nbreak",
        "evil\u202egpj.exe",
        "bad\udcffbyte",
        "<script>alert(1)</script>",
        '=HYPERLINK("x")',
        "tab\there",
        "日本語.jpg",
        "p1@0(ntfs)",
    ],
)
def test_hostile_names_round_trip_and_stay_one_printable_line(name):
    loc = Location("EV1", None, "/" + name + "/f.jpg")
    text = str(loc)
    assert text.isprintable()
    assert "\u202e" not in text
    assert Location.parse(text) == loc


def test_quote_is_inverse():
    for s in ["%41", "100%", "a%zz", "\x00\x7f\x9f", "\udc80"]:
        assert unquote_path(quote_path(s)) == s


def test_malformed_location_is_a_usage_error():
    with pytest.raises(UsageError):
        Location.parse("")
    with pytest.raises(UsageError):
        Location.parse("EV1/p1@0(ntfs)/x#notanumber")


@pytest.mark.parametrize(
    "members, tail",
    [
        ((member_id("same.jpg", 2),), ">same.jpg#2"),
        (("same.jpg#2",), ">same.jpg%232"),  # a real name that looks like an occurrence
        ((member_id("same.jpg#2", 2),), ">same.jpg%232#2"),
        ((member_id("a>b", 3), "{exif-thumbnail}"), ">a%3Eb#3>{exif-thumbnail}"),
        ((member_id("inner.zip", 12), member_id("\udcff.jpg", 2)), ">inner.zip#12>%FF.jpg#2"),
        ((member_id("x", 1),), ">x"),  # the first occurrence is the bare name
    ],
)
def test_repeated_member_names_render_and_parse_back(members, tail):
    for loc in (
        Location("EV1", Volume("p1", 0, "ntfs"), "/a.zip", "5", members),
        Location("EV1", None, "/a.zip", None, members),
        Location("EV1", None, members=members, carved=Carved(1, 2, "jpeg")),
    ):
        assert str(loc).endswith(tail)
        assert Location.parse(str(loc)) == loc


def test_occurrences_are_distinct_from_every_real_name():
    names = ["same.jpg", "same.jpg#2", "same.jpg%232", "same.jpg\udcff2", "same.jpg2"]
    ids = [member_id(n, k) for n in names for k in (1, 2, 3)]
    rendered = {str(Location("EV1", None, "/z.zip", None, (i,))) for i in ids}
    assert len(rendered) == len(ids)
    assert member_name(member_id("same.jpg", 7)) == ("same.jpg", 7)
    assert member_name("same.jpg") == ("same.jpg", 1)


@pytest.mark.parametrize("tail", [">x#1", ">x#0", ">x#02", ">x#", ">x#a", ">a#2#3", ">a#b#2"])
def test_a_malformed_member_occurrence_is_a_usage_error(tail):
    with pytest.raises(UsageError):
        Location.parse("EV1/a.zip" + tail)


def test_quote_class_agrees_with_the_rule_on_every_code_point():
    """quote_path's one-regex fast path escapes exactly the characters _needs_quote names."""
    from triage.locator import _QUOTED, _needs_quote

    assert [o for o in range(0x110000) if bool(_QUOTED.fullmatch(chr(o))) != _needs_quote(chr(o))] == []
