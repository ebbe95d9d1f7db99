"""Reports: one writer per format, each reading only the case store, plus the manifest and the
verification of a whole case folder.

Writing order matters: reports first, then the "report written" audit event (with each report's
SHA-256), then MANIFEST.sha256 last, so the manifest covers the final database, audit log and
reports. Nothing may change the folder after the manifest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from triage import __version__
from triage.case.store import CaseStore
from triage.errors import ReportError
from triage.reports import html_report, json_report
from triage.reports.manifest import MANIFEST, file_sha256, write_manifest
from triage.reports.verify import VerifyResult, verify_case

#: format → (file name in the case folder, renderer). Adding a format: one module, one line here.
WRITERS: dict[str, tuple[str, Callable[[CaseStore], bytes]]] = {
    "json": ("report.json", json_report.render),
    "html": ("report.html", html_report.render),
}

__all__ = ["MANIFEST", "WRITERS", "VerifyResult", "verify_case", "write_manifest", "write_reports"]


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as e:
        raise ReportError(f"cannot write {path}: {e}") from e


def write_reports(case_dir: Path, store: CaseStore, formats: Sequence[str] = ("json", "html")) -> list[Path]:
    """Write the reports for ``formats``, audit them, then write the manifest.

    Returns the report paths in the order of ``formats``, then the manifest's path.
    """
    case_dir = Path(case_dir)
    unknown = [f for f in formats if f not in WRITERS]
    if unknown:
        raise ReportError(f"unknown report format(s) {', '.join(unknown)}; known: {', '.join(WRITERS)}")
    written: list[Path] = []
    for fmt in dict.fromkeys(formats):
        name, render = WRITERS[fmt]
        path = case_dir / name
        _write_atomic(path, render(store))
        written.append(path)
    store.audit("report written", files={p.name: file_sha256(p) for p in written}, tool_version=__version__)
    written.append(write_manifest(case_dir))
    return written
