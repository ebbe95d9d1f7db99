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
from pathlib import Path
from typing import Any

import numpy as np

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


class SeedIndex:
    """The seeds' descriptors in one array, so one brute-force Hamming search per file finds
    which seeds share enough descriptors to be worth a geometric check (the shortlist), instead
    of a full check against each seed. Memory: 36 bytes per seed keypoint."""

    def __init__(self, seeds: Sequence[tuple[Any, Signature]], policy: DerivativePolicy) -> None:
        self.seeds = list(seeds)
        self.policy = policy
        self.owner = (
            np.concatenate([np.full(len(s), k) for k, (_, s) in enumerate(self.seeds)]) if seeds else None
        )
        self.all = np.concatenate([s.descriptors for _, s in self.seeds]) if seeds else None

    def candidates(self, file: Signature) -> list[int]:
        """Seeds with at least ``min_inliers`` of the file's descriptors nearest to theirs."""
        if self.all is None or self.owner is None:
            return []
        if len(self.seeds) <= 8:  # a handful: check each (the shortlist would cost as much)
            return [
                k
                for k, (_, s) in enumerate(self.seeds)
                if len(pairs(s, file, self.policy)) >= self.policy.min_inliers
            ]
        import cv2

        found = cv2.BFMatcher(cv2.NORM_HAMMING).match(file.descriptors, self.all)
        votes = np.bincount(
            [self.owner[m.trainIdx] for m in found if m.distance <= self.policy.max_hamming * 0.75],
            minlength=len(self.seeds),
        )
        return [int(k) for k in np.argsort(-votes, kind="stable")[:5] if votes[k] >= self.policy.min_inliers]


def find_derivatives(
    case_dir: Path,
    seeds: Sequence[dict[str, Any]],
    skip: set[int],
    sha256_of: Any,
    references: Sequence[tuple[dict[str, Any], bytes]] = (),
    policy: DerivativePolicy = DEFAULT_DERIVATIVE_POLICY,
) -> list[tuple[int, Match]]:
    """``(entry id, match)`` for every picture in the side file that is a derivative of a seed.
    ``seeds`` are :meth:`~triage.case.reading.CaseReader.seeds` rows; ``references`` the
    signatures of the sets' reference pictures (:meth:`~triage.hashsets.MatchIndex.reference_seeds`);
    ``skip`` the entries not to search (any that matched by itself); ``sha256_of(entry id)``
    gives a file's SHA-256."""
    by_id = {s["file_id"]: s for s in seeds}
    path = case_dir / SIDE_FILE
    loaded = [(by_id[i], sig) for i, sig in read_signatures(path) if i in by_id]
    loaded += [(seed, Signature.from_bytes(data)) for seed, data in references]
    if not loaded:
        return []
    index = SeedIndex(loaded, policy)
    found: list[tuple[int, Match]] = []
    for entry_id, sig in read_signatures(path):
        if entry_id in skip or entry_id in by_id:
            continue
        for k in index.candidates(sig):
            seed, seed_sig = loaded[k]
            result = verify(seed_sig, sig, policy)
            if result is None:
                continue
            info = DerivativeInfo(
                result.inliers, result.coverage, result.scale, result.rotation,
                result.known_box, result.file_box, seed=seed["location"],
            )  # fmt: skip
            found.append((entry_id, derivative_match(seed, sha256_of(entry_id) or "", info)))
    return found


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
