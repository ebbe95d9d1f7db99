"""Test helper: where allocated files' data lie, by The Sleuth Kit (the reference that free-space
runs must never overlap)."""

from __future__ import annotations

from pathlib import Path

import pytsk3


def allocated_ranges(path: Path) -> list[tuple[int, int]]:
    """Byte ranges ``(start, end)`` of every allocated file's and folder's data (every attribute
    and fork; sparse runs left out) in the bare file system image at ``path``."""
    fs = pytsk3.FS_Info(pytsk3.Img_Info(str(path)))
    bs = int(fs.info.block_size)
    ranges, seen, todo = [], set(), [fs.open_dir(path="/")]
    while todo:
        for f in todo.pop():
            meta = f.info.meta
            if meta is None or f.info.name.name in (b".", b"..") or int(meta.addr) in seen:
                continue
            if not int(meta.flags) & int(pytsk3.TSK_FS_META_FLAG_ALLOC):
                continue
            seen.add(int(meta.addr))
            for attr in f:
                for run in attr:
                    if run.len and not int(run.flags) & int(pytsk3.TSK_FS_ATTR_RUN_FLAG_SPARSE):
                        ranges.append((int(run.addr) * bs, (int(run.addr) + int(run.len)) * bs))
            if int(meta.type) == int(pytsk3.TSK_FS_META_TYPE_DIR):
                todo.append(f.as_directory())
    return ranges
