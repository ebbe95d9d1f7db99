"""PDQ of turned pictures in numpy (triage.hashing.pdqnumpy) against pdqhash itself.

Each variant must be what ``pdqhash.compute`` gives the file turned back with Pillow (and then
squashed to 512 when larger, as the pipeline does), within float rounding (the C++ filters in
float32): at most 2 bits, on the shared corpus's photos and on generated drawings of many sizes.
Pictures without texture (PDQ quality 0) are left out: their bits are rounding noise in any
implementation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image, ImageDraw

from triage.hashing.pdqnumpy import downsample_taps, pdq_turned, turned_vectors
from triage.hashing.perceptual import pdq_hash, pdq_pixels
from triage.hashing.variants import pdq_dihedral
from triage.records import DIHEDRAL_NAMES, DecodePolicy

TESTDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata"
T = Image.Transpose
#: What turns the file back into the known picture, by the variant's name.
BACK = {
    "original": None, "rot90": T.ROTATE_270, "rot180": T.ROTATE_180, "rot270": T.ROTATE_90,
    "mirror": T.FLIP_LEFT_RIGHT, "flip": T.FLIP_TOP_BOTTOM,
    "transpose": T.TRANSPOSE, "transverse": T.TRANSVERSE,
}  # fmt: skip
#: Bits a numpy variant may differ from pdqhash of the turned pixels (float rounding).
TOLERANCE = 2


POLICY = DecodePolicy()


def reference(img: Image.Image, name: str) -> np.ndarray:
    turned = img if BACK[name] is None else img.transpose(BACK[name])
    return pdqhash.compute(pdq_pixels(turned, POLICY))[0].astype(bool)


def distances(img: Image.Image) -> dict[str, int]:
    """Bits between each numpy variant (all 8, original included) and pdqhash's hash of the
    turned-back file."""
    ours = turned_vectors(np.asarray(img), DIHEDRAL_NAMES, POLICY.pdq_squash)
    return {n: int((v != reference(img, n)).sum()) for n, v in zip(DIHEDRAL_NAMES, ours, strict=True)}


def corpus_pictures() -> list[Path]:
    media = TESTDATA / "media"
    bridge = TESTDATA / "pdq" / "bridge-mods"
    return sorted([*media.glob("*.jpg"), *media.glob("*.png"), *bridge.glob("*.jpg")])


@pytest.mark.parametrize("path", corpus_pictures(), ids=lambda p: p.name)
def test_corpus_variants_equal_pdqhash_of_turned_pixels(path):
    img = Image.open(path).convert("RGB")
    if pdqhash.compute(pdq_pixels(img, POLICY))[1] == 0:
        pytest.skip(f"{path.name} has no texture (PDQ quality 0): its bits are rounding noise")
    found = distances(img)
    assert max(found.values()) <= TOLERANCE, found


def test_corpus_is_present():
    if not corpus_pictures():
        pytest.skip("shared test corpus (../shared/testdata) not present")
    assert len(corpus_pictures()) >= 5


def drawing(width: int, height: int, seed: int) -> Image.Image:
    """A benign generated picture: a gradient, coloured shapes and a line of text."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, width)[None, :, None]
    y = np.linspace(0, 1, height)[:, None, None]
    base = rng.uniform(0, 255, 3) * x + rng.uniform(0, 255, 3) * y * (1 - x)
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x0, x1 = sorted(rng.integers(0, width, 2))
        y0, y1 = sorted(rng.integers(0, height, 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    draw.text((width // 10, height // 3), "triage 1234", fill=(0, 0, 0))
    return img


# Sides below 128 (one-pixel window), odd and even windows, long thin pictures, 512, and larger
# ones that the pipeline squashes to 512 (then small sides are stretched).
SIZES = [(5, 40), (37, 61), (64, 64), (100, 130), (129, 257), (300, 200), (383, 511), (512, 512),
         (640, 90), (777, 600), (1100, 513), (3, 900)]  # fmt: skip


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_generated_variants_equal_pdqhash_of_turned_pixels(size):
    found = distances(drawing(*size, seed=sum(size)))
    assert max(found.values()) <= TOLERANCE, found


def test_one_pixel_lines_larger_than_the_squash():
    """Where squashing the turned file is far from turning the squashed one (hatching of
    one-pixel lines aliases differently), the variants still follow the turned file."""
    width, height = 901, 677
    y, x = np.mgrid[0:height, 0:width]
    lines = ((x % 3 == 0) | (y % 5 == 0)) & (x < 0.7 * width) | ((x + y) % 4 == 0) & (y > height // 2)
    img = Image.fromarray(np.where(lines[..., None], (20, 40, 160), (250, 240, 200)).astype(np.uint8))
    found = distances(img)
    assert max(found.values()) <= TOLERANCE, found
    squashed_then_turned = Image.fromarray(pdq_pixels(img, POLICY)).transpose(T.FLIP_LEFT_RIGHT)
    plain = pdqhash.compute(np.ascontiguousarray(np.asarray(squashed_then_turned)))[0].astype(bool)
    assert (plain != reference(img, "mirror")).sum() > 10  # what the squash alone moves


def test_too_small_pictures_hash_to_zero_like_the_reference():
    tiny = np.ascontiguousarray(np.asarray(drawing(4, 50, seed=1)))
    vectors, quality = pdq_turned(tiny)
    assert quality == 0 and not any(v.any() for v in vectors)
    assert not pdqhash.compute(tiny)[0].any()


def box_filter(vector: np.ndarray, window: int) -> np.ndarray:
    """Meta's ``box1DFloat`` step by step (its four phases), to check the taps against."""
    half, n = (window + 2) // 2, len(vector)
    out, total, count, left, right = np.zeros(n), 0.0, 0, 0, 0
    for _ in range(half - 1):
        total, count, right = total + vector[right], count + 1, right + 1
    for o in range(window - half + 1):
        total, count, right = total + vector[right], count + 1, right + 1
        out[o] = total / count
    for o in range(window - half + 1, n - half + 1):
        total, left, right = total + vector[right] - vector[left], left + 1, right + 1
        out[o] = total / count
    for o in range(n - half + 1, n):
        total, count, left = total - vector[left], count - 1, left + 1
        out[o] = total / count
    return out


@pytest.mark.parametrize("n", [5, 63, 64, 127, 128, 129, 255, 256, 257, 385, 512, 777, 1025])
def test_taps_are_the_reference_filter_and_decimation(n):
    window = (n + 127) // 128
    box = np.stack([box_filter(e, window) for e in np.eye(n)], axis=1)
    expected = (box @ box)[((np.arange(64) + 0.5) * n / 64).astype(int)]
    index, weight = downsample_taps(n)
    dense = np.zeros((64, n))
    for i in range(64):
        np.add.at(dense[i], index[i], weight[i])
    np.testing.assert_allclose(dense, expected, atol=1e-12)


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    path = TESTDATA / "media" / "FreshFlower.jpg"
    if not path.exists():
        pytest.skip("shared test corpus (../shared/testdata) not present")
    img = Image.open(path).convert("RGB")
    img.thumbnail((640, 640))  # over the 512 squash, which is not symmetric either
    return img


def hex_distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def test_pdq_dihedral_keeps_pdqhash_original_and_finds_each_turned_copy_exactly(photo):
    policy = DecodePolicy()
    variants, quality = pdq_dihedral(photo, policy)
    plain, plain_quality = pdq_hash(photo, policy)
    assert [n for n, _ in variants] == list(DIHEDRAL_NAMES)
    assert variants[0][1] == str(plain) and quality == plain_quality  # the reference, bit for bit
    for name, how in BACK.items():
        # the file is the known picture shown as ``name``; undoing what BACK does makes it
        made = {T.ROTATE_90: T.ROTATE_270, T.ROTATE_270: T.ROTATE_90}.get(how, how)
        file = photo if made is None else photo.transpose(made)
        found = dict(pdq_dihedral(file, policy)[0])
        assert hex_distance(found[name], str(plain)) <= TOLERANCE, name
