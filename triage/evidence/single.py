"""One picture or video file given as evidence on its own (an exported video, one photo).

Such a file is not a disk image, so the raw fallback would refuse it ("not a recognised disk
image"), yet it is what an examiner often receives. It is scanned as a one-file evidence item of
kind ``file``: its one entry is at ``EV1/<name>``, read like a file of a folder (same inode, same
size as listed, opened without touching its access time), and its whole-medium hash is the file's
own hash, so ``--verify-after`` and ``--resume`` treat it like any image.

Only content recognised as a picture or video by its signature is taken this way: a damaged disk
image must still fail as a disk image, not be quietly hashed as one file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from triage.evidence.folder import folder_entry
from triage.media.sniff import sniff
from triage.records import Entry, EvidenceInfo, SourceSpec


def detect_single(path: Path, head: bytes) -> bool:
    """A regular file whose content starts like a picture or video."""
    try:
        regular = stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False
    return regular and sniff(head) is not None


class SingleFileEvidence:
    """A single regular file as an evidence item of kind ``file``."""

    def __init__(self, path: Path, evidence_id: str) -> None:
        self.path = os.path.abspath(path)
        # The medium is the file itself, read as a one-segment raw image for its hash.
        self.spec = SourceSpec("raw", (self.path,))
        size = os.stat(self.path).st_size
        self.info = EvidenceInfo(evidence_id, str(path), "file", size, segments=(self.path,))
        self.warnings: list[str] = []

    def entries(self) -> Iterator[Entry]:
        st = os.stat(self.path)
        name = os.path.basename(self.path)
        yield folder_entry(self.info.evidence_id, os.path.dirname(self.path), self.path, "/" + name, st)

    def close(self) -> None:
        """Nothing is held open between calls."""
