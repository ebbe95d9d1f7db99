"""The page furniture of report.pdf: header and footer, headings, paragraphs and tables.

Built on fpdf2 and its core fonts (Latin-1): :func:`text` turns every value into printable
Latin-1 with visible escapes. All text is set flush left (fpdf2 justifies by default, which
spreads a hash or a path into gaps that look like spaces), and code-like values (paths,
locations, hashes, command lines) are broken at their separators by :func:`break_at_separators`
before fpdf2 sees them, since fpdf2 itself breaks only at spaces or, failing that, anywhere.
"""

from __future__ import annotations

import re
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from triage.reports.html_report import visible

SANS, MONO = "Helvetica", "Courier"
LINE = 4.2
#: Longest text put in one PDF cell (characters).
MAX_CELL = 1000
PADDING = 0.8
_HEADINGS = FontFace(emphasis="BOLD", fill_color=(235, 238, 241))
# Where a code-like value may break: after a path/location separator or a space.
_SEPARATOR = re.compile(r"(?<=[/>#@:,;| ])")


def text(value: Any) -> str:
    """Printable Latin-1 text: control/bidi characters and anything outside Latin-1 escaped."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):  # lines of one cell
        return "\n".join(text(v) for v in value)
    out = visible(str(value))
    out = "".join(ch if ord(ch) < 0x100 else f"\\u{ord(ch):04x}" for ch in out)
    if len(out) > MAX_CELL:
        # One table cell must fit on a page; a 5,000-character member name does not. The full
        # text is in report.json and files.csv, and the PDF says so where it cuts.
        out = out[:MAX_CELL] + f" [... {len(out) - MAX_CELL:,} more characters: see report.json]"
    return out


def break_at_separators(pdf: FPDF, value: str, width: float) -> str:
    """``value`` with line breaks after separators so that each line fits ``width`` (mm) in
    the current font; a piece wider than a whole line is left for fpdf2 to cut."""
    lines: list[str] = []
    for paragraph in value.split("\n"):
        line = ""
        for piece in _SEPARATOR.split(paragraph):
            if line and pdf.get_string_width(line + piece) > width:
                lines.append(line.rstrip(" "))
                line = piece
            else:
                line += piece
        lines.append(line)
    return "\n".join(lines)


class Pdf(FPDF):
    def __init__(self, case_number: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.case_label = text(f"Case {case_number}")
        self.set_margins(14, 16, 14)
        self.set_auto_page_break(True, margin=16)
        self.alias_nb_pages()

    def header(self) -> None:
        self.set_font(SANS, "", 8)
        self.set_text_color(90)
        self.cell(0, 5, self.case_label + " - triage report", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)
        self.ln(1)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(SANS, "", 8)
        self.set_text_color(90)
        self.cell(0, 5, f"{self.case_label} - page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0)

    def h1(self, title: str) -> None:
        self.set_font(SANS, "B", 16)
        self.multi_cell(0, 8, text(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")

    def h2(self, title: str) -> None:
        if self.get_y() > self.h - 50:
            self.add_page()
        self.ln(3)
        self.set_font(SANS, "B", 12)
        self.multi_cell(0, 7, text(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT, border="B", align="L")
        self.ln(1)

    def h3(self, title: str) -> None:
        if self.get_y() > self.h - 40:
            self.add_page()
        self.ln(1)
        self.set_font(SANS, "B", 10)
        self.multi_cell(0, 5.5, text(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")

    def para(
        self, value: str, style: str = "", size: float = 9, color: tuple[int, int, int] = (0, 0, 0)
    ) -> None:
        self.set_font(SANS, style, size)
        self.set_text_color(*color)
        self.multi_cell(0, size * 0.47, text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        self.set_text_color(0)
        self.ln(1)

    def _cell_text(self, value: Any, mono: bool, size: float, width: float) -> str:
        out = text(value)
        if mono:
            self.set_font(MONO, "", size)
            out = break_at_separators(self, out, width - 2 * PADDING - 0.5)
        return out

    def kv(self, rows: list[tuple[str, Any]], mono: frozenset[str] = frozenset()) -> None:
        widths = (45, 137)
        with self.table(
            col_widths=widths,
            first_row_as_headings=False,
            line_height=LINE,
            borders_layout="HORIZONTAL_LINES",
            padding=PADDING,
            text_align="LEFT",
        ) as table:
            for key, value in rows:
                row = table.row()
                row.cell(text(key), style=FontFace(family=SANS, emphasis="BOLD", size_pt=8.5))
                is_mono = key in mono
                body = self._cell_text(value, is_mono, 8.5, widths[1])
                row.cell(body, style=FontFace(family=MONO if is_mono else SANS, emphasis="", size_pt=8.5))
        self.ln(1)

    def grid(
        self,
        headings: tuple[str, ...],
        widths: tuple[float, ...],
        rows: list[tuple[Any, ...]],
        mono: frozenset[int] = frozenset(),
        size: float = 7.5,
    ) -> None:
        """A table with a heading row; the columns numbered in ``mono`` are code-like."""
        self.set_font(SANS, "", size)
        with self.table(
            col_widths=widths,
            line_height=size * 0.48,
            padding=PADDING,
            headings_style=_HEADINGS,
            borders_layout="HORIZONTAL_LINES",
            text_align="LEFT",
        ) as table:
            head = table.row()
            for h in headings:
                head.cell(text(h))
            for values in rows:
                row = table.row()
                for i, v in enumerate(values):
                    body = self._cell_text(v, i in mono, size, widths[i])
                    row.cell(
                        body, style=FontFace(family=MONO if i in mono else SANS, emphasis="", size_pt=size)
                    )
                self.set_font(SANS, "", size)
        self.ln(1)
