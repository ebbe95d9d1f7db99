"""Known-hash sets: read them (one reader per format, one table of readers) and match against them.

    sets = [load_hashset("known.csv"), load_hashset("pdq-list.txt")]
    index = MatchIndex.build(sets)
    matches = index.match(file_hashes, MatchPolicy())

    build_index([("known.csv", "alert"), ("NSRLFile.txt", "ignore")], "sets.idx")
    index = open_match_index([("sets.idx", "alert"), ("more.csv", "alert")])

Formats, detection, the PDQ declaration and error messages are described in docs/hashsets.md.
"""

from __future__ import annotations

from triage.hashsets.base import HashSetReader, Sniff
from triage.hashsets.build import build_index
from triage.hashsets.index import MatchIndex, open_match_index
from triage.hashsets.loader import ROLES, HashSetStream, LoadedHashSet, load_hashset
from triage.hashsets.registry import READERS, reader_named
from triage.hashsets.search import BruteForceHamming, HammingSearch

__all__ = [
    "READERS",
    "ROLES",
    "BruteForceHamming",
    "HammingSearch",
    "HashSetReader",
    "HashSetStream",
    "LoadedHashSet",
    "MatchIndex",
    "Sniff",
    "build_index",
    "load_hashset",
    "open_match_index",
    "reader_named",
]
