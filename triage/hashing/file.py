"""Everything the pipeline computes from one file's bytes, in one read.

The worker hands :func:`hash_chunks` an iterator over the file's content. The same chunks feed
the three digests and, for pictures, an in-memory buffer that is decoded once at the end. A
problem with the *content* (corrupt picture, decompression bomb, out of memory while decoding)
becomes ``FileHashes.error``; a failure of the *reading* (the chunk iterator raising) propagates,
because only the caller knows which evidence and offset failed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from triage.hashing import admission
from triage.hashing.crypto import MultiDigest
from triage.hashing.decode import (
    DEFAULT_POLICY,
    ORIENTATION,
    ORIGINAL_SIZE,
    PictureDecodeError,
    decode_picture,
    decoded_pixels,
    one_line,
    quiet_pillow,
)
from triage.hashing.features import signature
from triage.hashing.perceptual import to_rgb
from triage.hashing.variants import picture_hashes
from triage.media.sniff import SNIFF_BYTES, sniff
from triage.records import DecodePolicy, FileHashes


def _read_head(chunks: Iterator[bytes]) -> list[bytes]:
    """Pull chunks until SNIFF_BYTES are available (or the stream ends)."""
    taken: list[bytes] = []
    size = 0
    while size < SNIFF_BYTES:
        chunk = next(chunks, None)
        if chunk is None:
            break
        taken.append(chunk)
        size += len(chunk)
    return taken


def _picture_hashes(data: bytes, policy: DecodePolicy) -> dict[str, object]:
    """Decode once and compute the size and the perceptual hashes the policy asks for (PDQ with
    its variants and letterbox crop, pHash ...); raises PictureDecodeError."""
    try:
        # A giant picture waits for the one giant-picture slot (memory bound, hashing/admission.py).
        with admission.picture_slot(decoded_pixels(data, policy)), quiet_pillow():
            return _hashes_of(data, policy)
    except admission.NotAdmitted as e:
        raise PictureDecodeError(f"not decoded: {e}") from e


def _hashes_of(data: bytes, policy: DecodePolicy) -> dict[str, object]:
    image = decode_picture(data, policy)
    width, height = image.info[ORIGINAL_SIZE]
    orientation = image.info.get(ORIENTATION)
    # Draft decoding shrinks JPEGs: crop boxes are stated in the file's own pixels.
    shown_width = height if _swapped(orientation, policy) else width
    scale = shown_width / image.size[0]
    try:
        rgb = to_rgb(image)
        fields = picture_hashes(rgb, policy, scale)
        if policy.derivatives:  # from the pixels already decoded: no second decode (docs/matching.md)
            found = signature(rgb, scale)
            fields["features"] = found.to_bytes() if found is not None else None
    except PictureDecodeError:
        raise
    except (ValueError, OSError) as e:  # odd pixel data that decoded but cannot be converted
        raise PictureDecodeError(one_line(e)) from e
    return {"width": width, "height": height, "orientation": orientation, **fields}


def _swapped(orientation: int | None, policy: DecodePolicy) -> bool:
    """True when applying the orientation turned the picture on its side (tags 5-8)."""
    return policy.exif_orientation and orientation is not None and orientation >= 5


def _video_hashes(path: str, policy: DecodePolicy) -> tuple[dict[str, object], str | None]:
    """vPDQ frames of the video at ``path`` (width and height too); a problem is the error."""
    from triage.hashing.video import hash_video_file  # OpenCV only for workers that meet a video

    try:
        found = hash_video_file(path, every_seconds=policy.video_every_seconds, policy=policy)
    except MemoryError:
        return {}, "video decode failed: MemoryError: out of memory while decoding"
    except Exception as e:  # VideoDecodeError, and anything OpenCV raises on hostile input
        return {}, f"video decode failed: {' '.join(str(e).split()) or type(e).__name__}"
    fields: dict[str, object] = {"frames": found.frames}
    if found.width and found.height:
        fields.update(width=found.width, height=found.height)
    return fields, (f"video: {found.note}" if found.note else None)


class _Sink:
    """Where one file's chunks go as they are read: the three digests always, a temporary
    file for a video OpenCV must read from a path, and an in-memory buffer for a picture up to
    ``max_picture_bytes`` (past it the buffer is dropped and the picture is noted too big)."""

    def __init__(self, keep: bool, spool_video: bool, max_picture_bytes: int) -> None:
        self.digest = MultiDigest()
        self.keep = keep
        self.too_big = False
        self.kept: list[bytes] = []
        self.kept_size = 0
        self.max_picture_bytes = max_picture_bytes
        self.spool: IO[bytes] | None = None
        self.spool_name = ""
        if spool_video:
            descriptor, self.spool_name = tempfile.mkstemp(prefix="triage-video-")
            self.spool = os.fdopen(descriptor, "wb")

    def feed(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        if self.spool is not None:
            self.spool.write(chunk)
        if self.keep:
            if self.kept_size + len(chunk) > self.max_picture_bytes:
                self.keep, self.too_big = False, True
                self.kept.clear()
            else:
                self.kept.append(chunk)
                self.kept_size += len(chunk)

    def close_spool(self) -> None:
        if self.spool is not None:
            self.spool.close()

    def remove_spool(self) -> None:
        if self.spool is not None:
            self.spool.close()
            Path(self.spool_name).unlink(missing_ok=True)

    def take_picture(self) -> bytes:
        data = b"".join(self.kept)
        self.kept.clear()
        return data


def _picture_fields(data: bytes, policy: DecodePolicy) -> tuple[dict[str, object], str | None]:
    """:func:`_picture_hashes`, with a content problem returned as the file's error."""
    try:
        return _picture_hashes(data, policy), None
    except PictureDecodeError as e:
        return {}, f"picture decode failed: {' '.join(str(e).split())}"
    except MemoryError:
        return {}, "picture decode failed: MemoryError: out of memory while decoding"


def hash_chunks(
    chunks: Iterable[bytes],
    *,
    media_only: bool = False,
    perceptual: bool = True,
    policy: DecodePolicy = DEFAULT_POLICY,
    video_path: str | None = None,
) -> FileHashes:
    """Digests, media type and (for pictures) perceptual hashes of the concatenated chunks.

    ``media_only``: when the first bytes are not a picture or video, stop reading at once and
    return only ``size_read`` (no digests), so non-media files cost one chunk.
    ``perceptual``: decode pictures for PDQ/pHash; a picture larger than
    ``policy.max_picture_bytes`` keeps its digests and gets an ``error`` saying it was not decoded.
    Videos (when ``perceptual`` and ``policy.video_every_seconds`` is not 0) get vPDQ
    ``frames``: OpenCV reads ``video_path`` when given (a folder file: the same bytes, no copy),
    else the chunks are spooled to a temporary file as they are digested, deleted afterwards.
    Never raises for bad content; exceptions from the chunk iterator propagate unchanged.
    """
    stream = iter(chunks)
    head_chunks = _read_head(stream)
    head_size = sum(len(c) for c in head_chunks)
    found = sniff(b"".join(head_chunks)[:SNIFF_BYTES])
    if media_only and found is None:
        return FileHashes(size_read=head_size)

    media_type, kind = found if found is not None else (None, None)
    video = perceptual and kind == "video" and policy.video_every_seconds != 0
    sink = _Sink(perceptual and kind == "picture", video and video_path is None, policy.max_picture_bytes)
    fields: dict[str, object] = {}
    error = None
    try:
        for chunk in head_chunks:
            sink.feed(chunk)
        del head_chunks
        for chunk in stream:
            sink.feed(chunk)
        sink.close_spool()
        digests = sink.digest.result()
        if video:
            fields, error = _video_hashes(video_path or sink.spool_name, policy)
    finally:
        sink.remove_spool()
    if sink.too_big:
        error = (
            f"picture not decoded: {digests.size} bytes exceeds max_picture_bytes "
            f"({policy.max_picture_bytes}); crypto hashes only"
        )
    elif sink.keep:
        fields, error = _picture_fields(sink.take_picture(), policy)
    return FileHashes(
        size_read=digests.size,
        md5=digests.md5,
        sha1=digests.sha1,
        sha256=digests.sha256,
        media_type=media_type,
        media_kind=kind,  # type: ignore[arg-type]
        error=error,
        **fields,  # type: ignore[arg-type]
    )
