"""Input files that are not evidence (hash sets, indexes, keys, case files) must be regular files.

A named pipe, ``<(cat set.csv)``, a device or a socket has no stable content: ``open()`` on a FIFO
without a writer waits for ever, and a pipe read once to sniff its format is empty the second time
(so a good set loads as "no hashes found"). The case also records each set's SHA-256 so a resume
can check the set is unchanged, which a stream cannot offer. Decision (#12): refuse anything that
is not a regular file, with one line naming it, before anything opens it. ``stat`` does not block
on a FIFO; ``open`` would.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from triage.errors import TriageError

_KINDS: tuple[tuple[Callable[[int], bool], str], ...] = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a pipe (FIFO or <(...) process substitution)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def require_regular_file(
    path: str | os.PathLike[str], what: str, error: type[TriageError] = TriageError
) -> Path:
    """``path`` as given when it names a regular file (after following symlinks), else ``error``
    with one line saying what it is. A missing path is left to the opener's own message."""
    display = os.fspath(path)
    try:
        mode = os.stat(display).st_mode
    except OSError:
        return Path(display)
    if stat.S_ISREG(mode):
        return Path(display)
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    hint = "" if stat.S_ISDIR(mode) else "; save it to a file first"
    raise error(f"{display}: is {kind}, not a {what} file{hint}")
