"""``triage report`` and ``triage verify``: work on a finished case folder."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from triage.case.store import CaseStore
from triage.cli.custody_opts import format_option, sign_option
from triage.errors import EXIT_OK, EXIT_TAMPERED
from triage.reports import DEFAULT_FORMATS, expand_formats, verify_case, write_reports


@click.command("report")
@click.argument("case_dir", type=click.Path(path_type=Path))
@format_option(DEFAULT_FORMATS)
@sign_option
@click.option(
    "--drop-signature",
    is_flag=True,
    help="The case is signed and no --sign is given: remove MANIFEST.sha256.sig (recorded in the"
    " audit log). Without it, re-rendering a signed case is refused.",
)
def report_cmd(case_dir: Path, formats: tuple[str, ...], sign_key: Path | None, drop_signature: bool) -> None:
    """Write the reports of CASE_DIR again from its case.sqlite (and renew the manifest).

    A signed case must be signed again (--sign) or its signature dropped on purpose
    (--drop-signature): the old signature would not match the new manifest.

    \b
    Example:
      triage report case-001 --format html,pdf,case --sign lab-key.pem
    """
    expand_formats(formats)  # an unknown format is refused before the case is opened
    store = CaseStore.open(case_dir)
    try:
        paths = write_reports(case_dir, store, formats, sign_key=sign_key, drop_signature=drop_signature)
    finally:
        store.close()
    for p in paths:
        click.echo(str(p))


@click.command("verify")
@click.argument("case_dir", type=click.Path(path_type=Path))
@click.option(
    "--public-key",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="KEY",
    help="Also check MANIFEST.sha256.sig with this Ed25519 public key (PEM or OpenSSH).",
)
def verify_cmd(case_dir: Path, public_key: Path | None) -> None:
    """Check CASE_DIR's manifest and audit chain; name the first file or line that changed.

    Exit 0 when everything is intact, 3 when something changed.

    \b
    Example:
      triage verify case-001 --public-key lab-key.pub
    """
    result = verify_case(case_dir, public_key)
    for note in result.notes:
        click.echo(f"{case_dir}: {note}", err=True)
    if result.ok:
        signed = ", signature verified" if public_key else ""
        findings = "" if result.notes else ", findings digest"
        click.echo(f"{case_dir}: intact (manifest and audit chain{findings} verified{signed})")
        sys.exit(EXIT_OK)
    for problem in result.problems:
        click.echo(f"{case_dir}: {problem}", err=True)
    sys.exit(EXIT_TAMPERED)
