"""Build the corpus that derivative search (issue #13) is measured on; no media is committed.

    python benchmarks/derivative_corpus.py [--out ../deriv-corpus] [--cache ~/.cache/triage-deriv]
        [--seed 13] [--originals 100] [--distractors 400] [--backgrounds 60] [--jobs 2]

Sources (benign photos and photographic textures of Debian packages, see
benchmarks/derivative_sources.py) are downloaded with ``apt-get download`` into ``--cache`` (about
2.4 GB of .deb, of which only the pictures and licences are unpacked), screened, freed of near duplicates and
split, in a seeded order, into known originals, distractors and a separate pool of backgrounds
(used only inside picture-in-picture and collage edits, never an original or a distractor).
Every original AND every distractor is edited in each way of benchmarks/derivative_edits.py.

Layout of ``--out`` (agreed with benchmarks/derivatives.py; do not change)::

    originals/oNNNN.jpg        the known pictures (their hashes only are in known.csv)
    distractors/dNNNN.jpg      unrelated pictures, edited the same way
    edits/<edit>/o_<base>.jpg  an edit of original <base>; d_<base>.jpg of a distractor
    traps/<trap>/*.jpg         false-positive traps (none derives from an original)
    manifest.csv               path,kind,base,edit (kind original|distractor|edit|trap;
                               base = the original's name when the file derives from one)
    known.csv                  id,md5,sha1,sha256,pdq of the originals (triage's CSV set form)
    SOURCES.tsv                each source picture's role, package, version, path and licence

Traps: ``same_sticker`` (distractors with the very sticker and text of the stamped copies, larger),
``pip_distractors`` (a distractor inside another distractor), ``near_scene`` (other views of the
place an original shows: the other faces of its sky box or cube map, the same place in other
light, other screenshots of the same device; SOURCES.tsv's ``scene`` column groups them),
``repeated_texture`` (tiles, bricks, stone, wood and signs, repeated 2x2: the repeated patterns
that fool local features).

Same arguments, same packages -> same files (checked: two builds, byte-identical, 8,266 files).
Time, measured on 2 cores shared with other work (load ~13): download ~30 s, unpacking the
pictures ~3 min, screening ~8,400 pictures ~4 min (cached in ``--cache/screen.json``), writing
8,263 pictures 4-6 min; a rebuild with the cache took 6 min wall. The corpus takes 1.1 GB, the
cache ~5 GB.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import re
import sys
from collections import defaultdict
from functools import lru_cache
from multiprocessing import Pool
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from derivative_edits import EDITS, cover, picture_in_picture, stamped
from derivative_sources import EXCLUDE, Candidate, distinct, fetch, licence_of, load, screen

from triage.hashing.decode import decode_picture
from triage.hashing.perceptual import pdq_hash, to_rgb
from triage.records import DecodePolicy

#: Pictures that are views of one place: faces of a skybox or cube map (named by direction),
#: the same sky box in other light (Extreme Tux Racer's env/<place>/<light>/), panorama tiles,
#: screenshots of one device (the FlightGear Garmin 196 manual).
SCENE = re.compile(r"skybox|/CubeMaps/|/env/|/landscapes/|garmin196/doc/", re.I)
DIRECTION = re.compile(
    r"[_-]?(north|south|east|west|top|bottom|front|back|left|right|up|down|side|[pn][xyz]|\d+)H?$"
)
#: Names of textures made of a repeated pattern.
REPEATED = re.compile(r"brick|tile|wall|stone|sign|fence|roof|window|grid|floor|cobble|plank|wood", re.I)
QUALITY = 92
REPO = Path(__file__).resolve().parents[1]


def scene_of(cand: Candidate) -> str:
    """The place a view belongs to ("" for a picture that is not one of several views)."""
    if not SCENE.search(cand.path):
        return ""
    folder, name = cand.path.rsplit("/", 1)
    if "/env/" in folder:
        return folder.rsplit("/", 1)[0]  # every light of the same place
    if "garmin196/doc" in folder:
        return "garmin196/doc"  # the same device in two aircraft folders
    if "/landscapes/" in folder:
        return folder
    return folder + "/" + DIRECTION.sub("", name.rsplit(".", 1)[0])


def assign(kept: list[Candidate], n_orig: int, n_dist: int, n_bg: int) -> dict[str, list[Candidate]]:
    """Split the de-duplicated sources (already in seeded order): the first view of each scene
    with several views goes to the originals (its other views to the ``near_scene`` trap), then
    originals, backgrounds and distractors in turn."""
    groups: dict[str, list[Candidate]] = defaultdict(list)
    for cand in kept:
        if scene_of(cand):
            groups[scene_of(cand)].append(cand)
    multi = [g for g in groups.values() if len(g) >= 2][: n_orig // 4]
    originals = [g[0] for g in multi]
    near = [c for g in multi for c in g[1:]]
    taken = {id(c) for c in originals + near}
    rest = [c for c in kept if id(c) not in taken]
    originals += rest[: n_orig - len(originals)]
    rest = rest[n_orig - len(multi) :]
    pools = {
        "original": originals,
        "background": rest[:n_bg],
        "distractor": rest[n_bg : n_bg + n_dist],
        "near_scene": near,
    }
    if len(pools["distractor"]) < n_dist:
        raise SystemExit(f"only {len(kept)} distinct sources: not enough for the pools asked for")
    return pools


def _save(img: Image.Image, path: Path, quality: int = QUALITY) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.convert("RGB").save(path, "JPEG", quality=quality)


@lru_cache(maxsize=128)
def _background(path: str) -> Image.Image:
    with Image.open(path) as img:
        return img.convert("RGB")


def _edit_one(args: tuple[str, str, str, int, tuple[str, ...]]) -> list[tuple[str, str]]:
    """All edits of one source picture; returns (relative path, edit) of the files written."""
    out_dir, rel, prefix, seed, backgrounds = args
    out = Path(out_dir)
    name = Path(rel).stem
    with Image.open(out / rel) as img:
        source = img.convert("RGB")

    def pick(rng: random.Random) -> Image.Image:
        return _background(backgrounds[rng.randrange(len(backgrounds))])

    written = []
    for edit, (func, quality) in EDITS.items():
        rng = random.Random(f"{seed}:{edit}:{name}")
        target = f"edits/{edit}/{prefix}_{name}.jpg"
        _save(func(source, rng, pick), out / target, quality)
        written.append((target, edit))
    return written


def _trap_one(args: tuple[str, str, str, str, int]) -> str:
    """One trap picture from one or two distractors (or a near-scene source)."""
    out_dir, trap, first, second, seed = args
    out = Path(out_dir)
    rng = random.Random(f"{seed}:{trap}:{Path(first).stem}")
    img = _background(first)
    if trap == "same_sticker":
        result = stamped(img, rng, area=0.20)
    elif trap == "pip_distractors":
        result = picture_in_picture(img, _background(second), rng)
    elif trap == "repeated_texture":
        tile = cover(img, (img.width // 2, img.height // 2))
        result = Image.new("RGB", (tile.width * 2, tile.height * 2))
        for k in range(4):
            result.paste(tile, ((k % 2) * tile.width, (k // 2) * tile.height))
    else:  # near_scene: the other view as it is
        result = img
    target = f"traps/{trap}/t_{Path(first).stem}.jpg"
    _save(result, out / target)
    return target


def known_row(path: Path) -> list[str]:
    """id,md5,sha1,sha256,pdq of one original as a scan hashes it (triage's decoder and PDQ)."""
    data = path.read_bytes()
    value, _ = pdq_hash(to_rgb(decode_picture(data, DecodePolicy())))
    digests = [hashlib.new(a, data).hexdigest() for a in ("md5", "sha1", "sha256")]
    return [path.stem, *digests, str(value)]


def build(out: Path, cache: Path, seed: int, counts: tuple[int, int, int], jobs: int) -> None:
    roots = fetch(cache)
    screened = screen(cache, roots, jobs)
    usable = [c for c in screened if not c.reason and not EXCLUDE.search(c.path)]
    kept, twins = distinct(usable, seed)
    pools = assign(kept, *counts)
    print(
        f"{len(screened)} pictures screened, {len(usable)} usable, {len(twins)} near duplicates dropped, "
        + ", ".join(f"{len(v)} {k}" for k, v in pools.items())
    )
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise SystemExit(f"{out} is not empty")
    staging = cache / f"pools-{seed}"
    files: dict[str, list[str]] = defaultdict(list)
    sources_rows = []
    folder = {
        "original": ("originals", "o"),
        "distractor": ("distractors", "d"),
        "background": (str(staging / "backgrounds"), "b"),
        "near_scene": (str(staging / "near"), "n"),
    }
    for role, pool in pools.items():
        where, letter = folder[role]
        for k, cand in enumerate(pool, 1):
            img, _ = load(roots[cand.package][0] / cand.path.lstrip("/"))
            assert img is not None
            name = f"{letter}{k:04d}"
            target = Path(where) / f"{name}.jpg"
            _save(img, target if target.is_absolute() else out / target)
            files[role].append(str(target))
            sources_rows.append(
                [
                    name,
                    role,
                    cand.package,
                    roots[cand.package][1],
                    cand.path,
                    licence_of(roots[cand.package][0], cand.package, cand.path),
                    f"{cand.width}x{cand.height}",
                    cand.quality,
                    scene_of(cand),
                ]
            )
    backgrounds = tuple(files["background"])
    work = [
        (str(out), rel, "o" if role == "original" else "d", seed, backgrounds)
        for role in ("original", "distractor")
        for rel in files[role]
    ]
    dists = files["distractor"]
    repeated = [
        rel
        for rel, row in zip(dists, [r for r in sources_rows if r[1] == "distractor"], strict=True)
        if REPEATED.search(Path(row[4]).name)
    ]
    n_trap = min(100, len(dists) // 2)
    traps = (
        [(str(out), "same_sticker", str(out / d), "", seed) for d in dists[:n_trap]]
        + [
            (str(out), "pip_distractors", str(out / dists[2 * k]), str(out / dists[2 * k + 1]), seed)
            for k in range(n_trap)
        ]
        + [(str(out), "repeated_texture", str(out / d), "", seed) for d in repeated]
        + [(str(out), "near_scene", n, "", seed) for n in files["near_scene"]]
    )
    with Pool(jobs) as pool:
        edited = [row for rows in pool.imap(_edit_one, work, chunksize=4) for row in rows]
        trapped = pool.map(_trap_one, traps, chunksize=8)
    write_tables(out, files, edited, trapped, sources_rows)


def write_tables(
    out: Path,
    files: dict[str, list[str]],
    edited: list[tuple[str, str]],
    trapped: list[str],
    sources_rows: list[list[object]],
) -> None:
    with open(out / "manifest.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["path", "kind", "base", "edit"])
        w.writerows([rel, "original", Path(rel).stem, ""] for rel in files["original"])
        w.writerows([rel, "distractor", "", ""] for rel in files["distractor"])
        for rel, edit in edited:
            stem = Path(rel).stem
            w.writerow([rel, "edit", stem[2:] if stem.startswith("o_") else "", edit])
        w.writerows([rel, "trap", "", Path(rel).parent.name] for rel in trapped)
    with open(out / "known.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "md5", "sha1", "sha256", "pdq"])
        w.writerows(known_row(out / rel) for rel in files["original"])
    with open(out / "SOURCES.tsv", "w", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(
            ["name", "role", "package", "version", "path", "licence", "used_size", "pdq_quality", "scene"]
        )
        w.writerows(sources_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO.parent / "deriv-corpus")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "triage-deriv")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--originals", type=int, default=100)
    parser.add_argument("--distractors", type=int, default=400)
    parser.add_argument("--backgrounds", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    build(args.out, args.cache, args.seed, (args.originals, args.distractors, args.backgrounds), args.jobs)


if __name__ == "__main__":
    main()
