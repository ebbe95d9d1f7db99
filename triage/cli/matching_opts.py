"""``triage scan`` options for perceptual hashing and matching beyond PDQ/pHash: which hashes,
their thresholds, video sampling (docs/matching.md, docs/video.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from triage.errors import UsageError
from triage.records import PERCEPTUAL_ALGORITHMS, DecodePolicy, MatchPolicy

_NAMES = (
    "perceptual_hashes",
    "dhash_distance",
    "ahash_distance",
    "whash_distance",
    "video_every",
    "video_share",
    "derivatives",
)
#: On by default when its measured cost meets the target (docs/matching.md, benchmarks/derivatives.py).
DERIVATIVES_DEFAULT = False
DERIVATIVES_WHY = (
    "Off by default: measured at 1.52-1.57x the time of the same scan without (target 1.5x; "
    "400 pictures, 5 seeds, 2 cores at rest; benchmarks/derivatives.py)."
)
_DEFAULT = ",".join(DecodePolicy.algorithms)


def matching_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options; :func:`resolve_matching` takes them back out of the keyword arguments."""
    options = [
        click.option(
            "--perceptual",
            "perceptual_hashes",
            default=_DEFAULT,
            show_default=True,
            metavar="LIST",
            help=f"Perceptual hashes of pictures, comma-separated: {', '.join(PERCEPTUAL_ALGORITHMS)}.",
        ),
        click.option(
            "--dhash-distance",
            type=click.IntRange(0, 64),
            default=MatchPolicy.dhash_max_distance,
            show_default=True,
            help="Largest dHash distance reported as a match (measured: docs/matching.md).",
        ),
        click.option(
            "--ahash-distance",
            type=click.IntRange(0, 64),
            default=MatchPolicy.ahash_max_distance,
            show_default=True,
            help="Largest aHash distance reported as a match.",
        ),
        click.option(
            "--whash-distance",
            type=click.IntRange(0, 64),
            default=MatchPolicy.whash_max_distance,
            show_default=True,
            help="Largest wHash distance reported as a match.",
        ),
        click.option(
            "--video-every",
            type=click.FloatRange(0, None),
            default=DecodePolicy.video_every_seconds,
            show_default=True,
            metavar="SECONDS",
            help="Hash one video frame every SECONDS (vPDQ); 0: do not hash video frames.",
        ),
        click.option(
            "--derivatives/--no-derivatives",
            default=DERIVATIVES_DEFAULT,
            show_default=True,
            help="Also search pictures for derivatives (crops, small turns, screenshots, collages) of "
            "the pictures matched directly and of pictures in sets built with --alert-images: "
            "local features with geometric verification (docs/matching.md). " + DERIVATIVES_WHY,
        ),
        click.option(
            "--video-share",
            type=click.FloatRange(0, 1),
            default=MatchPolicy.video_min_share,
            show_default=True,
            help="Share of a video's sampled frames that must match a known video (vPDQ).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def resolve_matching(kwargs: dict[str, Any], pdq: tuple[int, int, int]) -> tuple[DecodePolicy, MatchPolicy]:
    """Pop the options from ``kwargs``; ``pdq`` is (PDQ distance, PDQ quality, pHash distance)."""
    values = {name: kwargs.pop(name) for name in _NAMES}
    algorithms = tuple(
        dict.fromkeys(a.strip().lower() for a in values["perceptual_hashes"].split(",") if a.strip())
    )
    unknown = [a for a in algorithms if a not in PERCEPTUAL_ALGORITHMS]
    if unknown or not algorithms:
        raise UsageError(
            f"--perceptual: unknown hash {', '.join(unknown) or '(none given)'};"
            f" choose from {', '.join(PERCEPTUAL_ALGORITHMS)}"
        )
    decode = DecodePolicy(
        algorithms=algorithms, video_every_seconds=values["video_every"], derivatives=values["derivatives"]
    )
    match = MatchPolicy(
        pdq_max_distance=pdq[0],
        pdq_min_quality=pdq[1],
        phash_max_distance=pdq[2],
        dhash_max_distance=values["dhash_distance"],
        ahash_max_distance=values["ahash_distance"],
        whash_max_distance=values["whash_distance"],
        video_min_share=values["video_share"],
    )
    return decode, match
