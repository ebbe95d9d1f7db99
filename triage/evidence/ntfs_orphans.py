"""NTFS files no folder reaches, found in the MFT itself (#12).

Overwrite the root folder's MFT record and TSK lists nothing: every path starts there. The MFT
still holds every file's record, and each record's ``$FILE_NAME`` attribute names the file and
its parent folder's record, so both the file and its path can be rebuilt without any folder
index. :func:`allocated_records` counts the records in use from ``$MFT``'s own ``$BITMAP``, for
the damage check of :mod:`triage.evidence.damage`; :func:`unreached` walks the records (only
when the check says the folders reach far too few) and names each file by its parent chain.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytsk3

from triage.evidence.volumes import TSK_ERRORS

_FNAME = int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_FNAME)
_BITMAP = int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_BITMAP)
_META_REG = int(pytsk3.TSK_FS_META_TYPE_REG)
_META_ALLOC = int(pytsk3.TSK_FS_META_FLAG_ALLOC)
ROOT = 5
#: Records below this are NTFS's own (0-15 system files, 16-23 reserved).
FIRST_USER_RECORD = 24
#: Parent links followed before a path is given up as a loop.
MAX_DEPTH = 128
_DOS_NAMESPACE = 2


def allocated_records(fs: pytsk3.FS_Info) -> int | None:
    """MFT records in use by ``$MFT:$BITMAP``, or ``None`` when it cannot be read."""
    try:
        mft = fs.open_meta(inode=0)
        for attr in mft:
            if int(attr.info.type) == _BITMAP:
                data = mft.read_random(0, int(attr.info.size), _BITMAP, int(attr.info.id))
                bits = int(np.unpackbits(np.frombuffer(data, np.uint8)).sum())
                return min(bits, int(fs.info.last_inum) + 1)
    except TSK_ERRORS:
        return None
    return None


def file_name(f: pytsk3.File) -> tuple[str, int] | None:
    """``(name, parent record)`` from the record's ``$FILE_NAME`` (the long name, not 8.3)."""
    best = None
    try:
        for attr in f:
            if int(attr.info.type) != _FNAME:
                continue
            raw = f.read_random(0, int(attr.info.size), _FNAME, int(attr.info.id))
            if len(raw) < 66:
                continue
            length, namespace = raw[64], raw[65]
            name = raw[66 : 66 + 2 * length].decode("utf-16-le", "replace")
            entry = (name, int.from_bytes(raw[0:6], "little"))
            if best is None or namespace != _DOS_NAMESPACE:
                best = entry
    except TSK_ERRORS:
        return best
    return best


def _path(fs: pytsk3.FS_Info, name: str, parent: int, cache: dict[int, str]) -> str:
    """``/folder/.../name`` by parent links up to the root; ``?/`` where the chain breaks."""
    parts, seen = [name], set()
    while parent != ROOT and len(parts) < MAX_DEPTH:
        if parent in cache:
            return f"{cache[parent]}/{'/'.join(reversed(parts))}"
        if parent in seen:
            break
        seen.add(parent)
        try:
            found = file_name(fs.open_meta(inode=parent))
        except TSK_ERRORS:
            found = None
        if found is None:
            parts.append(f"?{parent}")
            break
        parts.append(found[0])
        parent = found[1]
    return "/" + "/".join(reversed(parts))


def unreached(fs: pytsk3.FS_Info, reached: set[int]) -> Iterator[tuple[int, str, pytsk3.File]]:
    """``(record, path, file)`` of every allocated file record no folder walk reached."""
    cache: dict[int, str] = {}
    for addr in range(int(fs.info.first_inum), int(fs.info.last_inum) + 1):
        if addr == ROOT or addr in reached:
            continue
        try:
            f = fs.open_meta(inode=addr)
        except TSK_ERRORS:
            continue
        meta = f.info.meta
        if meta is None or not int(meta.flags) & _META_ALLOC or int(meta.type) != _META_REG:
            continue
        found = file_name(f)
        if found is None and addr < FIRST_USER_RECORD:
            continue  # a reserved system record (12-15 ...), allocated but nameless and empty
        path = _path(fs, found[0], found[1], cache) if found else f"/?{addr}"
        yield addr, path, f
