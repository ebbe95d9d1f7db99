"""Load one known-hash set: detect its format, read every hash, record what was loaded."""

from __future__ import annotations

import dataclasses
import gc
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from triage.errors import HashSetError
from triage.hashsets.base import ALGORITHM_ORDER
from triage.hashsets.categories import scheme_name
from triage.hashsets.registry import detect_reader, reader_named
from triage.hashsets.source import Source
from triage.inputfiles import require_regular_file
from triage.records import HashSetInfo, KnownHash


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of records are created.

    Each allocation batch would otherwise trigger a collection that walks every record made so
    far; none of them can be garbage yet. This halves the load time of a large set.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class LoadedHashSet:
    """A hash set as loaded: what the case records about it, and its hashes in file order."""

    info: HashSetInfo
    hashes: tuple[KnownHash, ...] = field(repr=False)


#: What a set can be loaded as: ``alert`` (known material: a match is a finding) or ``ignore``
#: (known good such as NSRL: matched files are counted and hidden from review).
ROLES: tuple[str, ...] = ("alert", "ignore")


def _as_text(value: object) -> str | None:
    """Set files are untrusted input too: an id, category or name that is not text (a JSON list,
    an SQLite BLOB) or not encodable text (a lone surrogate from a JSON escape) becomes plain
    text here, so it can never break a match record, the case database or a report."""
    if value is None:
        return None
    if isinstance(value, str):
        if value.isascii():
            return value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return (
        json.dumps(value, ensure_ascii=False, default=str)
        if not isinstance(value, int | float)
        else str(value)
    )


def _guarded(hashes: Iterable[KnownHash], display: str) -> Iterator[KnownHash]:
    """Every reader's output, with its text fields made text and runaway nesting turned into a
    one-line HashSetError instead of a crash."""
    try:
        for known in hashes:
            fields = (known.entry_id, known.category, known.name)
            if any(v is not None and _as_text(v) is not v for v in fields) or any(
                _as_text(k) is not k or _as_text(v) is not v for k, v in known.labels
            ):
                known = dataclasses.replace(
                    known,
                    entry_id=_as_text(known.entry_id),
                    category=_as_text(known.category),
                    name=_as_text(known.name),
                    labels=tuple((str(_as_text(k)), str(_as_text(v))) for k, v in known.labels),
                )
            yield known
    except RecursionError:
        raise HashSetError(f"{display}: a record is nested too deeply to be a hash-set entry") from None


def check_role(role: str) -> str:
    if role not in ROLES:
        raise HashSetError(f"unknown hash-set role {role!r} (expected alert or ignore)")
    return role


class HashSetStream:
    """One pass over a set without keeping its hashes: for compiling an index of any size.

    ``hashes()`` yields every KnownHash once; afterwards :meth:`info` gives the same record
    :func:`load_hashset` would (SHA-256 of the parsed bytes, counts per algorithm).
    """

    def __init__(self, path: str | os.PathLike[str], format: str | None = None) -> None:
        self.display = os.fspath(path)
        self.absolute = Path(os.path.abspath(self.display))
        require_regular_file(self.display, "hash-set", HashSetError)
        self._format = format
        self._counts: Counter[str] = Counter()
        self._info: HashSetInfo | None = None

    def hashes(self) -> Iterator[KnownHash]:
        counts = self._counts
        with Source(self.absolute, self.display) as source:
            sniff = source.sniff()
            reader = reader_named(self._format) if self._format else detect_reader(source, sniff)
            for known in _guarded(reader.read(source), self.display):
                counts[known.algorithm] += 1
                yield known
            digest = source.sha256()
        total = sum(counts.values())
        if not total:
            raise HashSetError(
                f"{self.display}: no hashes found"
                " (an empty known-hash set is almost certainly the wrong file)"
            )
        self._info = HashSetInfo(
            path=str(self.absolute),
            sha256=digest,
            format=reader.name,
            entries=total,
            counts=tuple((name, counts[name]) for name in ALGORITHM_ORDER if counts[name]),
            name=self.absolute.name,
            category_scheme=source.directives.scheme,
        )

    def info(self) -> HashSetInfo:
        if self._info is None:
            raise RuntimeError("HashSetStream.info() before the hashes were read")
        return self._info


def load_hashset(
    path: str | os.PathLike[str],
    format: str | None = None,
    role: str = "alert",
    category_scheme: str | None = None,
) -> LoadedHashSet:
    """Read a known-hash set file; ``format`` forces a reader by name instead of detection.

    Raises HashSetError naming the file (and line) when it is missing, unreadable, of no known
    format, malformed, or holds no hash at all: an empty set is almost always the wrong file,
    and silently matching nothing against it would hide that. ``role`` is recorded in the
    set's info and carried by every match (see :data:`ROLES`). ``category_scheme`` is the
    scheme of the set's categories when the set does not declare one itself.
    """
    display = os.fspath(path)
    absolute = Path(os.path.abspath(display))
    require_regular_file(display, "hash-set", HashSetError)
    with Source(absolute, display) as source:
        sniff = source.sniff()
        reader = reader_named(format) if format else detect_reader(source, sniff)
        with _gc_paused():
            hashes = tuple(_guarded(reader.read(source), display))
        digest = source.sha256()
        scheme = source.directives.scheme or _checked_scheme(category_scheme)
    if not hashes:
        raise HashSetError(
            f"{display}: no hashes found (an empty known-hash set is almost certainly the wrong file)"
        )
    counts = Counter(known.algorithm for known in hashes)
    info = HashSetInfo(
        path=str(absolute),
        sha256=digest,
        format=reader.name,
        entries=len(hashes),
        counts=tuple((name, counts[name]) for name in ALGORITHM_ORDER if counts[name]),
        name=absolute.name,
        role=check_role(role),
        category_scheme=scheme,
    )
    return LoadedHashSet(info, hashes)


def _checked_scheme(value: str | None) -> str | None:
    if value is None:
        return None
    scheme = scheme_name(value)
    if scheme is None:
        raise HashSetError(f"a category scheme is one word (vics, caid or the lab's own), not {value!r}")
    return scheme
