"""Video hashing throughput: seconds of video hashed per second of wall time, one process.

    python benchmarks/video.py [--dir ../shared/testdata/video] [--repeat 3]

For each sample clip (ThreatExchange's, in the shared corpus) and in total, on a warm page cache,
best of ``--repeat`` runs:

- baseline: ``cv2.VideoCapture.read()`` of every frame, no hashing (what decoding alone costs);
- ours at the default sampling (``hash_video_file``, one frame per second);
- ours at every frame (``every_seconds=None``, the conformance setting).

The figure is video seconds / wall seconds: 10 means ten seconds of video hashed per second.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import cv2

from triage.hashing.video import hash_video_file

DEFAULT_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "testdata" / "video"


def decode_only(path: Path) -> int:
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames = 0
    while True:
        ok, _ = capture.read()
        if not ok:
            break
        frames += 1
    capture.release()
    return frames


def best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    clips = sorted(args.dir.glob("*.mp4"))
    if not clips:
        raise SystemExit(f"no .mp4 clips in {args.dir}")
    header = f"{'clip':32} {'size':>9} {'video s':>8} {'decode':>8} {'1 fps':>8} {'every':>8}"
    print(header + "\n" + "-" * len(header))
    totals = [0.0, 0.0, 0.0, 0.0]
    for path in clips:
        info = hash_video_file(path, every_seconds=1.0)
        seconds = info.frame_count / info.fps
        walls = [
            best(lambda p=path: decode_only(p), args.repeat),
            best(lambda p=path: hash_video_file(p, every_seconds=1.0), args.repeat),
            best(lambda p=path: hash_video_file(p, every_seconds=None), args.repeat),
        ]
        totals[0] += seconds
        for i, wall in enumerate(walls, 1):
            totals[i] += wall
        rates = " ".join(f"{seconds / wall:8.1f}" for wall in walls)
        print(f"{path.stem:32} {info.width}x{info.height:<5} {seconds:8.1f} {rates}")
    rates = " ".join(f"{totals[0] / wall:8.1f}" for wall in totals[1:])
    print(f"{'all clips':32} {'':>9} {totals[0]:8.1f} {rates}")
    print("(video seconds per wall second; best of", args.repeat, "runs; 1 process)")


if __name__ == "__main__":
    main()
