"""The hashes of one decoded picture that survive edits: PDQ's 8 dihedral variants, the hash of the
picture with uniform borders (letterbox, padding) removed, and imagehash's 64-bit hashes.

Why variants on the *file* side: a known-hash set holds one PDQ per picture; a mirrored or
rotated copy on the evidence hashes far from it (about 128 bits, like an unrelated picture).
Hashing the file's 8 dihedral transforms and searching each one finds the copy whatever the set
holds, and says which transform it was.

``pdqhash.compute_dihedral`` (Meta's C++) derives the 8 from one DCT, as cheap as a single hash,
but its turned variants land up to ~20 bits from hashing the turned pixels, because PDQ's
downsampling (box-filter windows, decimation, the squash of large pictures) is not symmetric; on
flat drawings that cost recall (mirror 0.952, rotate 90 0.948 in benchmarks/robustness.py).
Hashing the 7 turned copies with ``pdqhash.compute`` is exact but costs 7 more passes (+35 ms a
picture). :mod:`triage.hashing.pdqnumpy` gets the same 7 hashes from the file's own pixels, as
that downsampling is a fixed linear map per side length which turning only reverses or
transposes (the bits of hashing the turned-back file, in ~2 ms). The ``original`` and the
quality still come from ``pdqhash.compute``, so the plain hash stays Meta's bit for bit.

Names say how the *file* shows the *known* picture ("the file is the known picture turned
90 degrees counter-clockwise": ``rot90``, Pillow's ``Transpose.ROTATE_90``): variant ``rot90`` is
the hash of the file turned back 90 degrees clockwise. Their order is ``compute_dihedral``'s
(:data:`DIHEDRAL_NAMES`), where pdqhash's 90 and 270 swap because it names the transform applied
to the file (checked on real pictures in tests/hashing/test_variants.py and test_pdq_turned.py).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from triage.hashing.pdqnumpy import pdq_turned
from triage.hashing.perceptual import image_hash, pdq_hash
from triage.records import CROPPED, DIHEDRAL_NAMES, TRANSFORMS, UPSCALED, DecodePolicy

__all__ = [
    "CROPPED", "DIHEDRAL_NAMES", "TRANSFORMS", "UPSCALED", "find_border", "pdq_dihedral", "pdq_upscaled",
    "picture_hashes",
]  # fmt: skip

#: Luma levels a border pixel may differ from its side's colour (JPEG rings near edges).
BORDER_TOLERANCE = 16
#: Share of a row/column's pixels that must be within the tolerance for it to count as border.
BORDER_SHARE = 0.98
#: A side's border counts from this share of the picture's side (and at least 2 pixels).
BORDER_MIN_SHARE = 0.01
#: What must be left after removing borders (share of each side): else the picture is mostly flat.
BORDER_KEEP_SHARE = 0.3


def _hex(vector: np.ndarray) -> str:
    return np.packbits(vector.astype(np.uint8)).tobytes().hex()


def pdq_dihedral(rgb: Image.Image, policy: DecodePolicy) -> tuple[tuple[tuple[str, str], ...], int]:
    """The 8 dihedral PDQ variants as ``(transform name, hex)`` in :data:`DIHEDRAL_NAMES` order,
    and the quality (the same for all 8). The ``original`` one equals :func:`pdq_hash`; each
    other one what :func:`pdq_hash` gives the file turned back (see the module docstring)."""
    vectors, quality = pdq_turned(np.asarray(rgb), policy.pdq_squash)
    return tuple((name, _hex(v)) for name, v in zip(DIHEDRAL_NAMES, vectors, strict=True)), int(quality)


def pdq_upscaled(rgb: Image.Image, policy: DecodePolicy) -> tuple[str, int] | None:
    """PDQ and quality of a picture smaller than ``policy.upscale_below`` enlarged (Lanczos,
    aspect kept) so its longer side is that size; None for larger pictures or when switched off.
    The quality is the enlarged picture's own: the search gates this hash by it, since a shrunken
    copy's quality can fall under the gate while the enlarged copy's does not.

    Why: PDQ's box filter is ``ceil(side / 128)`` pixels wide, so below 256 px it hardly smooths
    and decimation to 64x64 aliases; a copy shrunk to half hashes 32-64 bits from the set's
    hash of the original on sharp drawings. Enlarged again, it hashes as the original did.
    Measured (benchmarks/robustness.py, 600 originals): resize 50% 0.957 -> 0.987, 25%
    0.902 -> 0.983, no false positive over 179,700 pairs of distinct originals, ~3.4 ms for a
    small picture at 448 (512 gives the same recall at twice the cost: pdqhash is slow at exactly
    512). One plain hash: its turned variants found nothing more."""
    limit = policy.upscale_below
    width, height = rgb.size
    if not limit or max(width, height) >= limit or min(width, height) < 1:
        return None
    scale = limit / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    pdq, quality = pdq_hash(rgb.resize(size, Image.Resampling.LANCZOS), policy)
    return str(pdq), int(quality)


def _border_run(lines: np.ndarray) -> tuple[int, float]:
    """How many lines from the start are uniform in the colour of the first line, and that
    colour (luma). Lines are tested a block at a time and the scan stops at the first line that
    is not border, so a picture without bars costs one block, not a pass over every pixel."""
    reference = float(np.median(lines[0]))
    for start in range(0, len(lines), _BLOCK):
        block = lines[start : start + _BLOCK].astype(np.int16)
        uniform = (np.abs(block - reference) <= BORDER_TOLERANCE).mean(axis=1) >= BORDER_SHARE
        if not uniform.all():
            return start + int(np.argmin(uniform)), reference
    return len(lines), reference


_BLOCK = 32


def find_border(image: Image.Image) -> tuple[int, int, int, int] | None:
    """The box ``(left, top, right, bottom)`` inside uniform borders (letterbox bars, padding,
    a frame of one colour), or None when there is no border worth removing or almost nothing
    would be left.

    Bars above and below are found first, across the whole width; then bars at the sides, over
    the rows left. Only borders of the *outer* colour are removed: a drawing on white given black
    letterbox bars loses the bars, not its own white margins beside them (which would make the
    crop differ from the drawing as a set knows it)."""
    luma = np.asarray(image.convert("L"))
    height, width = luma.shape
    top, top_colour = _border_run(luma)
    bottom, bottom_colour = _border_run(luma[::-1])
    if top + bottom >= height:
        return None  # one colour all over
    top = top if top >= max(2, BORDER_MIN_SHARE * height) else 0
    bottom = bottom if bottom >= max(2, BORDER_MIN_SHARE * height) else 0
    outer = [c for run, c in ((top, top_colour), (bottom, bottom_colour)) if run]
    rows = luma[top : height - bottom]
    sides = []
    for run, colour in (_border_run(rows.T), _border_run(rows.T[::-1])):
        keep = run >= max(2, BORDER_MIN_SHARE * width)
        if keep and outer and all(abs(colour - c) > BORDER_TOLERANCE for c in outer):
            keep = False  # the picture's own margin inside bars of another colour
        sides.append(run if keep else 0)
    left, right = sides
    if not (left or top or right or bottom):
        return None
    kept_width, kept_height = width - left - right, height - top - bottom
    if kept_width < BORDER_KEEP_SHARE * width or kept_height < BORDER_KEEP_SHARE * height:
        return None
    if min(kept_width, kept_height) < 16:
        return None
    return left, top, width - right, height - bottom


def picture_hashes(rgb: Image.Image, policy: DecodePolicy, scale: float = 1.0) -> dict[str, object]:
    """Every perceptual field of :class:`~triage.records.FileHashes` for one RGB picture, as
    ``policy.algorithms`` and the policy's switches ask: ``pdq``/``pdq_quality``,
    ``pdq_variants``, ``pdq_cropped``/``pdq_cropped_quality``/``crop_box`` and the 64-bit hashes.
    ``scale`` maps decoded pixels to the file's own (draft decoding shrinks JPEGs), so the crop
    box is stated in the picture's real coordinates."""
    fields: dict[str, object] = {}
    wanted = policy.algorithms
    if "pdq" in wanted:
        if policy.dihedral:
            variants, quality = pdq_dihedral(rgb, policy)
            fields["pdq"] = variants[0][1]
        else:
            pdq, quality = pdq_hash(rgb, policy)
            fields["pdq"] = str(pdq)
            variants = ()
        upscaled = pdq_upscaled(rgb, policy)
        if upscaled is not None:
            variants = (*(variants or (("original", fields["pdq"]),)), (UPSCALED, upscaled[0]))
            fields["pdq_upscaled_quality"] = upscaled[1]
        if variants:
            fields["pdq_variants"] = variants
        fields["pdq_quality"] = quality
        box = find_border(rgb) if policy.letterbox else None
        if box is not None:
            cropped, cropped_quality = pdq_hash(rgb.crop(box), policy)
            fields["pdq_cropped"] = str(cropped)
            fields["pdq_cropped_quality"] = cropped_quality
            fields["crop_box"] = tuple(round(v * scale) for v in box)
    for algorithm in ("phash", "dhash", "ahash", "whash"):
        if algorithm in wanted:
            fields[algorithm] = str(image_hash(algorithm, rgb))
    return fields
