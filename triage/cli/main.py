"""The ``triage`` command: a thin layer that parses options, calls the library, prints.

Every library error arrives here as a :class:`~triage.errors.TriageError` and leaves as one line
on stderr and the exit code from :mod:`triage.errors`; nothing else in triage prints.
"""

from __future__ import annotations

import os
import signal
import sys

import click

from triage import __version__
from triage.cli.hashset_cmd import hashset_group
from triage.cli.help import WholeHelpGroup
from triage.cli.report_cmd import report_cmd, verify_cmd
from triage.cli.scan_cmd import scan_cmd
from triage.errors import EXIT_ERROR, TriageError, exit_code_for

EPILOG = """\b
Exit codes: 0 finished, no match; 1 finished with matches; 2 error (bad arguments,
unreadable evidence, bad hash set; one line on stderr says which); 3 verify found a change;
4 scan found no files at all (empty or unmounted folder: nothing compared); 130 interrupted.
"""


@click.group(cls=WholeHelpGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
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
cli.add_command(hashset_group)


def main() -> None:
    """Console entry point: run the group, turn errors into one line and an exit code.

    Exit 1 means "finished with matches", so nothing else may ever exit 1: an unexpected
    exception is a bug, reported in one line with exit 2 (the traceback only with
    TRIAGE_DEBUG=1). Ctrl-C ends with SIGINT itself, so a calling shell script stops too.
    """
    try:
        cli.main(prog_name="triage", standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.NoArgsIsHelpError as e:
        e.show()  # the help itself, asked for by giving nothing
        sys.exit(EXIT_ERROR)
    except click.UsageError as e:
        # One line, like every other error (a script's log keeps one line per failure).
        command = e.ctx.command_path if e.ctx is not None else "triage"
        message = _one_line(e.format_message())
        click.echo(f"triage: error: {message} (see '{command} --help')", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as e:
        click.echo(f"triage: error: {_one_line(e.format_message())}", err=True)
        sys.exit(EXIT_ERROR)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("triage: interrupted; the case folder keeps what was finished", err=True)
        _die_by_sigint()
    except TriageError as e:
        click.echo(f"triage: error: {_one_line(str(e))}", err=True)
        sys.exit(exit_code_for(e))
    except Exception as e:
        if os.environ.get("TRIAGE_DEBUG"):
            raise
        click.echo(f"triage: internal error: {type(e).__name__}: {_one_line(str(e))}", err=True)
        sys.exit(EXIT_ERROR)


def _die_by_sigint() -> None:
    """Exit the way a shell expects of an interrupted program: killed by SIGINT (status 130)."""
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)
    sys.exit(130)  # pragma: no cover - only where the signal is not delivered


def _one_line(text: str) -> str:
    return " ".join(text.split())
