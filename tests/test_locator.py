"""Location strings: stable, readable, safe, and parse back to the same address."""

import pytest

from triage.errors import UsageError
from triage.locator import Location, Volume, quote_path, unquote_path


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
