"""VHD (fixed, dynamic, differential) and VHDX through libvhdi-python (``pyvhdi``).

Detection: a dynamic or differential VHD starts with a copy of its ``conectix`` footer; a fixed
VHD is the raw disk followed by that footer (512 bytes, 511 for images older than Virtual PC
2004), so its signature is at the end; a VHDX starts with ``vhdxfile``. A differential disk
names its parent; the chain is resolved in :mod:`triage.evidence.vdisk` and the parent's
identifier must equal the one the child recorded.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyvhdi

from triage.errors import EvidenceError
from triage.evidence.vdisk import Format

_VHD = b"conectix"
_VHDX = b"vhdxfile"

_DISK_TYPES = {
    int(pyvhdi.disk_types.FIXED): "fixed",
    int(pyvhdi.disk_types.DYNAMIC): "dynamic",
    int(pyvhdi.disk_types.DIFFERENTIAL): "differential",
}


def detect_vhdi(path: Path, head: bytes) -> bool:
    if head.startswith((_VHD, _VHDX)):
        return True
    if not path.is_file():
        return False
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        if size < 512 + 511:
            return False
        f.seek(size - 512)
        tail = f.read(512)
    return tail.startswith(_VHD) or tail[1:].startswith(_VHD)


def _open(path: str) -> pyvhdi.file:
    handle = pyvhdi.file()
    handle.open(path, "r")
    return handle


def _is_differential(handle: pyvhdi.file) -> bool:
    return int(handle.get_disk_type()) == int(pyvhdi.disk_types.DIFFERENTIAL)


def _parent_name(handle: pyvhdi.file) -> str | None:
    if not _is_differential(handle):
        return None
    return handle.get_parent_filename() or ""


def _check_parent(child: pyvhdi.file, parent: pyvhdi.file, path: str) -> None:
    want, got = child.get_parent_identifier(), parent.get_identifier()
    if want and got and str(want).lower() != str(got).lower():
        raise EvidenceError(
            f"VHD parent {os.path.basename(path)} has identifier {got}, the child expects {want}"
        )


def _details(handle: pyvhdi.file) -> list[tuple[str, str]]:
    version = str(handle.get_format_version())
    out = [
        ("container", "VHDX" if version.startswith("2") else "VHD"),
        ("format_version", version),
        ("disk_type", _DISK_TYPES.get(int(handle.get_disk_type()), str(handle.get_disk_type()))),
        ("identifier", str(handle.get_identifier())),
        ("bytes_per_sector", str(handle.get_bytes_per_sector())),
        ("media_size", str(handle.get_media_size())),
    ]
    if _is_differential(handle):
        out.append(("parent_identifier", str(handle.get_parent_identifier())))
        out.append(("parent_filename", str(handle.get_parent_filename())))
    return out


FORMAT = Format(
    kind="vhdi",
    title="VHD",
    open_one=_open,
    parent_name=_parent_name,
    details=_details,
    check_parent=_check_parent,
)
