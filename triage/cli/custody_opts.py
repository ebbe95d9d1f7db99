"""Options of ``triage scan`` for the custody record and the reports (issue 6), kept apart from
the scanning options so each stays readable: ``--case-file``, ``--evidence-description``,
``--format``, ``--thumbnails``, ``--verify-after`` and ``--sign``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from triage.cli.custody import custody, load_case_file
from triage.errors import UsageError
from triage.records import CaseInfo
from triage.reports import DEFAULT_FORMATS, FORMAT_NAMES, expand_formats
from triage.reports.signing import load_private_key
from triage.scan.thumbnails import POLICIES

F = TypeVar("F", bound=Callable[..., Any])

FORMAT_HELP = (
    f"Report format(s): {', '.join(FORMAT_NAMES)}. Repeatable or comma-separated"
    f" (default: {','.join(DEFAULT_FORMATS)})."
)


def format_option(default: tuple[str, ...]) -> Callable[[F], F]:
    return click.option(
        "--format",
        "formats",
        multiple=True,
        default=default,
        metavar="FORMAT",
        show_default=True,
        help=FORMAT_HELP,
    )


def sign_option(f: F) -> F:
    return click.option(
        "--sign",
        "sign_key",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        metavar="KEY",
        help="Sign MANIFEST.sha256 with this Ed25519 private key (PEM or OpenSSH) into MANIFEST.sha256.sig.",
    )(f)


def custody_options(f: F) -> F:
    options = [
        click.option(
            "--case-file",
            type=click.Path(path_type=Path, dir_okay=False),
            default=None,
            help="case.toml with case_number, examiner, agency, notes and [[evidence]] id/description.",
        ),
        click.option(
            "--evidence-description",
            "evidence_descriptions",
            multiple=True,
            metavar="TEXT",
            help="Description of each EVIDENCE in order (e.g. make, serial, exhibit bag).",
        ),
        format_option(DEFAULT_FORMATS),
        click.option(
            "--thumbnails",
            type=click.Choice(POLICIES),
            default="blurred",
            show_default=True,
            help="Thumbnails of matched pictures and video frames in report.html, shown only on a"
            " click: blurred greyscale, clear, or none.",
        ),
        click.option(
            "--verify-after",
            is_flag=True,
            help="Hash each disk image again after the scan to show it is unchanged.",
        ),
        sign_option,
    ]
    for option in reversed(options):
        f = option(f)
    return f


def resolve(
    extra: dict[str, Any], fields: dict[str, str | None], evidence_ids: tuple[str, ...], count: int
) -> tuple[CaseInfo, list[str], dict[str, Any]]:
    """The CaseInfo, the evidence ids and the ScanOptions fields from these options. Everything
    that can be wrong (case file, formats, key) is checked here, before anything is created."""
    case_file = load_case_file(extra["case_file"]) if extra["case_file"] else None
    case, ids = custody(fields, evidence_ids, extra["evidence_descriptions"], case_file, count)
    formats = tuple(f for item in extra["formats"] for f in item.split(",") if f.strip())
    expand_formats(formats)
    if extra["sign_key"] is not None:
        load_private_key(extra["sign_key"])
    return (
        case,
        ids,
        {
            "formats": formats,
            "thumbnails": extra["thumbnails"],
            "verify_after": extra["verify_after"],
            "sign_key": str(extra["sign_key"]) if extra["sign_key"] else None,
        },
    )


def check_verify_after(extra: dict[str, Any], no_evidence_hash: bool) -> None:
    if extra["verify_after"] and no_evidence_hash:
        raise UsageError("--verify-after needs the evidence hash; drop --no-evidence-hash")
