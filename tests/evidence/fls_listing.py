"""Parse The Sleuth Kit's ``fls -r -p -o OFFSET`` listings stored in the conformance corpus."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADER = re.compile(r"^# fls -r -p -o (\d+)(?:\s+-f\s+(\S+))?\s*$")
_LINE = re.compile(
    r"^(?P<type>[-a-zA-Z]/[-a-zA-Z]) (?P<deleted>\* )?(?P<meta>[0-9-]+)"
    r"(?P<realloc>\(realloc\))?:\t(?P<path>.*)$"
)


@dataclass(frozen=True)
class FlsLine:
    type: str  # e.g. "r/r", "r/-", "-/r", "d/d"
    meta: str  # "14" or "4-128-4"
    deleted: bool
    realloc: bool
    path: str  # without the leading "/"


def parse_fls(text: str) -> dict[int, list[FlsLine]]:
    """Listing per partition offset in sectors (the ``-o`` value); ``# mmls`` output is skipped.

    A section whose fls printed an error instead (``Cannot determine file system type``) maps to
    an empty list.
    """
    sections: dict[int, list[FlsLine]] = {}
    current: list[FlsLine] | None = None
    for line in text.splitlines():
        m = _HEADER.match(line)
        if m:
            current = sections.setdefault(int(m.group(1)), [])
            continue
        if line.startswith("#"):
            current = None  # "# mmls" and any other tool's section
            continue
        if current is None:
            continue
        lm = _LINE.match(line)
        if lm:
            current.append(
                FlsLine(lm["type"], lm["meta"], bool(lm["deleted"]), bool(lm["realloc"]), lm["path"])
            )
    return sections


def regular_files(lines: list[FlsLine]) -> set[tuple[str, str, bool]]:
    """``(path, meta address, deleted)`` of every regular-file line: type ``r/?`` or ``-/r``.

    Excluded, and why: directories (``d/d``), links (``l/l``) and virtual files (``v/v``,
    ``V/V``: $MBR, $FAT1, $OrphanFiles) are not file content; on NTFS, lines whose meta address
    names an index attribute (type 144, ``$Extend/$ObjId:$O``, ``$Secure:$SDH``) are B-tree
    indexes of system files, not data streams, so the walker does not list them.
    """
    out = set()
    for ln in lines:
        if not (ln.type.startswith("r/") or ln.type == "-/r"):
            continue
        parts = ln.meta.split("-")
        if len(parts) == 3 and parts[1] == "144":
            continue
        out.add(("/" + ln.path, ln.meta, ln.deleted))
    return out


def our_listing(evidence, sector: int = 512) -> dict[int, set[tuple[str, str, bool]]]:
    """Our entries as fls shows them: per partition offset in sectors, ``(path, meta, deleted)``.
    TSK prints control characters in names as ``^``; ours are mapped the same way."""
    ours: dict[int, set[tuple[str, str, bool]]] = {}
    for e in evidence.entries():
        path = re.sub(r"[\x00-\x1f]", "^", e.path)
        ours.setdefault(e.location.volume.offset // sector, set()).add((path, e.inode, e.deleted))
    return ours


def assert_same_as_fls(evidence, fls_text: str) -> None:
    """Every file system fls listed has exactly fls's regular files, and nothing else is listed."""
    sections = parse_fls(fls_text)
    assert sections, "no fls section parsed"
    ours = our_listing(evidence)
    for offset, lines in sections.items():
        want = regular_files(lines)
        got = ours.get(offset, set())
        assert got == want, (
            f"offset {offset}: missing {sorted(want - got)[:5]}, extra {sorted(got - want)[:5]}"
        )
    assert set(ours) <= set(sections), (
        f"listed from file systems fls did not list: {set(ours) - set(sections)}"
    )
