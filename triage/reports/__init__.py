"""Reports: one writer per format, each reading only the case store, plus the manifest and the
verification of a whole case folder.

Writing order matters: reports first, then the "report written" audit event (with each report's
SHA-256), then MANIFEST.sha256 last, so the manifest covers the final database, audit log and
reports. Nothing may change the folder after the manifest.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from triage import __version__
from triage.case.store import CaseStore
from triage.errors import ReportError
from triage.reports import signing
from triage.reports.manifest import MANIFEST, file_sha256, write_manifest
from triage.reports.verify import VerifyResult, verify_case


class _Lazy:
    """A renderer imported on first use: the PDF library alone costs a fifth of a second at
    start-up, which every ``triage --help`` and every scan without a PDF would pay.

    Calling it gives the whole report as bytes. :meth:`chunks` gives the same bytes as a stream
    when the module offers ``<function>_chunks`` (report.json and the CSV files, which grow with
    the number of files on the evidence), else the whole report as one chunk.
    """

    def __init__(self, module: str, function: str) -> None:
        self.module, self.function = module, function
        self.__qualname__ = f"{module}.{function}"

    def __call__(self, store: CaseStore) -> bytes:
        return getattr(importlib.import_module(f"triage.reports.{self.module}"), self.function)(store)

    def chunks(self, store: CaseStore) -> Iterable[bytes]:
        module = importlib.import_module(f"triage.reports.{self.module}")
        streamed = getattr(module, f"{self.function}_chunks", None)
        return streamed(store) if streamed is not None else (self(store),)


def _chunks(render: Callable[[CaseStore], bytes], store: CaseStore) -> Iterable[bytes]:
    """The report's bytes as a stream when its renderer can stream (a plain function cannot)."""
    streamed = getattr(render, "chunks", None)
    return streamed(store) if callable(streamed) else (render(store),)


#: format → (file name in the case folder, renderer). Adding a format: one module, one line here.
WRITERS: dict[str, tuple[str, Callable[[CaseStore], bytes]]] = {
    "json": ("report.json", _Lazy("json_report", "render")),
    "html": ("report.html", _Lazy("html_report", "render")),
    "csv-files": ("files.csv", _Lazy("csv_report", "render_files")),
    "csv-matches": ("matches.csv", _Lazy("csv_report", "render_matches")),
    "pdf": ("report.pdf", _Lazy("pdf_report", "render")),
    "dfxml": ("report.dfxml", _Lazy("dfxml_report", "render")),
    "case": ("report.case.jsonld", _Lazy("case_report", "render")),
    "vics": ("report.vics.json", _Lazy("vics_report", "render")),
}
#: A format the examiner names that writes more than one file.
GROUPS: dict[str, tuple[str, ...]] = {"csv": ("csv-files", "csv-matches")}
#: What ``triage scan`` writes unless ``--format`` says otherwise.
DEFAULT_FORMATS: tuple[str, ...] = ("html", "json", "csv")
FORMAT_NAMES: tuple[str, ...] = ("html", "json", "csv", "pdf", "dfxml", "case", "vics")

__all__ = [
    "DEFAULT_FORMATS",
    "FORMAT_NAMES",
    "MANIFEST",
    "WRITERS",
    "VerifyResult",
    "expand_formats",
    "verify_case",
    "write_manifest",
    "write_reports",
]


def expand_formats(formats: Sequence[str]) -> list[str]:
    """Writer keys for the formats named (``csv`` is two files; comma-separated lists allowed),
    once each, in the order given. Unknown names raise ReportError before anything is written."""
    names = [f.strip().lower() for item in formats for f in item.split(",") if f.strip()]
    unknown = [f for f in names if f not in WRITERS and f not in GROUPS]
    if unknown:
        raise ReportError(f"unknown report format(s) {', '.join(unknown)}; known: {', '.join(FORMAT_NAMES)}")
    return list(dict.fromkeys(k for f in names for k in GROUPS.get(f, (f,))))


def _write_atomic(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` (bytes, or chunks written as they come) to a temporary file and move it
    into place, so a report is either whole or absent; a failure part-way (a full disk, a
    writer's bug) removes the temporary file and leaves any earlier report as it was."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as fh:
            for chunk in (data,) if isinstance(data, bytes) else data:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise ReportError(f"cannot write {path}: {e}") from e
        raise


#: From this many files on, the reports are written in parallel, one process each (report.json
#: and the CSV files take seconds per 100,000 files, each on one core; below it the processes'
#: start-up would cost more than they save).
PARALLEL_FILES = 20_000


def _write_one(case_dir: Path, store: CaseStore, fmt: str) -> str | None:
    """Write one report; None, or why it was not written."""
    name, render = WRITERS[fmt]
    try:
        _write_atomic(case_dir / name, _chunks(render, store))
    except ReportError as e:
        return str(e)
    except Exception as e:  # one writer's bug must not leave the case without a manifest
        return f"{type(e).__name__}: {' '.join(str(e).split())[:300]}"
    return None


def _write_in_process(case_dir: str, fmt: str) -> str | None:
    """:func:`_write_one` in a worker process, from its own read-only view of the case store."""
    with CaseStore.open(Path(case_dir), read_only=True) as store:
        return _write_one(Path(case_dir), store, fmt)


def _write_parallel(case_dir: Path, keys: Sequence[str]) -> dict[str, str | None]:
    """Every report at once, one process each. Each reads only the committed case store, so the
    bytes are those the sequential writer gives. A process that dies is that report's failure."""
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
    outcomes: dict[str, str | None] = {}
    with ProcessPoolExecutor(max_workers=len(keys), mp_context=ctx) as pool:
        futures = {fmt: pool.submit(_write_in_process, str(case_dir), fmt) for fmt in keys}
        for fmt, future in futures.items():
            try:
                outcomes[fmt] = future.result()
            except Exception as e:  # the process died (BrokenProcessPool) or could not start
                outcomes[fmt] = f"{type(e).__name__}: {' '.join(str(e).split())[:300]}"
    return outcomes


def write_reports(
    case_dir: Path,
    store: CaseStore,
    formats: Sequence[str] = ("json", "html"),
    *,
    sign_key: Path | None = None,
    drop_signature: bool = False,
) -> list[Path]:
    """Write the reports for ``formats``, audit them, then write the manifest (and, with
    ``sign_key``, an Ed25519 private key file, its signature).

    Returns the report paths in the order of ``formats``, then the manifest's path (then the
    signature's). A signature left by an earlier run no longer matches the new manifest: without
    ``sign_key`` this refuses (ReportError, nothing written) unless ``drop_signature`` says to
    remove it, which the audit log records (#12: it was dropped silently).
    """
    case_dir = Path(case_dir)
    keys = expand_formats(formats)
    private = signing.load_private_key(sign_key) if sign_key is not None else None
    if private is None and not drop_signature and (case_dir / signing.SIGNATURE).exists():
        raise ReportError(
            f"{case_dir} is signed ({signing.SIGNATURE}) and new reports would invalidate the signature:"
            " sign again (--sign KEY) or remove it (--drop-signature, recorded in the audit log)"
        )
    written: list[Path] = []
    failed: list[str] = []
    parallel = len(keys) > 1 and store.summary()["files"] >= PARALLEL_FILES
    outcomes = _write_parallel(case_dir, keys) if parallel else {}
    for fmt in keys:
        name = WRITERS[fmt][0]
        problem = outcomes[fmt] if parallel else _write_one(case_dir, store, fmt)
        if problem is None:
            written.append(case_dir / name)
        else:
            failed.append(f"{name}: {problem}")
    old_signature = case_dir / signing.SIGNATURE
    details: dict[str, object] = {"files": {p.name: file_sha256(p) for p in written}}
    details["tool_version"] = __version__
    if private is not None:
        details["signed_by"] = signing.fingerprint(private.public_key())
    elif old_signature.exists():
        details["signature_removed"] = True
    if failed:
        details["failed"] = failed
    store.audit("report written", **details)
    if private is None and old_signature.exists():
        try:
            old_signature.unlink()
        except OSError as e:
            raise ReportError(f"cannot remove the outdated {old_signature}: {e}") from e
    written.append(write_manifest(case_dir))
    if private is not None:
        written.append(signing.sign_manifest(case_dir, private))
    if failed:
        # Everything else is written, audited and in the manifest; now say what is missing.
        raise ReportError("report(s) not written: " + "; ".join(failed))
    return written
