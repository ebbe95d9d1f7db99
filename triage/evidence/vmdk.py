"""VMDK through libvmdk-python (``pyvmdk``): a text descriptor with its extent files, or a
sparse file (``KDMV``, ``COWD``) that embeds its descriptor.

The examiner names the descriptor (or the monolithic sparse file); libvmdk reads the extent
list from it and opens each extent from the descriptor's folder. Missing extents are named
when the image is opened. A delta disk (``parentFileNameHint``) gets its parent beside it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyvmdk

from triage.errors import EvidenceError
from triage.evidence.vdisk import Format

_SPARSE = (b"KDMV", b"COWD")
_DESCRIPTOR = b"# Disk DescriptorFile"

_DISK_TYPES = {
    int(getattr(pyvmdk.disk_types, name)): name.lower() for name in dir(pyvmdk.disk_types) if name.isupper()
}


def detect_vmdk(path: Path, head: bytes) -> bool:
    return head.startswith(_SPARSE) or head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(_DESCRIPTOR)


def _extent_names(handle: pyvmdk.handle) -> list[str]:
    return [d.get_filename() for d in handle.extent_descriptors if d.get_filename()]


class _SelfExtent:
    """A monolithic sparse VMDK opened as its own extent, so a renamed copy still reads (its
    embedded descriptor names the file as it was first called). Keeps the file object open."""

    def __init__(self, handle: pyvmdk.handle, path: str) -> None:
        self._handle = handle
        self._file = open(path, "rb")  # noqa: SIM115 (closed in close())
        try:
            handle.open_extent_data_files_as_file_objects([self._file])
        except Exception:
            self.close()
            raise

    def __getattr__(self, name: str):
        return getattr(self._handle, name)

    def set_parent(self, parent) -> None:
        self._handle.set_parent(getattr(parent, "_handle", parent))

    def close(self) -> None:
        try:
            self._handle.close()
        finally:
            self._file.close()


def _open(path: str):
    handle = pyvmdk.handle()
    handle.open(path, "r")
    names = _extent_names(handle)
    with open(path, "rb") as f:
        sparse = f.read(4) in _SPARSE
    if sparse and len(names) == 1:
        return _SelfExtent(handle, path)
    folder = os.path.dirname(path)
    missing = [n for n in names if not os.path.isfile(os.path.join(folder, n))]
    if missing:
        handle.close()
        raise OSError(f"extent file(s) missing beside the descriptor: {', '.join(missing)}")
    handle.open_extent_data_files()
    return handle


def _parent_name(handle: pyvmdk.handle) -> str | None:
    return handle.get_parent_filename() or None


def _check_parent(child: pyvmdk.handle, parent: pyvmdk.handle, path: str) -> None:
    want, got = child.get_parent_content_identifier(), parent.get_content_identifier()
    if want is not None and got is not None and int(want) != int(got):
        raise EvidenceError(
            f"VMDK parent {os.path.basename(path)} has content id {got:08x}, the child expects {want:08x}"
        )


def _extra_files(handle: pyvmdk.handle, path: str) -> list[str]:
    if isinstance(handle, _SelfExtent):
        return []
    folder = os.path.dirname(path)
    files = [os.path.join(folder, n) for n in _extent_names(handle)]
    return [f for f in files if f != path]


def _details(handle: pyvmdk.handle) -> list[tuple[str, str]]:
    out = [
        ("container", "VMDK"),
        ("disk_type", _DISK_TYPES.get(int(handle.get_disk_type()), str(handle.get_disk_type()))),
        ("media_size", str(handle.get_media_size())),
        ("extents", str(handle.get_number_of_extents())),
        ("content_identifier", str(handle.get_content_identifier())),
    ]
    if parent := handle.get_parent_filename():
        out.append(("parent_filename", str(parent)))
    return out


FORMAT = Format(
    kind="vmdk",
    title="VMDK",
    open_one=_open,
    parent_name=_parent_name,
    details=_details,
    extra_files=_extra_files,
    check_parent=_check_parent,
)
