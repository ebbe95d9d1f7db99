"""Is one picture a derivative of another? Local features with geometric verification.

Two pictures' ORB descriptors (:mod:`triage.hashing.features`) are paired by Hamming distance
(each known keypoint's nearest file keypoint, kept only when clearly nearer than the second
nearest: Lowe's ratio test), then RANSAC finds the similarity transform (scale, rotation,
shift) that the most pairs agree with. Unrelated pictures pair up at random and agree on no
transform; a crop, a small turn, a copy inside a screenshot or a collage agree on one.

A match must pass every test of :class:`DerivativePolicy`, each guarding a way features can
agree without the pictures being derivatives (measured in benchmarks/derivatives.py):

- enough inliers, each a distinct keypoint on both sides (repeated texture pairs one file
  keypoint with many known ones);
- the inliers cover a good share of the known picture (a shared sticker, caption or logo covers
  a small part of it) and are spread over it (at least ``min_cells`` cells of a 4x4 grid);
- a sane transform: scale within bounds, and a full homography fitted on the inliers agrees
  with the similarity (no near-degenerate, collapsed or strongly skewed mapping).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from triage.hashing.features import MIN_KNOWN_KEYPOINTS, Signature
from triage.records import DerivativeInfo


@dataclass(frozen=True)
class DerivativePolicy:
    """Thresholds of a derivative match (measured: docs/matching.md, benchmarks/derivatives.py)."""

    ratio: float = 0.8  # Lowe's ratio test on Hamming distances
    max_hamming: int = 80  # of 256 bits: farther pairs are never used
    min_inliers: int = 15
    min_coverage: float = 0.2  # area of the inliers' hull over the hull of all the known keypoints
    min_cells: int = 5  # of the 16 cells of a 4x4 grid over the inliers' box in the known picture
    min_scale: float = 0.2  # the known picture at 20%..500% of its size in the file
    max_scale: float = 5.0
    max_homography_error: float = 0.08  # of the known picture's diagonal, at its corners
    reprojection: float = 0.015  # RANSAC threshold, share of the file signature's longer side
    min_known_keypoints: int = MIN_KNOWN_KEYPOINTS  # a known picture with fewer is not searched for


DEFAULT_DERIVATIVE_POLICY = DerivativePolicy()


_matcher = cv2.BFMatcher(cv2.NORM_HAMMING)


def pairs(known: Signature, file: Signature, policy: DerivativePolicy) -> np.ndarray:
    """``(known index, file index)`` pairs passing the ratio test, each file keypoint used once."""
    if len(known) < 2 or len(file) < 2:
        return np.empty((0, 2), dtype=np.int32)
    found = _matcher.knnMatch(known.descriptors, file.descriptors, k=2)
    best: dict[int, tuple[float, int]] = {}
    for m in found:
        if len(m) < 2 or m[0].distance > policy.max_hamming or m[0].distance >= policy.ratio * m[1].distance:
            continue
        held = best.get(m[0].trainIdx)
        if held is None or m[0].distance < held[0]:
            best[m[0].trainIdx] = (m[0].distance, m[0].queryIdx)
    return np.array(sorted((q, t) for t, (_, q) in best.items()), dtype=np.int32).reshape(-1, 2)


def verify(
    known: Signature, file: Signature, policy: DerivativePolicy = DEFAULT_DERIVATIVE_POLICY
) -> DerivativeInfo | None:
    """The evidence that ``file`` is a derivative of ``known``, or None."""
    found, _why = explain(known, file, policy)
    return found


def explain(known: Signature, file: Signature, policy: DerivativePolicy) -> tuple[DerivativeInfo | None, str]:
    """:func:`verify`, with the name of the first test that failed (for the benchmark)."""
    if len(known) < policy.min_known_keypoints:
        return None, "known"
    found = pairs(known, file, policy)
    if len(found) < policy.min_inliers:
        return None, "pairs"
    src = known.points[found[:, 0]]
    dst = file.points[found[:, 1]]
    threshold = policy.reprojection * max(file.width, file.height)
    model, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=threshold, maxIters=2000, confidence=0.995,
        refineIters=10,
    )  # fmt: skip
    if model is None or mask is None:
        return None, "ransac"
    keep = mask.ravel().astype(bool)
    src, dst = src[keep], dst[keep]
    if len(src) < policy.min_inliers or len({tuple(p) for p in np.round(src)}) < policy.min_inliers:
        return None, "inliers"
    scale = math.hypot(model[0, 0], model[1, 0]) * file.scale / known.scale
    if not policy.min_scale <= scale <= policy.max_scale:
        return None, "scale"
    coverage = _hull_area(src) / max(1.0, _hull_area(known.points))
    if coverage < policy.min_coverage or _cells(src) < policy.min_cells:
        return None, "coverage"
    if not _homography_agrees(src, dst, model, known, policy):
        return None, "homography"
    rotation = -math.degrees(math.atan2(model[1, 0], model[0, 0]))  # image y points down
    found_one = DerivativeInfo(
        inliers=len(src),
        coverage=round(coverage, 3),
        scale=round(scale, 3),
        rotation=round(rotation, 1),
        known_box=_box(src, known),
        file_box=_box(dst, file),
    )
    return found_one, ""


def _hull_area(points: np.ndarray) -> float:
    return float(cv2.contourArea(cv2.convexHull(points.astype(np.float32))))


def _cells(points: np.ndarray) -> int:
    """Occupied cells of a 4x4 grid over the points' bounding box: clustered inliers (a logo,
    a line of text, one repeated motif) fill few of them."""
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.maximum(high - low, 1e-6)
    cells = np.minimum((4 * (points - low) / span).astype(int), 3)
    return len({(int(x), int(y)) for x, y in cells})


def _homography_agrees(
    src: np.ndarray, dst: np.ndarray, model: np.ndarray, known: Signature, policy: DerivativePolicy
) -> bool:
    """A homography fitted on the inliers maps the corners of their box where the similarity does:
    a collapsed or strongly skewed fit means the points do not describe one rigid picture."""
    homography, _ = cv2.findHomography(src, dst, 0)
    if homography is None or abs(np.linalg.det(homography[:2, :2])) < 1e-6:
        return False
    (x0, y0), (x1, y1) = src.min(axis=0), src.max(axis=0)
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32).reshape(-1, 1, 2)
    by_h = cv2.perspectiveTransform(corners, homography).reshape(-1, 2)
    by_s = corners.reshape(-1, 2) @ model[:, :2].T + model[:, 2]
    diagonal = math.hypot(*(by_s.max(axis=0) - by_s.min(axis=0)))
    return bool(diagonal > 0 and np.abs(by_h - by_s).max() <= policy.max_homography_error * diagonal * 2)


def _box(points: np.ndarray, sig: Signature) -> tuple[int, int, int, int]:
    (x0, y0), (x1, y1) = points.min(axis=0) * sig.scale, points.max(axis=0) * sig.scale
    return (int(x0), int(y0), math.ceil(x1), math.ceil(y1))
