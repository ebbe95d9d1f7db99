"""PDQ variants (dihedral, letterbox crop), EXIF orientation and the 64-bit hashes, on real photos."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from triage.hashing.file import hash_chunks
from triage.hashing.perceptual import PerceptualHash
from triage.hashing.variants import DIHEDRAL_NAMES, find_border
from triage.records import DecodePolicy

TESTDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata"
T = Image.Transpose
#: How a file is made from the known picture, by the transform name the match must report.
MAKE = {
    "original": None, "rot90": T.ROTATE_90, "rot180": T.ROTATE_180, "rot270": T.ROTATE_270,
    "mirror": T.FLIP_LEFT_RIGHT, "flip": T.FLIP_TOP_BOTTOM,
    "transpose": T.TRANSPOSE, "transverse": T.TRANSVERSE,
}  # fmt: skip


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    path = TESTDATA / "media" / "FreshFlower.jpg"
    if not path.exists():
        pytest.skip("shared test corpus (../shared/testdata) not present")
    img = Image.open(path).convert("RGB")
    img.thumbnail((640, 640))
    return img


def png(img: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", **kw)
    return buf.getvalue()


def distance(a: str, b: str) -> int:
    return PerceptualHash.from_hex("pdq", a) - PerceptualHash.from_hex("pdq", b)


def test_each_dihedral_variant_undoes_the_transform_it_is_named_after(photo):
    known = hash_chunks([png(photo)]).pdq
    assert set(MAKE) == set(DIHEDRAL_NAMES)
    for name, method in MAKE.items():
        file = photo if method is None else photo.transpose(method)
        variants = dict(hash_chunks([png(file)]).pdq_variants)
        assert list(variants) == list(DIHEDRAL_NAMES)
        nearest = min(variants, key=lambda v: distance(variants[v], known))
        assert nearest == name and distance(variants[name], known) <= 24, (
            name,
            distance(variants[name], known),
        )
        if method is not None:  # the plain hash of a turned copy is as far as an unrelated picture
            assert distance(variants["original"], known) > 60


def test_exif_orientation_is_applied_and_recorded(photo):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned 90 degrees counter-clockwise: display turns it back
    buf = io.BytesIO()
    photo.transpose(T.ROTATE_90).save(buf, "JPEG", quality=95, exif=exif.tobytes())
    upright = hash_chunks([png(photo)])
    shown = hash_chunks([buf.getvalue()])
    assert shown.orientation == 6 and upright.orientation is None
    assert distance(shown.pdq, upright.pdq) <= 8
    assert (shown.width, shown.height) == (photo.height, photo.width)  # as stored in the file
    stored = hash_chunks([buf.getvalue()], policy=DecodePolicy(exif_orientation=False))
    assert stored.orientation == 6 and distance(stored.pdq, upright.pdq) > 60


def test_letterbox_and_padding_are_found_and_removed(photo):
    w, h = photo.size
    box = Image.new("RGB", (w, h + 100), (0, 0, 0))
    box.paste(photo, (0, 50))
    assert find_border(box) == (0, 50, w, h + 50)
    framed = Image.new("RGB", (w + 60, h + 60), (255, 255, 255))
    framed.paste(photo, (30, 30))
    assert find_border(framed) == (30, 30, w + 30, h + 30)
    assert find_border(photo) is None  # a photo without borders is left alone
    assert find_border(Image.new("RGB", (200, 100), (9, 9, 9))) is None  # one colour all over
    result = hash_chunks([png(box)])
    assert result.crop_box == (0, 50, w, h + 50)
    assert distance(result.pdq_cropped, hash_chunks([png(photo)]).pdq) <= 10


def test_drawing_on_white_inside_black_bars_keeps_its_own_margins():
    drawing = Image.new("RGB", (300, 200), (255, 255, 255))
    drawing.paste((200, 30, 30), (100, 50, 200, 150))
    box = Image.new("RGB", (300, 260), (0, 0, 0))
    box.paste(drawing, (0, 30))
    assert find_border(box) == (0, 30, 300, 230)  # the bars only, not the white beside the shape


def test_selected_64_bit_hashes(photo):
    every = hash_chunks(
        [png(photo)], policy=DecodePolicy(algorithms=("pdq", "phash", "dhash", "ahash", "whash"))
    )
    assert all(len(getattr(every, a)) == 16 for a in ("phash", "dhash", "ahash", "whash"))
    only = hash_chunks([png(photo)], policy=DecodePolicy(algorithms=("dhash",)))
    assert only.dhash == every.dhash and only.pdq is None and only.phash is None and only.pdq_variants == ()
    plain = hash_chunks([png(photo)], policy=DecodePolicy(dihedral=False, letterbox=False))
    assert plain.pdq == every.pdq and plain.pdq_variants == ()


def line_drawing(seed: int = 79) -> Image.Image:
    """Thin black lines on white, 320x240: the kind of picture whose half-size copy aliases in
    PDQ (seed 79: plain hash 38 bits from the original's, found when enlarged again)."""
    import random

    from PIL import ImageDraw

    rng = random.Random(seed)
    img = Image.new("RGB", (320, 240), "white")
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        start = (rng.randrange(300), rng.randrange(220))
        draw.line([start, (rng.randrange(320), rng.randrange(240))], fill=(0, 0, 0), width=rng.choice([1, 2]))
    return img


def test_a_shrunken_copy_is_found_through_its_upscaled_hash(tmp_path):
    from triage.hashsets import open_match_index
    from triage.records import MatchPolicy

    original = line_drawing()
    known = hash_chunks([png(original)])
    small = hash_chunks([png(original.resize((160, 120), Image.Resampling.LANCZOS))])
    variants = dict(small.pdq_variants)
    assert list(variants) == [*DIHEDRAL_NAMES, "upscaled"]
    assert distance(small.pdq, known.pdq) > 31  # the plain hash misses...
    assert distance(variants["upscaled"], known.pdq) <= 20  # ...the enlarged one does not
    sets = tmp_path / "known.csv"
    sets.write_text(f"id,pdq\nK-1,{known.pdq}\n")
    matches = open_match_index([(sets, "alert")]).match(small, MatchPolicy())
    assert [(m.algorithm, m.transform) for m in matches] == [("pdq", "upscaled")]
    assert matches[0].distance == distance(variants["upscaled"], known.pdq)


def test_upscaled_hash_only_for_small_pictures_and_only_when_asked():
    original = line_drawing()
    assert "upscaled" in dict(hash_chunks([png(original)]).pdq_variants)  # 320 px: below 448
    big = original.resize((640, 480))
    assert "upscaled" not in dict(hash_chunks([png(big)]).pdq_variants)
    off = hash_chunks([png(original)], policy=DecodePolicy(upscale_below=0))
    assert list(dict(off.pdq_variants)) == list(DIHEDRAL_NAMES)
    flat = hash_chunks([png(original)], policy=DecodePolicy(dihedral=False))
    assert [name for name, _ in flat.pdq_variants] == ["original", "upscaled"]


def test_the_upscaled_hash_is_gated_by_its_own_quality(tmp_path):
    """A quarter-size copy whose own PDQ quality fell under 50 (48) while its enlarged copy's is
    56: the upscaled hash is still searched, and finds the original (found in review)."""
    import random

    from PIL import ImageDraw

    from triage.hashsets import open_match_index
    from triage.records import MatchPolicy

    rng = random.Random(269)
    original = Image.new("RGB", (600, 450), "white")
    draw = ImageDraw.Draw(original)
    for _ in range(rng.randrange(3, 8)):
        ends = [(rng.randrange(600), rng.randrange(450)), (rng.randrange(600), rng.randrange(450))]
        draw.line(ends, fill=(0, 0, 0), width=rng.choice([1, 2, 3]))
    known = hash_chunks([png(original)])
    small = hash_chunks([png(original.resize((150, 112), Image.Resampling.LANCZOS))])
    assert known.pdq_quality >= 50 and small.pdq_quality < 50 <= small.pdq_upscaled_quality
    sets = tmp_path / "known.csv"
    sets.write_text(f"id,pdq\nK-1,{known.pdq}\n")
    matches = open_match_index([(sets, "alert")]).match(small, MatchPolicy())
    assert [(m.algorithm, m.transform) for m in matches] == [("pdq", "upscaled")]
