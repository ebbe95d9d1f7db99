"""Source pictures of the derivative corpus (benchmarks/derivative_corpus.py): where they come
from, which ones are photo-like enough, and which pool each one goes to.

Why these packages: benign photographic pictures under free licences that Debian ships, not
used by benchmarks/robustness.py (wesnoth, openclipart) and not desktop wallpapers: the
deep-sky photos and landscape tiles of ``stellarium-data`` and the photographic textures of
game data (``supertuxkart-data``, ``extremetuxracer-data``, ``flightgear-data-models``,
``flightgear-data-base``; ``neverball-data`` and ``0ad-data`` were tried: the first holds no
picture of 400x300 or more, the second only archives). They are fetched with ``apt-get
download`` (no root needed) and only their pictures and licences are unpacked from
``dpkg-deb --fsys-tarfile`` into a cache; nothing is installed.

Each candidate is screened (:func:`screen`): opaque (a sprite or a cut-out is no photo),
at least 400x300, not flat (luma spread) and many colours (a drawing has few), PDQ quality
>= 50 by the project's own hasher. The survivors are shuffled with a seed and kept one by one
unless one of their 8 dihedral PDQ variants is within :data:`NEAR_BITS` of a kept picture:
game data holds the same texture at several sizes and tints, which would make a "distractor"
a true copy of an original.
"""

from __future__ import annotations

import fnmatch
import json
import random
import re
import subprocess
import tarfile
from dataclasses import asdict, dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image

from triage.hashing.variants import pdq_dihedral
from triage.records import DecodePolicy

PACKAGES = (
    "stellarium-data",
    "supertuxkart-data",
    "extremetuxracer-data",
    "flightgear-data-models",
    "flightgear-data-base",
)
#: Parts of paths that hold drawings, not photos (star-lore figures, icons, fonts, UI skins).
EXCLUDE = re.compile(
    r"/Pilot/|/Liveries/|/skycultures/|/gui/|/icons?/|/fonts?/|/skins?/|/editor/|_nm\.|_normal|normal_?map",
    re.I,
)
SUFFIXES = (".png", ".jpg", ".jpeg")
MIN_SIZE = (400, 300)  # longer side, shorter side
MAX_SIDE = 800  # sources are shrunk to this before editing (keeps the corpus small)
MIN_COLOURS = 4000  # distinct colours in a 128x128 thumbnail: fewer is a drawing or a flat map
MIN_LUMA_STD = 20.0
MAX_TRANSPARENT = 0.01  # share of pixels with alpha < 250
NEAR_BITS = 60  # PDQ distance under which two sources count as the same picture
POLICY = DecodePolicy(algorithms=("pdq",))


@dataclass(frozen=True)
class Candidate:
    """One screened picture of a package, with what decided whether it is kept."""

    package: str
    path: str  # inside the package (absolute install path)
    width: int
    height: int
    colours: int
    luma_std: float
    quality: int
    pdq: tuple[str, ...]  # the 8 dihedral variants, "original" first
    reason: str  # "" when usable, else why not


def package_version(deb: Path) -> str:
    return subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Version"], check=True, capture_output=True, text=True
    ).stdout.strip()


def fetch(cache: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, tuple[Path, str]]:
    """Download (once) and unpack each package; returns package -> (unpacked root, version)."""
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    missing = [p for p in packages if not list(debs.glob(f"{p}_*.deb"))]
    if missing:
        subprocess.run(["apt-get", "download", *missing], cwd=debs, check=True)
    roots: dict[str, tuple[Path, str]] = {}
    for package in packages:
        deb = sorted(debs.glob(f"{package}_*.deb"))[-1]
        root = cache / "x" / package
        if not (root / "usr").is_dir():
            unpack(deb, root)
        roots[package] = (root, package_version(deb))
    return roots


def unpack(deb: Path, root: Path) -> None:
    """Only the pictures and the licence of ``deb`` into ``root`` (flightgear-data-base unpacks
    to GBs of other data), streamed from ``dpkg-deb --fsys-tarfile``."""
    root.mkdir(parents=True, exist_ok=True)
    with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                name = member.name.lower()
                if member.isfile() and (name.endswith(SUFFIXES) or name.endswith("/copyright")):
                    tar.extract(member, root, filter="data")
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, proc.args)


def licence_of(root: Path, package: str, path: str) -> str:
    """The licence debian/copyright (DEP-5) gives the file: the last ``Files:`` stanza whose
    pattern matches the end of the installed path (source and install trees differ in prefix)."""
    text = (root / "usr/share/doc" / package / "copyright").read_text(errors="replace")
    found = ""
    for stanza in re.split(r"\n\s*\n", text):
        files = re.search(r"^Files:(.*(?:\n[ \t].*)*)", stanza, re.M)
        licence = re.search(r"^License:[ \t]*(\S.*)$", stanza, re.M)
        if not files or not licence:
            continue
        for pattern in files.group(1).split():
            if pattern == "*" or fnmatch.fnmatch(path, "*/" + pattern.lstrip("./")):
                found = licence.group(1).strip()
                break
    return found or "see /usr/share/doc/" + package + "/copyright"


def load(file: Path) -> tuple[Image.Image | None, str]:
    """The picture as RGB shrunk to :data:`MAX_SIDE`, or None and why it is unusable."""
    try:
        with Image.open(file) as img:
            width, height = img.size
            if max(width, height) < MIN_SIZE[0] or min(width, height) < MIN_SIZE[1]:
                return None, "small"
            img.load()
            if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
                alpha = np.asarray(img.convert("RGBA").getchannel("A"))
                if float((alpha < 250).mean()) > MAX_TRANSPARENT:
                    return None, "transparent"
            rgb = img.convert("RGB")
    except Exception:
        return None, "unreadable"
    rgb.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
    return rgb, ""


def _screen_one(args: tuple[str, str, str]) -> Candidate:
    package, root, path = args
    if EXCLUDE.search(path):
        return Candidate(package, path, 0, 0, 0, 0.0, 0, (), "drawing (path)")
    rgb, reason = load(Path(root) / path.lstrip("/"))
    if rgb is None:
        return Candidate(package, path, 0, 0, 0, 0.0, 0, (), reason)
    thumb = np.asarray(rgb.resize((128, 128), Image.BILINEAR)).reshape(-1, 3).astype(np.int32)
    colours = len(np.unique(thumb[:, 0] << 16 | thumb[:, 1] << 8 | thumb[:, 2]))
    luma_std = float(np.asarray(rgb.convert("L"), dtype=np.float32).std())
    variants, quality = pdq_dihedral(rgb, POLICY)
    mean = np.asarray(rgb.resize((64, 64)), dtype=np.float32).reshape(-1, 3).mean(axis=0)
    reason = (
        "normal map"
        if mean[2] > 180 and abs(mean[0] - 128) < 40 and abs(mean[1] - 128) < 40
        else "flat"
        if luma_std < MIN_LUMA_STD
        else "few colours"
        if colours < MIN_COLOURS
        else "PDQ quality < 50"
        if quality < 50
        else ""
    )
    return Candidate(
        package,
        path,
        rgb.width,
        rgb.height,
        colours,
        round(luma_std, 1),
        quality,
        tuple(h for _, h in variants),
        reason,
    )


def screen(cache: Path, roots: dict[str, tuple[Path, str]], jobs: int) -> list[Candidate]:
    """Every picture file of the packages, screened (cached in ``cache/screen.json``)."""
    listing = cache / "screen.json"
    if listing.exists():
        return [Candidate(**{**c, "pdq": tuple(c["pdq"])}) for c in json.loads(listing.read_text())]
    work = sorted(
        (package, str(root), "/" + str(f.relative_to(root)))
        for package, (root, _) in roots.items()
        for f in root.rglob("*")
        if f.suffix.lower() in SUFFIXES and f.is_file()
    )
    with Pool(jobs) as pool:
        found = pool.map(_screen_one, work, chunksize=8)
    listing.write_text(json.dumps([asdict(c) for c in found]))
    return found


def distinct(usable: list[Candidate], seed: int) -> tuple[list[Candidate], list[tuple[Candidate, Candidate]]]:
    """Usable candidates in a seeded order, each dropped when within :data:`NEAR_BITS` of one
    kept before it (any dihedral variant); returns the kept ones and (dropped, kept twin) pairs."""
    order = sorted(usable, key=lambda c: (c.package, c.path))
    random.Random(seed).shuffle(order)
    kept: list[Candidate] = []
    kept_bits = np.zeros((0, 256), dtype=bool)
    twins: list[tuple[Candidate, Candidate]] = []
    for cand in order:
        bits = np.unpackbits(np.frombuffer(bytes.fromhex("".join(cand.pdq)), dtype=np.uint8)).reshape(8, 256)
        if len(kept):
            dist = (bits[:, None, :] != kept_bits[None, :, :]).sum(axis=2).min(axis=0)
            nearest = int(dist.argmin())
            if dist[nearest] < NEAR_BITS:
                twins.append((cand, kept[nearest]))
                continue
        kept.append(cand)
        kept_bits = np.vstack([kept_bits, bits[:1]])
    return kept, twins
