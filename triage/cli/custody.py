"""Chain-of-custody metadata from the command line and an optional case file (``case.toml``).

A case file lets a lab keep what it already typed into its case system::

    case_number = "C-2026-001"
    examiner = "J. Doe"
    agency = "Example Police Digital Forensics Unit"
    notes = "Seized 2026-11-20 under warrant 123."

    [[evidence]]
    id = "EV1"
    description = "Seagate 500 GB SATA disk, serial 5VJ123, bag 44"

Nothing is ever invented: a field is what an option or the file says, and when both give one
they must agree (a disagreement is almost always the wrong file, and guessing which is right
would put a wrong name on a custody record). Evidence descriptions are kept with the case as
``extra`` pairs ``evidence EV1 description``, which every report shows.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from triage.errors import UsageError
from triage.inputfiles import require_regular_file
from triage.records import CaseInfo

CASE_KEYS = ("case_number", "examiner", "agency", "notes")


@dataclass(frozen=True)
class CaseFile:
    fields: dict[str, str]
    evidence: tuple[tuple[str, str | None], ...]  # (id, description) in file order
    extra: tuple[tuple[str, str], ...] = ()


def description_key(evidence_id: str) -> str:
    return f"evidence {evidence_id} description"


def load_case_file(path: Path) -> CaseFile:
    """Read ``case.toml``; a wrong key or type is a usage error naming the file."""
    require_regular_file(path, "case", UsageError)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise UsageError(f"case file {path}: {e}") from e
    fields: dict[str, str] = {}
    extra: list[tuple[str, str]] = []
    for key, value in data.items():
        if key == "evidence":
            continue
        if key == "extra" and isinstance(value, dict):
            extra += [(str(k), _text(path, f"extra.{k}", v)) for k, v in value.items()]
        elif key in CASE_KEYS:
            fields[key] = _text(path, key, value)
        else:
            raise UsageError(
                f"case file {path}: unknown key {key!r} (known: {', '.join(CASE_KEYS)}, extra, evidence)"
            )
    evidence = []
    items = data.get("evidence", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise UsageError(f"case file {path}: 'evidence' must be a list of [[evidence]] tables")
    for n, item in enumerate(items, start=1):
        unknown = set(item) - {"id", "description"}
        if unknown or "id" not in item:
            raise UsageError(
                f"case file {path}: [[evidence]] number {n} needs 'id' (and may have 'description')"
            )
        desc = item.get("description")
        evidence.append(
            (
                _text(path, "evidence.id", item["id"]),
                None if desc is None else _text(path, "description", desc),
            )
        )
    return CaseFile(fields, tuple(evidence), tuple(extra))


def _text(path: Path, key: str, value: object) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise UsageError(f"case file {path}: {key} must be text")
    return str(value)


def custody(
    options: dict[str, str | None],
    evidence_ids: tuple[str, ...],
    descriptions: tuple[str, ...],
    case_file: CaseFile | None,
    evidence_count: int,
) -> tuple[CaseInfo, list[str]]:
    """Merge options and the case file into the CaseInfo and the evidence ids (in EVIDENCE order)."""
    merged: dict[str, str | None] = {}
    file_fields = case_file.fields if case_file else {}
    for key in CASE_KEYS:
        given, listed = options.get(key), file_fields.get(key)
        if given is not None and listed is not None and given != listed:
            raise UsageError(f"--{key.replace('_', '-')} {given!r} disagrees with the case file ({listed!r})")
        merged[key] = given if given is not None else listed
    for key in ("case_number", "examiner"):
        if not merged[key]:
            raise UsageError(f"--{key.replace('_', '-')} is required (as an option or in --case-file)")
    file_ids = [eid for eid, _ in case_file.evidence] if case_file else []
    if evidence_ids and file_ids and list(evidence_ids) != file_ids[: len(evidence_ids)]:
        raise UsageError("--evidence-id values disagree with the case file's [[evidence]] ids")
    ids = list(evidence_ids) or file_ids[:evidence_count] or []
    if ids and len(ids) != evidence_count:
        raise UsageError(f"{len(ids)} evidence ids for {evidence_count} evidence items")
    ids = ids or [f"EV{i}" for i in range(1, evidence_count + 1)]
    if descriptions and len(descriptions) != evidence_count:
        raise UsageError(
            f"{len(descriptions)} --evidence-description given for {evidence_count} evidence items"
        )
    file_desc = dict(case_file.evidence) if case_file else {}
    extra = list(case_file.extra) if case_file else []
    for n, eid in enumerate(ids):
        given = descriptions[n] if descriptions else None
        listed = file_desc.get(eid)
        if given is not None and listed is not None and given != listed:
            raise UsageError(f"--evidence-description for {eid} disagrees with the case file")
        if given or listed:
            extra.append((description_key(eid), given or listed or ""))
    case = CaseInfo(
        case_number=merged["case_number"] or "",
        examiner=merged["examiner"] or "",
        agency=merged["agency"],
        notes=merged["notes"],
        extra=tuple(extra),
    )
    return case, ids
