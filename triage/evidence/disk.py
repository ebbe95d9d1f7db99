"""Disk images (raw, split raw, E01): image → volume system → file systems → entries.

One class serves every container: the container modules only turn segment files into a TSK
image (:func:`open_image`), and everything above that (partitions, file systems, the walk) is
the same. Opening lists the partition table and opens each file system at once, so a file
that is not a disk image fails in :func:`open_disk` with one clear line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytsk3

from triage.errors import EvidenceError
from triage.evidence import ewf, rawimage
from triage.evidence.tskwalk import FsWalker
from triage.evidence.volumes import OpenVolume, scan_volumes
from triage.records import Entry, EvidenceInfo, SourceSpec


def open_image(spec: SourceSpec) -> pytsk3.Img_Info:
    """A TSK image for a source spec (raw and split raw by segments, E01 through libewf)."""
    if spec.kind in ("raw", "splitraw"):
        return rawimage.RawImgInfo(spec.paths)
    if spec.kind == "ewf":
        return ewf.EwfImgInfo(ewf.open_ewf(spec.paths))
    raise EvidenceError(f"not a disk image source kind: {spec.kind}")


def iter_image_medium(spec: SourceSpec, chunk_size: int) -> Iterator[bytes]:
    if spec.kind in ("raw", "splitraw"):
        return rawimage.iter_raw(spec.paths, chunk_size)
    if spec.kind == "ewf":
        return ewf.iter_ewf(spec.paths, chunk_size)
    raise EvidenceError(f"no medium to read for source kind: {spec.kind}")


class DiskEvidence:
    """An opened disk image with its partitions and file systems."""

    def __init__(self, source: Path, evidence_id: str, spec: SourceSpec, **extra) -> None:
        self.spec = spec
        self.warnings: list[str] = list(extra.pop("warnings", ()))
        self._img = open_image(spec)
        try:
            slots, self._volumes, vol_warnings = scan_volumes(self._img)
        except OSError as e:
            self._img.close()
            raise EvidenceError(f"cannot read disk image {source}: {' '.join(str(e).split())[:200]}") from e
        if not slots:
            self._img.close()
            raise EvidenceError(f"not a recognised disk image or file system: {source}")
        self.warnings.extend(vol_warnings)
        self.info = EvidenceInfo(
            evidence_id=evidence_id,
            source=str(source),
            kind=spec.kind,
            size=int(self._img.get_size()),
            segments=spec.paths,
            volumes=tuple(slots),
            **extra,
        )

    @property
    def file_systems(self) -> list[OpenVolume]:
        return list(self._volumes)

    def entries(self) -> Iterator[Entry]:
        for vol in self._volumes:
            walker = FsWalker(vol, self.info.evidence_id, self.spec)
            try:
                yield from walker.entries()
            finally:
                # a second listing must not repeat the first one's warnings
                self.warnings.extend(w for w in walker.warnings if w not in self.warnings)

    def close(self) -> None:
        self._volumes = []
        self._img.close()


def _abs(paths) -> tuple[str, ...]:
    return tuple(os.path.abspath(p) for p in paths)


def open_raw(path: Path, evidence_id: str) -> DiskEvidence:
    return DiskEvidence(path, evidence_id, SourceSpec("raw", _abs([path])))


def open_splitraw(path: Path, evidence_id: str) -> DiskEvidence:
    segments, extended = rawimage.find_segments(path)
    warnings = (
        [f"{path.name} is not the first segment; the set starts at {segments[0].name}"] if extended else []
    )
    return DiskEvidence(path, evidence_id, SourceSpec("splitraw", _abs(segments)), warnings=warnings)


def open_ewf(path: Path, evidence_id: str) -> DiskEvidence:
    spec = SourceSpec("ewf", _abs(ewf.segment_paths(path)))
    handle = ewf.open_ewf(spec.paths)
    try:
        md5, sha1 = ewf.stored_hashes(handle)
        details = ewf.details(handle)
    finally:
        handle.close()
    return DiskEvidence(path, evidence_id, spec, stored_md5=md5, stored_sha1=sha1, details=details)
