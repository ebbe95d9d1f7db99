"""Local-feature signatures of pictures (ORB keypoints), for derivative search.

A perceptual hash summarises the whole picture, so a crop, a small turn or a copy pasted into
another picture hashes like an unrelated picture. Local features survive those edits: ORB finds
corners and describes the patch around each in 256 bits; a derivative shares many of them, in
the same geometric arrangement (:mod:`triage.hashing.derivative` checks that arrangement).

Why ORB: it is in opencv-python-headless (already a dependency), its binary descriptors compare by
Hamming distance (fast, compact: 32 bytes), and it is rotation invariant. SIFT found a few more
collage quadrants in trials but costs ~4x the time and 128 floats a keypoint.

The signature is computed from the pixels the worker already decoded for PDQ (no second
decode), at most :data:`MAX_SIDE` pixels on the longer side, and keeps the :data:`MAX_KEYPOINTS`
strongest keypoints. It is bytes: a small header, the keypoints' coordinates (in the signature's
own pixels, x4 as uint16) and their descriptors. It holds no pixels; see docs/matching.md for what
the descriptors can and cannot reveal.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

#: Longer side of the picture the keypoints are found on (larger pictures are shrunk to it).
MAX_SIDE = 800
#: Keypoints kept per picture (the strongest by ORB's Harris response).
MAX_KEYPOINTS = 400
#: Pictures whose shorter side is under this many pixels give no signature (too little detail).
MIN_SIDE = 48
#: Fewer keypoints than this: no signature at all (flat or featureless picture).
MIN_KEYPOINTS = 24
#: A *known* picture (seed or reference) needs this many to be searched for. Like PDQ's quality
#: gate: a picture with few corners (a flat drawing, a gradient, a few simple shapes) pairs its
#: handful of keypoints with those of any picture drawn alike (measured: generated pictures of
#: stripes and one ellipse, 35-103 keypoints, matched each other when shifted; photos give 400).
MIN_KNOWN_KEYPOINTS = 150

_MAGIC = b"ORB1"
_HEADER = struct.Struct("<4sHHHf")  # magic, keypoints, width, height (signature px), scale to file px

cv2.setNumThreads(1)  # one worker process per core already


@dataclass(frozen=True)
class Signature:
    """Keypoints of one picture: ``points`` (N x 2 float32, signature pixels), ``descriptors``
    (N x 32 uint8), the signature's ``width`` x ``height`` and ``scale`` (file pixels per
    signature pixel, for boxes stated in the file's own pixels)."""

    points: np.ndarray
    descriptors: np.ndarray
    width: int
    height: int
    scale: float

    def __len__(self) -> int:
        return len(self.points)

    def to_bytes(self) -> bytes:
        coords = np.clip(np.round(self.points * 4), 0, 65535).astype("<u2")
        head = _HEADER.pack(_MAGIC, len(self), self.width, self.height, self.scale)
        return head + coords.tobytes() + np.ascontiguousarray(self.descriptors, dtype=np.uint8).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        magic, n, width, height, scale = _HEADER.unpack_from(data)
        if magic != _MAGIC or len(data) != _HEADER.size + n * 36:
            raise ValueError("not a triage ORB signature")
        start = _HEADER.size
        coords = np.frombuffer(data, "<u2", n * 2, start).reshape(n, 2).astype(np.float32) / 4
        desc = np.frombuffer(data, np.uint8, n * 32, start + n * 4).reshape(n, 32)
        return cls(coords, desc, width, height, scale)


_orb = None


def _detector() -> cv2.ORB:
    global _orb
    if _orb is None:
        # More candidates than kept: the strongest MAX_KEYPOINTS are chosen after detection.
        _orb = cv2.ORB_create(nfeatures=MAX_KEYPOINTS * 2, scaleFactor=1.25, nlevels=8, fastThreshold=12)
    return _orb


def grey_for_features(rgb: Image.Image) -> tuple[np.ndarray, float]:
    """The greyscale array keypoints are found on, and how many ``rgb`` pixels one of its
    pixels spans (shrunk with area averaging to :data:`MAX_SIDE` on the longer side)."""
    grey = rgb.convert("L")
    width, height = grey.size
    factor = max(width, height) / MAX_SIDE
    if factor > 1:
        grey = grey.resize((max(1, round(width / factor)), max(1, round(height / factor))), Image.BOX)
    else:
        factor = 1.0
    return np.asarray(grey), factor


def signature(rgb: Image.Image, scale: float = 1.0) -> Signature | None:
    """ORB signature of a decoded picture, or None when it cannot give a usable one (tiny, flat,
    featureless). ``scale``: file pixels per ``rgb`` pixel (draft-decoded JPEGs are smaller)."""
    if min(rgb.size) < MIN_SIDE:
        return None
    grey, factor = grey_for_features(rgb)
    keypoints, descriptors = _detector().detectAndCompute(grey, None)
    if descriptors is None or len(keypoints) < MIN_KEYPOINTS:
        return None
    height, width = grey.shape
    order = _spread(keypoints, width, height)
    points = np.array([keypoints[i].pt for i in order], dtype=np.float32)
    return Signature(points, descriptors[order], width, height, float(scale * factor))


def _spread(keypoints: tuple[cv2.KeyPoint, ...], width: int, height: int) -> list[int]:
    """Indices of the keypoints to keep, strongest first within each cell of a 4x4 grid and taken
    from the cells in turn: the strongest corners of a photo crowd on one skyline or one
    textured object, and a crop that cuts it off would leave too few of them to find."""
    ranked = sorted(range(len(keypoints)), key=lambda i: (-keypoints[i].response, i))
    seen: dict[tuple[int, int], int] = {}
    keyed = []
    for i in ranked:
        x, y = keypoints[i].pt
        cell = (min(3, int(4 * x / width)), min(3, int(4 * y / height)))
        seen[cell] = seen.get(cell, -1) + 1
        keyed.append((seen[cell], -keypoints[i].response, i))
    return [i for _, _, i in sorted(keyed)[:MAX_KEYPOINTS]]


def why_unusable(rgb: Image.Image) -> str:
    """Why :func:`signature` gave None for this picture, in words for a report."""
    if min(rgb.size) < MIN_SIDE:
        return f"too small ({rgb.size[0]}x{rgb.size[1]} px; at least {MIN_SIDE} on each side)"
    return f"too few distinct corners (under {MIN_KEYPOINTS}): flat or featureless"
