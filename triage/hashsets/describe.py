"""``triage hashset info`` on a raw set: what a scan would read from it, as a dry run.

A set is read exactly as a scan reads it (same detection, same reader, streamed, so a set of
millions of rows needs memory only for the tallies), and described: its format, how many hashes
of each type, its categories as written and as the report will name them, and problems a scan
would not stop for but an examiner should know (the same hash listed twice, the same hash under
two categories, entries without a category). A problem a scan *would* stop for (a malformed
line, no hash at all) raises the same one-line :class:`~triage.errors.HashSetError`.
"""

from __future__ import annotations

import os
import time
from array import array
from collections import Counter
from dataclasses import dataclass

import numpy as np

from triage.hashsets.categories import normalise_category, set_scheme
from triage.hashsets.loader import HashSetStream
from triage.records import HashSetInfo


@dataclass(frozen=True)
class SetDescription:
    """What :func:`describe_set` found in one raw set."""

    info: HashSetInfo
    #: The set's category scheme as the reports use it (``vics``, ``caid``, ``custom``...).
    scheme: str
    #: ``(category as written, normalised label, hashes)``, most frequent first.
    categories: tuple[tuple[str, str, int], ...]
    uncategorised: int
    #: Hashes listed more than once (same type and value), and those under two categories.
    repeated: int
    conflicting: int
    seconds: float


def describe_set(path: str | os.PathLike[str]) -> SetDescription:
    """Read the set at ``path`` as a scan would and tally what it holds."""
    started = time.monotonic()
    stream = HashSetStream(path)
    written: Counter[str] = Counter()
    names: dict[str | None, int] = {None: 0}  # category -> small number, for the repeat check
    values: dict[tuple[str, int], bytearray] = {}
    cats: dict[tuple[str, int], array[int]] = {}
    uncategorised = 0
    for known in stream.hashes():
        category = known.category.strip() if known.category and known.category.strip() else None
        if category is None:
            uncategorised += 1
        else:
            written[category] += 1
        raw = _packed(known.value)
        key = (known.algorithm, len(raw))
        values.setdefault(key, bytearray()).extend(raw)
        cats.setdefault(key, array("i")).append(names.setdefault(category, len(names)))
    info = stream.info()
    repeated = conflicting = 0
    for key, packed in values.items():
        r, c = _repeats(packed, key[1], cats[key])
        repeated, conflicting = repeated + r, conflicting + c
    rows = tuple(
        (category, normalise_category(info.format, category, info.category_scheme)[1], n)
        for category, n in sorted(written.items(), key=lambda item: (-item[1], item[0]))
    )
    return SetDescription(
        info=info,
        scheme=set_scheme(info.format, info.category_scheme),
        categories=rows,
        uncategorised=uncategorised,
        repeated=repeated,
        conflicting=conflicting,
        seconds=time.monotonic() - started,
    )


def _packed(value: str) -> bytes:
    """A hash value as bytes (half the memory of its hex text; 36 bytes a SHA-256 with its tag)."""
    try:
        return bytes.fromhex(value)
    except ValueError:
        return value.encode("utf-8", "replace")


def _repeats(packed: bytearray, width: int, categories: array[int]) -> tuple[int, int]:
    """``(values listed more than once, values listed under more than one category)``, by
    sorting the fixed-width rows once (numpy), not by a set of millions of Python objects."""
    if not width or len(packed) // width < 2:
        return 0, 0
    # Fixed-width byte strings: equal rows of one width compare equal, whatever NULs they hold.
    rows = np.frombuffer(bytes(packed), dtype=f"S{width}")
    cat = np.frombuffer(categories.tobytes(), dtype=np.int32)
    order = np.lexsort((cat, rows))
    rows, cat = rows[order], cat[order]
    same = rows[1:] == rows[:-1]
    if not same.any():
        return 0, 0
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    sizes = np.diff(np.append(starts, len(rows)))
    repeated = int((sizes > 1).sum())
    differs = same & (cat[1:] != cat[:-1])
    conflicting = len(np.unique(np.searchsorted(starts, np.flatnonzero(differs), side="right")))
    return repeated, conflicting
