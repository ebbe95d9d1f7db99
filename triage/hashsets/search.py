"""Hamming-radius search over perceptual hashes, behind a small interface.

:class:`BruteForceHamming` compares a query with every stored hash (XOR, then popcount over
packed 64-bit words). That is exact by construction (it can never miss a hash within the radius)
and fast enough for sets of a few million hashes; a faiss binary index can later implement the
same :class:`HammingSearch` for larger sets and be checked against this one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

#: Rows compared per numpy step, to bound the temporary arrays (rows x words x 8 bytes).
BLOCK_ROWS = 1 << 18


class HammingSearch(Protocol):
    bits: int

    def __len__(self) -> int: ...

    def search(self, query: str, radius: int) -> list[tuple[int, int]]:
        """``(row, distance)`` of every stored hash within ``radius`` bits of ``query`` (hex),
        in row order."""
        ...


def _popcount_table(words: np.ndarray) -> np.ndarray:
    """Per-word popcount for numpy < 2.0, which has no ``bitwise_count``."""
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
    return table[words.view(np.uint8)].reshape(*words.shape, 8).sum(axis=-1, dtype=np.uint8)


#: Bits set per element (numpy 2 has it built in; older numpy uses the table).
popcount = getattr(np, "bitwise_count", _popcount_table)


def pack(values: Sequence[str], bits: int) -> np.ndarray:
    """Hex hashes as an (n, bits/64) array of uint64, most significant word first."""
    words = bits // 64
    if any(len(v) != bits // 4 for v in values):
        raise ValueError(f"every hash must have {bits // 4} hex digits")
    packed = np.frombuffer(bytes.fromhex("".join(values)), dtype=">u8")
    return packed.astype(np.uint64).reshape(len(values), words)


class BruteForceHamming:
    """Exact radius search by comparing against every stored hash."""

    def __init__(self, values: Sequence[str], bits: int) -> None:
        if bits % 64:
            raise ValueError("bits must be a multiple of 64")
        self.bits = bits
        self._words = pack(values, bits)

    def __len__(self) -> int:
        return int(self._words.shape[0])

    def search(self, query: str, radius: int) -> list[tuple[int, int]]:
        if radius < 0 or not len(self):
            return []
        q = pack([query], self.bits)[0]
        found: list[tuple[int, int]] = []
        for start in range(0, len(self), BLOCK_ROWS):
            block = self._words[start : start + BLOCK_ROWS]
            distances = popcount(np.bitwise_xor(block, q)).sum(axis=1, dtype=np.int32)
            for row in np.flatnonzero(distances <= radius):
                found.append((start + int(row), int(distances[row])))
        return found
