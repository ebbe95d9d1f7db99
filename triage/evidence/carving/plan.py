"""How a carving area is cut into work: pieces searched for headers, grouped into work items.

Pure arithmetic on byte runs (no I/O), so the scan can turn each group into a work item for any
scheduler and a test can check the cut without a disk image.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from triage.evidence.carving.carve import MAX_CARVE
from triage.evidence.carving.runs import Run

#: Bytes of unallocated space searched for headers per piece, and per work item.
PIECE_BYTES = 16 * 1024 * 1024
JOB_BYTES = 64 * 1024 * 1024
#: Bytes before a work item's first piece (same run) searched for a picture that crosses into
#: it, so the pictures inside that one (an EXIF thumbnail sits in the first 64 KiB of its
#: JPEG) are not carved again as pictures of their own.
LOOKBACK = 256 * 1024


@dataclass(frozen=True)
class PieceGroup:
    """One work item's share of an area: ``pieces`` are ``(offset, length, readable)`` (see
    :class:`triage.scan.jobs.CarveJob`), ``size`` their searched bytes, ``behind`` the look-back
    before the first piece."""

    pieces: tuple[tuple[int, int, int], ...]
    size: int
    behind: int


def plan_pieces(runs: Iterable[Run]) -> Iterator[PieceGroup]:
    """The runs of one area cut into pieces of :data:`PIECE_BYTES`, grouped up to
    :data:`JOB_BYTES`; a piece may be read :data:`~triage.evidence.carving.carve.MAX_CARVE`
    past its end (within its run) to finish a picture that starts in it."""
    pieces: list[tuple[int, int, int]] = []
    size = behind = 0
    for off, length in runs:
        for start in range(off, off + length, PIECE_BYTES):
            n = min(PIECE_BYTES, off + length - start)
            if not pieces:  # a job starting inside a run looks back into it
                behind = min(LOOKBACK, start - off)
            pieces.append((start, n, min(off + length - start, n + MAX_CARVE)))
            size += n
            if size >= JOB_BYTES:
                yield PieceGroup(tuple(pieces), size, behind)
                pieces, size = [], 0
    if pieces:
        yield PieceGroup(tuple(pieces), size, behind)
