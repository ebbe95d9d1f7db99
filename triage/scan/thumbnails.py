"""Thumbnails of matched pictures and video frames, stored in the case so the HTML report can show them.

The reports read only the case store, so the thumbnails must be in it. After hashing, each
picture matched by an alert set is read again (:func:`triage.evidence.read_entry`) and shrunk to
:data:`SIZE` pixels on its longer side. Policy ``blurred`` (the default) turns it greyscale and
blurs it *before* storing, so the clear picture never reaches a report file (examiner wellness:
the report still shows it only behind a deliberate click); ``clear`` stores it as it is; ``none``
stores nothing. The policy is recorded in the case settings. A picture that cannot be read or
decoded again simply gets no thumbnail: it is counted in the audit log, never an error that
stops the scan (its hashes are already recorded).

Each matched video gets up to :data:`VIDEO_FRAMES` frame thumbnails under the same policy: the
first sampled frame of each time range its vPDQ matches cover (where the known content is),
then the middle and last matched frames; for a video matched only exactly, its first, middle
and last sampled frames (:func:`frame_choice`). The video is read again into a temporary file
(OpenCV needs a path), deleted at once; the frames are chosen among the stored sampled frames,
so the same case gives the same thumbnails. A video that cannot be read or opened again gets
none and is counted (``videos_failed``), like a picture.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from triage.case.store import CaseStore
from triage.errors import UsageError
from triage.evidence import read_entry
from triage.records import DecodePolicy, Entry
from triage.scan.scheduler import THUMBNAIL_TASK, Scheduler, WorkerFailure, WorkItem

if TYPE_CHECKING:
    from PIL import Image

POLICIES: tuple[str, ...] = ("none", "blurred", "clear")
SIZE = 160
BLUR_RADIUS = 6
QUALITY = 70
_DEFAULT_DECODE = DecodePolicy()
MAX_THUMBNAILS = 5000  # a report page with more would not open; the rest are counted
VIDEO_FRAMES = 3  # frame thumbnails per matched video, at most
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}$")  # a name's extension, only to help FFmpeg guess


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise UsageError(f"thumbnails must be one of {', '.join(POLICIES)}, not {policy!r}")
    return policy


def thumbnail(data: bytes, policy: str, decode: DecodePolicy = _DEFAULT_DECODE) -> tuple[int, int, bytes]:
    """``(width, height, JPEG bytes)`` of one picture under ``policy`` (``blurred`` or ``clear``)."""
    from PIL import Image, ImageOps  # in the worker only: the parent never decodes a picture

    from triage.hashing.admission import picture_slot
    from triage.hashing.decode import quiet_pillow

    with quiet_pillow(), Image.open(io.BytesIO(data)) as im:
        if im.width * im.height > decode.max_pixels:
            raise ValueError(f"{im.width}x{im.height} pixels is over the decode limit")
        im.draft("RGB", (SIZE * 2, SIZE * 2))
        with picture_slot(im.width * im.height):  # one giant picture at a time (memory bound)
            return _encode(ImageOps.exif_transpose(im), policy)


def _encode(im: Image.Image, policy: str) -> tuple[int, int, bytes]:
    """Shrink ``im`` to :data:`SIZE`, greyscale and blur it for ``blurred``; JPEG bytes."""
    from PIL import ImageFilter, ImageOps

    im.thumbnail((SIZE, SIZE))
    if policy == "blurred":
        im = ImageOps.grayscale(im).filter(ImageFilter.GaussianBlur(BLUR_RADIUS))
    else:
        im = im.convert("RGB")
    out = io.BytesIO()
    im.save(out, "JPEG", quality=QUALITY, optimize=True)
    return im.width, im.height, out.getvalue()


def _read(entry: Entry, limit: int, sha256: str | None) -> bytes:
    """The entry's bytes, read again, and only if they are the bytes that were hashed and matched
    (a thumbnail must show what the match is about, nothing else)."""
    if entry.size > limit:
        raise ValueError(f"larger than {limit} bytes")
    data = b"".join(read_entry(entry.ref))
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError("the bytes read again differ from those hashed")
    return data


@dataclass(frozen=True)
class ThumbJob:
    """One matched file's thumbnails, made in a worker process: a hostile picture or video that
    crashes or hangs its decoder costs its thumbnail, never the scan."""

    entry: Entry
    sha256: str | None
    policy: str
    decode: DecodePolicy
    frames: tuple[tuple[int, float], ...] | None = None  # a video's chosen frames; None: a picture


def render_job(job: ThumbJob) -> list[tuple[int | None, float | None, int, int, bytes]]:
    """Worker function: ``(frame, timestamp, width, height, JPEG)`` for each thumbnail made."""
    if job.frames is None:
        width, height, jpeg = thumbnail(
            _read(job.entry, job.decode.max_picture_bytes, job.sha256), job.policy, job.decode
        )
        return [(None, None, width, height, jpeg)]
    return list(video_frame_thumbnails(job.entry, job.frames, job.policy, job.decode, job.sha256))


def frame_choice(
    frames: Sequence[dict[str, Any]], ranges: Sequence[tuple[float, float]]
) -> list[tuple[int, float]]:
    """``(frame, timestamp)`` of up to :data:`VIDEO_FRAMES` sampled frames to show, in time order.

    For a vPDQ match: the first sampled frame of each matched time range, then (with fewer
    ranges than that) the middle and last frames matched; for an exact match only: the first,
    middle and last sampled frames. A video without sampled frames shows its first frame.
    """
    if not frames:
        return [(0, 0.0)]
    ordered = sorted(frames, key=lambda f: (f["timestamp"], f["frame"]))
    spans = sorted(ranges)
    starts: list[dict[str, Any]] = []
    for start, end in spans:
        inside = [f for f in ordered if start - 1e-6 <= f["timestamp"] <= end + 1e-6]
        starts.extend(inside[:1])
    pool = [f for f in ordered if any(a - 1e-6 <= f["timestamp"] <= b + 1e-6 for a, b in spans)] or ordered
    chosen: list[tuple[int, float]] = []
    for f in [*starts, pool[0], pool[len(pool) // 2], pool[-1]]:
        key = (int(f["frame"]), float(f["timestamp"]))
        if key not in chosen and len(chosen) < VIDEO_FRAMES:
            chosen.append(key)
    return sorted(chosen, key=lambda p: (p[1], p[0]))


def video_frame_thumbnails(
    entry: Entry,
    chosen: Sequence[tuple[int, float]],
    policy: str,
    decode: DecodePolicy = _DEFAULT_DECODE,
    sha256: str | None = None,
) -> list[tuple[int, float, int, int, bytes]]:
    """``(frame, timestamp, width, height, JPEG bytes)`` of the ``chosen`` frames of a video, read
    again from the evidence; frames that cannot be read are left out. Raises when the video
    cannot be read or opened at all."""
    import cv2  # OpenCV only when a matched video needs it
    from PIL import Image

    from triage.hashing.video import open_capture

    match = _SUFFIX.search(entry.name)
    found: list[tuple[int, float, int, int, bytes]] = []
    with tempfile.NamedTemporaryFile(prefix="triage-thumb-", suffix=match.group(0) if match else "") as spool:
        digest = hashlib.sha256()
        for chunk in read_entry(entry.ref):
            spool.write(chunk)
            digest.update(chunk)
        spool.flush()
        if sha256 is not None and digest.hexdigest() != sha256:
            raise ValueError("the bytes read again differ from those hashed")
        capture = open_capture(spool.name)
        try:
            capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)  # show frames as a player would
            width = capture.get(cv2.CAP_PROP_FRAME_WIDTH)
            height = capture.get(cv2.CAP_PROP_FRAME_HEIGHT)
            if width * height > decode.max_pixels:
                raise ValueError(f"frames of {width:.0f}x{height:.0f} pixels are over the decode limit")
            for frame, seconds in chosen:
                if seconds > 0 or frame > 0:
                    capture.set(cv2.CAP_PROP_POS_MSEC, seconds * 1000.0)
                ok, bgr = capture.read()
                if not ok or bgr is None or bgr.ndim != 3 or 0 in bgr.shape[:2]:
                    continue
                image = Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                found.append((frame, seconds, *_encode(image, policy)))
        except cv2.error as e:
            raise ValueError(f"OpenCV failed: {' '.join(str(e).split())[:200]}") from e
        finally:
            capture.release()
    return found


def make_thumbnails(
    store: CaseStore,
    policy: str,
    decode: DecodePolicy = _DEFAULT_DECODE,
    jobs: int = 1,
    timeout: float = 120.0,
    scheduler: Scheduler | None = None,
) -> dict[str, int]:
    """Store thumbnails of the matched pictures and frames of the matched videos under ``policy``,
    made in ``jobs`` worker processes (by ``scheduler``, default this machine's pool); returns
    counts for the audit."""
    check_policy(policy)
    store.set_setting(
        "thumbnails",
        {"policy": policy, "size": SIZE, "blur_radius": BLUR_RADIUS, "video_frames": VIDEO_FRAMES},
    )
    counts = {"stored": 0, "failed": 0, "skipped": 0, "videos": 0, "video_frames": 0, "videos_failed": 0,
              "videos_skipped": 0}  # fmt: skip
    if policy == "none":
        return {k: counts[k] for k in ("stored", "failed", "skipped")}
    items: list[WorkItem] = []
    budget = MAX_THUMBNAILS
    for entry_id, entry in store.matched_pictures():
        if budget <= 0:
            counts["skipped"] += 1
            continue
        budget -= 1
        job = ThumbJob(entry, store.sha256_of(entry_id), policy, decode)
        items.append(WorkItem(("picture", entry_id), job, timeout))
    for entry_id, entry, ranges in store.matched_videos():
        chosen = tuple(frame_choice(store.frames(entry_id), ranges))
        if budget < len(chosen):
            counts["videos_skipped"] += 1
            continue
        budget -= len(chosen)
        job = ThumbJob(entry, store.sha256_of(entry_id), policy, decode, chosen)
        items.append(WorkItem(("video", entry_id), job, timeout + entry.size / 2_000_000))
    if not items:  # nothing matched: no worker to start
        store.audit("thumbnails stored", policy=policy, **counts)
        return counts
    if scheduler is None:
        from triage.scan.pool import LocalScheduler

        scheduler = LocalScheduler()
    for (kind, entry_id), made in scheduler.run(THUMBNAIL_TASK, items, max(1, min(jobs, len(items)))):
        if kind == "picture":
            if isinstance(made, WorkerFailure) or not made:
                counts["failed"] += 1
                continue
            _frame, _ts, width, height, jpeg = made[0]
            store.add_thumbnail(entry_id, policy, width, height, jpeg)
            counts["stored"] += 1
        else:
            if isinstance(made, WorkerFailure) or not made:
                counts["videos_failed"] += 1
                continue
            store.add_frame_thumbnails(entry_id, policy, [(f, t, w, h, j) for f, t, w, h, j in made])
            counts["videos"] += 1
            counts["video_frames"] += len(made)
    store.audit("thumbnails stored", policy=policy, **counts)
    return counts
