"""The ``triage`` command: a thin layer that parses options, calls the library, prints.

Every library error arrives here as a :class:`~triage.errors.TriageError` and leaves as one line
on stderr and the exit code from :mod:`triage.errors`; nothing else in triage prints.
"""

from __future__ import annotations

import sys

import click

from triage import __version__
from triage.cli.report_cmd import report_cmd, verify_cmd
from triage.cli.scan_cmd import scan_cmd
from triage.errors import TriageError, exit_code_for

EPILOG = """\b
Exit codes: 0 finished, no match; 1 finished with matches; 2 error (bad arguments,
unreadable evidence, bad hash set); 3 verify found a change; 130 interrupted.
"""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="triage", message="%(prog)s %(version)s")
def cli() -> None:
    """Find known pictures and videos on seized media and report them with chain of custody.

    \b
    Example:
      triage scan disk.E01 --hashset known.csv --out case1 \\
          --case-number C-2026-001 --examiner "J. Doe"
    """


cli.add_command(scan_cmd)
cli.add_command(report_cmd)
cli.add_command(verify_cmd)


def main() -> None:
    """Console entry point: run the group, turn TriageErrors into one line and an exit code."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("triage: interrupted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("triage: interrupted; the case folder holds what was finished", err=True)
        sys.exit(130)
    except TriageError as e:
        click.echo(f"triage: error: {_one_line(str(e))}", err=True)
        sys.exit(exit_code_for(e))


def _one_line(text: str) -> str:
    return " ".join(text.split())
