"""MANIFEST.sha256: the SHA-256 of every other file in the case folder, written last.

The format is what ``sha256sum -c MANIFEST.sha256`` reads (``<hex>  <name>``, names relative to
the case folder, sorted), so anyone can check a case folder with standard tools and no triage.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from triage.errors import ReportError

MANIFEST = "MANIFEST.sha256"
#: Written after the manifest (its Ed25519 signature, :mod:`triage.reports.signing`), so never in it.
NOT_LISTED = frozenset({MANIFEST, MANIFEST + ".sig"})
_LINE = re.compile(r"([0-9a-f]{64})  (\S.*)")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def case_files(case_dir: Path) -> list[str]:
    """Every file under ``case_dir`` except the manifest and its signature, as sorted
    ``/``-separated relative names."""
    names = [p.relative_to(case_dir).as_posix() for p in case_dir.rglob("*") if p.is_file() or p.is_symlink()]
    return sorted(n for n in names if n not in NOT_LISTED)


def write_manifest(case_dir: Path) -> Path:
    """Hash every other file and write the manifest (atomically: a crash leaves the old one or none)."""
    case_dir = Path(case_dir)
    lines = []
    for name in case_files(case_dir):
        if "\n" in name or "\\" in name:
            raise ReportError(f"cannot list {name!r} in {MANIFEST}: newline or backslash in the name")
        try:
            lines.append(f"{file_sha256(case_dir / name)}  {name}\n")
        except OSError as e:
            raise ReportError(f"cannot hash {case_dir / name}: {e}") from e
    target = case_dir / MANIFEST
    tmp = case_dir / f".{MANIFEST}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write("".join(lines))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as e:
        raise ReportError(f"cannot write {target}: {e}") from e
    return target


def read_manifest(path: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """``([(sha256, name), ...], [problems])`` from a manifest file."""
    entries: list[tuple[str, str]] = []
    problems: list[str] = []
    text = path.read_bytes().decode("utf-8", "replace")
    for number, line in enumerate(text.splitlines(), start=1):
        m = _LINE.fullmatch(line)
        if not m:
            problems.append(f"{MANIFEST} line {number}: not '<sha256>  <name>'")
            continue
        entries.append((m.group(1), m.group(2)))
    return entries, problems
