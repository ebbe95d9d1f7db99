"""Which edits each perceptual hash survives at its default threshold, and its false positives.

    python benchmarks/robustness.py [--cache /tmp/triage-robustness] [--originals 600] [--jobs 2]

Originals (benign only): ``../shared/testdata/media`` and ``pdq`` reference images, then pictures
from Debian's ``wesnoth-1.16-data`` and ``openclipart-png`` packages, fetched once with
``apt-get download`` into ``--cache`` and unpacked with ``dpkg-deb -x``. Candidates are taken in
a fixed shuffled order (``--seed``); each must be at least 64 px per side, is flattened onto
white (sprites and clipart are transparent), shrunk to at most 768 px, and must have PDQ
quality >= 50; a candidate within PDQ distance 31 of an already kept original is dropped as a
near duplicate (sprite sheets hold near-identical frames). The counts of what was dropped print.

Every original is edited in each of the ways in :data:`EDITS`, each copy is hashed by
``triage.hashing.variants.picture_hashes`` (what a scan computes) and compared with its original
as a hash set would hold it (the original's PDQ and 64-bit hashes). PDQ queries the file's 8
dihedral variants and its letterbox-cropped hash (each only at quality >= 50, as the scan does);
"PDQ plain" queries the one hash only. False positives: pairs of distinct originals where either
one matches the other by the same rule. Thresholds: the MatchPolicy defaults, or ``--dhash`` etc.
It also prints, per 64-bit hash, the smallest distance between distinct originals (the largest
threshold with zero false positives is one less). Hashes are cached in ``--cache``.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from triage.hashing.perceptual import to_rgb
from triage.hashing.variants import picture_hashes
from triage.records import DecodePolicy, MatchPolicy

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO / ".." / "shared" / "testdata"
PACKAGES = ("wesnoth-1.16-data", "openclipart-png")
POLICY = DecodePolicy(algorithms=("pdq", "phash", "dhash", "ahash", "whash"))
SHORT = ("phash", "dhash", "ahash", "whash")
MAX_SIDE = 768


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _resize(img: Image.Image, share: float) -> Image.Image:
    return img.resize((max(8, round(img.width * share)), max(8, round(img.height * share))), Image.LANCZOS)


def _noise(img: Image.Image, rng: random.Random) -> Image.Image:
    gen = np.random.default_rng(rng.randrange(1 << 30))
    pixels = np.asarray(img, dtype=np.int16) + gen.normal(0, 10, (img.height, img.width, 3)).astype(np.int16)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _small_rotation(img: Image.Image, rng: random.Random) -> Image.Image:
    angle = rng.uniform(2, 5) * rng.choice((-1, 1))
    return img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=(0, 0, 0))


def _crop(img: Image.Image, share: float) -> Image.Image:
    """Remove ``share`` of the width and of the height, half on each side."""
    dx, dy = round(img.width * share / 2), round(img.height * share / 2)
    return img.crop((dx, dy, img.width - dx, img.height - dy))


def _letterbox(img: Image.Image, rng: random.Random) -> Image.Image:
    """Black bars above and below (beside, for a portrait picture) adding 10-20% to that side."""
    share = rng.uniform(0.10, 0.20)
    if img.width >= img.height:
        bar = round(img.height * share / 2)
        out = Image.new("RGB", (img.width, img.height + 2 * bar), (0, 0, 0))
        out.paste(img, (0, bar))
    else:
        bar = round(img.width * share / 2)
        out = Image.new("RGB", (img.width + 2 * bar, img.height), (0, 0, 0))
        out.paste(img, (bar, 0))
    return out


def _pad(img: Image.Image, rng: random.Random, colour: tuple[int, int, int]) -> Image.Image:
    """A border of one colour all round adding 10-20% to each side."""
    share = rng.uniform(0.10, 0.20)
    dx, dy = round(img.width * share / 2), round(img.height * share / 2)
    out = Image.new("RGB", (img.width + 2 * dx, img.height + 2 * dy), colour)
    out.paste(img, (dx, dy))
    return out


def _watermark(img: Image.Image) -> Image.Image:
    out = img.convert("RGBA")
    layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
    size = max(10, img.height // 10)
    font = ImageFont.load_default(size=size)
    draw = ImageDraw.Draw(layer)
    draw.text(
        (img.width // 20, img.height - 2 * size), "(c) triage sample", font=font, fill=(255, 255, 255, 160)
    )
    return Image.alpha_composite(out, layer).convert("RGB")


EDITS = {
    "jpeg q30": lambda i, r: _jpeg(i, 30),
    "jpeg q50": lambda i, r: _jpeg(i, 50),
    "jpeg q75": lambda i, r: _jpeg(i, 75),
    "resize 25%": lambda i, r: _resize(i, 0.25),
    "resize 50%": lambda i, r: _resize(i, 0.5),
    "resize 200%": lambda i, r: _resize(i, 2.0),
    "grayscale": lambda i, r: i.convert("L").convert("RGB"),
    "brightness +20%": lambda i, r: ImageEnhance.Brightness(i).enhance(1.2),
    "brightness -20%": lambda i, r: ImageEnhance.Brightness(i).enhance(0.8),
    "contrast +20%": lambda i, r: ImageEnhance.Contrast(i).enhance(1.2),
    "contrast -20%": lambda i, r: ImageEnhance.Contrast(i).enhance(0.8),
    "blur (gaussian r=2)": lambda i, r: i.filter(ImageFilter.GaussianBlur(2)),
    "noise (gaussian sd=10)": _noise,
    "mirror": lambda i, r: i.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    "rotate 90": lambda i, r: i.transpose(Image.Transpose.ROTATE_90),
    "rotate 180": lambda i, r: i.transpose(Image.Transpose.ROTATE_180),
    "rotate 2-5 degrees": _small_rotation,
    "crop 2%": lambda i, r: _crop(i, 0.02),
    "crop 5%": lambda i, r: _crop(i, 0.05),
    "crop 10%": lambda i, r: _crop(i, 0.10),
    "letterbox 10-20% (black)": _letterbox,
    "pad 10-20% (black)": lambda i, r: _pad(i, r, (0, 0, 0)),
    "pad 10-20% (white)": lambda i, r: _pad(i, r, (255, 255, 255)),
    "text watermark": lambda i, r: _watermark(i),
}


def fetch(cache: Path) -> Path:
    """Download and unpack the Debian packages once; returns the unpacked root."""
    root = cache / "x"
    if not (root / "usr").is_dir():
        debs = cache / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        if not list(debs.glob("*.deb")):
            subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, check=True)
        for deb in sorted(debs.glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def candidates(root: Path, seed: int) -> list[Path]:
    shared = sorted(p for d in ("media", "pdq") for p in (TESTDATA / d).rglob("*") if p.suffix.lower() in
                    (".jpg", ".jpeg", ".png"))  # fmt: skip
    debian = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    random.Random(seed).shuffle(debian)
    return shared + debian


def _flatten(path: Path, min_side: int) -> Image.Image | None:
    try:
        with Image.open(path) as img:
            if min(img.size) < min_side:
                return None
            img.load()
            if min(img.size) < 64:
                return None
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                rgba = img.convert("RGBA")
                flat = Image.new("RGB", img.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
            else:
                flat = to_rgb(img)
    except Exception:
        return None
    flat.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
    return flat


def _pdq_int(hex_value: str) -> int:
    return int(hex_value, 16)


def _source(path: Path) -> str:
    text = str(path)
    if "testdata" in text:
        return "shared photos and PDQ references"
    if "wesnoth" in text:
        return "wesnoth (game art)"
    return "openclipart (drawings)"


def choose(cache: Path, count: int, seed: int, min_side: int = 64) -> list[Path]:
    """Prepare ``count`` distinct originals as PNGs in the cache (once); print what was dropped."""
    out = cache / f"originals-{count}-{seed}-{min_side}"
    listing = out / "chosen.json"
    if listing.exists():
        return [out / n for n in json.loads(listing.read_text())["files"]]
    out.mkdir(parents=True, exist_ok=True)
    kept: list[int] = []
    kept_queries: list[int] = []
    sources: list[str] = []
    names: list[str] = []
    dropped = {
        f"unreadable or under {min_side} px": 0,
        "PDQ quality < 50": 0,
        "near duplicate (PDQ <= 31)": 0,
    }
    examined = 0
    for path in candidates(fetch(cache), seed):
        if len(names) >= count:
            break
        examined += 1
        img = _flatten(path, min_side)
        if img is None:
            dropped[f"unreadable or under {min_side} px"] += 1
            continue
        fields = picture_hashes(img, DecodePolicy(algorithms=("pdq",)))
        if int(fields["pdq_quality"]) < 50:  # type: ignore[call-overload]
            dropped["PDQ quality < 50"] += 1
            continue
        value = _pdq_int(str(fields["pdq"]))
        queries = _pdq_queries(fields, 50, plain=False)
        # Either way round, by the scan's rule (8 variants and the cropped hash): a mirrored or
        # letterboxed copy of a kept original is the same picture, not a false positive.
        if any((q ^ k).bit_count() <= 31 for q in queries for k in kept) or any(
            (value ^ q).bit_count() <= 31 for q in kept_queries
        ):
            dropped["near duplicate (PDQ <= 31)"] += 1
            continue
        kept.append(value)
        kept_queries.extend(queries)
        name = f"{len(names):04d}.png"
        img.save(out / name)
        names.append(name)
        sources.append(_source(path))
    info = {"files": names, "sources": sources, "examined": examined, "dropped": dropped}
    listing.write_text(json.dumps(info, indent=1))
    return [out / n for n in names]


def _hash_one(args: tuple[int, str, int]) -> dict[str, dict[str, object]]:
    number, path, seed = args
    original = Image.open(path).convert("RGB")
    result = {"original": picture_hashes(original, POLICY)}
    for name, edit in EDITS.items():
        rng = random.Random(seed * 100003 + number * 101 + len(name))
        result[name] = picture_hashes(edit(original, rng), POLICY)
    return json.loads(json.dumps(result))  # tuples to lists, as the cache holds them


def _pdq_queries(h: dict[str, object], min_quality: int, plain: bool) -> list[int]:
    queries: list[int] = []
    quality = int(h["pdq_quality"])  # type: ignore[call-overload]
    if plain:
        return [_pdq_int(str(h["pdq"]))] if quality >= min_quality else []
    for name, v in h["pdq_variants"]:  # type: ignore[attr-defined]
        # As the scan searches (triage.hashsets.edits): the upscaled hash by its own quality.
        own = h.get("pdq_upscaled_quality") if name == "upscaled" else None
        if (quality if own is None else int(own)) >= min_quality:  # type: ignore[call-overload]
            queries.append(_pdq_int(v))
    if not plain and h.get("pdq_cropped") and int(h["pdq_cropped_quality"]) >= min_quality:  # type: ignore[call-overload]
        queries.append(_pdq_int(str(h["pdq_cropped"])))
    return queries


def _matrix(values: list[int]) -> np.ndarray:
    words = np.array([[(v >> (64 * k)) & (2**64 - 1) for k in range(4)] for v in values], dtype=np.uint64)
    return words


def _distances(queries: np.ndarray, known: np.ndarray) -> np.ndarray:
    return np.bitwise_count(queries[:, None, :] ^ known[None, :, :]).sum(axis=2)


def _pdq_recall(hashes: list[dict[str, dict[str, object]]], edit: str, policy: MatchPolicy) -> float:
    hit = 0
    for h in hashes:
        known = _pdq_int(str(h["original"]["pdq"]))
        q = _pdq_queries(h[edit], policy.pdq_min_quality, False)
        hit += any((v ^ known).bit_count() <= policy.pdq_max_distance for v in q)
    return hit / max(1, len(hashes))


def by_source(hashes: list[dict[str, dict[str, object]]], sources: list[str], policy: MatchPolicy) -> None:
    """PDQ recall per part of the corpus: PDQ is made for photos, not flat drawings."""
    names = sorted(set(sources))
    groups = {n: [h for h, s in zip(hashes, sources, strict=True) if s == n] for n in names}
    print("\nPDQ recall by source: | edit | " + " | ".join(f"{n} ({len(groups[n])})" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for edit in EDITS:
        print(
            f"| {edit} | " + " | ".join(f"{_pdq_recall(groups[n], edit, policy):.3f}" for n in names) + " |"
        )


#: Edits a 64-bit hash is expected to survive; its threshold sweep averages recall over them.
BENIGN = ("jpeg q50", "jpeg q75", "resize 50%", "resize 200%", "grayscale", "brightness +20%",
          "brightness -20%", "contrast +20%", "contrast -20%")  # fmt: skip


def sweep(hashes: list[dict[str, dict[str, object]]]) -> None:
    """False-positive pairs and mean recall over :data:`BENIGN` edits for thresholds 0-14."""
    n = len(hashes)
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    print("\nthreshold sweep (false-positive pairs / mean recall over the BENIGN edits):")
    print("| threshold | " + " | ".join(SHORT) + " |")
    print("|---|" + "---|" * len(SHORT))
    table = {}
    for a in SHORT:
        values = np.array([int(str(h["original"][a]), 16) for h in hashes], dtype=np.uint64)
        d = np.bitwise_count(values[:, None] ^ values[None, :]).astype(np.int32)
        edits = np.array(
            [
                [(int(str(h[e][a]), 16) ^ int(str(h["original"][a]), 16)).bit_count() for e in BENIGN]
                for h in hashes
            ]
        )
        table[a] = [(int((upper & (d <= t)).sum()), float((edits <= t).mean())) for t in range(15)]
    for t in range(15):
        print(f"| {t} | " + " | ".join(f"{table[a][t][0]} / {table[a][t][1]:.3f}" for a in SHORT) + " |")


def evaluate(hashes: list[dict[str, dict[str, object]]], policy: MatchPolicy) -> None:
    n = len(hashes)
    pdq_known = [_pdq_int(str(h["original"]["pdq"])) for h in hashes]
    thresholds = {a: getattr(policy, f"{a}_max_distance") for a in SHORT}
    columns = ["PDQ", "PDQ plain", *[a for a in SHORT]]
    print(f"\n{n} originals, {n * (n - 1) // 2} pairs of distinct originals")
    print(f"thresholds: PDQ <= {policy.pdq_max_distance} (quality >= {policy.pdq_min_quality}), "
          + ", ".join(f"{a} <= {t}" for a, t in thresholds.items()))  # fmt: skip
    print("\n| edit | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for edit in EDITS:
        row = []
        for plain in (False, True):
            hit = 0
            for i, h in enumerate(hashes):
                q = _pdq_queries(h[edit], policy.pdq_min_quality, plain)
                hit += any((v ^ pdq_known[i]).bit_count() <= policy.pdq_max_distance for v in q)
            row.append(hit / n)
        for a in SHORT:
            hit = sum(
                (int(str(h[edit][a]), 16) ^ int(str(h["original"][a]), 16)).bit_count() <= thresholds[a]
                for h in hashes
            )
            row.append(hit / n)
        print(f"| {edit} | " + " | ".join(f"{r:.3f}" for r in row) + " |")
    # False positives: original i queried (as a file) against original j (as the set's hash).
    known = _matrix(pdq_known)
    fp_rows = []
    for plain in (False, True):
        pairs: set[tuple[int, int]] = set()
        for i, h in enumerate(hashes):
            q = _pdq_queries(h["original"], policy.pdq_min_quality, plain)
            if not q:
                continue
            close = (_distances(_matrix(q), known) <= policy.pdq_max_distance).any(axis=0)
            pairs.update((min(i, j), max(i, j)) for j in np.flatnonzero(close) if j != i)
        fp_rows.append(len(pairs))
    nearest = {}
    for a in SHORT:
        values = np.array([int(str(h["original"][a]), 16) for h in hashes], dtype=np.uint64)
        d = np.bitwise_count(values[:, None] ^ values[None, :]).astype(np.int32)
        np.fill_diagonal(d, 99)
        fp_rows.append(int(((d <= thresholds[a]) & np.triu(np.ones_like(d, dtype=bool), 1)).sum()))
        nearest[a] = int(d.min())
    print("| false-positive pairs | " + " | ".join(str(v) for v in fp_rows) + " |")
    print("\nsmallest distance between distinct originals: "
          + ", ".join(f"{a} {d}" for a, d in nearest.items()))  # fmt: skip
    pdq_d = _distances(known, known)
    np.fill_diagonal(pdq_d, 999)
    print(f"PDQ (plain) smallest distance between distinct originals: {int(pdq_d.min())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/triage-robustness"))
    parser.add_argument("--originals", type=int, default=600)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--min-side",
        type=int,
        default=64,
        help="smallest original (shorter side, px); PDQ is specified for pictures, and below 128 px"
        " its smoothing window is one pixel, so resizing alone moves many hashes (see docs/matching.md)",
    )
    for a in SHORT:
        parser.add_argument(f"--{a}", type=int, default=getattr(MatchPolicy(), f"{a}_max_distance"))
    args = parser.parse_args()
    paths = choose(args.cache, args.originals, args.seed, args.min_side)
    info = json.loads((paths[0].parent / "chosen.json").read_text())
    print(f"originals: {len(paths)} kept of {info['examined']} examined; dropped: {info['dropped']}")
    cached = args.cache / f"hashes-{args.originals}-{args.seed}-{args.min_side}.json"
    if cached.exists():
        hashes = json.loads(cached.read_text())
    else:
        with Pool(args.jobs) as pool:
            hashes = pool.map(_hash_one, [(i, str(p), args.seed) for i, p in enumerate(paths)], chunksize=4)
        cached.write_text(json.dumps(hashes))
    policy = MatchPolicy(**{f"{a}_max_distance": getattr(args, a) for a in SHORT})
    evaluate(hashes, policy)
    by_source(hashes, info["sources"], policy)
    sweep(hashes)


if __name__ == "__main__":
    main()
