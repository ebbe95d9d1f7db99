"""The error family of triage and the one table that maps it to exit codes.

Library code raises only these (wrapping third-party errors with ``raise ... from e``) so the
command line can turn any failure into one clear line and a documented exit code. A failure on
one file inside the evidence is *not* an exception: it is recorded as that file's error and the
scan goes on.
"""

from __future__ import annotations


class TriageError(Exception):
    """Root of every error triage raises on purpose."""


class UsageError(TriageError):
    """The request itself is wrong: a bad option value, a missing argument."""


class EvidenceError(TriageError):
    """Evidence could not be opened or read as a whole (missing, unreadable, not a disk image)."""


class HashSetError(TriageError):
    """A known-hash set is missing, malformed or of an unknown format.

    The message names the file and, where known, the line or byte offset.
    """


class CaseError(TriageError):
    """The case folder or its database cannot be created, opened or trusted."""


class ClusterError(TriageError):
    """The Dask cluster cannot be reached, lost its scheduler, or has a worker that would not
    compute the same results (cannot see the evidence, other software versions)."""


class ReportError(TriageError):
    """A report could not be written or verified."""


#: Exit codes, the only place they are defined. 0 and 1 are *successful* scans: 1 means the
#: scan finished and found matches, so shell scripts can branch on it.
EXIT_OK = 0
EXIT_MATCHES = 1
EXIT_ERROR = 2
#: ``triage verify`` found a changed file or audit line.
EXIT_TAMPERED = 3
#: A scan finished but found no file at all on its evidence (an empty or unmounted folder):
#: nothing was compared, which a lab's script must not take for "no match" (0).
EXIT_NO_FILES = 4

EXIT_CODES: dict[type[TriageError], int] = {
    TriageError: EXIT_ERROR,
}


def exit_code_for(error: BaseException) -> int:
    """Exit code for an error that reached the command line."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return EXIT_ERROR
