"""Small wording helpers of the command line: plurals and sizes in one unit system.

The reports give sizes in binary units (KiB, MiB: :func:`triage.reports.html_report.human_size`);
the summary line and the progress display use the same units, so a figure read on the terminal
can be found again in the report.
"""

from __future__ import annotations

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 file``, ``2 files``, ``1,024 matches`` (with ``many`` for irregular plurals)."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def size_text(n: float) -> str:
    """``512 B``, ``1.5 MiB``: binary units, one decimal above bytes."""
    value, unit = float(n), _UNITS[0]
    for next_unit in _UNITS[1:]:
        if value < 1024:
            break
        value, unit = value / 1024, next_unit
    return f"{value:.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
