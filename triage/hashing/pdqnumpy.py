"""PDQ of a picture's 8 dihedral turns, each as if the turned pixels had been hashed.

Why not ``pdqhash.compute_dihedral``: Meta's C++ derives the 7 turned hashes from the one
64x64 buffer of the file by permuting and negating DCT coefficients. That is exact only if the
downsampling commutes with turning, and it does not: the Jarosz box filter of an even window
reaches one pixel further right than left, and decimation samples ``int((i + 0.5) * n / 64)``,
which is not symmetric either. A mirrored or rotated copy then hashes up to ~20 bits from the
variant, enough to miss flat drawings. Hashing each turned copy with ``pdqhash.compute`` is
exact but costs 7 more full passes over the pixels.

Here the downsampling is written as what it is, a linear and separable map that depends only on
a side's length ``n``: a 64 x n matrix ``A_n`` (the rows of two box-filter passes that
decimation keeps), so the 64x64 buffer of luma ``L`` (H x W) is ``A_H L A_W^T``. Turning ``L``
only reverses the columns of these matrices or transposes the result:

* upside down ``L[::-1]`` -> ``A_H[:, ::-1] L A_W^T``; left-right ``L[:, ::-1]`` ->
  ``A_H L A_W[:, ::-1]^T``;
* a transposed picture's buffer is the transpose of the buffer (lengths and matrices swap).

Pictures larger than 512 are first squashed to 512x512 by nearest-neighbour sampling at
``floor(i * n / 512)`` (triage.hashing.perceptual), which is not symmetric either: on drawings
with one-pixel lines the squashed-then-turned picture hashes tens of bits from the
turned-then-squashed one. The squash is a selection matrix ``S_n``, so it folds into
``A_512 S_n`` and the variants are taken from the unsquashed pixels.

Each row of ``A_n`` is a tent of ``2w - 1`` taps (``w`` the box window), so the products are
taken as weighted sums of gathered rows, not as BLAS matrix products: as fast, and free of
OpenBLAS threads, which spin against each other when several scan workers share the cores
(measured: 2 ms single-threaded, over 100 ms median with 2 threads on a busy 2-core machine).
The result equals ``pdqhash.compute`` of each turned-back (then squashed) copy up to float
rounding (the C++ sums in float32), in about half the time of one ``pdqhash.compute``. Rounding
decides bits only where DCT coefficients tie at the median: sides of 8 or 16 pixels, which
divide 64 evenly, give exact ties (up to 40 bits apart on an 8x8 picture of noise, found in
review); from 32 px up the textured test pictures agree bit for bit.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pdqhash

from triage.records import DIHEDRAL_NAMES

__all__ = ["downsample_taps", "pdq_turned", "turned_buffers", "turned_vectors"]

#: Side of PDQ's downsampled buffer.
BUFFER_SIDE = 64
#: Pictures thinner than this hash to all zeros with quality 0 in the reference.
MIN_HASHABLE_DIM = 5
#: Luma weights of the reference (and of pdqhash's Python binding).
LUMA = (0.299, 0.587, 0.114)


@lru_cache(maxsize=256)
def downsample_taps(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``A_n`` as taps: ``(index, weight)``, both 64 x (2w - 1), with row ``i`` of ``A_n``
    equal to ``weight[i]`` at columns ``index[i]`` (zero weight where the tent leaves the side).

    Meta's ``box1DFloat`` makes output ``o`` the mean of ``in[o - (w - h) .. o + h - 1]``
    clipped to the side, window ``w = ceil(n / 128)``, ``h = (w + 2) // 2``; it runs twice
    (``PDQ_NUM_JAROSZ_XY_PASSES``), and ``decimateFloat`` keeps rows ``int((i + 0.5) * n / 64)``.
    So kept row ``r`` is ``sum over m in box(r) of box_row(m) / count(r)``."""
    window = (n + 2 * BUFFER_SIDE - 1) // (2 * BUFFER_SIDE)
    half = (window + 2) // 2
    left, right = window - half, half - 1  # a box reaches this far each side

    def count(o: np.ndarray) -> np.ndarray:
        return np.minimum(o + right, n - 1) - np.maximum(o - left, 0) + 1

    kept = ((np.arange(BUFFER_SIDE) + 0.5) * n / BUFFER_SIDE).astype(np.int64)
    first = kept[:, None, None] - left + np.arange(window)[None, :, None]  # m in box(r)
    taps = kept[:, None, None] - 2 * left + np.arange(2 * window - 1)[None, None, :]  # p
    inside = (first >= 0) & (first < n) & (taps >= first - left) & (taps <= first + right)
    inside &= (taps >= 0) & (taps < n)
    share = np.where(inside, 1.0 / count(first), 0.0).sum(axis=1) / count(kept)[:, None]
    index = np.clip(taps[:, 0, :], 0, n - 1)
    for array in (index, share):
        array.setflags(write=False)
    return index, share


def _rows(lum: np.ndarray, taps: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``A @ lum`` (64 x W) from A's taps: one gather and weighted sum per tap."""
    index, weight = taps
    out = weight[:, 0, None] * lum[index[:, 0]]
    for k in range(1, index.shape[1]):
        out += weight[:, k, None] * lum[index[:, k]]
    return out


@lru_cache(maxsize=1)
def _dct() -> np.ndarray:
    """The 16 x 64 DCT-II rows 1..16 that PDQ keeps (Meta's ``dct_matrix_64``)."""
    i = np.arange(1, 17)[:, None]
    j = np.arange(BUFFER_SIDE)[None, :]
    return np.sqrt(2.0 / BUFFER_SIDE) * np.cos(np.pi / (2 * BUFFER_SIDE) * i * (2 * j + 1))


def _bits(buffer: np.ndarray) -> np.ndarray:
    """The 256 hash bits of one 64x64 buffer in pdqhash's vector order: DCT coefficient
    ``(i, j)`` is bit ``i * 16 + j`` of the reference's hash and pdqhash lists bits from 255
    down to 0. A bit is set when its coefficient exceeds the median (the lower of the middle
    two, as the reference's Torben selection returns)."""
    dct = _dct()
    coefficients = (dct @ buffer @ dct.T).ravel()
    median = np.partition(coefficients, 127)[127]
    return (coefficients > median)[::-1]


def turned_buffers(
    lum: np.ndarray, rows: tuple[np.ndarray, np.ndarray], cols: tuple[np.ndarray, np.ndarray]
) -> dict[str, np.ndarray]:
    """The 64x64 PDQ buffer of each dihedral turn of luma ``lum``, given the taps of the rows
    and of the columns as ``(index into lum, weight)`` for the upright and the reversed side,
    keyed by the name of what the *file* shows relative to the picture the buffer is of (see
    triage.hashing.variants): ``rot90`` is the buffer of the file turned back 90 degrees
    clockwise, that is of the known picture when the file is it turned 90 degrees
    counter-clockwise."""
    upright = _rows(lum, rows[0])  # A_H L
    upside_down = _rows(lum, rows[1])  # A_H[:, ::-1] L: the file upside down
    original = _rows(upright.T, cols[0]).T
    mirror = _rows(upright.T, cols[1]).T
    flip = _rows(upside_down.T, cols[0]).T
    rot180 = _rows(upside_down.T, cols[1]).T
    return {
        "original": original,
        "rot270": mirror.T,  # turned back counter-clockwise: mirrored, then transposed
        "rot180": rot180,
        "rot90": flip.T,  # turned back clockwise: upside down, then transposed
        "flip": flip,
        "mirror": mirror,
        "transpose": original.T,
        "transverse": rot180.T,
    }


def _luma(rgb_uint8: np.ndarray) -> np.ndarray:
    """Luma as pdqhash's binding makes it (float64 products rounded to float32)."""
    red, green, blue = (rgb_uint8[..., c] for c in range(3))
    lum = red * LUMA[0] + green * LUMA[1] + blue * LUMA[2]
    return lum.astype(np.float32).astype(np.float64)


def _squash_index(n: int, squash: int) -> np.ndarray:
    """Which of ``n`` pixels the squash to ``squash`` keeps: ``floor(i * n / squash)``, CImg's
    nearest-neighbour resize (as :func:`triage.hashing.perceptual.pdq_pixels`)."""
    return np.arange(squash) * n // squash


def _side(n: int, squash: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The taps of one side of ``n`` pixels, upright and reversed, as indices into the side and
    weights. A squash is a selection, so it folds into the indices: squashing the turned
    picture is squashing with reversed indices, which is *not* the squashed picture turned
    (``floor(i * n / 512)`` is not symmetric), and only this matches hashing the turned file."""
    if squash:
        index, weight = downsample_taps(squash)
        index = _squash_index(n, squash)[index]
    else:
        index, weight = downsample_taps(n)
    return index, n - 1 - index, weight


def turned_vectors(
    rgb_uint8: np.ndarray, names: tuple[str, ...] = DIHEDRAL_NAMES, squash: int = 0
) -> list[np.ndarray]:
    """PDQ bit vectors (256 bools, pdqhash's order), all computed here, of the variants
    ``names`` of an H x W x 3 uint8 picture: each equals, up to float rounding, what
    ``pdqhash.compute`` gives the file turned back by the transform named and then squashed
    to ``squash`` square when a side exceeds it (0: never). Only the pixels the filters read
    are converted to luma (at most 4 x 64 x 7 rows and columns of a large picture). Pictures
    under 5 pixels a side get all-zero hashes, as in the reference."""
    height, width = rgb_uint8.shape[:2]
    squash = squash if squash and max(height, width) > squash else 0
    if min(height, width) < MIN_HASHABLE_DIM and not squash:
        return [np.zeros(256, dtype=bool) for _ in names]
    sides = _side(height, squash), _side(width, squash)
    needed = [np.unique(np.concatenate([up.ravel(), down.ravel()])) for up, down, _ in sides]
    lum = _luma(rgb_uint8.take(needed[0], axis=0).take(needed[1], axis=1))
    taps = [
        tuple((np.searchsorted(kept, index), weight) for index in (up, down))
        for kept, (up, down, weight) in zip(needed, sides, strict=True)
    ]
    buffers = turned_buffers(lum, taps[0], taps[1])  # type: ignore[arg-type]
    return [_bits(buffers[name]) for name in names]


def pdq_turned(rgb_uint8: np.ndarray, squash: int = 0) -> tuple[list[np.ndarray], int]:
    """The 8 dihedral PDQ vectors (256 bools) in :data:`DIHEDRAL_NAMES` order and the quality,
    of an H x W x 3 uint8 picture squashed as in :func:`turned_vectors`. ``original`` and the
    quality come from ``pdqhash.compute`` of the squashed pixels, so the plain hash stays the
    reference's bit for bit; the 7 turned ones from :func:`turned_vectors`."""
    pixels = np.asarray(rgb_uint8, dtype=np.uint8)
    height, width = pixels.shape[:2]
    if squash and max(height, width) > squash:
        rows, cols = _squash_index(height, squash), _squash_index(width, squash)
        pixels = pixels.take(rows, axis=0).take(cols, axis=1)
    original, quality = pdqhash.compute(np.ascontiguousarray(pixels))
    turned = turned_vectors(rgb_uint8, DIHEDRAL_NAMES[1:], squash)
    return [original.astype(bool), *turned], int(quality)
