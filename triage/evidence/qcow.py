"""QCOW version 1, 2 and 3 through libqcow-python (``pyqcow``); signature ``QFI\\xfb``.

A QCOW image may name a backing file (the disk it is an overlay of); it is found beside the
overlay like a VHD parent. Encrypted QCOW images are refused: no key is ever asked for.
"""

from __future__ import annotations

from pathlib import Path

import pyqcow

from triage.evidence.vdisk import Format

_SIGNATURE = b"QFI\xfb"


def detect_qcow(path: Path, head: bytes) -> bool:
    return head.startswith(_SIGNATURE)


def _open(path: str) -> pyqcow.file:
    handle = pyqcow.file()
    handle.open(path, "r")
    if handle.is_locked():
        handle.close()
        raise OSError("the image is encrypted (no key is supported)")
    return handle


def _parent_name(handle: pyqcow.file) -> str | None:
    return handle.get_backing_filename() or None


def _details(handle: pyqcow.file) -> list[tuple[str, str]]:
    out = [("container", "QCOW"), ("media_size", str(handle.get_media_size()))]
    if backing := handle.get_backing_filename():
        out.append(("backing_filename", str(backing)))
    return out


FORMAT = Format(kind="qcow", title="QCOW", open_one=_open, parent_name=_parent_name, details=_details)
