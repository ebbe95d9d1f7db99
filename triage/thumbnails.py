"""Thumbnails of matched pictures, stored in the case so the HTML report can show them.

The reports read only the case store, so the thumbnails must be in it. After hashing, each
picture matched by an alert set is read again (:func:`triage.evidence.read_entry`) and shrunk to
:data:`SIZE` pixels on its longer side. Policy ``blurred`` (the default) turns it greyscale and
blurs it *before* storing, so the clear picture never reaches a report file (examiner wellness:
the report still shows it only behind a deliberate click); ``clear`` stores it as it is; ``none``
stores nothing. The policy is recorded in the case settings. A picture that cannot be read or
decoded again simply gets no thumbnail: it is counted in the audit log, never an error that
stops the scan (its hashes are already recorded).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageFilter, ImageOps

from triage.case.store import CaseStore
from triage.errors import TriageError, UsageError
from triage.evidence import read_entry
from triage.records import DecodePolicy, Entry

POLICIES: tuple[str, ...] = ("none", "blurred", "clear")
SIZE = 160
BLUR_RADIUS = 6
QUALITY = 70
_DEFAULT_DECODE = DecodePolicy()
MAX_THUMBNAILS = 5000  # a report page with more would not open; the rest are counted


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise UsageError(f"thumbnails must be one of {', '.join(POLICIES)}, not {policy!r}")
    return policy


def thumbnail(data: bytes, policy: str, decode: DecodePolicy = _DEFAULT_DECODE) -> tuple[int, int, bytes]:
    """``(width, height, JPEG bytes)`` of one picture under ``policy`` (``blurred`` or ``clear``)."""
    with Image.open(io.BytesIO(data)) as im:
        if im.width * im.height > decode.max_pixels:
            raise ValueError(f"{im.width}x{im.height} pixels is over the decode limit")
        im.draft("RGB", (SIZE * 2, SIZE * 2))
        im = ImageOps.exif_transpose(im)
        im.thumbnail((SIZE, SIZE))
        if policy == "blurred":
            im = ImageOps.grayscale(im).filter(ImageFilter.GaussianBlur(BLUR_RADIUS))
        else:
            im = im.convert("RGB")
        out = io.BytesIO()
        im.save(out, "JPEG", quality=QUALITY, optimize=True)
        return im.width, im.height, out.getvalue()


def _read(entry: Entry, limit: int) -> bytes:
    if entry.size > limit:
        raise ValueError(f"larger than {limit} bytes")
    return b"".join(read_entry(entry.ref))


def make_thumbnails(store: CaseStore, policy: str, decode: DecodePolicy = _DEFAULT_DECODE) -> dict[str, int]:
    """Store thumbnails of the matched pictures under ``policy``; returns counts for the audit."""
    check_policy(policy)
    store.set_setting("thumbnails", {"policy": policy, "size": SIZE, "blur_radius": BLUR_RADIUS})
    counts = {"stored": 0, "failed": 0, "skipped": 0}
    if policy == "none":
        return counts
    pictures: Sequence[tuple[int, Entry]] = store.matched_pictures()
    for n, (entry_id, entry) in enumerate(pictures):
        if n >= MAX_THUMBNAILS:
            counts["skipped"] += 1
            continue
        try:
            width, height, jpeg = thumbnail(_read(entry, decode.max_picture_bytes), policy, decode)
        except (TriageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
            counts["failed"] += 1
            continue
        store.add_thumbnail(entry_id, policy, width, height, jpeg)
        counts["stored"] += 1
    store.audit("thumbnails stored", policy=policy, **counts)
    return counts
