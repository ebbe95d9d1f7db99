"""Map a set's own category onto the one normalised scheme triage reports (data in
``categories.tsv``): Project VIC 0-3 and UK CAID A/B/C each keep their verbatim value and gain
a label that means the same across schemes (``csam``, ``child-exploitive``, ...), so a report
that mixes sets can be read with one legend.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

CUSTOM = "custom"
UNCATEGORISED = "uncategorised"
#: The source scheme of each format that has one; every other format's categories are custom.
SCHEMES: dict[str, str] = {"vics": "vics", "caid": "caid"}


@cache
def table() -> tuple[tuple[str, str, str, str], ...]:
    """``(scheme, value, normalised, meaning)`` rows, in file order."""
    text = resources.files("triage.hashsets").joinpath("categories.tsv").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    return tuple((s, v, n, m) for s, v, n, m in rows[1:])


@cache
def _lookup() -> dict[tuple[str, str], str]:
    return {(scheme, value.casefold()): label for scheme, value, label, _ in table()}


def scheme_name(value: str) -> str | None:
    """A declared scheme as stored (``VICS`` -> ``vics``), or None when it is not one word."""
    name = value.strip().casefold()
    ok = 0 < len(name) <= 40 and name.replace("-", "").replace("_", "").isalnum()
    return name if ok else None


def set_scheme(format: str | None, declared: str | None = None) -> str:
    """The scheme a set's categories follow: the one it declares (``# triage-hashset:
    scheme=vics``), else its format's own (VICS and CAID JSON), else custom."""
    return declared or SCHEMES.get(format or "", CUSTOM)


def normalise_category(
    format: str | None, category: str | None, declared: str | None = None
) -> tuple[str, str]:
    """``(scheme, normalised label)`` of a category as written in a set of ``format`` that
    declares the scheme ``declared`` (or none)."""
    scheme = set_scheme(format, declared)
    if category is None or not category.strip():
        return (scheme, UNCATEGORISED)
    key = category.strip().casefold()
    label = _lookup().get((scheme, key)) or _lookup().get(("*", key))
    if label is None:
        return (scheme, CUSTOM)
    return (scheme, label)
