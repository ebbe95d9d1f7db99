"""vPDQ-style video hashing: decode with OpenCV, sample frames, PDQ-hash each one.

We follow Meta's vPDQ reference (ThreatExchange ``vpdq/cpp``, ``filehasher.cpp``) wherever it
decides the bits, so our frame hashes can be compared with frame lists that others computed:

- frames are numbered from 0 in decode order; with ``every_seconds`` = S the frames kept are
  those whose number is a multiple of ``max(1, int(S * fps))`` (the reference's ``frameMod``),
  and a frame's time is ``number / fps``;
- each kept frame is converted to 8-bit RGB at its **full size** and hashed by the same PDQ
  code as pictures (``pdqhash``, Meta's C++ compiled for Python). Unlike pictures, frames are
  *not* squashed to 512x512: the vPDQ reference hands PDQ the whole frame, and on the HD sample
  clip squashing moves hashes several bits further from the reference (docs/video.md);
- pixels are hashed as stored: OpenCV's automatic rotation from container metadata is turned
  off, as the reference does not rotate either.

OpenCV needs a path, so :func:`hash_video_bytes` goes through a temporary file. Damaged streams
stop at the first frame that cannot be read and keep what was hashed, with a ``note``.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pdqhash

from triage.errors import TriageError
from triage.hashing.decode import DEFAULT_POLICY
from triage.records import DecodePolicy, FrameHash

#: FFmpeg's log level for OpenCV's backend (AV_LOG_QUIET): damaged streams would otherwise
#: write decoder chatter to the examiner's terminal. An explicit setting by the user wins.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
#: Give up on an open or a read that blocks this long (FFmpeg's interrupt callback).
TIMEOUT_MS = 30_000
#: The reference refuses frames smaller than this on either side (pdqbufferhasher.cpp).
MIN_HASHABLE_SIDE = 5
#: Beyond the frame count the container states, decode at most this many more frames (or one
#: minute of video, if more) before assuming a looping or lying stream and stopping.
EXTRA_FRAMES = 1000


class VideoDecodeError(TriageError):
    """A video could not be opened or hashed at all; the caller records it as that file's error."""


@dataclass(frozen=True)
class VideoHashes:
    """The sampled frames of one video and what the container said about it.

    ``frame_count`` counts the frames actually decoded (sampled or not) and ``duration`` is
    ``frame_count / fps``; ``every_seconds`` is the sampling used (None: every frame), which the
    report needs because the share of a *known* video matched depends on both sides' density.
    ``note`` says why decoding stopped early (damaged stream, ``max_frames``), else None.
    """

    frames: tuple[FrameHash, ...]
    fps: float
    frame_count: int
    duration: float
    width: int
    height: int
    note: str | None = None
    every_seconds: float | None = 1.0


def _frame_pdq(rgb: np.ndarray) -> tuple[str, int]:
    """PDQ hex and quality of a full-size HxWx3 uint8 RGB frame (bits packed as pictures are)."""
    vector, quality = pdqhash.compute(rgb)
    return np.packbits(vector.astype(np.uint8)).tobytes().hex(), int(quality)


def open_capture(path: str) -> cv2.VideoCapture:
    """The video at ``path`` opened by OpenCV's FFmpeg backend with open/read timeouts and its
    logging silenced, frames as stored (no auto-rotation); frame hashing and frame thumbnails
    both open videos here, so both see the same frames. Unreadable: :class:`VideoDecodeError`."""
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, TIMEOUT_MS, cv2.CAP_PROP_READ_TIMEOUT_MSEC, TIMEOUT_MS]
    try:
        capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG, params)
    except cv2.error as e:
        raise VideoDecodeError(f"OpenCV cannot open the video: {' '.join(str(e).split())[:200]}") from e
    if not capture.isOpened():
        capture.release()
        raise VideoDecodeError("OpenCV (FFmpeg) cannot open the video: no readable container or video stream")
    capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)  # hash pixels as stored, like the reference
    return capture


def _number(capture: cv2.VideoCapture, prop: int) -> float:
    value = capture.get(prop)
    return value if math.isfinite(value) and value > 0 else 0.0


def hash_video_file(
    path: str | os.PathLike[str],
    *,
    every_seconds: float | None = 1.0,
    max_frames: int | None = None,
    policy: DecodePolicy = DEFAULT_POLICY,
) -> VideoHashes:
    """Decode the video at ``path`` and PDQ-hash one frame every ``every_seconds`` (None: all).

    ``max_frames`` caps the number of *hashed* frames. Frames larger than ``policy.max_pixels``
    are refused like pictures. Raises :class:`VideoDecodeError` when nothing can be opened or a
    frame cannot be hashed at all; a stream that breaks part-way returns the frames hashed so
    far and a ``note``.
    """
    if every_seconds is not None and not every_seconds > 0:
        raise VideoDecodeError(f"every_seconds must be positive or None, not {every_seconds!r}")
    capture = open_capture(os.fspath(path))
    try:
        return _hash_capture(capture, every_seconds, max_frames, policy)
    finally:
        capture.release()


def _hash_capture(
    capture: cv2.VideoCapture, every_seconds: float | None, max_frames: int | None, policy: DecodePolicy
) -> VideoHashes:
    fps = _number(capture, cv2.CAP_PROP_FPS)
    stated = int(_number(capture, cv2.CAP_PROP_FRAME_COUNT))
    width = int(_number(capture, cv2.CAP_PROP_FRAME_WIDTH))
    height = int(_number(capture, cv2.CAP_PROP_FRAME_HEIGHT))
    if width * height > policy.max_pixels:
        raise VideoDecodeError(f"frames of {width}x{height} exceed the limit of {policy.max_pixels} pixels")
    step = max(1, int(every_seconds * fps)) if every_seconds is not None and fps else 1
    limit = stated + max(EXTRA_FRAMES, int(60 * fps)) if stated else None
    frames: list[FrameHash] = []
    note: str | None = None
    number = 0
    while True:
        if limit is not None and number >= limit:
            note = f"stopped after {number} frames: the container states only {stated}"
            break
        if not capture.grab():  # decodes without colour conversion: cheap for skipped frames
            if stated and number < stated:
                note = f"stream ended at frame {number} of {stated} stated (damaged or truncated)"
            break
        if number % step == 0:
            ok, bgr = capture.retrieve()
            if not ok or bgr is None or bgr.ndim != 3:
                note = f"frame {number} could not be read; kept the {len(frames)} frames hashed before it"
                number += 1
                break
            rows, cols = bgr.shape[:2]
            if rows < MIN_HASHABLE_SIDE or cols < MIN_HASHABLE_SIDE:
                raise VideoDecodeError(f"frames of {cols}x{rows} are too small to hash")
            width, height = cols, rows
            pdq, quality = _frame_pdq(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            # Without a frame rate, fall back on the demuxer's clock for the time.
            seconds = number / fps if fps else capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            frames.append(FrameHash(number, seconds, pdq, quality))
            if max_frames is not None and len(frames) >= max_frames:
                number += 1
                note = f"stopped after max_frames={max_frames} hashed frames"
                break
        number += 1
    if not frames and note is None:
        note = "no frame could be decoded"
    duration = number / fps if fps else 0.0
    return VideoHashes(tuple(frames), fps, number, duration, width, height, note, every_seconds)


def hash_video_bytes(
    data: bytes | Iterable[bytes],
    *,
    suffix: str = "",
    every_seconds: float | None = 1.0,
    max_frames: int | None = None,
    policy: DecodePolicy = DEFAULT_POLICY,
) -> VideoHashes:
    """:func:`hash_video_file` on content in memory or in chunks, through a temporary file that
    is always deleted. ``suffix`` (e.g. ``.mp4``) only helps FFmpeg guess a format."""
    chunks = [data] if isinstance(data, bytes | bytearray | memoryview) else data
    descriptor, name = tempfile.mkstemp(prefix="triage-video-", suffix=suffix)
    try:
        with os.fdopen(descriptor, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        return hash_video_file(name, every_seconds=every_seconds, max_frames=max_frames, policy=policy)
    finally:
        Path(name).unlink(missing_ok=True)
