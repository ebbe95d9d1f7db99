"""Everything the pipeline computes from one file's bytes, in one read.

The worker hands :func:`hash_chunks` an iterator over the file's content. The same chunks feed
the three digests and, for pictures, an in-memory buffer that is decoded once at the end. A
problem with the *content* (corrupt picture, decompression bomb, out of memory while decoding)
becomes ``FileHashes.error``; a failure of the *reading* (the chunk iterator raising) propagates,
because only the caller knows which evidence and offset failed.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator

from triage.hashing.crypto import MultiDigest
from triage.hashing.decode import DEFAULT_POLICY, ORIGINAL_SIZE, PictureDecodeError, decode_picture, one_line
from triage.hashing.perceptual import pdq_hash, phash, to_rgb
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
    """Decode once and compute the size, PDQ and pHash; raises PictureDecodeError."""
    image = decode_picture(data, policy)
    width, height = image.info[ORIGINAL_SIZE]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. palette transparency notes: noise in a scan log
            rgb = to_rgb(image)
        pdq, quality = pdq_hash(rgb, policy)
        ph = phash(rgb)
    except PictureDecodeError:
        raise
    except (ValueError, OSError) as e:  # odd pixel data that decoded but cannot be converted
        raise PictureDecodeError(one_line(e)) from e
    return {"width": width, "height": height, "pdq": str(pdq), "pdq_quality": quality, "phash": str(ph)}


def hash_chunks(
    chunks: Iterable[bytes],
    *,
    media_only: bool = False,
    perceptual: bool = True,
    policy: DecodePolicy = DEFAULT_POLICY,
) -> FileHashes:
    """Digests, media type and (for pictures) perceptual hashes of the concatenated chunks.

    ``media_only``: when the first bytes are not a picture or video, stop reading at once and
    return only ``size_read`` (no digests), so non-media files cost one chunk.
    ``perceptual``: decode pictures for PDQ/pHash; a picture larger than
    ``policy.max_picture_bytes`` keeps its digests and gets an ``error`` saying it was not decoded.
    Never raises for bad content; exceptions from the chunk iterator propagate unchanged.
    """
    stream = iter(chunks)
    head_chunks = _read_head(stream)
    head_size = sum(len(c) for c in head_chunks)
    found = sniff(b"".join(head_chunks)[:SNIFF_BYTES])
    if media_only and found is None:
        return FileHashes(size_read=head_size)

    media_type, kind = found if found is not None else (None, None)
    keep = perceptual and kind == "picture"
    kept: list[bytes] = []
    kept_size = 0
    too_big = False
    digest = MultiDigest()

    def feed(chunk: bytes) -> None:
        nonlocal keep, kept_size, too_big
        digest.update(chunk)
        if keep:
            if kept_size + len(chunk) > policy.max_picture_bytes:
                keep, too_big = False, True
                kept.clear()
            else:
                kept.append(chunk)
                kept_size += len(chunk)

    for chunk in head_chunks:
        feed(chunk)
    del head_chunks
    for chunk in stream:
        feed(chunk)

    digests = digest.result()
    fields: dict[str, object] = {}
    error = None
    if too_big:
        error = (
            f"picture not decoded: {digests.size} bytes exceeds max_picture_bytes "
            f"({policy.max_picture_bytes}); crypto hashes only"
        )
    elif keep:
        data = b"".join(kept)
        kept.clear()
        try:
            fields = _picture_hashes(data, policy)
        except PictureDecodeError as e:
            error = f"picture decode failed: {' '.join(str(e).split())}"
        except MemoryError:
            error = "picture decode failed: MemoryError: out of memory while decoding"
        del data
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
