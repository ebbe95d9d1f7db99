"""Damaged and hostile inputs of issue #12, built on demand (nothing large is committed).

Each ``make_*`` function writes one case into a folder and returns its path; the tests in
tests/damaged/ call them at test time. Run ``python tests/data/damaged/make_damaged.py OUT`` to
write every case that needs no corpus into OUT, e.g. to repeat the trial by hand.
"""

from __future__ import annotations

import gzip
import io
import struct
import sys
from pathlib import Path

from PIL import Image, ImageDraw


def picture(seed: int, size: tuple[int, int] = (48, 32)) -> bytes:
    """A small generated JPEG (benign: coloured shapes)."""
    img = Image.new("RGB", size, (seed * 50 % 256, 90, 200))
    ImageDraw.Draw(img).ellipse([4 + seed, 4, size[0] - 18, size[1] - 4], fill=(255, seed * 40 % 256, 0))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def zero_block_gzip_content() -> bytes:
    """What the gzip holds: a 512-byte zero block (a blank disk sector) and then a picture."""
    return bytes(512) + picture(3)


def make_zero_block_gzip(out: Path) -> Path:
    """A gzip whose content begins with a 512-byte zero block: tarfile's ``r:*`` takes it for an
    empty TAR (its end-of-archive marker), so the content was never hashed."""
    path = out / "sector.bin.gz"
    with gzip.GzipFile(path, "wb", mtime=0) as f:  # the FNAME field names the content
        f.write(zero_block_gzip_content())
    return path


def make_pillow_warning_pictures(out: Path) -> Path:
    """A folder of pictures Pillow warns about while decoding (a JPEG with corrupt EXIF, a
    palette PNG with byte transparency): the warnings went to the terminal even with --quiet."""
    folder = out / "pillow-warnings"
    folder.mkdir()
    img = Image.new("RGB", (64, 64), (10, 200, 30))
    ImageDraw.Draw(img).rectangle([8, 8, 40, 50], fill=(200, 20, 90))
    # IFD0 says 5 entries but holds a broken one: "Corrupt EXIF data".
    img.save(
        folder / "corrupt-exif.jpg",
        "JPEG",
        exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12\x00\x03\xff\xff\xff\xff",
    )
    pal = Image.new("P", (64, 64), 3)
    pal.putpalette([i * 7 % 256 for i in range(768)])
    ImageDraw.Draw(pal).ellipse([10, 10, 50, 50], fill=9)
    pal.save(folder / "palette.png", "PNG", transparency=bytes([0, 255, 128, 0]))
    return folder


def make_giant_png(path: Path, side: int = 7800, seed: int = 1) -> Path:
    """A ``side`` x ``side`` RGB PNG (7800: 61 megapixels, about 0.8 MB on disk: stripes compress
    well) whose decoding and hashing take several hundred MB: for the memory bound."""
    import numpy as np

    pixels = np.empty((side, side, 3), np.uint8)
    ramp = (np.arange(side, dtype=np.uint32) * (7 + seed) // 13 % 256).astype(np.uint8)
    pixels[:, :, 0] = ramp[None, :]
    pixels[:, :, 1] = ramp[:, None]
    pixels[:, :, 2] = seed * 60 % 256
    Image.fromarray(pixels).save(path, "PNG", compress_level=1)
    return path


def ewf_chunk_spans(data: bytes) -> list[tuple[int, int]]:
    """``(offset, length)`` in the file of each chunk's stored data, from an EWF-E01 (EnCase 6,
    one segment) ``table`` section: 76-byte section descriptors, then a 24-byte table header
    (entry count, padding, base offset) and 32-bit entries whose top bit marks compression."""
    offset = 13  # the file header
    while offset < len(data):
        kind = data[offset : offset + 16].rstrip(b"\0")
        following = struct.unpack_from("<Q", data, offset + 16)[0]
        if kind == b"table":
            count = struct.unpack_from("<I", data, offset + 76)[0]
            base = struct.unpack_from("<Q", data, offset + 84)[0]
            entries = [e & 0x7FFFFFFF for e in struct.unpack_from(f"<{count}I", data, offset + 100)]
            ends = [*entries[1:], offset - base]  # the last chunk ends where the table begins
            return [(base + start, end - start) for start, end in zip(entries, ends, strict=True)]
        if following <= offset:
            break
        offset = following
    raise ValueError("no table section")


def make_corrupt_e01(out: Path, source: Path, chunk: int) -> Path:
    """``source`` (an E01) with 16 bytes in the middle of chunk ``chunk``'s stored data
    overwritten: libewf's checksum of that chunk fails and it reads the chunk as zeros."""
    data = bytearray(source.read_bytes())
    start, length = ewf_chunk_spans(bytes(data))[chunk]
    middle = start + length // 2
    data[middle : middle + 16] = bytes(b ^ 0x5A for b in data[middle : middle + 16])
    path = out / f"corrupt-chunk{chunk}.E01"
    path.write_bytes(bytes(data))
    return path


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path("damaged-cases")
    out.mkdir(parents=True, exist_ok=True)
    for make in (make_zero_block_gzip, make_pillow_warning_pictures):
        print(make(out))
    # Chunk 12 of the fixture disk holds ext2 file data only (photos/notes.txt, renamed.dat).
    print(make_corrupt_e01(out, Path(__file__).parents[1] / "mbr_fat_ext2.E01", 12))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
