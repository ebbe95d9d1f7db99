"""Decode a picture from bytes in memory, under a :class:`~triage.records.DecodePolicy`.

Everything that changes the pixels handed to the perceptual hashers happens here or in
:func:`triage.hashing.perceptual.pdq_pixels`, and is driven by the policy that the case records,
so a hash can be reproduced later from the same bytes and the same policy.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

from triage.errors import TriageError
from triage.media.sniff import SNIFF_BYTES, sniff
from triage.records import DecodePolicy

#: The default policy (one shared frozen instance, so it can be an argument default).
DEFAULT_POLICY = DecodePolicy()
#: Key in ``Image.info`` holding the picture's size before draft decoding: ``(width, height)``.
ORIGINAL_SIZE = "triage.original_size"
#: Key in ``Image.info`` holding the EXIF orientation tag (1-8) when the picture has one.
ORIENTATION = "triage.orientation"
#: EXIF tag number of Orientation.
_ORIENTATION_TAG = 0x0112

#: Object reprs such as ``<_io.BytesIO object at 0x7f...>`` make messages differ run to run.
_OBJECT_REPR = re.compile(r"\s*<[^<>]* at 0x[0-9a-f]+>")
_HEIF_MIMES = frozenset({"image/heic", "image/heic-sequence", "image/heif", "image/heif-sequence"})
_heif_lock = threading.Lock()
_heif_registered = False


class PictureDecodeError(TriageError):
    """One picture could not be decoded; the caller records it as that file's error."""


def one_line(error: BaseException, limit: int = 300) -> str:
    """``Type: message`` on one line, shortened: safe for a report cell and a log line."""
    text = _OBJECT_REPR.sub("", " ".join(str(error).split())).strip() or "no details"
    text = f"{type(error).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _register_heif() -> None:
    """Register pillow-heif's opener once, and only when a HEIF picture shows up, so workers
    that never meet one do not pay for loading libheif."""
    global _heif_registered
    with _heif_lock:
        if not _heif_registered:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _heif_registered = True


def draft_size(width: int, height: int, min_side: int) -> tuple[int, int]:
    """The size to request from ``Image.draft`` so the shorter side stays >= ``min_side``.

    libjpeg can only scale by 1/2, 1/4 or 1/8, and Pillow picks the largest of those that keeps
    both sides at least the requested size, so asking for the picture scaled to ``min_side`` on
    its shorter side never goes below it.
    """
    short = min(width, height)
    if short <= min_side:
        return width, height
    return -(-width * min_side // short), -(-height * min_side // short)


def orientation_of(image: Image.Image) -> int | None:
    """The EXIF orientation tag (1-8), or None when there is none or it is not a valid value."""
    try:
        value = image.getexif().get(_ORIENTATION_TAG)
    except Exception:  # damaged EXIF: the picture still decodes, as stored
        return None
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def apply_orientation(image: Image.Image, policy: DecodePolicy) -> Image.Image:
    """The picture as a viewer displays it: turned and mirrored as its EXIF orientation says,
    when ``policy.exif_orientation`` (a camera's portrait shot is stored sideways; a copy saved
    by an editor is upright with no tag, and only the displayed pixels hash alike). With the
    flag off the stored pixels are hashed, as Meta's reference hasher and python-threatexchange
    do (the conformance corpus has no orientation tag, so both give the reference values).
    The tag is kept in ``image.info[ORIENTATION]`` either way."""
    orientation = orientation_of(image)
    if policy.exif_orientation and orientation is not None and orientation != 1:
        method = {
            2: Image.Transpose.FLIP_LEFT_RIGHT,
            3: Image.Transpose.ROTATE_180,
            4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE,
            6: Image.Transpose.ROTATE_270,
            7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90,
        }[orientation]
        image = image.transpose(method)
    image.info[ORIENTATION] = orientation
    return image


@contextmanager
def quiet_pillow() -> Iterator[None]:
    """Pillow's warnings about damaged content ("Corrupt EXIF data", palette transparency,
    decompression-bomb notes) are about evidence, not about the run: they would flood the
    terminal even with ``--quiet`` (#12). Whatever matters becomes the file's recorded error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def decoded_pixels(data: bytes, policy: DecodePolicy = DEFAULT_POLICY) -> int:
    """How many pixels :func:`decode_picture` would decode (JPEG draft scaling included), read
    from the header only; 0 when the header cannot be read (decoding will say why)."""
    try:
        with quiet_pillow(), Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if policy.draft_jpeg and image.format == "JPEG" and width * height <= policy.max_pixels:
                image.draft("RGB", draft_size(width, height, policy.draft_min_side))
            return int(image.size[0]) * int(image.size[1])
    except Exception:  # Pillow raises almost anything on a hostile header
        return 0


def decode_picture(data: bytes, policy: DecodePolicy = DEFAULT_POLICY) -> Image.Image:
    """Decode the first frame of the picture in ``data``.

    Large JPEGs are decoded at a reduced scale (Pillow draft mode) when ``policy.draft_jpeg``.
    The returned image is loaded, in whatever mode the file has (convert it yourself), and
    ``image.info[ORIGINAL_SIZE]`` holds the size stated by the file before any draft scaling.
    Pictures above ``policy.max_pixels`` are refused (decompression bombs). Raises
    :class:`PictureDecodeError` for anything wrong with the content.
    """
    found = sniff(data[:SNIFF_BYTES])
    if found is not None and found[0] in _HEIF_MIMES:
        _register_heif()
    # Pillow's own bomb guard reads this global; keep it in step with the policy so it does not
    # refuse (or allow) a different size than the one the case records.
    Image.MAX_IMAGE_PIXELS = policy.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # damaged metadata warnings would flood a scan's log
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width <= 0 or height <= 0:
                raise PictureDecodeError(f"bad dimensions {width}x{height}")
            if width * height > policy.max_pixels:
                raise PictureDecodeError(
                    f"decompression bomb: {width}x{height} pixels exceeds the limit of {policy.max_pixels}"
                )
            if policy.draft_jpeg and image.format == "JPEG":
                image.draft("RGB", draft_size(width, height, policy.draft_min_side))
            image.load()  # first frame only for animated GIF / WebP / APNG / multi-page TIFF
    except PictureDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        # Pillow states the limit as its error threshold (twice ours): report ours instead.
        stated = re.search(r"\((\d+) pixels\)", str(e))
        size = f"{stated.group(1)} pixels" if stated else "the picture"
        raise PictureDecodeError(
            f"decompression bomb: {size} exceeds the limit of {policy.max_pixels}"
        ) from e
    except Exception as e:  # Pillow and its plugins raise almost anything on hostile input
        raise PictureDecodeError(one_line(e)) from e
    with quiet_pillow():  # reading the EXIF orientation warns on damaged EXIF
        oriented = apply_orientation(image, policy)
    oriented.info[ORIGINAL_SIZE] = (width, height)
    return oriented
