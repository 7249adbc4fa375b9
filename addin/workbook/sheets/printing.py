"""Print setup: every sheet of the deal and portfolio workbooks prints readably, with no configuration by the user.

Each sheet gets an orientation, a print area, a scale that fits its width (and, for the short sheets, its
height) to whole pages, print titles (the label columns and the timeline header repeat on every page of the
Schedule and Calc sheets), and a header and footer naming the deal, the sheet and the page. A sheet whose blocks
would be split by an automatic break (a chart, the month lines of Calc) is fitted to pages that hold them whole.
The timeline sheets print the months of the term (whole years), not the empty months after it: widen the print
area (Page Layout > Print Area) after lengthening the term in Excel, or rebuild with ``cdm new``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.worksheet.worksheet import Worksheet

from addin.workbook.styles import FIRST_MONTH_COL
from engine import MAX_MONTHS

MONTHS_PER_PAGE = 18
"""Months across one landscape page of the Schedule and Calc sheets (with the label columns repeated)."""


@dataclass(frozen=True)
class PrintPlan:
    """How one sheet prints: ``wide`` x ``tall`` pages (``tall`` 0: as many as it needs)."""

    landscape: bool = True
    wide: int = 1
    tall: int = 0
    title_rows: str | None = None
    title_cols: str | None = None
    timeline: bool = False  # the print area stops at the term's last month


DEAL_PLANS: dict[str, PrintPlan] = {
    "Cover": PrintPlan(landscape=False, tall=1),
    "Inputs": PrintPlan(title_rows="6:6"),
    "Scenarios": PrintPlan(title_rows="4:4", title_cols="B:D"),
    "Schedule": PrintPlan(tall=1, title_rows="4:4", title_cols="B:E", timeline=True),
    "Calc": PrintPlan(tall=2, title_rows="4:4", title_cols="B:E", timeline=True),
    "Summary": PrintPlan(landscape=False, tall=1),
    "Checks": PrintPlan(tall=1),
    "Compare": PrintPlan(tall=1),
    "Tables": PrintPlan(landscape=False, tall=1),
    "Risk": PrintPlan(tall=2),
}


def _header_text(text: str) -> str:
    """Header and footer codes start with &: a literal & is written &&."""
    return text.replace("&", "&&")[:120]


def apply_print_setup(ws: Worksheet, plan: PrintPlan, title: str, months: int = MAX_MONTHS) -> None:
    """Set ``ws`` up to print as ``plan`` says, headed by ``title`` (the deal's name)."""
    last_col = max(ws.max_column, *(_chart_right_edge(chart) for chart in ws._charts)) if ws._charts else ws.max_column
    last_row = max(ws.max_row, *(_chart_bottom_edge(chart) for chart in ws._charts)) if ws._charts else ws.max_row
    if plan.timeline:
        shown = min(MAX_MONTHS, max(12, math.ceil(months / 12) * 12))
        last_col = FIRST_MONTH_COL + shown - 1
    ws.print_area = f"A1:{get_column_letter(last_col)}{last_row}"
    setup = ws.page_setup
    setup.orientation = "landscape" if plan.landscape else "portrait"
    setup.paperSize = ws.PAPERSIZE_A4
    wide = plan.wide
    if plan.timeline:
        wide = max(1, math.ceil((last_col - FIRST_MONTH_COL + 1) / MONTHS_PER_PAGE))
    setup.fitToWidth, setup.fitToHeight = wide, plan.tall
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.3
    if plan.title_rows:
        ws.print_title_rows = plan.title_rows
    if plan.title_cols:
        ws.print_title_cols = plan.title_cols
    ws.oddHeader.left.text = "Compute Deal Model"
    ws.oddHeader.center.text = _header_text(title)
    ws.oddHeader.right.text = "&A"  # the sheet's name
    ws.oddFooter.left.text = "&F"  # the file's name
    ws.oddFooter.right.text = "Page &P of &N"
    for part in (ws.oddHeader.left, ws.oddHeader.center, ws.oddHeader.right, ws.oddFooter.left, ws.oddFooter.right):
        part.size = 8


def _anchor(chart: object) -> tuple[int, int]:
    """(column, row), from 1, of a chart's top-left cell (an anchor given as ``H30``, or a drawing anchor)."""
    anchor = getattr(chart, "anchor", "A1")
    if isinstance(anchor, str):
        col, row = coordinate_from_string(anchor)
        return column_index_from_string(col), row
    return int(anchor._from.col) + 1, int(anchor._from.row) + 1


def _chart_right_edge(chart: object) -> int:
    """The last column a chart covers: its anchor column plus its width (cm) over a default column (~1.7 cm)."""
    return _anchor(chart)[0] + math.ceil(float(getattr(chart, "width", 15)) / 1.7)


def _chart_bottom_edge(chart: object) -> int:
    """The last row a chart covers: its anchor row plus its height (cm) over a default row (0.53 cm)."""
    return _anchor(chart)[1] + math.ceil(float(getattr(chart, "height", 7.5)) / 0.53)


def print_deal_workbook(wb: Workbook, title: str, months: int) -> None:
    """Every sheet of a deal workbook: its plan from :data:`DEAL_PLANS` (another sheet prints landscape, fit to
    width). ``months``: the longest term among the scenarios, for the timeline sheets' print area."""
    for ws in wb.worksheets:
        apply_print_setup(ws, DEAL_PLANS.get(ws.title, PrintPlan()), title, months)


def print_portfolio_workbook(wb: Workbook, title: str) -> None:
    """Every sheet of a portfolio workbook: landscape, fit to one page wide, titles and page numbers."""
    for ws in wb.worksheets:
        short = ws.max_row <= 60
        apply_print_setup(ws, PrintPlan(landscape=ws.title != "Cover", tall=1 if short else 0), title)
