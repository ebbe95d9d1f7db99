"""Match a file's hashes against every loaded set: exact lookups and perceptual radius search.

Exact hashes are kept per set in plain dicts keyed by the KnownHash's own ``value`` string, so
the index adds no key objects: a million MD5s cost the dict slots, not another copy of the
hashes. A value that appears once maps to its KnownHash, a repeated value to a list of them.
Perceptual hashes of all sets go into one :class:`~triage.hashsets.search.HammingSearch` per
algorithm, whose rows point back to (set, KnownHash).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from triage.hashsets.base import ALGORITHM_ORDER, HEX_DIGITS, is_hex
from triage.hashsets.search import BruteForceHamming, HammingSearch
from triage.records import EXACT_ALGORITHMS, PERCEPTUAL_ALGORITHMS, FileHashes, KnownHash, Match, MatchPolicy

if TYPE_CHECKING:
    from triage.hashsets.loader import LoadedHashSet

_Table = dict[str, KnownHash | list[KnownHash]]
#: Builds the radius search for one perceptual algorithm from its hex values and bit count.
SearchFactory = Callable[[Sequence[str], int], HammingSearch]
_KIND_ORDER = {"exact": 0, "perceptual": 1}
_BITS = {"pdq": 256, "phash": 64}


def _sort_key(match: Match) -> tuple[object, ...]:
    return (
        _KIND_ORDER[match.kind],
        ALGORITHM_ORDER.index(match.algorithm),
        match.distance,
        match.hashset,
        match.known_hash,
        match.entry_id or "",
        match.category or "",
        match.name or "",
    )


def _match(kind: str, distance: int, hashset: str, file_hash: str, known: KnownHash) -> Match:
    return Match(
        kind=kind,  # type: ignore[arg-type]
        algorithm=known.algorithm,
        distance=distance,
        hashset=hashset,
        file_hash=file_hash,
        known_hash=known.value,
        entry_id=known.entry_id,
        category=known.category,
        name=known.name,
    )


class _Perceptual:
    """One perceptual algorithm over all sets: the search plus where each row came from."""

    def __init__(self, algorithm: str, rows: list[tuple[int, KnownHash]], factory: SearchFactory) -> None:
        self.search = factory([k.value for _, k in rows], _BITS[algorithm])
        self.rows = rows


class MatchIndex:
    """Everything needed to match files against a fixed list of loaded sets."""

    def __init__(
        self,
        paths: tuple[str, ...],
        exact: tuple[dict[str, _Table], ...],
        perceptual: dict[str, _Perceptual],
    ) -> None:
        self._paths = paths
        self._exact = exact
        self._perceptual = perceptual

    @classmethod
    def build(cls, sets: Sequence[LoadedHashSet], search: SearchFactory = BruteForceHamming) -> MatchIndex:
        """Index the sets in the order given; ``search`` builds each perceptual radius search
        (exact brute force by default; a faster index must return the same hits)."""
        paths = tuple(s.info.path for s in sets)
        exact: list[dict[str, _Table]] = []
        rows: dict[str, list[tuple[int, KnownHash]]] = {name: [] for name in PERCEPTUAL_ALGORITHMS}
        for number, loaded in enumerate(sets):
            tables: dict[str, _Table] = {name: {} for name in EXACT_ALGORITHMS}
            for known in loaded.hashes:
                table = tables.get(known.algorithm)
                if table is None:
                    if known.algorithm in rows:  # anything else cannot be matched
                        rows[known.algorithm].append((number, known))
                    continue
                seen = table.get(known.value)
                if seen is None:
                    table[known.value] = known
                elif isinstance(seen, list):
                    seen.append(known)
                else:
                    table[known.value] = [seen, known]
            exact.append(tables)
        perceptual = {name: _Perceptual(name, found, search) for name, found in rows.items() if found}
        return cls(paths, tuple(exact), perceptual)

    @property
    def paths(self) -> tuple[str, ...]:
        """The sets' paths, in the order given to :meth:`build`."""
        return self._paths

    def match(self, hashes: FileHashes, policy: MatchPolicy) -> list[Match]:
        """Every match of one file, sorted by kind, algorithm, distance, set, known hash, entry.

        Identical matches (the same hash listed twice with the same id, category and name in
        one set) are reported once. A PDQ hash is only searched when its quality is known and
        at least ``policy.pdq_min_quality``: a low-quality PDQ (flat or tiny picture) matches
        unrelated pictures.
        """
        found: list[Match] = []
        for algorithm in EXACT_ALGORITHMS:
            value = _checked(hashes, algorithm)
            if value is None:
                continue
            for path, tables in zip(self._paths, self._exact, strict=True):
                hit = tables[algorithm].get(value)
                if hit is not None:
                    for known in hit if isinstance(hit, list) else (hit,):
                        found.append(_match("exact", 0, path, value, known))
        pdq = _checked(hashes, "pdq")
        quality = hashes.pdq_quality
        if pdq is not None and quality is not None and quality >= policy.pdq_min_quality:
            found.extend(self._near("pdq", pdq, policy.pdq_max_distance))
        phash = _checked(hashes, "phash")
        if phash is not None:
            found.extend(self._near("phash", phash, policy.phash_max_distance))
        return list(dict.fromkeys(sorted(found, key=_sort_key)))

    def _near(self, algorithm: str, value: str, radius: int) -> list[Match]:
        index = self._perceptual.get(algorithm)
        if index is None:
            return []
        matches = []
        for row, distance in index.search.search(value, radius):
            number, known = index.rows[row]
            matches.append(_match("perceptual", distance, self._paths[number], value, known))
        return matches


def _checked(hashes: FileHashes, algorithm: str) -> str | None:
    """The file's hash for ``algorithm`` in lower case, or None. A malformed one is a bug in
    the caller (hashing always writes hex of the right length), so it raises ValueError."""
    value = getattr(hashes, algorithm)
    if not value:
        return None
    if len(value) != HEX_DIGITS[algorithm] or not is_hex(value):
        raise ValueError(f"file {algorithm} is not {HEX_DIGITS[algorithm]} hex digits: {value!r}")
    return value.lower()
