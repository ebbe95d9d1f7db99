"""Times in one form everywhere: UTC ISO-8601 with a ``Z``, fractions only where the source has them."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import lru_cache


@lru_cache(maxsize=65536)
def _seconds_text(whole: int) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS`` for whole seconds; cached, because listing a file system
    formats four times per entry and many entries share their seconds."""
    try:
        t = time.gmtime(whole)
    except (OverflowError, OSError, ValueError):
        return None
    if not 1 <= t.tm_year <= 9999:
        return None
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"


def iso_utc(seconds: int | float | None, nanos: int = 0) -> str | None:
    """Render a POSIX timestamp (plus optional nanoseconds) as ``2026-11-22T00:30:39Z``.

    ``None`` and 0 (unset in most file systems) give ``None``: an unknown time is not 1970.
    Sub-second precision is kept to 100 ns (NTFS's resolution) and only when non-zero.
    """
    if not seconds and not nanos:
        return None
    if not 0 <= nanos < 1_000_000_000:  # corrupt metadata: keep the seconds, drop the fraction
        nanos = 0
    if type(seconds) is int:  # the common case (file system metadata): no float arithmetic
        base = _seconds_text(seconds)
        if base is None or nanos < 100:
            return None if base is None else base + "Z"
        return f"{base}.{nanos // 100:07d}".rstrip("0") + "Z"
    whole = int(seconds or 0)
    frac_ns = nanos + round(((seconds or 0) - whole) * 1e9)
    whole, frac_ns = whole + frac_ns // 1_000_000_000, frac_ns % 1_000_000_000
    base = _seconds_text(whole)
    if base is None:
        return None
    digits = f"{frac_ns // 100:07d}".rstrip("0")  # 100 ns resolution (NTFS); none if it rounds to 0
    return f"{base}.{digits}Z" if digits else base + "Z"


def now_utc() -> str:
    """The current time, for audit events (second precision plus microseconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
