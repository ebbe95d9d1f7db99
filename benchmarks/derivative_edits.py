"""The edits of the derivative corpus (benchmarks/derivative_corpus.py), applied alike to known
originals and to distractors, each deterministic given its ``random.Random``.

Why each one: they are the ways a known picture travels on that defeat whole-picture hashes
(issue #13): crops that cut a watermark off, small turns, screenshots of a viewer (picture in
picture), collages, a channel's text and sticker stamped on, padding, and a chain of crop, shrink
and recompression. ``jpeg70``, ``resize50``, ``grey`` and ``mirror`` are edits PDQ already finds;
they are here to check a derivative search keeps finding them.

The sticker and the text are the SAME on every stamped picture (only their place changes), so a
derivative search that matched on the stamp alone would show up as a false positive on the
distractors stamped the same way (edit ``text_sticker`` of distractors, trap ``same_sticker``).
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFont, ImageOps

#: Takes the picture, a seeded generator and a picker of unrelated pictures (backgrounds).
Edit = Callable[[Image.Image, random.Random, Callable[[random.Random], Image.Image]], Image.Image]

TEXT_LINES = ("JOIN t.me/example_channel", "NEW EVERY DAY  -  EXAMPLE", "(c) 2026 example.invalid")
STICKER_COLOURS = ((255, 214, 0), (230, 30, 90), (20, 20, 20))


def jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def scaled(img: Image.Image, share: float) -> Image.Image:
    return img.resize((max(8, round(img.width * share)), max(8, round(img.height * share))), Image.LANCZOS)


def crop_centre(img: Image.Image, share: float) -> Image.Image:
    """Remove ``share`` of the width and of the height, half on each side."""
    dx, dy = round(img.width * share / 2), round(img.height * share / 2)
    return img.crop((dx, dy, img.width - dx, img.height - dy))


def crop_corner(img: Image.Image, rng: random.Random, share: float = 0.20) -> Image.Image:
    """Remove ``share`` of the width and height from two sides, keeping one (seeded) corner."""
    dx, dy = round(img.width * share), round(img.height * share)
    left, top = rng.choice(((0, 0), (dx, 0), (0, dy), (dx, dy)))
    return img.crop((left, top, left + img.width - dx, top + img.height - dy))


def turned(img: Image.Image, angle: float) -> Image.Image:
    """Turned ``angle`` degrees counter-clockwise, same size, corners black."""
    return img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=(0, 0, 0))


def cover(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scaled and centre-cropped to fill ``size`` exactly."""
    return ImageOps.fit(img, size, Image.LANCZOS)


def picture_in_picture(inset: Image.Image, background: Image.Image, rng: random.Random) -> Image.Image:
    """``inset`` at 40-60% of the width of a larger canvas made of ``background`` (a screenshot of
    a viewer, a picture shown in a video): the canvas keeps the background's aspect (at least as
    tall as the inset plus a margin) and the inset sits at a seeded place."""
    share = rng.uniform(0.40, 0.60)
    width = round(inset.width / share)
    height = max(round(width * background.height / background.width), round(inset.height * 1.15))
    canvas = cover(background, (width, height))
    x = rng.randrange(0, width - inset.width + 1)
    y = rng.randrange(0, height - inset.height + 1)
    canvas.paste(inset, (x, y))
    return canvas


def collage(
    img: Image.Image, rng: random.Random, pick: Callable[[random.Random], Image.Image]
) -> Image.Image:
    """``img`` as one (seeded) quadrant of a 2x2 collage of unrelated pictures, each cell the
    picture's size, with a 4-px white gutter."""
    cell = img.size
    gutter = 4
    out = Image.new("RGB", (2 * cell[0] + gutter, 2 * cell[1] + gutter), (255, 255, 255))
    where = rng.randrange(4)
    for k in range(4):
        tile = img if k == where else cover(pick(rng), cell)
        out.paste(tile, ((k % 2) * (cell[0] + gutter), (k // 2) * (cell[1] + gutter)))
    return out


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def sticker(side: int) -> Image.Image:
    """The one sticker: a yellow disc with a pink ring, a black star and a word (RGBA)."""
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    yellow, pink, black = STICKER_COLOURS
    draw.ellipse((0, 0, side - 1, side - 1), fill=(*pink, 255))
    ring = side // 10
    draw.ellipse((ring, ring, side - 1 - ring, side - 1 - ring), fill=(*yellow, 255))
    c, r = side / 2, side * 0.22
    star = [
        (
            c + (r if k % 2 == 0 else r / 2.3) * _cos(k),
            c - 0.08 * side + (r if k % 2 == 0 else r / 2.3) * _sin(k),
        )
        for k in range(10)
    ]
    draw.polygon(star, fill=(*black, 255))
    font = _font(max(8, side // 7))
    draw.text((c, side * 0.72), "EXAMPLE", font=font, fill=(*black, 255), anchor="mm")
    return layer


def _cos(k: int) -> float:
    return math.cos(math.pi / 2 + k * math.pi / 5)


def _sin(k: int) -> float:
    return math.sin(math.pi / 2 + k * math.pi / 5)


def stamped(img: Image.Image, rng: random.Random, area: float = 0.10) -> Image.Image:
    """Heavy text lines (white on a dark band, three lines) and the sticker covering ``area`` of
    the picture, at seeded places; the text band adds about as much again."""
    out = img.convert("RGBA")
    layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    size = max(10, img.height // 13)
    font = _font(size)
    top = rng.choice((round(img.height * 0.04), round(img.height * 0.62)))
    for k, line in enumerate(TEXT_LINES):
        y = top + k * round(size * 1.4)
        draw.rectangle((0, y - 2, img.width, y + size + 4), fill=(0, 0, 0, 110))
        draw.text(
            (round(img.width * 0.05), y),
            line,
            font=font,
            fill=(255, 255, 255, 235),
            stroke_width=max(1, size // 12),
            stroke_fill=(0, 0, 0, 255),
        )
    side = round((area * img.width * img.height) ** 0.5)
    x = rng.choice((round(img.width * 0.03), img.width - side - round(img.width * 0.03)))
    y = round(img.height * 0.22) if top > img.height / 2 else img.height - side - round(img.height * 0.04)
    layer.alpha_composite(sticker(side), (max(0, x), max(0, y)))
    return Image.alpha_composite(out, layer).convert("RGB")


def padded(img: Image.Image, rng: random.Random) -> Image.Image:
    """A white border all round adding 10-20% to each side."""
    share = rng.uniform(0.10, 0.20)
    dx, dy = round(img.width * share / 2), round(img.height * share / 2)
    out = Image.new("RGB", (img.width + 2 * dx, img.height + 2 * dy), (255, 255, 255))
    out.paste(img, (dx, dy))
    return out


#: name -> (edit, JPEG quality it is saved at). Names are folder names under ``edits/``.
EDITS: dict[str, tuple[Edit, int]] = {
    "crop10_centre": (lambda i, r, p: crop_centre(i, 0.10), 92),
    "crop20_corner": (lambda i, r, p: crop_corner(i, r), 92),
    "turn_p3": (lambda i, r, p: turned(i, 3), 92),
    "turn_m3": (lambda i, r, p: turned(i, -3), 92),
    "turn_p5": (lambda i, r, p: turned(i, 5), 92),
    "turn_m5": (lambda i, r, p: turned(i, -5), 92),
    "pip": (lambda i, r, p: picture_in_picture(i, p(r), r), 92),
    "collage_quadrant": (lambda i, r, p: collage(i, r, p), 92),
    "text_sticker": (lambda i, r, p: stamped(i, r), 92),
    "pad_white": (lambda i, r, p: padded(i, r), 92),
    "crop10_half_jpeg60": (lambda i, r, p: scaled(crop_centre(i, 0.10), 0.5), 60),
    # Edits PDQ already finds: a derivative search must not lose them.
    "jpeg70": (lambda i, r, p: i.copy(), 70),
    "resize50": (lambda i, r, p: scaled(i, 0.5), 92),
    "grey": (lambda i, r, p: i.convert("L").convert("RGB"), 92),
    "mirror": (lambda i, r, p: i.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 92),
}
#: The edits PDQ is known to find (the rest are what issue #13 is about).
PDQ_EDITS = ("jpeg70", "resize50", "grey", "mirror")
