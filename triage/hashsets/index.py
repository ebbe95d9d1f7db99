"""Match a file's hashes against every loaded set: exact lookups and perceptual radius search.

Exact hashes are kept per set in plain dicts keyed by the KnownHash's own ``value`` string, so
the index adds no key objects: a million MD5s cost the dict slots, not another copy of the
hashes. A value that appears once maps to its KnownHash, a repeated value to a list of them.
Perceptual hashes of all sets go into one :class:`~triage.hashsets.search.HammingSearch` per
algorithm, whose rows point back to (set, KnownHash).

A compiled index file (:mod:`triage.hashsets.build`) is opened with :meth:`MatchIndex.open`, and
:meth:`MatchIndex.join` combines raw sets and indexes into one; every match carries its set's
role (alert or ignore).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from triage.errors import HashSetError
from triage.hashing.video_match import frames_by_video
from triage.hashsets.base import ALGORITHM_ORDER, HEX_DIGITS, is_hex
from triage.hashsets.compiled import CompiledIndex
from triage.hashsets.edits import picture_matches, video_matches
from triage.hashsets.loadtime import RawLoad
from triage.hashsets.mih import MultiIndexHamming
from triage.hashsets.search import HammingSearch
from triage.inputfiles import require_regular_file
from triage.records import (
    EXACT_ALGORITHMS,
    PERCEPTUAL_ALGORITHMS,
    FileHashes,
    FrameHash,
    HashSetInfo,
    KnownHash,
    Match,
    MatchPolicy,
)

if TYPE_CHECKING:
    from triage.hashsets.loader import LoadedHashSet

_Table = dict[str, KnownHash | list[KnownHash]]
#: Builds the radius search for one perceptual algorithm from its hex values and bit count.
SearchFactory = Callable[[Sequence[str], int], HammingSearch]
_KIND_ORDER = {"exact": 0, "perceptual": 1}
_BITS = {"pdq": 256, "phash": 64, "dhash": 64, "ahash": 64, "whash": 64}
#: Sort order of algorithms in a file's matches: a video match last.
_ORDER = (*ALGORITHM_ORDER, "vpdq")


def _sort_key(match: Match) -> tuple[object, ...]:
    return (
        _KIND_ORDER[match.kind],
        _ORDER.index(match.algorithm),
        match.distance,
        match.hashset,
        match.known_hash,
        match.entry_id or "",
        match.category or "",
        match.name or "",
    )


def _match(kind: str, distance: int, info: HashSetInfo, file_hash: str, known: KnownHash) -> Match:
    return Match(
        kind=kind,  # type: ignore[arg-type]
        algorithm=known.algorithm,
        distance=distance,
        hashset=info.path,
        file_hash=file_hash,
        known_hash=known.value,
        entry_id=known.entry_id,
        category=known.category,
        name=known.name,
        role=info.role,
    )


class _Part(Protocol):
    infos: tuple[HashSetInfo, ...]

    def exact(self, algorithm: str, value: str) -> list[Match]: ...

    def near(self, algorithm: str, value: str, radius: int) -> list[Match]: ...

    def video_frames(self, hashset: str, video: str) -> tuple[FrameHash, ...] | None: ...


class _Perceptual:
    """One perceptual algorithm over all sets: the search plus where each row came from."""

    def __init__(self, algorithm: str, rows: list[tuple[int, KnownHash]], factory: SearchFactory) -> None:
        self.search = factory([k.value for _, k in rows], _BITS[algorithm])
        self.rows = rows


class _MemoryPart:
    """Raw sets loaded in memory: per-set dicts for exact hashes, one search per perceptual type."""

    def __init__(self, sets: Sequence[LoadedHashSet], search: SearchFactory) -> None:
        self.infos = tuple(s.info for s in sets)
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
        self._exact = tuple(exact)
        self._perceptual = {name: _Perceptual(name, found, search) for name, found in rows.items() if found}
        self._videos: dict[tuple[str, str], tuple[FrameHash, ...]] | None = None

    def video_frames(self, hashset: str, video: str) -> tuple[FrameHash, ...] | None:
        """The frames of one known video of a vPDQ list (grouped on first use)."""
        if self._videos is None:
            index = self._perceptual.get("pdq")
            self._videos = _group_videos((self.infos[n].path, k) for n, k in (index.rows if index else []))
        return self._videos.get((hashset, video))

    def exact(self, algorithm: str, value: str) -> list[Match]:
        found = []
        for info, tables in zip(self.infos, self._exact, strict=True):
            hit = tables[algorithm].get(value)
            if hit is not None:
                for known in hit if isinstance(hit, list) else (hit,):
                    found.append(_match("exact", 0, info, value, known))
        return found

    def near(self, algorithm: str, value: str, radius: int) -> list[Match]:
        index = self._perceptual.get(algorithm)
        if index is None:
            return []
        matches = []
        for row, distance in index.search.search(value, radius):
            number, known = index.rows[row]
            matches.append(_match("perceptual", distance, self.infos[number], value, known))
        return matches


class _CompiledPart:
    """A compiled index file: the same answers as its sets loaded raw."""

    def __init__(self, index: CompiledIndex) -> None:
        self.index = index
        self.infos = index.infos
        self._videos: dict[tuple[str, str], tuple[FrameHash, ...]] | None = None

    def _matches(self, kind: str, algorithm: str, value: str, hits: list[tuple[int, int]]) -> list[Match]:
        found = []
        for row, distance in hits:
            number, entry_id, category, name = self.index.entry(algorithm, row)
            known = KnownHash(algorithm, self.index.known_hash(algorithm, row), entry_id, category, name)
            found.append(_match(kind, distance, self.infos[number], value, known))
        return found

    def exact(self, algorithm: str, value: str) -> list[Match]:
        return self._matches("exact", algorithm, value, [(r, 0) for r in self.index.exact(algorithm, value)])

    def near(self, algorithm: str, value: str, radius: int) -> list[Match]:
        return self._matches("perceptual", algorithm, value, self.index.near(algorithm, value, radius))

    def video_frames(self, hashset: str, video: str) -> tuple[FrameHash, ...] | None:
        """vPDQ frame labels are kept in the index's metadata rows: grouped on first use."""
        if self._videos is None:
            self._videos = _group_videos(
                (self.infos[number].path, known) for number, known in self.index.labelled("pdq")
            )
        return self._videos.get((hashset, video))


class MatchIndex:
    """Everything needed to match files against a fixed list of sets (raw or compiled)."""

    #: How long each raw set given to :func:`open_match_index` took to load (for the note
    #: that an index would be faster).
    raw_loads: tuple[RawLoad, ...] = ()

    def __init__(self, parts: Sequence[_Part]) -> None:
        self._parts = tuple(parts)
        paths = [info.path for part in self._parts for info in part.infos]
        twice = sorted({p for p in paths if paths.count(p) > 1})
        if twice:
            raise HashSetError(f"{twice[0]}: the same hash set is given twice")

    @classmethod
    def build(cls, sets: Sequence[LoadedHashSet], search: SearchFactory = MultiIndexHamming) -> MatchIndex:
        """Index raw sets in memory, in the order given; ``search`` builds each perceptual radius
        search (exact multi-index hashing by default; any other must return the same hits)."""
        return cls([_MemoryPart(sets, search)])

    @classmethod
    def open(cls, path: str | os.PathLike[str], role: str | None = None) -> MatchIndex:
        """A compiled index file; ``role`` (optional) overrides the role of every set in it."""
        return cls([_CompiledPart(CompiledIndex(path, role))])

    @classmethod
    def join(cls, indexes: Sequence[MatchIndex]) -> MatchIndex:
        """One index over several: raw sets and compiled indexes together."""
        return cls([part for index in indexes for part in index._parts])

    @property
    def paths(self) -> tuple[str, ...]:
        """The sets' paths, in the order given."""
        return tuple(info.path for info in self.infos)

    @property
    def infos(self) -> tuple[HashSetInfo, ...]:
        """What the case records about each set (path, SHA-256, format, role, counts, build time)."""
        return tuple(info for part in self._parts for info in part.infos)

    def reference_seeds(self) -> list[tuple[dict[str, Any], bytes]]:
        """The signatures of reference pictures in alert sets (``hashset build --alert-images``),
        each with what a derivative match of it names (as :meth:`CaseReader.seeds` rows, with
        no location: the picture is the lab's, not the evidence's)."""
        found = []
        for part in self._parts:
            if not isinstance(part, _CompiledPart):
                continue
            for number, entry_id, category, name, sha256, data in part.index.signatures():
                info = part.infos[number]
                if info.role != "alert":
                    continue
                seed = {"file_id": None, "location": None, "sha256": sha256, "hashset": info.path,
                        "entry_id": entry_id, "category": category, "name": name,
                        "known_hash": sha256}  # fmt: skip
                found.append((seed, data))
        return found

    def match(self, hashes: FileHashes, policy: MatchPolicy) -> list[Match]:
        """Every match of one file, sorted by kind, algorithm, distance, set, known hash, entry.

        Identical matches (the same hash listed twice with the same id, category and name in
        one set) are reported once. A PDQ hash is only searched when its quality is known and
        at least ``policy.pdq_min_quality``: a low-quality PDQ (flat or tiny picture) matches
        unrelated pictures. A picture is searched with its PDQ variants and cropped PDQ too, a
        video with its frames against vPDQ lists (:mod:`triage.hashsets.edits`).
        """
        found: list[Match] = []
        for algorithm in EXACT_ALGORITHMS:
            value = _checked(hashes, algorithm)
            if value is not None:
                for part in self._parts:
                    found.extend(part.exact(algorithm, value))
        for algorithm in PERCEPTUAL_ALGORITHMS:
            _checked(hashes, algorithm)
        for part in self._parts:
            # Every variant of the picture (dihedral, cropped) and each 64-bit hash; videos by vPDQ.
            found.extend(picture_matches(part.near, hashes, policy))
            if hashes.frames:
                found.extend(video_matches(part.near, part.video_frames, hashes, policy))
        return list(dict.fromkeys(sorted(found, key=_sort_key)))


def _group_videos(rows: Iterable[tuple[str, KnownHash]]) -> dict[tuple[str, str], tuple[FrameHash, ...]]:
    """``{(hash-set path, video): frames}`` from the PDQ rows of vPDQ frame lists."""
    by_set: dict[str, list[KnownHash]] = {}
    for path, known in rows:
        if known.labels:
            by_set.setdefault(path, []).append(known)
    return {
        (path, video): frames
        for path, known in by_set.items()
        for video, frames in frames_by_video(known).items()
    }


def _checked(hashes: FileHashes, algorithm: str) -> str | None:
    """The file's hash for ``algorithm`` in lower case, or None. A malformed one is a bug in
    the caller (hashing always writes hex of the right length), so it raises ValueError."""
    value = getattr(hashes, algorithm)
    if not value:
        return None
    if len(value) != HEX_DIGITS[algorithm] or not is_hex(value):
        raise ValueError(f"file {algorithm} is not {HEX_DIGITS[algorithm]} hex digits: {value!r}")
    return value.lower()


def open_match_index(
    specs: Sequence[tuple[str | os.PathLike[str], str]],
    category_schemes: Mapping[str, str | None] | None = None,
) -> MatchIndex:
    """One MatchIndex over ``specs`` (pairs of path and role): each path is a raw set, loaded
    in memory with that role, or a compiled index (recognised by its header), whose sets keep
    the roles they were built with unless the role is ``ignore``, which applies to all of them.
    ``category_schemes`` (by the path as given, or ``""`` for every raw set) names the category
    scheme of raw sets that do not declare one themselves (a declaration in the set wins).
    """
    from triage.hashsets.indexfile import is_index
    from triage.hashsets.loader import check_role, load_hashset

    schemes = dict(category_schemes or {})
    parts: list[MatchIndex] = []
    loads: list[RawLoad] = []
    for path, role in specs:
        check_role(role)
        require_regular_file(path, "hash-set", HashSetError)
        if is_index(path):
            parts.append(MatchIndex.open(path, "ignore" if role == "ignore" else None))
        else:
            started = time.monotonic()
            scheme = schemes.get(os.fspath(path), schemes.get(""))
            loaded = load_hashset(path, role=role, category_scheme=scheme)
            parts.append(MatchIndex.build([loaded]))
            loads.append(RawLoad(loaded.info.path, loaded.info.entries, time.monotonic() - started))
    index = MatchIndex.join(parts)
    index.raw_loads = tuple(loads)
    return index
