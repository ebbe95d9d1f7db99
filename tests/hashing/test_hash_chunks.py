"""hash_chunks, the per-file function the pipeline's workers call, on real and damaged inputs."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from triage.hashing.decode import decode_picture
from triage.hashing.file import hash_chunks
from triage.hashing.perceptual import PerceptualHash, pdq_hash, to_rgb
from triage.media.sniff import SNIFF_BYTES
from triage.records import DecodePolicy

TESTDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata"


def corpus(*parts: str) -> bytes:
    path = TESTDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared test corpus not available ({path})")
    return path.read_bytes()


class Recorder:
    """Yields fixed-size chunks and records how much of the stream was consumed."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size, self.consumed = data, size, 0

    def __iter__(self) -> Iterator[bytes]:
        for i in range(0, len(self.data), self.size):
            chunk = self.data[i : i + self.size]
            self.consumed += len(chunk)
            yield chunk


def chunked(data: bytes, size: int = 64 * 1024) -> Recorder:
    return Recorder(data, size)


def assert_digests(result, data: bytes) -> None:
    assert result.size_read == len(data)
    assert result.md5 == hashlib.md5(data).hexdigest()
    assert result.sha1 == hashlib.sha1(data).hexdigest()
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def assert_one_line_error(result, prefix: str = "picture decode failed: ") -> None:
    assert result.error and result.error.startswith(prefix), result.error
    assert "\n" not in result.error and "\r" not in result.error and "Traceback" not in result.error
    assert " at 0x" not in result.error  # no object reprs: the same file gives the same message
    assert result.pdq is None and result.phash is None


def photo(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """A textured generated picture: colour field, shapes and grain."""
    rng = np.random.default_rng(seed)
    field = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize(size, Image.BICUBIC)
    draw = ImageDraw.Draw(field)
    for _ in range(12):
        x, y = int(rng.integers(0, size[0])), int(rng.integers(0, size[1]))
        draw.ellipse(
            (x, y, x + size[0] // 5, y + size[1] // 4), fill=tuple(int(c) for c in rng.integers(0, 256, 3))
        )
    grain = rng.normal(0, 8, (size[1], size[0], 1))
    return Image.fromarray(np.clip(np.asarray(field, dtype=np.int16) + grain, 0, 255).astype(np.uint8))


def encode(img: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **options)
    return out.getvalue()


def test_corpus_jpeg_full_result():
    data = corpus("media", "alps.jpg")
    result = hash_chunks(chunked(data))
    assert_digests(result, data)
    assert (result.media_type, result.media_kind) == ("image/jpeg", "picture")
    assert (result.width, result.height) == (2736, 1824)  # the original, not the draft size
    assert len(result.pdq) == 64 and result.pdq_quality == 100 and len(result.phash) == 16
    assert result.error is None
    expected, quality = pdq_hash(to_rgb(decode_picture(data)))
    assert (result.pdq, result.pdq_quality) == (str(expected), quality)


def test_chunking_does_not_matter():
    data = corpus("pdq", "bridge-mods", "aaa-orig.jpg")
    results = {hash_chunks(chunked(data, size)) for size in (7, 1000, SNIFF_BYTES, 1 << 20)}
    assert len(results) == 1


def test_video_gets_digests_type_and_sampled_frames(tmp_path):
    data = corpus("video", "chair-19-sd-bar.mp4")
    result = hash_chunks(chunked(data))  # spooled to a temporary file for OpenCV
    assert_digests(result, data)
    assert (result.media_type, result.media_kind) == ("video/mp4", "video")
    assert result.pdq is None and result.error is None
    assert (result.width, result.height) == (480, 720)
    # 18.8 s at 30 fps, one frame a second: frames 0, 30, ... 540, at their times.
    assert [f.frame for f in result.frames] == list(range(0, 564, 30))
    assert result.frames[1].timestamp == pytest.approx(1.0, abs=0.01)
    # The same frames when OpenCV reads the file itself (a folder entry), and none when off.
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    assert hash_chunks(chunked(data), video_path=str(path)).frames == result.frames
    assert hash_chunks(chunked(data), policy=DecodePolicy(video_every_seconds=0)).frames == ()


def test_executable_named_jpg():
    data = corpus("hashsets", "sample.jpg")
    result = hash_chunks(chunked(data))
    assert_digests(result, data)
    assert result.media_type is None and result.pdq is None and result.error is None


def test_media_only_stops_at_once_on_non_media():
    data = corpus("hashsets", "sample.jpg")
    stream = Recorder(data, 512)
    result = hash_chunks(stream, media_only=True)
    assert stream.consumed == SNIFF_BYTES  # two 512-byte chunks, then it stopped
    assert result.size_read == SNIFF_BYTES
    assert result.md5 is None and result.sha256 is None and result.media_type is None

    big = Recorder(random.Random(5).randbytes(8 << 20), 1 << 20)
    result = hash_chunks(big, media_only=True)
    assert big.consumed == 1 << 20 and result.size_read == 1 << 20


def test_media_only_reads_media_fully():
    data = corpus("media", "Kokkini_screenshot.png")
    stream = Recorder(data, 4096)
    result = hash_chunks(stream, media_only=True)
    assert stream.consumed == len(data)
    assert_digests(result, data)
    assert result.pdq is not None


def test_perceptual_off_keeps_type_and_digests():
    data = corpus("media", "alps.jpg")
    result = hash_chunks(chunked(data), perceptual=False)
    assert_digests(result, data)
    assert result.media_type == "image/jpeg" and result.pdq is None and result.error is None


@pytest.mark.parametrize("cut", [0.3, 0.9])
def test_truncated_jpeg(cut):
    data = corpus("media", "alps.jpg")
    broken = data[: int(len(data) * cut)]
    result = hash_chunks(chunked(broken))
    assert_digests(result, broken)
    assert result.media_type == "image/jpeg"
    assert_one_line_error(result)


def test_garbled_jpeg_header():
    data = bytearray(corpus("media", "FreshFlower.jpg"))
    data[20:3000] = bytes(range(256)) * 11 + bytes(2980 - 2816)
    result = hash_chunks(chunked(bytes(data)))
    assert_digests(result, bytes(data))
    assert_one_line_error(result)


def test_random_damage_never_raises():
    """Flipped bytes and cuts in real pictures of several formats: a result, never an exception."""
    rng = random.Random(7)
    img = photo((96, 64))
    originals = [corpus("media", "Kokkini_screenshot.png"), corpus("pdq", "misc-images", "wee.jpg")]
    originals += [encode(img, f) for f in ("GIF", "WEBP", "BMP", "TIFF", "PNG", "JPEG2000", "ICO")]
    for original in originals:
        for _ in range(12):
            data = bytearray(original)
            for _ in range(rng.randrange(1, 40)):
                data[rng.randrange(8, len(data))] = rng.randrange(256)
            data = bytes(data[: rng.randrange(SNIFF_BYTES // 2, len(data) + 1)])
            result = hash_chunks(chunked(data, 333))
            assert_digests(result, data)
            assert result.error is None or "\n" not in result.error


def png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("width, height", [(100_000, 100_000), (15_000, 15_000)])
def test_decompression_bomb_is_a_per_file_error(width, height):
    data = png_claiming(width, height)
    result = hash_chunks(chunked(data))
    assert_digests(result, data)
    assert result.media_type == "image/png"
    assert_one_line_error(result, "picture decode failed: decompression bomb")
    assert result.error.endswith("exceeds the limit of 200000000"), result.error


def test_policy_max_pixels_applies_to_real_pictures():
    data = corpus("media", "alps.jpg")
    result = hash_chunks(chunked(data), policy=DecodePolicy(max_pixels=1_000_000))
    assert_digests(result, data)
    assert_one_line_error(result, "picture decode failed: decompression bomb")
    assert result.error.endswith("4990464 pixels exceeds the limit of 1000000"), result.error


def test_picture_over_max_bytes_keeps_crypto_only():
    data = corpus("media", "alps.jpg")
    result = hash_chunks(chunked(data), policy=DecodePolicy(max_picture_bytes=100_000))
    assert_digests(result, data)
    assert result.media_type == "image/jpeg" and result.pdq is None
    assert result.error.startswith("picture not decoded:") and "max_picture_bytes" in result.error


def test_read_error_propagates():
    def failing() -> Iterator[bytes]:
        yield b"\xff\xd8\xff\xe0" + bytes(4000)
        raise OSError("read error at sector 42")

    with pytest.raises(OSError, match="sector 42"):
        hash_chunks(failing())


def test_animated_gif_hashes_the_first_frame():
    frames = [photo((160, 120), seed) for seed in (1, 2, 3)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    first_alone = encode(Image.open(io.BytesIO(data)).convert("RGB"), "PNG")
    result = hash_chunks(chunked(data))
    assert result.media_type == "image/gif" and result.error is None
    assert result.pdq == hash_chunks([first_alone]).pdq
    assert result.pdq != hash_chunks([encode(frames[1].convert("P"), "GIF")]).pdq


def test_animated_webp_hashes_the_first_frame():
    frames = [photo((160, 120), seed) for seed in (4, 5)]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    result = hash_chunks(chunked(data))
    assert result.media_type == "image/webp" and result.error is None
    assert result.pdq == hash_chunks([encode(frames[0], "PNG")]).pdq


def test_heic_decodes_through_pillow_heif():
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()  # only for writing the fixture; decoding registers itself
    img = photo((640, 480), 9)
    result = hash_chunks(chunked(encode(img, "HEIF", quality=90)))
    assert (result.media_type, result.error) == ("image/heic", None)
    assert (result.width, result.height) == (640, 480)
    reference = PerceptualHash.from_hex("pdq", hash_chunks([encode(img, "PNG")]).pdq)
    assert PerceptualHash.from_hex("pdq", result.pdq) - reference <= 16


def test_draft_decoding_of_a_large_jpeg():
    data = encode(photo((2400, 1800), 11), "JPEG", quality=92)
    drafted = decode_picture(data, DecodePolicy())
    assert drafted.size == (1200, 900)  # 1/2 scale: 1/4 would make the short side 450 < 512
    assert decode_picture(data, DecodePolicy(draft_min_side=256)).size == (600, 450)
    full = hash_chunks([data], policy=DecodePolicy(draft_jpeg=False))
    draft = hash_chunks([data])
    assert (draft.width, draft.height) == (full.width, full.height) == (2400, 1800)
    assert draft.md5 == full.md5
    pdq = PerceptualHash.from_hex
    assert pdq("pdq", draft.pdq) - pdq("pdq", full.pdq) <= 10


@pytest.mark.parametrize(
    "fmt, options",
    [
        ("JPEG", {"quality": 95}),
        ("GIF", {}),
        ("BMP", {}),
        ("TIFF", {}),
        ("WEBP", {"quality": 95}),
        ("ICO", {"sizes": [(256, 192)]}),
        ("JPEG2000", {}),
        ("AVIF", {"quality": 90}),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_claimed_picture_format_decodes(fmt, options):
    img = photo((256, 192), 3)
    reference = PerceptualHash.from_hex("pdq", hash_chunks([encode(img, "PNG")]).pdq)
    result = hash_chunks(chunked(encode(img, fmt, **options), 1000))
    assert result.error is None, result.error
    assert result.media_kind == "picture" and (result.width, result.height) == (256, 192)
    assert PerceptualHash.from_hex("pdq", result.pdq) - reference <= 12  # measured: GIF 8, JPEG 2, others 0
