"""One giant picture at a time: a bound on the scan's memory whatever the pictures and --jobs (#12).

Decoding a picture takes its full pixels in memory, and hashing it takes several more copies (RGB
conversion, the arrays PDQ and pHash work on): a 200-megapixel PNG peaks at 1.7-2.7 GB in one
worker, and N workers meeting N such pictures at once peak at N times that, enough to have a
16-worker scan killed for memory. PNG, TIFF, WebP... cannot be decoded at a reduced scale (JPEG
can: Pillow's draft mode, already used), and decoding differently would change their hashes.

So a picture over :data:`GIANT_PIXELS` decoded pixels (24 MP: about 230 MB more at its hashing
peak; 61 MP: 580 MB; 199 MP: 1.9 GB, measured with ``ru_maxrss`` on generated PNGs)
is only decoded while its worker holds the one *giant-picture slot*: an exclusive ``flock`` on a
lock file in the temporary folder, shared by every worker process of every scan on the machine
(and released by the kernel if a worker dies). Peak memory is then about

    workers x (worker baseline + peak of a 24 MP picture) + peak of one picture of max_pixels

instead of workers x (peak of the largest picture). Pictures under the threshold never wait, so
ordinary scans run as before, and the hashes do not depend on the slot at all.

A worker waits for the slot at most half the time its work item is granted (``--timeout`` plus
the size allowance; :data:`MAX_WAIT` when unknown), so a queue of giant pictures cannot make it
overrun the item's timeout: a picture still not admitted then keeps its MD5/SHA-1/SHA-256 and gets
an error saying why its perceptual hashes are missing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

#: Decoded pixels above which a picture needs the giant-picture slot.
GIANT_PIXELS = 24_000_000
#: Longest wait for the slot, in seconds (see :func:`waiting_at_most`).
MAX_WAIT = 60.0
LOCK_NAME = "triage-giant-picture.lock"
_POLL = 0.05

_wait_limit = MAX_WAIT
_held = False  # this process holds the slot


class NotAdmitted(Exception):
    """The giant-picture slot stayed busy for longer than this worker may wait."""


def lock_path() -> Path:
    """The slot's lock file; ``TRIAGE_GIANT_LOCK`` names another (tests, or a shared tmp)."""
    return Path(os.environ.get("TRIAGE_GIANT_LOCK") or Path(tempfile.gettempdir()) / LOCK_NAME)


@contextlib.contextmanager
def waiting_at_most(seconds: float | None) -> Iterator[None]:
    """Within this block a worker waits for the slot at most ``seconds`` (None: :data:`MAX_WAIT`):
    a share of the work item's own time, so the wait cannot outlast it."""
    global _wait_limit
    before = _wait_limit
    _wait_limit = MAX_WAIT if seconds is None else max(0.0, seconds)
    try:
        yield
    finally:
        _wait_limit = before


def _open_lock(path: Path) -> int | None:
    """A descriptor to ``flock`` (read-only suffices). Opened without O_CREAT first: in a sticky
    /tmp, O_CREAT on another user's file is refused (``fs.protected_regular``)."""
    try:
        return os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        return os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError:
        return None


@contextlib.contextmanager
def picture_slot(pixels: int) -> Iterator[None]:
    """Hold the giant-picture slot while decoding a picture of ``pixels`` decoded pixels (a no-op
    under :data:`GIANT_PIXELS`). Raises :class:`NotAdmitted` after the wait limit."""
    global _held
    if pixels <= GIANT_PIXELS or _held:  # re-entrant: a second flock here would wait on itself
        yield
        return
    fd = _open_lock(lock_path())
    if fd is None:  # no usable temporary folder: decode as before rather than fail the file
        yield
        return
    try:
        give_up = time.monotonic() + _wait_limit
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= give_up:
                    raise NotAdmitted(
                        f"{pixels} pixels: waited {_wait_limit:.0f} s for the one giant-picture slot"
                        " (other workers were decoding giant pictures; a longer --timeout waits longer)"
                    ) from None
                time.sleep(_POLL)
        _held = True
        try:
            yield
        finally:
            _held = False
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
