"""Times are always well-formed UTC ISO-8601, whatever the file system stored."""

import re

import pytest

from triage.timeutil import iso_utc

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z")


@pytest.mark.parametrize(
    "seconds, nanos, expected",
    [
        (1700000000, 0, "2023-11-14T22:13:20Z"),
        (1700000000, 123456700, "2023-11-14T22:13:20.1234567Z"),
        (1700000000, 50, "2023-11-14T22:13:20Z"),  # below 100 ns: no empty fraction
        (1700000000, 1073741823, "2023-11-14T22:13:20Z"),  # corrupt nanoseconds dropped
        (1.5, 0, "1970-01-01T00:00:01.5Z"),
        (0, 0, None),
        (None, 0, None),
        (10**20, 0, None),
    ],
)
def test_iso_utc(seconds, nanos, expected):
    got = iso_utc(seconds, nanos)
    assert got == expected
    assert got is None or ISO.fullmatch(got)
