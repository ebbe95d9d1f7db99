"""Perceptual hashes (PDQ and imagehash's pHash, dHash, aHash, wHash) as small value objects,
and the pixels they are computed from.

PDQ follows Meta's C++ reference hasher (``pdq-photo-hasher``) so our hashes can be compared
with hashes that others computed with it:

1. the picture is converted to 8-bit RGB the way python-threatexchange does (Pillow's
   ``convert("RGB")``, which also decides how 16-bit and alpha pictures look);
2. a picture wider or taller than ``policy.pdq_squash`` (512) is resampled to a 512x512 square by
   nearest-neighbour sampling at ``floor(i * size / 512)``, as CImg's ``resize`` does in the
   reference (Pillow's NEAREST samples pixel centres instead and lands 2-8 bits away);
3. ``pdqhash`` (the reference C++ code compiled for Python) hashes the luma.

With this, python-threatexchange's published hashes are reproduced exactly and the C++ reference
hashes of the corpus bit for bit except the 16-bit PNG (see docs/hashing.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import imagehash
import numpy as np
import pdqhash
from PIL import Image

from triage.errors import TriageError
from triage.hashing.decode import DEFAULT_POLICY, PictureDecodeError, one_line
from triage.records import DecodePolicy

#: Bits of each algorithm's hash; ``str()`` uses ``bits // 4`` hex digits.
BITS: dict[str, int] = {"pdq": 256, "phash": 64, "dhash": 64, "ahash": 64, "whash": 64}
_HEX = re.compile(r"[0-9a-f]+")


class HashValueError(TriageError, ValueError):
    """A perceptual hash text is malformed, or two hashes of different kinds were compared."""


@dataclass(frozen=True)
class PerceptualHash:
    """A perceptual hash: ``a - b`` is the Hamming distance, ``str()`` is fixed-width hex."""

    algorithm: str
    value: int
    bits: int

    def __post_init__(self) -> None:
        if self.bits <= 0 or self.bits % 4 or not 0 <= self.value < 1 << self.bits:
            raise HashValueError(f"{self.algorithm}: value does not fit in {self.bits} bits")

    def __sub__(self, other: PerceptualHash) -> int:
        if not isinstance(other, PerceptualHash):
            return NotImplemented
        if (self.algorithm, self.bits) != (other.algorithm, other.bits):
            raise HashValueError(
                f"cannot compare a {self.algorithm}/{self.bits} hash "
                f"with a {other.algorithm}/{other.bits} hash"
            )
        return (self.value ^ other.value).bit_count()

    def __str__(self) -> str:
        return format(self.value, f"0{self.bits // 4}x")

    @classmethod
    def from_hex(cls, algorithm: str, text: str) -> PerceptualHash:
        """Parse hex text (any case, surrounding blanks ignored). Known algorithms must have
        exactly their width; others take 4 bits per digit."""
        clean = text.strip().lower()
        bits = BITS.get(algorithm, 4 * len(clean))
        if not clean or len(clean) * 4 != bits or not _HEX.fullmatch(clean):
            raise HashValueError(f"not a {algorithm} hash ({bits // 4 or 'some'} hex digits): {text!r}")
        return cls(algorithm, int(clean, 16), bits)


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB, the input both hashers work on. Pillow's conversion is kept on purpose:
    python-threatexchange's published values depend on it (a 16-bit grey PNG is clipped, not
    scaled). Modes Pillow cannot convert directly go through RGBA."""
    if image.mode == "RGB":
        return image
    try:
        return image.convert("RGB")
    except ValueError:
        try:
            return image.convert("RGBA").convert("RGB")
        except ValueError as e:
            raise PictureDecodeError(f"unsupported picture mode {image.mode}: {one_line(e)}") from e


def pdq_pixels(rgb: Image.Image, policy: DecodePolicy) -> np.ndarray:
    """The HxWx3 uint8 array PDQ hashes: squashed to ``policy.pdq_squash`` square when larger,
    by nearest-neighbour sampling at ``floor(i * size / squash)`` as Meta's C++ (CImg) does."""
    pixels = np.asarray(rgb)
    height, width = pixels.shape[:2]
    side = policy.pdq_squash
    if side and (width > side or height > side):
        rows = np.arange(side) * height // side
        cols = np.arange(side) * width // side
        pixels = pixels.take(rows, axis=0).take(cols, axis=1)  # 4x faster than 2-D fancy indexing
    return np.ascontiguousarray(pixels, dtype=np.uint8)


def pdq_hash(rgb: Image.Image, policy: DecodePolicy = DEFAULT_POLICY) -> tuple[PerceptualHash, int]:
    """PDQ hash and quality (0-100) of an RGB picture."""
    vector, quality = pdqhash.compute(pdq_pixels(rgb, policy))
    value = int.from_bytes(np.packbits(vector.astype(np.uint8)).tobytes(), "big")
    return PerceptualHash("pdq", value, 256), int(quality)


def phash(image: Image.Image) -> PerceptualHash:
    """imagehash's 64-bit DCT hash (``imagehash.phash`` with its defaults)."""
    return PerceptualHash("phash", int(str(imagehash.phash(image)), 16), 64)


#: imagehash's 64-bit hashes by triage's name for them (each with imagehash's defaults).
IMAGEHASH_FUNCTIONS = {
    "phash": imagehash.phash,
    "dhash": imagehash.dhash,
    "ahash": imagehash.average_hash,
    "whash": imagehash.whash,
}


def image_hash(algorithm: str, image: Image.Image) -> PerceptualHash:
    """One of imagehash's 64-bit hashes (``phash``, ``dhash``, ``ahash``, ``whash``)."""
    return PerceptualHash(algorithm, int(str(IMAGEHASH_FUNCTIONS[algorithm](image)), 16), 64)
