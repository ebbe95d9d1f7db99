"""Checks made before a scan creates anything, so bad input never leaves a half-made case.

Each function raises :class:`~triage.errors.UsageError` with one line naming the problem.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from triage.errors import UsageError
from triage.evidence.single import detect_single
from triage.records import CaseInfo


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _chain(path: Path) -> list[tuple[int, int]]:
    """The (device, inode) of ``path`` and of each of its existing ancestors: the same folder
    reached through a bind mount has another path but the same identity."""
    out = []
    for p in (path, *path.parents):
        ident = _identity(p)
        if ident is not None:
            out.append(ident)
    return out


def _within(inner: Path, outer: Path) -> bool:
    """Whether ``inner`` is ``outer`` or lies below it: by resolved path (symlinks and ``..``
    followed), then by folder identity (bind mounts, hard-linked folders)."""
    if inner == outer or outer in inner.parents:
        return True
    ident = _identity(outer)
    return ident is not None and ident in _chain(inner)


def check_case_dir(case_dir: Path, evidence_paths: Sequence[str]) -> None:
    """The case folder must be new or empty, and must not overlap any evidence.

    Writing the case inside a folder being scanned would change the evidence and make the scan
    list its own files; scanning a folder that holds the case would do the same. Both sides
    are compared resolved (``realpath``: a symlink or ``..`` must not hide the overlap) and by
    device and inode, so a bind mount of the evidence folder is caught too (#12).
    """
    out = Path(os.path.realpath(case_dir))
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {case_dir}: must be a new or empty folder (a case is never written over)")
    for ev in evidence_paths:
        src = Path(os.path.realpath(ev))
        if _within(out, src):
            raise UsageError(
                f"--out {case_dir} is inside the evidence {ev}: the evidence must not be written to"
            )
        if _within(src, out):
            raise UsageError(f"the evidence {ev} is inside the case folder {case_dir}")


def check_case_info(case: CaseInfo) -> None:
    """Custody fields are printed in reports and logs: no control characters, not blank."""
    for label, value in (
        ("--case-number", case.case_number),
        ("--examiner", case.examiner),
        ("--agency", case.agency),
    ):
        if value is None:
            continue
        if not value.strip():
            raise UsageError(f"{label} must not be blank")
        if not value.isprintable():
            raise UsageError(f"{label} {value!r}: control characters are not allowed")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise UsageError(f"{label}: not valid text ({e.reason})") from e
    if case.notes is not None:
        try:
            case.notes.encode("utf-8")
        except UnicodeEncodeError as e:
            raise UsageError(f"--notes: not valid text ({e.reason})") from e


def check_distinct_evidence(sources: Sequence[tuple[str, str]]) -> None:
    """Each evidence item once: the same path twice, or the same file or folder reached by
    another path (a symbolic link, a hard link, ``./a`` and ``a``), would be listed and counted
    twice, every finding doubled; so would a folder, or a picture or video file, inside a folder
    also given (a disk image inside one is not: the folder lists the image as one file, the image
    item lists what is in it). Paths that cannot be looked at are left to the opener."""
    seen: dict[tuple[int, int] | str, tuple[str, str]] = {}
    for path, eid in sources:
        keys: list[tuple[int, int] | str] = [os.path.realpath(path)]
        try:
            st = os.stat(path)
            keys.append((st.st_dev, st.st_ino))
        except OSError:
            pass
        for key in keys:
            if key in seen:
                first_path, first_id = seen[key]
                raise UsageError(
                    f"evidence {eid} ({path}) is the same item as {first_id} ({first_path}):"
                    " give each evidence item once"
                )
        for key in keys:
            seen[key] = (path, eid)
    real = [(Path(os.path.realpath(path)), path, eid) for path, eid in sources]
    for inner, inner_path, inner_id in real:
        for outer, outer_path, outer_id in real:
            if outer in inner.parents and _listed_alike(inner):
                raise UsageError(
                    f"evidence {inner_id} ({inner_path}) is inside evidence {outer_id} ({outer_path}):"
                    " its files would be listed and counted twice; give each evidence item once"
                )


def absolute_evidence_path(path: str) -> str:
    """An evidence or hash-set path as stored: absolute, so ``--resume`` works from any folder
    (symbolic links kept as given, so the record says which path the examiner named)."""
    return os.path.abspath(path)


def _listed_alike(path: Path) -> bool:
    """Would ``path`` as an evidence item list the same files a folder holding it lists?"""
    if path.is_dir():
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return detect_single(path, head)
