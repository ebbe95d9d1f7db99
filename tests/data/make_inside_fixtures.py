"""Build the fixtures for files inside files (issue 3): run from the repository root.

    python tests/data/make_inside_fixtures.py

Writes into tests/data/inside/ (all generated, benign: gradients and shapes):

* ``folder/`` - an evidence folder with
  ``nested.zip`` (zip > tar.gz > zip > pictures: nested twice below the top archive),
  ``single.jpg.gz`` (one gzip'd picture), ``pics.7z`` and ``locked.7z`` (password ``x``),
  ``thumb.jpg`` (a JPEG whose EXIF thumbnail shows another picture than the main one),
  ``bomb.zip`` (100 MB of zeros, deflated: ratio limit) and ``deep.zip`` (7 zips deep).
* ``carve_fat.dd`` - a FAT12 image whose deleted picture's directory entry is wiped
  (only carving finds it) plus one allocated picture.
* ``ads_ntfs.dd`` - an NTFS image with a picture in an alternate data stream
  (``cover.txt:hidden.png``), written with mkntfs + ntfscp (no mount needed).
* ``expected.json`` - MD5s of the pictures above, for the tests.

Needs Pillow, py7zr, mkfs.fat + mtools, mkntfs + ntfscp.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
import zipfile
from pathlib import Path

import py7zr
from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent / "inside"


def picture(seed: int, fmt: str = "JPEG", size: tuple[int, int] = (160, 120)) -> bytes:
    img = Image.new("RGB", size)
    d = ImageDraw.Draw(img)
    for x in range(size[0]):
        d.line([(x, 0), (x, size[1])], fill=((x * 3 + seed * 40) % 256, (seed * 70) % 256, (255 - x) % 256))
    d.ellipse([10 + seed * 5, 10, 60 + seed * 5, 60], fill=(255, 255 - seed * 30, 0))
    buf = io.BytesIO()
    img.save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def zip_of(items: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items.items():
            info = zipfile.ZipInfo(name, (2024, 5, 1, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def targz_of(items: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data in items.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1714564800
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def jpeg_with_thumbnail(main: bytes, thumb: bytes) -> bytes:
    """Insert an APP1 Exif segment whose IFD1 holds ``thumb`` (built by hand: Pillow does not
    write EXIF thumbnails)."""
    import struct

    # TIFF header, IFD0 with no entries -> IFD1 with JPEGInterchangeFormat(+Length).
    ifd0 = 8
    ifd1 = ifd0 + 2 + 4
    data_at = ifd1 + 2 + 2 * 12 + 4
    tiff = b"II*\x00" + struct.pack("<I", ifd0)
    tiff += struct.pack("<H", 0) + struct.pack("<I", ifd1)
    tiff += struct.pack("<H", 2)
    tiff += struct.pack("<HHII", 0x0201, 4, 1, data_at) + struct.pack("<HHII", 0x0202, 4, 1, len(thumb))
    tiff += struct.pack("<I", 0) + thumb
    payload = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return main[:2] + app1 + main[2:]


def main() -> None:
    folder = OUT / "folder"
    folder.mkdir(parents=True, exist_ok=True)
    pics = {f"p{i}": picture(i) for i in range(8)}
    expected: dict[str, str] = {}

    inner = zip_of({"photos/c.jpg": pics["p1"], "photos/d.png": picture(2, "PNG")})
    middle = targz_of({"inner.zip": inner, "readme.txt": b"hello\n"})
    (folder / "nested.zip").write_bytes(zip_of({"middle.tar.gz": middle, "top.jpg": pics["p3"]}))
    expected["nested c.jpg"] = hashlib.md5(pics["p1"]).hexdigest()
    expected["nested top.jpg"] = hashlib.md5(pics["p3"]).hexdigest()

    import gzip

    (folder / "single.jpg.gz").write_bytes(gzip.compress(pics["p4"], mtime=1714564800))
    expected["gz"] = hashlib.md5(pics["p4"]).hexdigest()
    # gzip.compress writes no FNAME: the member is "{decompressed}".

    for name, password in (("pics.7z", None), ("locked.7z", "x")):
        path = folder / name
        path.unlink(missing_ok=True)
        with py7zr.SevenZipFile(path, "w", password=password) as z:
            z.writestr(pics["p5"], "seven/e.jpg")
    expected["7z"] = hashlib.md5(pics["p5"]).hexdigest()

    thumb = picture(6, size=(64, 48))
    (folder / "thumb.jpg").write_bytes(jpeg_with_thumbnail(pics["p7"], thumb))
    expected["thumbnail"] = hashlib.md5(thumb).hexdigest()

    (folder / "bomb.zip").write_bytes(zip_of({"zeros.bin": bytes(100 * 1024 * 1024)}))
    deep = zip_of({"bottom.jpg": pics["p0"]})
    for level in range(7, 0, -1):
        deep = zip_of({f"level{level}.zip": deep})
    (folder / "deep.zip").write_bytes(deep)

    make_carve_fat(pics, expected)
    make_ads_ntfs(expected)
    (OUT / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")


def make_carve_fat(pics: dict[str, bytes], expected: dict[str, str]) -> None:
    image = OUT / "carve_fat.dd"
    image.unlink(missing_ok=True)
    subprocess.run(["truncate", "-s", "1M", str(image)], check=True)
    subprocess.run(["mkfs.fat", "-F", "12", "-n", "CARVE", str(image)], check=True, capture_output=True)
    gone = picture(9, "JPEG", (200, 150))
    kept = picture(10, "PNG", (60, 40))
    tmp = OUT / "tmp"
    tmp.mkdir(exist_ok=True)
    (tmp / "GONE.JPG").write_bytes(gone)
    (tmp / "KEPT.PNG").write_bytes(kept)
    for name in ("GONE.JPG", "KEPT.PNG"):
        subprocess.run(["mcopy", "-i", str(image), str(tmp / name), f"::/{name}"], check=True)
    subprocess.run(["mdel", "-i", str(image), "::/GONE.JPG"], check=True)
    raw = bytearray(image.read_bytes())
    at = raw.find(b"\xe5ONE    JPG")
    assert at > 0, "deleted directory entry not found"
    raw[at : at + 32] = bytes(32)  # the directory entry is gone: no name, no metadata
    assert raw.find(gone) > 0, "picture data must stay in unallocated space"
    image.write_bytes(bytes(raw))
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()
    expected["carved"] = hashlib.md5(gone).hexdigest()
    expected["carved offset"] = str(bytes(raw).find(gone))
    expected["carved length"] = str(len(gone))


def make_ads_ntfs(expected: dict[str, str]) -> None:
    image = OUT / "ads_ntfs.dd"
    image.unlink(missing_ok=True)
    subprocess.run(["truncate", "-s", "2M", str(image)], check=True)
    subprocess.run(["mkntfs", "-F", "-q", "-f", "-L", "ADS", str(image)], check=True, capture_output=True)
    hidden = picture(11, "PNG", (48, 32))
    tmp = OUT / "hidden.png"
    tmp.write_bytes(hidden)
    txt = OUT / "cover.txt"
    txt.write_bytes(b"nothing to see\n")
    subprocess.run(["ntfscp", "-q", "-f", str(image), str(txt), "cover.txt"], check=True)
    subprocess.run(["ntfscp", "-q", "-f", "-N", "hidden.png", str(image), str(tmp), "cover.txt"], check=True)
    tmp.unlink()
    txt.unlink()
    expected["ads"] = hashlib.md5(hidden).hexdigest()


if __name__ == "__main__":
    main()
