"""Verify a case folder: nothing changed, went missing or was added since the manifest was
written, the audit log chains, the log equals the audit table inside the case database, and the
findings rows (files, matches, errors) still have the digest the "scan finished" event recorded.

Read-only by design: verification opens nothing for writing and never repairs, so checking a
folder cannot change it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from triage.case.audit import read_lines, verify_chain
from triage.case.findings import compare as compare_findings
from triage.case.store import AUDIT_LOG, CASE_DB, CaseStore
from triage.errors import CaseError
from triage.reports import signing
from triage.reports.manifest import MANIFEST, case_files, file_sha256, read_manifest


@dataclass(frozen=True)
class VerifyResult:
    """``ok`` when no problem was found; each problem names a file or an audit line."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # said, but not problems ("not recorded")


def _check_manifest(case_dir: Path) -> list[str]:
    manifest = case_dir / MANIFEST
    if not manifest.is_file():
        return [f"{MANIFEST}: missing"]
    listed, problems = read_manifest(manifest)
    names = set()
    for expected, name in listed:
        names.add(name)
        rel = PurePosixPath(name)
        if rel.is_absolute() or ".." in rel.parts:
            problems.append(f"{name}: listed in {MANIFEST} but outside the case folder")
            continue
        path = case_dir / rel
        if not path.is_file():
            problems.append(f"{name}: missing (listed in {MANIFEST})")
        elif file_sha256(path) != expected:
            problems.append(f"{name}: changed (its SHA-256 differs from {MANIFEST})")
    extra = [name for name in case_files(case_dir) if name not in names]
    problems += [f"{name}: extra file, not in {MANIFEST}" for name in extra]
    return problems


def _check_audit(case_dir: Path, notes: list[str]) -> list[str]:
    log = case_dir / AUDIT_LOG
    ok, _line, message = verify_chain(log)
    problems = [] if ok else [message]
    if not (case_dir / CASE_DB).is_file():
        return problems
    try:
        with CaseStore.open(case_dir, read_only=True) as store:
            stored = store.audit_lines()
            recorded = store.recorded_findings()
            current = store.findings_digest() if recorded is not None else None
    except (CaseError, sqlite3.Error) as e:  # a damaged database is a finding, not a crash
        return [*problems, f"{CASE_DB}: cannot be read to compare the audit table: {e}"]
    if recorded is None or current is None:
        notes.append("findings digest: not recorded (a case from an earlier triage, or an unfinished scan)")
    else:
        problems += [f"{CASE_DB}: {p}" for p in compare_findings(recorded, current)]
    lines = read_lines(log)
    for number, (line, row) in enumerate(zip(lines, stored, strict=False), start=1):
        if line != row:
            return [*problems, f"{AUDIT_LOG} line {number}: differs from the audit table in {CASE_DB}"]
    if len(lines) != len(stored):
        number = min(len(lines), len(stored)) + 1
        problems.append(
            f"{AUDIT_LOG} line {number}: the log has {len(lines)} events,"
            f" the audit table in {CASE_DB} has {len(stored)}"
        )
    return problems


def verify_case(case_dir: Path, public_key: Path | None = None) -> VerifyResult:
    """Check the manifest and the audit chain; with ``public_key`` (an Ed25519 key file) also the
    manifest's signature. The key is read first, so a bad key file is a usage error, not a finding."""
    case_dir = Path(case_dir)
    key = signing.load_public_key(public_key) if public_key is not None else None
    if not case_dir.is_dir():
        raise CaseError(f"{case_dir}: not a folder")
    if not (case_dir / CASE_DB).exists() and not (case_dir / AUDIT_LOG).exists():
        # Nothing to verify is not the same as "changed": exit 2, not 3.
        raise CaseError(f"{case_dir}: not a triage case folder (no {CASE_DB}, no {AUDIT_LOG})")
    notes: list[str] = []
    problems = _check_manifest(case_dir) + _check_audit(case_dir, notes)
    if key is not None:
        problems += signing.check_signature(case_dir, key)
    return VerifyResult(not problems, problems, notes)
