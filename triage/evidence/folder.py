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


_SPECIAL = {
    stat.S_IFIFO: "named pipe (FIFO)",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFSOCK: "socket",
}


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
        links: list[str] = []
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
                elif stat.S_ISLNK(mode):
                    links.append(relpath)
                else:
                    kind = _SPECIAL.get(stat.S_IFMT(mode), "special file")
                    self.warnings.append(f"not read: {relpath} is a {kind}")
            stack.extend(reversed(subdirs))
        if links:
            self.warnings.append(_links_warning(links))

    def _entry(self, eid: str, abspath: str, relpath: str, st: os.stat_result) -> Entry:
        return folder_entry(eid, self.root, abspath, relpath, st)

    def close(self) -> None:
        """Nothing is held open between calls."""


def _open_noatime(path: str) -> int:
    """Open read-only without following a symlink swapped in since the listing, and without
    updating the access time (O_NOATIME needs the file's owner or CAP_FOWNER; retry without)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    noatime = getattr(os, "O_NOATIME", 0)
    if noatime:
        try:
            return os.open(path, flags | noatime)
        except PermissionError:
            pass
    return os.open(path, flags)


def folder_entry(eid: str, root: str, abspath: str, relpath: str, st: os.stat_result) -> Entry:
    """The entry of one regular file under the folder ``root`` (also a single-file evidence
    item's one entry), read later by :func:`read_folder_file`."""
    birth = getattr(st, "st_birthtime_ns", None)
    if birth is None and getattr(st, "st_birthtime", None) is not None:
        birth = int(st.st_birthtime * 1_000_000_000)
    return Entry(
        evidence_id=eid,
        location=Location(eid, None, relpath),
        path=relpath,
        size=st.st_size,
        deleted=False,
        ref=EntryRef(source=SourceSpec("folder", (root,)), fs_path=abspath, inode=st.st_ino, size=st.st_size),
        mtime=_ns_time(st.st_mtime_ns),
        atime=_ns_time(st.st_atime_ns),
        ctime=_ns_time(st.st_ctime_ns),
        crtime=_ns_time(birth) if birth else None,
    )


def read_folder_file(
    path: str, chunk_size: int, *, inode: int | None = None, size: int | None = None
) -> Iterator[bytes]:
    """Read exactly the file that was listed: same inode, same size, regular file.

    A file replaced, grown or shrunk between listing and reading would otherwise be hashed
    under the listed name; that is refused with an error naming what changed.
    """
    try:
        fd = _open_noatime(path)
    except OSError as e:
        raise EvidenceError(f"cannot open {path}: {e.strerror}") from e
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise EvidenceError(f"{path} is no longer a regular file")
        if inode is not None and st.st_ino != inode:
            raise EvidenceError(f"{path} was replaced since it was listed (inode {inode} -> {st.st_ino})")
        if size is not None and st.st_size != size:
            raise EvidenceError(f"{path} changed size since it was listed ({size} -> {st.st_size} bytes)")
        remaining = size if size is not None else -1
        while remaining:
            try:
                chunk = f.read(chunk_size if remaining < 0 else min(chunk_size, remaining))
            except OSError as e:
                raise EvidenceError(f"cannot read {path}: {e.strerror}") from e
            if not chunk:
                if remaining > 0:
                    raise EvidenceError(f"{path} shrank while it was read ({remaining} bytes missing)")
                return
            if remaining > 0:
                remaining -= len(chunk)
            yield chunk


#: How many symbolic links a warning names; the rest are counted.
NAMED_LINKS = 5


def _links_warning(links: list[str]) -> str:
    """The count and the first few names (as repr: names are evidence-controlled text)."""
    names = ", ".join(repr(name) for name in links[:NAMED_LINKS])
    more = f" and {len(links) - NAMED_LINKS} more" if len(links) > NAMED_LINKS else ""
    return f"{len(links)} symbolic link(s) listed in the folder were not followed: {names}{more}"
