"""Evidence sources, opened read-only: folders, raw/split-raw images, E01 sets and virtual
disks (VHD/VHDX, VMDK, QCOW); APFS is read inside any of them.

:data:`OPENERS` is the one table of formats: ``(name, detect, open)``. Detection sees the
path and its first bytes and says yes or no; the first yes opens. A detector that raises is
logged and skipped; the raw fallback goes last. Adding a format means one module and one line
here.

Entries are plain data (:class:`~triage.records.Entry`); their bytes are read later, possibly
in another process, by :func:`read_entry`, which reopens the source from the entry's
:class:`~triage.records.SourceSpec` and keeps the open handles for the next entry.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from triage.errors import EvidenceError, UsageError
from triage.evidence import disk, ewf, folder, qcow, rawimage, single, vhdi, vmdk
from triage.evidence.reader import read_entry
from triage.locator import valid_evidence_id
from triage.records import Entry, EvidenceInfo, SourceSpec

__all__ = ["OPENERS", "Evidence", "iter_medium", "open_evidence", "read_entry"]

log = logging.getLogger(__name__)

#: How many leading bytes detectors see.
HEAD_BYTES = 4096


class Evidence(Protocol):
    """An opened evidence item. ``entries()`` reads metadata only, never file content."""

    info: EvidenceInfo
    spec: SourceSpec
    warnings: list[str]  # loops found, partitions with no readable file system, ...

    def entries(self) -> Iterator[Entry]: ...

    def close(self) -> None: ...


Detector = Callable[[Path, bytes], bool]
Opener = Callable[[Path, str], Evidence]

#: The formats, tried in order. The raw fallback must stay last.
OPENERS: list[tuple[str, Detector, Opener]] = [
    ("folder", folder.detect_folder, folder.FolderEvidence),
    ("ewf", ewf.detect_ewf, disk.open_ewf),
    ("vhdi", vhdi.detect_vhdi, disk.open_virtual(vhdi.FORMAT)),
    ("vmdk", vmdk.detect_vmdk, disk.open_virtual(vmdk.FORMAT)),
    ("qcow", qcow.detect_qcow, disk.open_virtual(qcow.FORMAT)),
    ("file", single.detect_single, single.SingleFileEvidence),
    ("splitraw", rawimage.detect_splitraw, disk.open_splitraw),
    ("raw", rawimage.detect_raw, disk.open_raw),
]


def _head(path: Path) -> bytes:
    if path.is_dir():
        return b""
    try:
        with open(path, "rb") as f:
            return f.read(HEAD_BYTES)
    except OSError as e:
        raise EvidenceError(f"cannot read evidence {path}: {e.strerror}") from e


def open_evidence(path: str | os.PathLike, evidence_id: str) -> Evidence:
    """Open an evidence item read-only; raises :class:`EvidenceError` with a one-line reason.

    The id names the item in every location string, so it must be a valid evidence id
    (:func:`triage.locator.valid_evidence_id`); an invalid one raises :class:`UsageError`.
    """
    if not valid_evidence_id(evidence_id):
        raise UsageError(f"invalid evidence id {evidence_id!r}: use 1-64 letters, digits, '.', '_' or '-'")
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise EvidenceError(f"evidence not found: {p}") from None
    except OSError as e:
        raise EvidenceError(f"cannot read evidence {p}: {e.strerror}") from e
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISBLK(mode)):
        # A FIFO or character device would block or never end; it is not a disk image.
        raise EvidenceError(f"not a file, folder or block device: {p}")
    head = _head(p)
    for name, detect, opener in OPENERS:
        try:
            matched = detect(p, head)
        except Exception:  # a broken detector must not stop the others
            log.exception("evidence detector %s failed on %s", name, p)
            continue
        if matched:
            log.debug("opening %s as %s", p, name)
            return opener(p, evidence_id)
    raise EvidenceError(f"not a recognised evidence source (not a folder or a regular file): {p}")


def iter_medium(spec: SourceSpec, chunk_size: int = 1 << 22) -> Iterator[bytes]:
    """The whole logical medium (raw: segments concatenated; E01: the media data; a virtual
    disk: the disk its guest saw, parents applied), for hashing."""
    if spec.kind == "folder":
        raise EvidenceError("a folder has no single medium to hash")
    return disk.iter_image_medium(spec, chunk_size)
