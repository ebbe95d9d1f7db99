"""``triage report`` and ``triage verify``: work on a finished case folder."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from triage.case.store import CaseStore
from triage.errors import EXIT_OK, EXIT_TAMPERED
from triage.reports import verify_case, write_reports


@click.command("report")
@click.argument("case_dir", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "formats",
    multiple=True,
    default=("json", "html"),
    show_default=True,
    help="Report format to write (json, html). Repeatable.",
)
def report_cmd(case_dir: Path, formats: tuple[str, ...]) -> None:
    """Write the reports of CASE_DIR again from its case.sqlite (and renew the manifest).

    \b
    Example:
      triage report case-001
    """
    store = CaseStore.open(case_dir)
    try:
        paths = write_reports(case_dir, store, formats)
    finally:
        store.close()
    for p in paths:
        click.echo(str(p))


@click.command("verify")
@click.argument("case_dir", type=click.Path(path_type=Path))
def verify_cmd(case_dir: Path) -> None:
    """Check CASE_DIR's manifest and audit chain; name the first file or line that changed.

    Exit 0 when everything is intact, 3 when something changed.

    \b
    Example:
      triage verify case-001
    """
    result = verify_case(case_dir)
    if result.ok:
        click.echo(f"{case_dir}: intact (manifest and audit chain verified)")
        sys.exit(EXIT_OK)
    for problem in result.problems:
        click.echo(f"{case_dir}: {problem}", err=True)
    sys.exit(EXIT_TAMPERED)
