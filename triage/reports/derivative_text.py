"""How reports word a derivative match (kind ``derivative``): one sentence of what it means, and
one line of its evidence, the same in every report that states it."""

from __future__ import annotations

from typing import Any

#: What a derivative match means, for report.html (and the docs).
MEANING = (
    "A derivative match means the file shows a known picture, or a large part of it, edited: "
    "cropped, turned, resized, pasted into another picture or written over. Local features "
    "(ORB keypoints) of the two pictures agree in one consistent geometric arrangement; the "
    "number of agreeing keypoints, the share of the known picture they cover, the transform and "
    "the matched region in each picture are given. It is a similarity found by software, never "
    "a statement that the files are identical: compare the pictures."
)


def evidence_line(d: dict[str, Any] | None) -> str:
    """``42 matching keypoints, covering 63% of the known picture; scale 0.50, turned 3.0°;
    region (l, t, r, b) of the known picture at (l, t, r, b) in the file; seed LOCATION``."""
    if not d:
        return ""
    kb, fb = d.get("known_box") or (), d.get("file_box") or ()
    line = (
        f"{d['inliers']} matching keypoints, covering {round(100 * d['coverage'])}% of the known"
        f" picture's keypoint area; scale {d['scale']:.2f}, turned {d['rotation']:.1f}°;"
        f" known region {tuple(kb)} at {tuple(fb)} in the file"
    )
    if d.get("seed"):
        line += f"; seed (the picture of this case that matched the set): {d['seed']}"
    return line
