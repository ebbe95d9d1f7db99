"""PerceptualHash as a value, pHash agreement with imagehash, golden values, picture modes."""

from __future__ import annotations

from pathlib import Path

import imagehash
import pytest
from PIL import Image

from triage.errors import TriageError
from triage.hashing.decode import decode_picture
from triage.hashing.perceptual import HashValueError, PerceptualHash, pdq_hash, phash, to_rgb
from triage.records import DecodePolicy

TESTDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata"


def corpus(*parts: str) -> Path:
    path = TESTDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared test corpus not available ({path})")
    return path


PDQ_HEX = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"


def test_round_trip_and_width():
    h = PerceptualHash.from_hex("pdq", PDQ_HEX)
    assert (h.algorithm, h.bits) == ("pdq", 256)
    assert str(h) == PDQ_HEX
    assert PerceptualHash.from_hex("pdq", str(h)) == h
    small = PerceptualHash("pdq", 1, 256)
    assert str(small) == "0" * 63 + "1"  # fixed width, leading zeros kept
    ph = PerceptualHash.from_hex("phash", "  00FF00ff00ff00ff\n")
    assert str(ph) == "00ff00ff00ff00ff" and ph.bits == 64


def test_distance_is_hamming():
    a = PerceptualHash.from_hex("pdq", PDQ_HEX)
    b = PerceptualHash("pdq", a.value ^ (1 | 1 << 100 | 1 << 255), 256)
    assert a - a == 0
    assert a - b == b - a == 3
    inverse = PerceptualHash("pdq", a.value ^ ((1 << 256) - 1), 256)
    assert a - inverse == 256


def test_distance_refuses_different_algorithms():
    pdq = PerceptualHash.from_hex("pdq", PDQ_HEX)
    ph = PerceptualHash.from_hex("phash", "8181c76e7e3899d3")
    with pytest.raises(HashValueError):
        _ = pdq - ph
    with pytest.raises(TypeError):
        _ = pdq - 5


@pytest.mark.parametrize("text", ["", "xyz", "12", PDQ_HEX + "0", PDQ_HEX[:-1], PDQ_HEX[:-1] + "g"])
def test_bad_hex_is_a_triage_error(text):
    with pytest.raises(HashValueError) as info:
        PerceptualHash.from_hex("pdq", text)
    assert isinstance(info.value, TriageError) and isinstance(info.value, ValueError)


def test_value_must_fit():
    with pytest.raises(HashValueError):
        PerceptualHash("phash", 1 << 64, 64)
    with pytest.raises(HashValueError):
        PerceptualHash("phash", -1, 64)


def test_is_frozen_and_hashable():
    h = PerceptualHash.from_hex("phash", "8181c76e7e3899d3")
    assert {h: 1}[PerceptualHash.from_hex("phash", "8181C76E7E3899D3")] == 1
    with pytest.raises(AttributeError):
        h.value = 0  # type: ignore[misc]


# Golden pHash values (imagehash 4.3 defaults), pinned so a change of library or decode shows.
# These pictures are too small for draft decoding, so they equal imagehash.phash(Image.open(p)).
GOLDEN_PHASH = {
    ("pdq", "bridge-mods", "aaa-orig.jpg"): "aca29c1c33dc23d7",
    ("media", "Kokkini_screenshot.png"): "cf793887846070bf",
    ("pdq", "threatexchange-tests", "rgb.jpeg"): "99e8f745f81b111a",
}


@pytest.mark.parametrize("parts, expected", list(GOLDEN_PHASH.items()), ids=lambda v: "/".join(v))
def test_golden_phash(parts, expected):
    path = corpus(*parts)
    ours = phash(to_rgb(decode_picture(path.read_bytes(), DecodePolicy())))
    assert str(ours) == expected
    assert str(ours) == str(imagehash.phash(Image.open(path)))


def test_modes_hash_like_the_original():
    """One picture saved in many PIL modes: every mode decodes, and the PDQ stays close."""
    folder = corpus("pdq", "misc-images", "modes")
    original, _ = pdq_hash(to_rgb(decode_picture((folder / "original.jpg").read_bytes())))
    distances = {}
    for path in sorted(folder.iterdir()):
        if path.suffix in (".md",) or path.name == "original.jpg":
            continue
        h, quality = pdq_hash(to_rgb(decode_picture(path.read_bytes())))
        distances[path.name] = h - original
        assert quality == 100, path.name
    assert len(distances) == 13
    # Measured: 0 bits for every mode except PA (2) and 1-bit dithered (12).
    limits = {"1.png": 16}
    for name, bits in distances.items():
        assert bits <= limits.get(name, 4), (name, bits)
