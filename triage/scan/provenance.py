"""Which software produced a case: recorded at scan time so a report names the exact versions.

A court may ask which decoder computed a perceptual hash; the answer is the versions recorded
here, not whatever is installed when the report is read.
"""

from __future__ import annotations

import platform
import re
from collections.abc import Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any

import triage

if TYPE_CHECKING:
    from triage.case.store import CaseStore
    from triage.evidence import Evidence
    from triage.hashsets import MatchIndex
    from triage.scan.options import ScanOptions

#: Distributions whose versions can change a result (decoding, hashing, evidence reading) or the report.
DEPENDENCIES: tuple[str, ...] = (
    "click", "pillow", "pillow-heif", "imagehash", "pdqhash", "numpy", "pytsk3", "libewf-python",
    "opencv-python-headless", "jinja2", "rich", "fpdf2", "cryptography",
)  # fmt: skip
NOT_INSTALLED = "not installed"


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return NOT_INSTALLED


def dependency_names() -> tuple[str, ...]:
    """The runtime requirements triage was installed with (so a new dependency is recorded
    without anyone remembering to list it), falling back to :data:`DEPENDENCIES`."""
    try:
        requires = metadata.requires("triage") or []
    except metadata.PackageNotFoundError:
        return DEPENDENCIES
    names = {re.split(r"[\s<>=!~;\[(]", r, maxsplit=1)[0].lower() for r in requires if "extra ==" not in r}
    return tuple(sorted(names | set(DEPENDENCIES)))


def tool_info() -> dict[str, Any]:
    """Name, version, dependency versions, Python version and platform of this triage."""
    return {
        "name": "triage",
        "version": triage.__version__,
        "dependencies": {name: package_version(name) for name in dependency_names()},
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def record_setup(
    store: CaseStore, options: ScanOptions, index: MatchIndex, opened: Sequence[Evidence]
) -> None:
    """Record what this scan works with, before any file is read: its options and policies,
    every hash set (path, SHA-256, format, role, counts) and every evidence item as opened."""
    settings = options.to_settings()
    for key, value in settings.items():
        store.set_setting(key, value)
    store.audit("scan started", options=settings["scan_options"])
    for info in index.infos:
        store.add_hashset(info)
        store.audit(
            "hash set loaded",
            path=info.path,
            sha256=info.sha256,
            format=info.format,
            role=info.role,
            entries=info.entries,
            counts=dict(info.counts),
            index=info.index,
            built_at=info.built_at,
        )
    for ev in opened:
        store.add_evidence(ev.info)
        store.audit(
            "evidence opened",
            evidence_id=ev.info.evidence_id,
            source=ev.info.source,
            kind=ev.info.kind,
            size=ev.info.size,
            segments=list(ev.info.segments),
            stored_md5=ev.info.stored_md5,
            stored_sha1=ev.info.stored_sha1,
            volumes=[
                str(v.label) + "@" + str(v.offset) + "(" + (v.fs_type or "-") + ")" for v in ev.info.volumes
            ],
        )
