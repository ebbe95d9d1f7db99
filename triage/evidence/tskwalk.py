"""Walk one TSK file system: every regular file, allocated or deleted, orphans included.

The walk mirrors ``fls -r -p``: names come in the directory order TSK gives (so every run
lists the same order), ``.``/``..`` are skipped, deleted names are listed (with ``no-meta``
when only the name is left) and ``$OrphanFiles`` is entered like any folder. On NTFS every
``$DATA`` attribute is its own entry, named ``file:stream`` for alternate streams, as fls
prints them. A folder whose meta address was already walked is not entered again, so a
corrupt folder structure that loops back on itself terminates; the loop is recorded as a
warning. The walk uses an explicit stack (no recursion limit) and builds each folder's path
once, so listing cost stays close to ``fls -r``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import pytsk3

from triage.evidence import damage, ntfs_orphans
from triage.evidence.volumes import TSK_ERRORS, OpenVolume
from triage.locator import Location, Volume
from triage.records import DAMAGE_PREFIX, Entry, EntryRef, SourceSpec
from triage.timeutil import iso_utc

_NAME_REG = int(pytsk3.TSK_FS_NAME_TYPE_REG)
_NAME_UNDEF = int(pytsk3.TSK_FS_NAME_TYPE_UNDEF)
_NAME_VIRT_DIR = int(pytsk3.TSK_FS_NAME_TYPE_VIRT_DIR)
_META_REG = int(pytsk3.TSK_FS_META_TYPE_REG)
_META_DIRS = (int(pytsk3.TSK_FS_META_TYPE_DIR), int(pytsk3.TSK_FS_META_TYPE_VIRT_DIR))
_NAME_UNALLOC = int(pytsk3.TSK_FS_NAME_FLAG_UNALLOC)
_META_UNALLOC = int(pytsk3.TSK_FS_META_FLAG_UNALLOC)
_META_ALLOC = int(pytsk3.TSK_FS_META_FLAG_ALLOC)
_NTFS_DATA = int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA)
_NTFS_IDXROOT = int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_IDXROOT)
_DOTS = (b".", b"..")
_ORPHANS = b"$OrphanFiles"
#: NTFS's $BadClus: its $Bad stream is sparse and as long as the volume (TSK reads nothing).
_BADCLUS = 8
#: Folder problems recorded per file system before the rest are only counted.
MAX_WARNINGS = 200


class _Name(NamedTuple):
    """The two fields of a TSK name the entry needs, for a file found by its record alone."""

    flags: int
    meta_addr: int


def _size_of(fs, addr: int) -> int:
    try:
        meta = fs.open_meta(inode=addr).info.meta
    except TSK_ERRORS:
        return 0
    return int(meta.size) if meta is not None else 0


def _allocated(name, meta) -> bool:
    return not int(name.flags) & _NAME_UNALLOC and bool(int(meta.flags) & _META_ALLOC)


def _decode(raw: bytes | str) -> str:
    return raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw


class FsWalker:
    """Yields :class:`Entry` records for one open file system; collects warnings."""

    def __init__(self, vol: OpenVolume, evidence_id: str, spec: SourceSpec) -> None:
        self.vol = vol
        self.evidence_id = evidence_id
        self.spec = spec
        self.volume = Volume(vol.label, vol.offset, vol.fs_type)
        self.is_ntfs = vol.fs_type == "ntfs"
        self.warnings: list[str] = []
        self._suppressed = 0
        self._visited: set[int] = set()
        #: What the walk reached, for the damage checks after it.
        self.census = damage.Census(addrs=set() if damage.searchable(vol.fs_type) else None)

    def _warn(self, text: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(f"{self.volume}: {text}")
        else:
            self._suppressed += 1

    def entries(self) -> Iterator[Entry]:
        fs = self.vol.fs
        root = int(fs.info.root_inum)
        self._visited = {root}
        self.census.add(root, _size_of(fs, root), is_dir=True)
        yield from self._walk([(root, "", False, frozenset((root,)))])
        yield from self._orphan_search()
        if self._suppressed:
            self.warnings.append(f"{self.volume}: {self._suppressed} more folder problems not listed")

    def _orphan_search(self) -> Iterator[Entry]:
        """Where the walk reached far fewer files than the allocation maps hold, walk the folders
        and (ext) files no folder reaches, under ``$OrphanFiles`` (:mod:`triage.evidence.damage`)."""
        alloc = damage.allocation(self.vol, self.census)
        if not damage.looks_damaged(alloc):
            return
        before = self.census.files
        for addr in damage.orphan_dirs(self.vol, self.census):
            if addr in self._visited:
                continue
            self._visited.add(addr)
            self.census.add(addr, _size_of(self.vol.fs, addr), is_dir=True)
            yield from self._walk(
                [(addr, f"/{_ORPHANS.decode()}/OrphanFolder-{addr}", True, frozenset((addr,)))]
            )
        for addr in damage.loose_files(self.vol, self.census):
            try:
                f = self.vol.fs.open_meta(inode=addr)
            except TSK_ERRORS:
                continue
            meta = f.info.meta
            self.census.add(addr, int(meta.size))
            path = f"/{_ORPHANS.decode()}/OrphanFile-{addr}"
            yield self._entry(path, str(addr), int(meta.size), False, meta, addr, None, None, ("orphan",))
        if self.is_ntfs and self.census.addrs is not None:
            for addr, path, f in ntfs_orphans.unreached(self.vol.fs, self.census.addrs):
                meta = f.info.meta
                name = _Name(0, addr)  # allocated: the record says so
                yield from self._file_entries(f, name, meta, f"/{_ORPHANS.decode()}{path}", True)
                self.census.add(addr, int(meta.size))
        found = self.census.files - before
        note = f"{damage.damage_note(alloc)} ({found:,} files found that way)"
        self.warnings.append(f"{DAMAGE_PREFIX}{self.volume}: {note}")

    def _walk(self, stack: list[tuple[int, str, bool, frozenset[int]]]) -> Iterator[Entry]:
        """Depth first from ``stack``; each item: (folder meta address, folder path, inside
        $OrphanFiles, ancestors)."""
        fs, visited, census = self.vol.fs, self._visited, self.census
        while stack:
            addr, prefix, orphan, ancestors = stack.pop()
            try:
                directory = fs.open_dir(inode=addr)
                children = list(directory)
            except TSK_ERRORS as e:
                self._warn(
                    f"cannot list folder {prefix or '/'} (meta {addr}): {' '.join(str(e).split())[:160]}"
                )
                continue
            subdirs: list[tuple[int, str, bool, frozenset[int]]] = []
            for f in children:
                info = f.info
                name = info.name
                raw = name.name
                if raw in _DOTS:
                    continue
                meta = info.meta
                ntype = int(name.type)
                if meta is None and ntype == _NAME_UNDEF and name.meta_addr:
                    # Orphans ($OrphanFiles) come without loaded metadata; fls loads it.
                    f, meta = self._load_meta(fs, int(name.meta_addr), f)
                mtype = int(meta.type) if meta is not None else None
                path = f"{prefix}/{_decode(raw)}"
                if ntype == _NAME_REG or (ntype == _NAME_UNDEF and mtype == _META_REG):
                    yield from self._file_entries(f, name, meta, path, orphan)
                    if meta is not None and _allocated(name, meta):
                        census.add(int(meta.addr), int(meta.size))
                elif mtype is not None and mtype not in _META_DIRS and _allocated(name, meta):
                    census.others += 1  # symbolic links, devices ...: in use, not listed
                if mtype in _META_DIRS:
                    sub = int(meta.addr)
                    if sub in ancestors:
                        self._warn(f"folder loop: {path} points back to an enclosing folder (meta {sub})")
                    elif sub in visited:
                        self._warn(f"folder {path} (meta {sub}) was already walked under another name")
                    else:
                        visited.add(sub)
                        census.add(sub, int(meta.size), is_dir=True)
                        in_orphans = orphan or (prefix == "" and ntype == _NAME_VIRT_DIR and raw == _ORPHANS)
                        subdirs.append((sub, path, in_orphans, ancestors | {sub}))
            # A folder's files first, then its sub-folders in directory order (depth first).
            stack.extend(reversed(subdirs))

    @staticmethod
    def _load_meta(fs, addr: int, f):
        try:
            loaded = fs.open_meta(inode=addr)
        except TSK_ERRORS:
            return f, None
        return loaded, loaded.info.meta

    def _file_entries(self, f, name, meta, path: str, orphan: bool) -> Iterator[Entry]:
        name_unalloc = bool(int(name.flags) & _NAME_UNALLOC)
        meta_addr = int(name.meta_addr)
        flags: list[str] = ["orphan"] if orphan else []
        if meta is None:
            if name_unalloc or orphan:
                flags.append("no-meta")
            else:
                # The folder still names the file as allocated; its MFT record / inode is what
                # is damaged. Unknown, not deleted: it is sent to be read, and the read error
                # is recorded against it (#12).
                flags.append("meta-unreadable")
            yield self._entry(
                path, str(meta_addr), 0, name_unalloc or orphan, None, None, None, None, tuple(flags)
            )
            return
        mflags = int(meta.flags)
        deleted = name_unalloc or bool(mflags & _META_UNALLOC)
        if name_unalloc and mflags & _META_ALLOC:
            flags.append("realloc")
        inode = int(meta.addr)
        if self.is_ntfs:
            streams = []
            index = False
            try:
                for attr in f:
                    ai = attr.info
                    atype = int(ai.type)
                    if atype == _NTFS_DATA:
                        streams.append((ai.name, int(ai.id), int(ai.size)))
                    elif atype == _NTFS_IDXROOT:
                        index = True
            except TSK_ERRORS as e:  # a corrupt MFT entry costs its streams, not the walk
                self._warn(f"cannot read the attributes of {path} ({meta_addr}): {e}")
            for aname, aid, asize in streams:
                spath = f"{path}:{_decode(aname)}" if aname else path
                text = f"{meta_addr}-{_NTFS_DATA}-{aid}"
                sflags = (
                    (*flags, "bad-cluster-map") if inode == _BADCLUS and aname == b"$Bad" else tuple(flags)
                )
                yield self._entry(spath, text, asize, deleted, meta, inode, _NTFS_DATA, aid, sflags)
            if streams or index:
                # Files with only index attributes ($ObjId:$O ...) hold no file content.
                return
        yield self._entry(
            path, str(meta_addr), int(meta.size), deleted, meta, inode, None, None, tuple(flags)
        )

    def _entry(self, path, inode_text, size, deleted, meta, inode, attr_type, attr_id, flags) -> Entry:
        ref = EntryRef(
            source=self.spec,
            volume_offset=self.vol.offset,
            fs_type=self.vol.fs_type,
            inode=inode,
            attr_type=attr_type,
            attr_id=attr_id,
        )
        times: tuple[str | None, ...] = (None, None, None, None)
        if meta is not None:
            times = (
                iso_utc(meta.mtime, meta.mtime_nano),
                iso_utc(meta.atime, meta.atime_nano),
                iso_utc(meta.ctime, meta.ctime_nano),
                iso_utc(meta.crtime, meta.crtime_nano),
            )
        return Entry(
            evidence_id=self.evidence_id,
            location=Location(self.evidence_id, self.volume, path, inode_text),
            path=path,
            size=size,
            deleted=deleted,
            ref=ref,
            inode=inode_text,
            mtime=times[0],
            atime=times[1],
            ctime=times[2],
            crtime=times[3],
            flags=flags,
        )
