"""Media detection by content: real corpus files, pictures and videos written by Pillow,
pillow-heif and OpenCV's FFmpeg, renamed files, and random bytes."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from triage.media.sniff import SNIFF_BYTES, signatures, sniff, subtypes

TESTDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata"


def corpus(*parts: str) -> Path:
    path = TESTDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared test corpus not available ({path})")
    return path


def head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(SNIFF_BYTES)


def test_tables_load_and_are_consistent():
    sigs = signatures()
    assert len(sigs) >= 25
    assert all(s.kind in ("picture", "video", "-") for s in sigs)
    assert all(s.check or s.kind != "-" for s in sigs)
    assert all(len(token) == 4 for fam, token in subtypes() if fam == "ftyp")


def test_every_corpus_picture_is_a_picture():
    seen = 0
    for folder in ("media", "pdq"):
        for path in sorted(corpus(folder).rglob("*")):
            if path.suffix.lower() not in (".jpg", ".jpeg", ".png", ".webp"):
                continue
            with Image.open(path) as img:
                expected = Image.MIME[img.format]
            assert sniff(head(path)) == (expected, "picture"), path
            seen += 1
    assert seen >= 45


def test_executable_named_jpg_is_not_media():
    data = head(corpus("hashsets", "sample.jpg"))
    assert data[:2] == b"MZ"
    assert sniff(data) is None


def test_corpus_videos_are_mp4():
    videos = sorted(corpus("video").glob("*.mp4"))
    assert len(videos) == 8
    for path in videos:
        assert sniff(head(path)) == ("video/mp4", "video"), path


def test_no_false_positives_on_random_bytes():
    rng = random.Random(1234)
    for _ in range(3000):
        assert sniff(rng.randbytes(SNIFF_BYTES)) is None
    # "BM" alone must not make a bitmap, nor ftyp alone an MP4.
    for _ in range(500):
        assert sniff(b"BM" + rng.randbytes(SNIFF_BYTES - 2)) is None
        assert sniff(rng.randbytes(4) + b"ftyp" + rng.randbytes(64)) is None


def test_empty_and_tiny_heads():
    assert sniff(b"") is None
    assert sniff(b"\xff\xd8") is None
    assert sniff(b"\xff\xd8\xff") == ("image/jpeg", "picture")


def _image(mode: str = "RGB", size: tuple[int, int] = (48, 32)) -> Image.Image:
    ramp = np.linspace(0, 255, size[0] * size[1], dtype=np.uint8).reshape(size[1], size[0])
    return Image.fromarray(np.dstack([ramp, ramp[::-1], np.roll(ramp, 7, axis=1)])).convert(mode)


PICTURES = [
    # (Pillow format, mode, save options, expected mime)
    ("JPEG", "RGB", {}, "image/jpeg"),
    ("JPEG", "CMYK", {}, "image/jpeg"),
    ("PNG", "RGBA", {}, "image/png"),
    ("PNG", "P", {}, "image/png"),
    ("GIF", "P", {}, "image/gif"),
    ("BMP", "RGB", {}, "image/bmp"),
    ("BMP", "RGBA", {}, "image/bmp"),
    ("BMP", "P", {}, "image/bmp"),
    ("BMP", "1", {}, "image/bmp"),
    ("TIFF", "RGB", {}, "image/tiff"),
    ("TIFF", "I;16B", {}, "image/tiff"),  # Pillow writes big-endian ("MM") for this mode
    ("WEBP", "RGB", {}, "image/webp"),
    ("WEBP", "RGBA", {"lossless": True}, "image/webp"),
    ("ICO", "RGBA", {}, "image/vnd.microsoft.icon"),
    ("JPEG2000", "RGB", {}, "image/jp2"),
    ("JPEG2000", "RGB", {"no_jp2": True}, "image/x-jp2-codestream"),
    ("AVIF", "RGB", {}, "image/avif"),
]


@pytest.mark.parametrize("fmt, mode, options, mime", PICTURES, ids=lambda v: str(v))
def test_generated_pictures_with_a_meaningless_name(tmp_path, fmt, mode, options, mime):
    img = _image("L").convert("I").convert(mode) if mode == "I;16B" else _image(mode)
    path = tmp_path / "cache0001.dat"  # the name says nothing: only the content counts
    img.save(path, format=fmt, **options)
    assert sniff(head(path)) == (mime, "picture")
    if mode == "I;16B":
        assert head(path)[:4] == b"MM\x00*"


def test_heic_written_by_pillow_heif(tmp_path):
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    path = tmp_path / "IMG_0001.bin"
    _image("RGB", (64, 64)).save(path, format="HEIF")
    assert head(path)[8:12] == b"heic"
    assert sniff(head(path)) == ("image/heic", "picture")


def test_heif_brand_priority():
    def ftyp(major: bytes, *compat: bytes) -> bytes:
        body = major + b"\0\0\0\0" + b"".join(compat)
        return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + bytes(32)

    assert sniff(ftyp(b"mif1", b"mif1", b"heic")) == ("image/heic", "picture")
    assert sniff(ftyp(b"mif1", b"mif1", b"miaf")) == ("image/heif", "picture")
    assert sniff(ftyp(b"isom", b"isom", b"avc1")) == ("video/mp4", "video")
    assert sniff(ftyp(b"M4A ", b"M4A ", b"mp42", b"isom")) is None  # audio, not video
    assert sniff(ftyp(b"isom", b"isom", b"M4A ")) is None
    assert sniff(ftyp(b"zzzz", b"yyyy")) is None


VIDEOS = [
    # (file suffix, fourcc, fps, expected mime)
    ("avi", "MJPG", 5, "video/x-msvideo"),
    ("mp4", "mp4v", 5, "video/mp4"),
    ("mov", "mp4v", 5, "video/quicktime"),
    ("m4v", "mp4v", 5, "video/x-m4v"),
    ("3gp", "mp4v", 5, "video/3gpp"),
    ("3g2", "mp4v", 5, "video/3gpp2"),
    ("mkv", "MJPG", 5, "video/x-matroska"),
    ("webm", "VP80", 5, "video/webm"),
    ("flv", "FLV1", 5, "video/x-flv"),
    ("wmv", "WMV2", 5, "video/x-ms-asf"),
    ("mpg", "PIM1", 25, "video/mpeg"),
    ("ts", "mp4v", 5, "video/mp2t"),
]


def _write_video(path: Path, fourcc: str, fps: int) -> bytes:
    cv2 = pytest.importorskip("cv2")
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (64, 48))
    if not writer.isOpened():
        pytest.skip(f"this OpenCV build cannot write {path.suffix} / {fourcc}")
    for i in range(6):
        writer.write(np.full((48, 64, 3), i * 30, np.uint8))
    writer.release()
    return path.read_bytes()


@pytest.mark.parametrize("suffix, fourcc, fps, mime", VIDEOS, ids=lambda v: str(v))
def test_videos_written_by_ffmpeg(tmp_path, suffix, fourcc, fps, mime):
    data = _write_video(tmp_path / f"clip.{suffix}", fourcc, fps)
    assert sniff(data[:SNIFF_BYTES]) == (mime, "video")


def test_quicktime_without_ftyp(tmp_path):
    data = _write_video(tmp_path / "clip.mov", "mp4v", 5)
    first = int.from_bytes(data[:4], "big")
    assert data[4:8] == b"ftyp"
    rest = data[first:]  # old QuickTime files start with wide/mdat/moov directly
    assert rest[4:8] in (b"wide", b"mdat", b"moov", b"free")
    assert sniff(rest[:SNIFF_BYTES]) == ("video/quicktime", "video")


def test_bdav_transport_stream(tmp_path):
    data = _write_video(tmp_path / "clip.ts", "mp4v", 5)
    packets = [data[i : i + 188] for i in range(0, 188 * 4, 188)]
    m2ts = b"".join(i.to_bytes(4, "big") + p for i, p in enumerate(packets))
    assert sniff(m2ts) == ("video/mp2t", "video")


def test_motion_jpeg2000_brand():
    jp2 = io.BytesIO()
    _image().save(jp2, format="JPEG2000")
    data = bytearray(jp2.getvalue())
    assert data[20:24] == b"jp2 "
    data[20:24] = data[28:32] = b"mjp2"
    assert sniff(bytes(data)) == ("video/mj2", "video")
