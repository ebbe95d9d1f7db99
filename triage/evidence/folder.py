"""A mounted or copied folder as evidence: regular files only, symlinks never followed.

A symbolic link could point anywhere on the examiner's machine (``/etc``, another case), so
links are not entries and are never entered, whether they point inside the folder or out of
it. Folders are identified by ``(st_dev, st_ino)`` so a bind mount looping back terminates.
Names are sorted so every run lists the same order whatever the host file system returns;
a folder's files come before the files of its sub-folders.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from triage.errors import EvidenceError
from triage.locator import Location
from triage.records import Entry, EntryRef, EvidenceInfo, SourceSpec
from triage.timeutil import iso_utc


def detect_folder(path: Path, head: bytes) -> bool:
    return path.is_dir()


def _ns_time(ns: int) -> str | None:
    return iso_utc(ns // 1_000_000_000, ns % 1_000_000_000)


class FolderEvidence:
    """Evidence backed by a folder tree on the examiner's machine."""

    def __init__(self, path: Path, evidence_id: str) -> None:
        self.root = os.path.abspath(path)
        self.spec = SourceSpec("folder", (self.root,))
        self.info = EvidenceInfo(evidence_id, str(path), "folder", 0)
        self.warnings: list[str] = []

    def entries(self) -> Iterator[Entry]:
        eid = self.info.evidence_id
        try:
            st = os.lstat(self.root)
        except OSError as e:
            raise EvidenceError(f"cannot read folder {self.root}: {e.strerror}") from e
        seen = {(st.st_dev, st.st_ino)}
        stack: list[tuple[str, str]] = [(self.root, "")]
        while stack:
            folder, rel = stack.pop()
            try:
                with os.scandir(folder) as it:
                    items = sorted(it, key=lambda d: d.name)
            except OSError as e:
                self.warnings.append(f"cannot list folder {rel or '/'}: {e.strerror}")
                continue
            subdirs = []
            for item in items:
                try:
                    st = item.stat(follow_symlinks=False)
                except OSError as e:
                    self.warnings.append(f"cannot stat {rel}/{item.name}: {e.strerror}")
                    continue
                mode = st.st_mode
                relpath = f"{rel}/{item.name}"
                if stat.S_ISDIR(mode):
                    key = (st.st_dev, st.st_ino)
                    if key in seen:
                        self.warnings.append(f"folder loop: {relpath} was already walked")
                        continue
                    seen.add(key)
                    subdirs.append((item.path, relpath))
                elif stat.S_ISREG(mode):
                    yield self._entry(eid, item.path, relpath, st)
            stack.extend(reversed(subdirs))

    def _entry(self, eid: str, abspath: str, relpath: str, st: os.stat_result) -> Entry:
        birth = getattr(st, "st_birthtime_ns", None)
        if birth is None and getattr(st, "st_birthtime", None) is not None:
            birth = int(st.st_birthtime * 1_000_000_000)
        return Entry(
            evidence_id=eid,
            location=Location(eid, None, relpath),
            path=relpath,
            size=st.st_size,
            deleted=False,
            ref=EntryRef(source=self.spec, fs_path=abspath),
            mtime=_ns_time(st.st_mtime_ns),
            atime=_ns_time(st.st_atime_ns),
            ctime=_ns_time(st.st_ctime_ns),
            crtime=_ns_time(birth) if birth else None,
        )

    def close(self) -> None:
        """Nothing is held open between calls."""


def read_folder_file(path: str, chunk_size: int) -> Iterator[bytes]:
    """Read a listed file without following a symlink swapped in since the listing."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise EvidenceError(f"cannot open {path}: {e.strerror}") from e
    with os.fdopen(fd, "rb") as f:
        while True:
            try:
                chunk = f.read(chunk_size)
            except OSError as e:
                raise EvidenceError(f"cannot read {path}: {e.strerror}") from e
            if not chunk:
                return
            yield chunk
