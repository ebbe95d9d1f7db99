"""Derivative search in a scan: the pictures' local-feature signatures, spilled to a side file
while hashing, then searched for derivatives of the seeds once every file is hashed.

Seeds (source 1 of docs/matching.md) are the pictures of the case matched directly by an alert
set (exact or perceptual hash); their signatures come from the side file, so nothing is decoded
again. Every other picture with a signature (and no match of its own) is compared with them. A
derivative is never a seed: there are no chains. The match carries the seed's set entry (id,
category, name) and its location.

The side file (``features.bin`` in the case folder) holds records of ``entry id (u64), length
(u32), signature bytes``, appended in the order results are committed; the case database and
the reports never read it. It holds descriptors, not pixels.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from triage.case.store import CaseStore
from triage.hashing.derivative import DEFAULT_DERIVATIVE_POLICY, DerivativePolicy, pairs, verify
from triage.hashing.features import Signature
from triage.records import DerivativeInfo, FileHashes, Match

SIDE_FILE = "features.bin"
ALGORITHM = "orb"
_RECORD = struct.Struct("<QI")


class FeatureSpill:
    """Appends signatures to the case folder's side file (the parent process is its only writer)."""

    def __init__(self, case_dir: Path) -> None:
        self.path = case_dir / SIDE_FILE

    def add(self, results: Iterable[tuple[int, FileHashes, Any]]) -> None:
        rows = [(i, h.features) for i, h, _ in results if h.features]
        if not rows:
            return
        with self.path.open("ab") as out:
            for entry_id, data in rows:
                out.write(_RECORD.pack(entry_id, len(data)) + data)


def read_signatures(path: Path) -> Iterator[tuple[int, Signature]]:
    """Every ``(entry id, signature)`` of a side file, in file order; a torn last record (a scan
    killed while writing) is ignored."""
    if not path.exists():
        return
    with path.open("rb") as f:
        while head := f.read(_RECORD.size):
            if len(head) < _RECORD.size:
                return
            entry_id, length = _RECORD.unpack(head)
            data = f.read(length)
            if len(data) < length:
                return
            yield entry_id, Signature.from_bytes(data)


#: Up to this many seeds, each file is paired with each seed directly (a handful of seeds).
FEW_SEEDS = 8
#: Seeds proposed for the geometric check per file, at most (those sharing the most descriptors).
SHORTLIST = 5
#: Pictures searched per round of the threads (bounds the signatures held at once).
_CHUNK = 256


class SeedIndex:
    """Which seeds a file may be a derivative of, before the geometric check.

    A handful of seeds (up to :data:`FEW_SEEDS`): each is paired with the file by brute force.
    More: every seed descriptor goes into one approximate nearest-neighbour index (faiss's
    ``IndexBinaryHNSW``); each file descriptor's nearest seed descriptor votes for its seed, and
    the :data:`SHORTLIST` seeds with at least ``min_inliers`` votes get the full check. Measured
    with 1,000 seeds (389,335 descriptors, benchmarks/derivatives.py, 2 cores under load ~11):
    brute force 2.5 s a picture (Hamming over all descriptors), faiss ``IndexBinaryFlat`` 1.6 s,
    ``IndexBinaryIVF`` (1,024 lists, 8 probed) 0.10 s, ``IndexBinaryHNSW`` (M 16, ef 32) 0.066 s
    and 52 s to build; memory about 160 bytes per seed keypoint (64 MB for 1,000 seeds), whatever
    the number of pictures searched (they stream from the side file). Without faiss installed the
    brute-force path runs in chunks (OpenCV's matcher takes at most 2^18 rows at once).
    """

    def __init__(self, seeds: Sequence[tuple[Any, Signature]], policy: DerivativePolicy) -> None:
        self.policy = policy
        self.seeds = [(k, s) for k, s in seeds if len(s) >= policy.min_known_keypoints]
        self._owner = np.empty(0, dtype=np.int64)
        self._faiss: Any = None
        self._all = np.empty((0, 32), dtype=np.uint8)
        if len(self.seeds) > FEW_SEEDS:
            self._owner = np.concatenate([np.full(len(s), k) for k, (_, s) in enumerate(self.seeds)])
            self._all = np.ascontiguousarray(np.concatenate([s.descriptors for _, s in self.seeds]))
            try:
                import faiss
            except ImportError:
                return
            self._faiss = faiss.IndexBinaryHNSW(256, 16)
            self._faiss.hnsw.efSearch = 32
            self._faiss.add(self._all)

    @property
    def nbytes(self) -> int:
        """Memory held by the descriptors and the owners (the faiss graph adds ~128 B a row)."""
        return int(self._all.nbytes + self._owner.nbytes)

    def candidates(self, file: Signature) -> list[int]:
        """Indices (into ``seeds``) of the seeds worth the geometric check for this file."""
        if len(self.seeds) <= FEW_SEEDS:
            enough = self.policy.min_inliers
            return [k for k, (_, s) in enumerate(self.seeds) if len(pairs(s, file, self.policy)) >= enough]
        near = self._nearest(file.descriptors)
        votes = np.bincount(self._owner[near[near >= 0]], minlength=len(self.seeds))
        order = np.argsort(-votes, kind="stable")[:SHORTLIST]
        return [int(k) for k in order if votes[k] >= self.policy.min_inliers]

    def _nearest(self, descriptors: np.ndarray) -> np.ndarray:
        """Row of the nearest seed descriptor of each file descriptor, -1 where it is too far."""
        limit = self.policy.max_hamming * 0.75
        if self._faiss is not None:
            distances, rows = self._faiss.search(np.ascontiguousarray(descriptors), 1)
            return np.where(distances[:, 0] <= limit, rows[:, 0], -1)
        import cv2

        best = np.full(len(descriptors), -1, dtype=np.int64)
        best_d = np.full(len(descriptors), np.inf)
        for start in range(0, len(self._all), 1 << 17):
            for m in cv2.BFMatcher(cv2.NORM_HAMMING).match(descriptors, self._all[start : start + (1 << 17)]):
                if m.distance < best_d[m.queryIdx]:
                    best_d[m.queryIdx], best[m.queryIdx] = m.distance, start + m.trainIdx
        return np.where(best_d <= limit, best, -1)


def find_derivatives(
    case_dir: Path,
    seeds: Sequence[dict[str, Any]],
    skip: set[int],
    sha256_of: Any,
    references: Sequence[tuple[dict[str, Any], bytes]] = (),
    policy: DerivativePolicy = DEFAULT_DERIVATIVE_POLICY,
    threads: int = 1,
) -> list[tuple[int, Match]]:
    """``(entry id, match)`` for every picture in the side file that is a derivative of a seed.
    ``seeds`` are :meth:`~triage.case.reading.CaseReader.seeds` rows; ``references`` the
    signatures of the sets' reference pictures (:meth:`~triage.hashsets.MatchIndex.reference_seeds`);
    ``skip`` the entries not to search (any that matched by itself); ``sha256_of(entry id)``
    gives a file's SHA-256."""
    by_id = {s["file_id"]: s for s in seeds}
    path = case_dir / SIDE_FILE
    # A scan killed between spilling and committing a batch spills it again when resumed: the
    # side file may hold an entry twice (the same bytes, the same signature); each is used once.
    loaded = list({i: (by_id[i], sig) for i, sig in read_signatures(path) if i in by_id}.values())
    loaded += [(seed, Signature.from_bytes(data)) for seed, data in references]
    if not loaded:
        return []
    index = SeedIndex(loaded, policy)

    def search(item: tuple[int, Signature]) -> list[tuple[int, DerivativeInfo]]:
        _, sig = item
        checked = ((k, verify(index.seeds[k][1], sig, policy)) for k in index.candidates(sig))
        return [(k, result) for k, result in checked if result is not None]

    def todo() -> Iterator[tuple[int, Signature]]:
        done: set[int] = set()
        for entry_id, sig in read_signatures(path):
            if entry_id not in skip and entry_id not in by_id and entry_id not in done:
                done.add(entry_id)
                yield entry_id, sig

    found: list[tuple[int, Match]] = []
    pending = todo()
    # OpenCV's matcher and RANSAC release the GIL: threads share the seeds' index and use every
    # core (the stage was one core's work, measured 0.85 s of a 4.9 s scan; docs/matching.md).
    # Chunks bound the signatures in memory; map keeps the side file's order, so the matches
    # (and the store's rows) are the same whatever the thread count.
    with ThreadPoolExecutor(max(1, threads)) as pool:
        while chunk := list(islice(pending, _CHUNK)):
            for (entry_id, _), results in zip(chunk, pool.map(search, chunk), strict=True):
                for k, result in results:
                    seed = index.seeds[k][0]
                    info = replace(result, seed=seed["location"])
                    found.append((entry_id, derivative_match(seed, sha256_of(entry_id) or "", info)))
    return found


def search_case(
    store: CaseStore, references: Sequence[tuple[dict[str, Any], bytes]], threads: int = 1
) -> int:
    """The scan's derivative stage: the case's seeds and the sets' ``references`` searched in
    every other picture, on ``threads`` threads; the matches stored; returns how many."""
    seeds = store.seeds()
    if not seeds and not references:
        return 0
    found = find_derivatives(
        store.case_dir, seeds, store.matched_ids(), store.sha256_of, references, threads=threads
    )
    store.add_matches(found)
    return len(found)


def derivative_match(seed: dict[str, Any], file_hash: str, info: DerivativeInfo) -> Match:
    """The match record: the seed's set entry, the seed's SHA-256 as the known hash."""
    return Match(
        kind="derivative",
        algorithm=ALGORITHM,
        distance=0,
        hashset=seed["hashset"],
        file_hash=file_hash,
        known_hash=seed.get("sha256") or seed["known_hash"],
        entry_id=seed["entry_id"],
        category=seed["category"],
        name=seed["name"],
        derivative=info,
    )
