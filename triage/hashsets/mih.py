"""Exact Hamming-radius search by multi-index hashing (Norouzi et al., "Fast Search in Hamming
Space with Multi-Index Hashing", CVPR 2012).

Why it is exact: each hash is cut into ``m`` chunks of 16 bits. If two hashes differ in at most
``r`` bits, the differences are spread over ``m`` chunks, so at least one chunk differs in at
most ``r // m`` bits (otherwise the total would exceed ``r``). Looking up, in every chunk's table,
every 16-bit value within ``r // m`` bits of the query's chunk therefore finds every hash within
the radius; the candidates are then checked with their full distance. For PDQ (256 bits, 16
chunks) at radius 31 that is 17 probes per chunk and about n / 4096 candidates per query instead
of n comparisons. Radii where the probe count explodes (``r // m > 2``) fall back to brute force,
which is exact too.

The tables (one stable argsort of each 16-bit chunk, 4 bytes per hash per chunk) are built in
memory when the search is made; they are not stored in the index file, which keeps the file at
the size of the hashes themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

from triage.hashsets.search import pack, popcount

CHUNK_BITS = 16
_BUCKETS = 1 << CHUNK_BITS
#: Largest bit count probed per chunk; beyond it the probes cost more than a brute force.
MAX_PROBE_BITS = 2


def _flip_masks(bits: int) -> np.ndarray:
    """Every 16-bit XOR mask with at most ``bits`` bits set."""
    masks = [0]
    for k in range(1, bits + 1):
        masks += [sum(1 << b for b in combo) for combo in combinations(range(CHUNK_BITS), k)]
    return np.array(masks, dtype=np.int64)


def _chunks(words: np.ndarray) -> np.ndarray:
    """(n, words) uint64 → (n, 4 * words) 16-bit chunk values, most significant first."""
    shifts = np.array([48, 32, 16, 0], dtype=np.uint64)
    parts = (words[:, :, None] >> shifts) & np.uint64(0xFFFF)
    return parts.reshape(words.shape[0], -1).astype(np.int64)


class MultiIndexHamming:
    """Exact radius search over packed hashes (``(n, bits/64)`` uint64), a :class:`HammingSearch`."""

    def __init__(self, values: Sequence[str] | np.ndarray, bits: int) -> None:
        if bits % 64:
            raise ValueError("bits must be a multiple of 64")
        self.bits = bits
        words = values if isinstance(values, np.ndarray) else pack(values, bits)
        self._words = np.ascontiguousarray(words, dtype=np.uint64)
        n = self._words.shape[0]
        self._m = bits // CHUNK_BITS
        # Flat tables over all chunks: chunk j's bucket b holds rows
        # _order[_offsets[j*(B+1)+b] : _offsets[j*(B+1)+b+1]].
        self._order = np.empty(self._m * n, dtype=np.uint32 if n < 2**32 else np.uint64)
        self._offsets = np.empty(self._m * (_BUCKETS + 1), dtype=np.int64)
        for j in range(self._m):
            word, shift = divmod(j, 4)
            key = ((self._words[:, word] >> np.uint64(48 - 16 * shift)) & np.uint64(0xFFFF)).astype(np.uint16)
            self._order[j * n : (j + 1) * n] = np.argsort(key, kind="stable")
            counts = np.bincount(key, minlength=_BUCKETS)
            base = j * (_BUCKETS + 1)
            self._offsets[base] = j * n
            np.cumsum(counts, out=self._offsets[base + 1 : base + _BUCKETS + 1])
            self._offsets[base + 1 : base + _BUCKETS + 1] += j * n
        self._masks = {b: _flip_masks(b) for b in range(MAX_PROBE_BITS + 1)}

    def __len__(self) -> int:
        return int(self._words.shape[0])

    def search(self, query: str, radius: int) -> list[tuple[int, int]]:
        rows, distances = self.search_packed(pack([query], self.bits)[0], radius)
        return list(zip(rows.tolist(), distances.tolist(), strict=True))

    def search_packed(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows (ascending) and distances of every stored hash within ``radius`` of ``query``
        (one packed row of uint64)."""
        if radius < 0 or not len(self):
            return np.empty(0, np.int64), np.empty(0, np.int32)
        flips = radius // self._m
        if flips > MAX_PROBE_BITS:
            candidates = None
        else:
            chunks = _chunks(query.reshape(1, -1))[0]
            probes = (chunks[:, None] ^ self._masks[flips][None, :]) + (
                np.arange(self._m, dtype=np.int64)[:, None] * (_BUCKETS + 1)
            )
            starts = self._offsets[probes.ravel()]
            lengths = self._offsets[probes.ravel() + 1] - starts
            total = int(lengths.sum())
            steps = np.ones(total, dtype=np.int64)
            if total:
                nonempty = lengths > 0
                s, ln = starts[nonempty], lengths[nonempty]
                heads = np.concatenate(([0], np.cumsum(ln)[:-1]))
                steps[heads] = s - np.concatenate(([0], s[:-1] + ln[:-1] - 1))
            # Duplicates (a hash found through several chunks) are dropped after the distance
            # check, among the few hits: cheaper than sorting every candidate.
            candidates = self._order[np.cumsum(steps)]
        block = self._words if candidates is None else self._words[candidates]
        distances = popcount(np.bitwise_xor(block, query)).sum(axis=1, dtype=np.int32)
        hits = np.flatnonzero(distances <= radius)
        if candidates is None:
            return hits, distances[hits]
        rows, first = np.unique(candidates[hits], return_index=True)
        return rows.astype(np.int64), distances[hits][first]
