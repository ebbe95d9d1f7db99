"""How long a raw set took to load, and how long the same set would take as a compiled index.

Every scan given a raw set file reads and indexes it again; a set of millions of rows (an NSRL
RDSv3 database as ``--ignore-set``) costs a minute or more each time, where ``triage hashset
build`` compiles it once into an index that opens in a fraction of a second. The scan times each
raw load, and the command line quotes these estimates when one was slow. The constants are
measured by ``benchmarks/raw_vs_index.py`` (see docs/hashsets.md for the figures and the load
the machine was under).
"""

from __future__ import annotations

from dataclasses import dataclass

#: A raw set that takes at least this long to load earns a note on stderr.
SLOW_LOAD_SECONDS = 5.0
#: Opening a compiled index and answering a first lookup: a fixed cost plus a small cost per
#: hash (page-ins of the sorted arrays' prefixes). Measured with 2,000,000 hashes (a CSV of MD5
#: and SHA-256) on a loaded 2-core machine: 0.01-0.11 s, where the raw CSV took 38-58 s.
INDEX_OPEN_SECONDS = 0.05
INDEX_SECONDS_PER_HASH = 2.5e-8
#: Building an index costs about this many times one raw load of the same set (measured in the
#: same runs: 69-87 s of build for 38-58 s of raw load).
BUILD_PER_RAW_LOAD = 1.7


@dataclass(frozen=True)
class RawLoad:
    """One raw set loaded by a scan: its path, how many hashes, and the seconds it took."""

    path: str
    hashes: int
    seconds: float

    @property
    def slow(self) -> bool:
        return self.seconds >= SLOW_LOAD_SECONDS

    def index_seconds(self) -> float:
        """About how long the next scan would take to open the set compiled into an index."""
        return INDEX_OPEN_SECONDS + self.hashes * INDEX_SECONDS_PER_HASH

    def build_seconds(self) -> float:
        """About how long ``triage hashset build`` of the set takes (once)."""
        return self.seconds * BUILD_PER_RAW_LOAD
