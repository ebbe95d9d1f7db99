"""Disk images (raw, split raw, E01, VHD/VHDX, VMDK, QCOW): image → volume system → file
systems → entries.

One class serves every container: the container modules only turn segment files into a TSK
image (:func:`open_image`), and everything above that (partitions, file systems, the walk) is
the same. Opening lists the partition table and opens each file system at once, so a file
that is not a disk image fails in :func:`open_disk` with one clear line. Where TSK finds no
file system, an APFS container is looked for (:mod:`triage.evidence.apfs`), so APFS is read
inside any container.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytsk3

from triage.errors import EvidenceError
from triage.evidence import apfs, ewf, qcow, rawimage, vdisk, vhdi, vmdk
from triage.evidence.tskwalk import FsWalker
from triage.evidence.volumes import scan_volumes
from triage.records import DAMAGE_PREFIX, Entry, EvidenceInfo, SourceSpec

#: What reading a damaged medium can raise from the libraries below (TSK, libyal), besides our own
#: EvidenceError: caught where the evidence is listed, recorded, never an internal error.
LISTING_ERRORS = (OSError, OverflowError, ValueError, RuntimeError, MemoryError, TypeError)

#: Virtual-disk formats by SourceSpec kind.
VIRTUAL: dict[str, vdisk.Format] = {f.kind: f for f in (vhdi.FORMAT, vmdk.FORMAT, qcow.FORMAT)}


def open_image(spec: SourceSpec) -> pytsk3.Img_Info:
    """A TSK image for a source spec (raw and split raw by segments, E01 through libewf)."""
    if spec.kind in ("raw", "splitraw"):
        return rawimage.RawImgInfo(spec.paths)
    if spec.kind == "ewf":
        return ewf.EwfImgInfo(ewf.open_ewf(spec.paths))
    if spec.kind in VIRTUAL:
        return vdisk.VDiskImgInfo(vdisk.VirtualDisk(VIRTUAL[spec.kind], spec.paths))
    raise EvidenceError(f"not a disk image source kind: {spec.kind}")


def iter_image_medium(spec: SourceSpec, chunk_size: int) -> Iterator[bytes]:
    if spec.kind in ("raw", "splitraw"):
        return rawimage.iter_raw(spec.paths, chunk_size)
    if spec.kind == "ewf":
        return ewf.iter_ewf(spec.paths, chunk_size)
    if spec.kind in VIRTUAL:
        return vdisk.iter_vdisk(VIRTUAL[spec.kind], spec.paths, chunk_size)
    raise EvidenceError(f"no medium to read for source kind: {spec.kind}")


class DiskEvidence:
    """An opened disk image with its partitions and file systems."""

    def __init__(self, source: Path, evidence_id: str, spec: SourceSpec, **extra) -> None:
        self.spec = spec
        self.warnings: list[str] = list(extra.pop("warnings", ()))
        self._img = open_image(spec)
        try:
            slots, self._volumes, vol_warnings = scan_volumes(self._img)
            slots, self._apfs, vol_warnings = apfs.find_containers(self._img, slots, vol_warnings)
        except LISTING_ERRORS as e:
            self._img.close()
            raise EvidenceError(f"cannot read disk image {source}: {' '.join(str(e).split())[:200]}") from e
        if not slots:
            self._img.close()
            damaged = [w[len(DAMAGE_PREFIX) :] for w in vol_warnings if w.startswith(DAMAGE_PREFIX)]
            if damaged:
                raise EvidenceError(f"damaged disk image {source}: {'; '.join(damaged)}")
            raise EvidenceError(f"not a recognised disk image or file system: {source}")
        self.warnings.extend(vol_warnings)
        self.info = EvidenceInfo(
            evidence_id=evidence_id,
            source=str(source),
            kind=spec.kind,
            size=int(self._img.get_size()),
            segments=tuple(extra.pop("segments", spec.paths)),
            volumes=tuple(slots),
            **extra,
        )

    def entries(self) -> Iterator[Entry]:
        walkers: list[FsWalker | apfs.ApfsWalker] = [
            FsWalker(vol, self.info.evidence_id, self.spec) for vol in self._volumes
        ]
        walkers += [apfs.ApfsWalker(vol, self.info.evidence_id, self.spec) for vol in self._apfs]
        for walker in walkers:
            try:
                yield from walker.entries()
            except LISTING_ERRORS as e:
                # A library error deep in a damaged file system costs the rest of that file
                # system, recorded, not the scan (and never a half-made case).
                self.warnings.append(
                    f"{DAMAGE_PREFIX}{walker.volume}: listing stopped early: {' '.join(str(e).split())[:200]}"
                )
            finally:
                # a second listing must not repeat the first one's warnings
                self.warnings.extend(w for w in walker.warnings if w not in self.warnings)

    def close(self) -> None:
        self._volumes = []
        self._apfs = []
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


def open_virtual(fmt: vdisk.Format):
    """The opener for one virtual-disk format (its parent chain is resolved here, once)."""

    def opener(path: Path, evidence_id: str) -> DiskEvidence:
        paths, details, files = vdisk.resolve_chain(fmt, path)
        spec = SourceSpec(fmt.kind, tuple(paths))
        return DiskEvidence(path, evidence_id, spec, details=tuple(details), segments=tuple(files))

    return opener
