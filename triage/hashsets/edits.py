"""Matching that survives edits: which of a file's perceptual hashes are searched, and videos.

A picture is searched with every hash that stands for it (docs/matching.md): its PDQ's 8
dihedral variants (a mirrored or turned copy), its PDQ with uniform borders removed (letterboxed
or padded), and the 64-bit imagehash hashes the scan computed. One known hash found through
several of them is reported once, by the closest (ties: the order of
:data:`~triage.hashing.variants.TRANSFORMS`, "original" first), with the transform that found it.

A video (``FileHashes.frames``) is compared with each known video of a vPDQ frame list by
:func:`triage.hashing.video_match.match_video`; candidates come from the PDQ search of its
frames, so only videos sharing at least one close frame are compared in full.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from triage.hashing.video_match import match_video, nearest, pack
from triage.records import TRANSFORMS, UPSCALED, FileHashes, FrameHash, Match, MatchPolicy, VideoMatchInfo

#: A part's perceptual search: (algorithm, hex value, radius) -> matches.
Near = Callable[[str, str, int], list[Match]]
#: A part's known video frames: (hash-set path, video name) -> frames, None if not a vPDQ video.
Frames = Callable[[str, str], tuple[FrameHash, ...] | None]
SHORT_HASHES: tuple[str, ...] = ("phash", "dhash", "ahash", "whash")


def picture_queries(hashes: FileHashes, policy: MatchPolicy) -> list[tuple[str, str, int, str]]:
    """``(algorithm, hex, radius, transform)`` to search for one file. PDQ hashes only when their
    quality is known and at least ``policy.pdq_min_quality`` (a flat picture's PDQ matches
    unrelated pictures); the 64-bit hashes only when PDQ's quality passes the same gate."""
    queries: list[tuple[str, str, int, str]] = []
    radius = policy.pdq_max_distance
    if hashes.pdq:
        variants = hashes.pdq_variants or (("original", hashes.pdq),)
        for name, value in variants:
            # The upscaled hash is of another picture (the file enlarged): its own quality gates it.
            quality = hashes.pdq_quality
            if name == UPSCALED and hashes.pdq_upscaled_quality is not None:
                quality = hashes.pdq_upscaled_quality
            if quality is not None and quality >= policy.pdq_min_quality:
                queries.append(("pdq", value.lower(), radius, name))
    quality = hashes.pdq_cropped_quality
    if hashes.pdq_cropped and quality is not None and quality >= policy.pdq_min_quality:
        queries.append(("pdq", hashes.pdq_cropped.lower(), radius, "cropped"))
    # A flat or nearly blank picture has a 64-bit hash shared by every other flat picture (a
    # solid colour's pHash is 8000000000000000): PDQ's quality says how much the picture holds,
    # so the same gate applies to the 64-bit hashes whenever PDQ was computed.
    informative = hashes.pdq_quality is None or hashes.pdq_quality >= policy.pdq_min_quality
    for algorithm in SHORT_HASHES if informative else ():
        value = getattr(hashes, algorithm)
        if value:
            queries.append(
                (algorithm, value.lower(), getattr(policy, f"{algorithm}_max_distance"), "original")
            )
    return queries


def picture_matches(near: Near, hashes: FileHashes, policy: MatchPolicy) -> list[Match]:
    """Every known hash within its radius of one of the file's queries, once, by the closest."""
    best: dict[tuple[object, ...], Match] = {}
    for algorithm, value, radius, transform in picture_queries(hashes, policy):
        for found in near(algorithm, value, radius):
            match = dataclasses.replace(found, file_hash=value, transform=transform)
            key = (
                match.algorithm,
                match.hashset,
                match.known_hash,
                match.entry_id,
                match.category,
                match.name,
            )
            seen = best.get(key)
            rank = (match.distance, TRANSFORMS.index(transform))
            if seen is None or rank < (seen.distance, TRANSFORMS.index(seen.transform or "original")):
                best[key] = match
    return list(best.values())


def video_matches(near: Near, frames_of: Frames, hashes: FileHashes, policy: MatchPolicy) -> list[Match]:
    """vPDQ matches of one video against the known videos of one part (see the module text)."""
    usable = [f for f in hashes.frames if f.quality >= policy.pdq_min_quality]
    candidates: dict[tuple[str, str], Match] = {}
    for frame in _distinct(usable):
        for found in near("pdq", frame.pdq, policy.pdq_max_distance):
            if found.entry_id is not None:
                candidates.setdefault((found.hashset, found.entry_id), found)
    matches = []
    for (hashset, video), sample in sorted(candidates.items()):
        known = frames_of(hashset, video)
        if not known:
            continue
        result = match_video(
            hashes.frames,
            known,
            distance=policy.pdq_max_distance,
            quality=policy.pdq_min_quality,
            threshold=policy.video_min_share,
        )
        if result is None or not result.matched:
            continue
        file_hash, known_hash = _closest_pair(
            usable, [f for f in known if f.quality >= policy.pdq_min_quality]
        )
        info = VideoMatchInfo(
            known_video=video,
            query_share=round(result.query_share, 4),
            known_share=round(result.known_share, 4),
            ranges=tuple((round(a, 3), round(b, 3)) for a, b in result.ranges),
            query_frames=result.query_frames,
            known_frames=result.known_frames,
            query_matched=result.query_matched,
            known_matched=result.known_matched,
            mean_distance=round(result.mean_distance, 2),
        )
        matches.append(
            dataclasses.replace(
                sample, algorithm="vpdq", distance=result.best_distance, file_hash=file_hash,
                known_hash=known_hash, entry_id=video, transform=None, video=info,
            )
        )  # fmt: skip
    return matches


def _distinct(frames: Iterable[FrameHash]) -> list[FrameHash]:
    """One frame per distinct hash (still scenes repeat the same hash many times)."""
    return list({f.pdq: f for f in frames}.values())


def _closest_pair(query: Sequence[FrameHash], known: Sequence[FrameHash]) -> tuple[str, str]:
    """The query frame and known frame hashes at the smallest distance (first in frame order)."""
    q, k = pack([f.pdq for f in query]), pack([f.pdq for f in known])
    q_min, _ = nearest(q, k)
    row = int(np.argmin(q_min))
    dist = np.bitwise_count(k ^ q[row]).sum(axis=1)
    return query[row].pdq, known[int(np.argmin(dist))].pdq
