#!/usr/bin/env python3
"""Build hostile but benign pictures for robustness tests (deterministic; run from anywhere).

``exif_crash.jpg``: a generated 64x48 picture whose EXIF block is damaged so that Pillow's EXIF
handling (``ImageOps.exif_transpose``) raises something other than OSError — found by flipping
bytes in the EXIF segment with a fixed seed until it does.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageOps

HERE = Path(__file__).resolve().parent


def exif_crash() -> bytes:
    img = Image.linear_gradient("L").resize((64, 48)).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation
    exif[0x010F] = "triage test"
    exif[0x8769] = {0x9003: "2026:11:22 00:00:00"}
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    base = buf.getvalue()
    start = base.index(b"Exif\0\0")
    rng = random.Random(20261122)
    for _ in range(20000):
        data = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            data[start + rng.randrange(6, 80)] = rng.randrange(256)
        try:
            with Image.open(io.BytesIO(bytes(data))) as im:
                ImageOps.exif_transpose(im)
        except OSError:
            continue
        except Exception:
            return bytes(data)
    raise SystemExit("no crashing variant found")


if __name__ == "__main__":
    (HERE / "exif_crash.jpg").write_bytes(exif_crash())
    print(HERE / "exif_crash.jpg")
