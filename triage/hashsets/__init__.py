"""Known-hash sets: read them (one reader per format, one table of readers) and match against them.

    sets = [load_hashset("known.csv"), load_hashset("pdq-list.txt")]
    index = MatchIndex.build(sets)
    matches = index.match(file_hashes, MatchPolicy())

Formats, detection, the PDQ declaration and error messages are described in docs/hashsets.md.
"""

from __future__ import annotations

from triage.hashsets.base import HashSetReader, Sniff
from triage.hashsets.index import MatchIndex
from triage.hashsets.loader import LoadedHashSet, load_hashset
from triage.hashsets.registry import READERS, reader_named
from triage.hashsets.search import BruteForceHamming, HammingSearch

__all__ = [
    "READERS",
    "BruteForceHamming",
    "HammingSearch",
    "HashSetReader",
    "LoadedHashSet",
    "MatchIndex",
    "Sniff",
    "load_hashset",
    "reader_named",
]
