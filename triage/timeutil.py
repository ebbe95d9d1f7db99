"""Times in one form everywhere: UTC ISO-8601 with a ``Z``, fractions only where the source has them."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(seconds: int | float | None, nanos: int = 0) -> str | None:
    """Render a POSIX timestamp (plus optional nanoseconds) as ``2026-11-22T00:30:39Z``.

    ``None`` and 0 (unset in most file systems) give ``None``: an unknown time is not 1970.
    Sub-second precision is kept to 100 ns (NTFS's resolution) and only when non-zero.
    """
    if not seconds and not nanos:
        return None
    if not 0 <= nanos < 1_000_000_000:  # corrupt metadata: keep the seconds, drop the fraction
        nanos = 0
    whole = int(seconds or 0)
    frac_ns = nanos + round(((seconds or 0) - whole) * 1e9)
    whole, frac_ns = whole + frac_ns // 1_000_000_000, frac_ns % 1_000_000_000
    try:
        base = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return None
    digits = f"{frac_ns // 100:07d}".rstrip("0")  # 100 ns resolution (NTFS); none if it rounds to 0
    return f"{base}.{digits}Z" if digits else base + "Z"


def now_utc() -> str:
    """The current time, for audit events (second precision plus microseconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
