"""The workbooks' look and naming: FAST styles (inputs blue on yellow, links green), defined-name helpers, input
validation and the cell form of a value. The deal and portfolio builders both import it; it imports neither."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from addin.workbook.book import INPUT_FILL_RGB, INPUT_FONT_RGB
from engine import COLUMNS
from engine.catalogue import gpu_catalogue
from engine.fields import Field, is_percent

# ------------------------------------------------------------------ styles
INPUT_FONT = Font(color=INPUT_FONT_RGB)
INPUT_FILL = PatternFill("solid", fgColor=INPUT_FILL_RGB)
LINK_FONT = Font(color="008000")
CALC_FONT = Font(color="000000")
REFRESH_FILL = PatternFill("solid", fgColor="EDEDED")
REFRESH_FONT = Font(color="595959", italic=True)
TITLE_FONT = Font(bold=True, size=14)
HEADER_FONT = Font(bold=True)
SECTION_FONT = Font(bold=True, color="1F3864")
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
THIN = Side(style="thin", color="BFBFBF")
INPUT_BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")

N_SCENARIO_COLUMNS = 5  # the base case plus four named alternatives
BASE_CASE = "Base case"
MESSAGE_ROWS = 30
FIRST_MONTH_COL = 6  # F: months run from column F to DU (120 months)
CHECK_TOLERANCE = 1e-9

INPUTS, SCENARIOS, SCHEDULE, SUMMARY, CHECKS, COMPARE, COVER = (
    "Inputs", "Scenarios", "Schedule", "Summary", "Checks", "Compare", "Cover",
)  # fmt: skip


def abs_ref(sheet: str, col: int, row: int, col2: int | None = None, row2: int | None = None) -> str:
    """An absolute reference such as ``Inputs!$E$7`` or ``Schedule!$F$6:$DU$33``."""
    ref = f"{quote_sheetname(sheet)}!${get_column_letter(col)}${row}"
    if col2 is not None and row2 is not None:
        ref += f":${get_column_letter(col2)}${row2}"
    return ref


@dataclass
class Layout:
    """Where everything is: filled in while building, read by refresh and the workbook reader."""

    input_cells: dict[str, str] = field(default_factory=dict)  # field or table key -> Inputs!$E$r
    scenario_rows: dict[str, int] = field(default_factory=dict)  # key -> row on Scenarios
    summary_rows: dict[str, int] = field(default_factory=dict)
    schedule_rows: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # defined name -> reference
    default_cells: dict[str, str] = field(default_factory=dict)  # field -> Inputs!$F$r, its default value
    calc_rows: dict[str, int] = field(default_factory=dict)  # line of the Calc sheet -> row


def new_sheet(wb: Workbook, name: str, widths: tuple[float, ...], title: str, note: str) -> Any:
    """A sheet of the workbooks: column widths from A, a title in B1 and a line saying what it holds in B2."""
    ws = wb.create_sheet(name)
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    ws["B1"] = title
    ws["B1"].font = TITLE_FONT
    ws["B2"] = note
    return ws


def zero_blank(fmt: str) -> str:
    """A number format that shows zero as blank (months past the term are zero)."""
    if fmt == "General":
        return '0.###;-0.###;""'
    sections = fmt.split(";")
    positive = sections[0]
    negative = sections[1] if len(sections) > 1 else "-" + positive
    return f'{positive};{negative};""'


def _name(wb: Workbook, layout: Layout, name: str, ref: str) -> None:
    wb.defined_names[name] = DefinedName(name, attr_text=ref)
    layout.names[name] = ref


def _style_input(cell: Any) -> None:
    cell.font, cell.fill, cell.border = INPUT_FONT, INPUT_FILL, INPUT_BORDER


PERCENT_FORMAT = "0.0##%"
"""Excel's percent format on ``_pct`` input cells: the cell holds the fraction (0.85 shows 85.0%), and typing 85 or
85% both store 0.85 (Excel's automatic percent entry). The workbook reader converts it to the engine's 85."""
WHOLE_PERCENT_FORMAT = '0.0##"%"'
"""A whole-number percent shown with a % sign (85 shows 85.0%): the Scenarios sheet's In use column, which the
CDM_ functions read, holds the engine's whole numbers."""


def _fmt_for(f: Field, percent: bool = False) -> str | None:
    if percent and is_percent(f):
        return PERCENT_FORMAT
    if f.kind == "month":
        return "mmm yyyy"
    if f.kind == "date":
        return "d mmm yyyy"
    if f.kind == "integer":
        return "#,##0"
    if f.kind == "number":
        if f.unit.startswith("USD"):
            return "#,##0"
        return "General"
    return "@" if f.kind == "text" else None


def _validation(f: Field, percent: bool = False) -> DataValidation | None:
    """Excel data validation mirroring the engine's rule for the field (the engine re-checks); ``percent``: the cell
    holds a fraction, so the bounds are divided by 100."""
    scale = 100.0 if percent and is_percent(f) else 1.0
    if f.kind in ("choice", "sku"):
        options = f.choices if f.kind == "choice" else tuple(gpu_catalogue())
        dv = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True)
    elif f.kind in ("number", "integer"):
        kind = "whole" if f.kind == "integer" else "decimal"
        lo = f.minimum if f.minimum is None or scale == 1.0 else f.minimum / scale
        hi = f.maximum if f.maximum is None or scale == 1.0 else f.maximum / scale
        if lo is not None and hi is not None:
            dv = DataValidation(type=kind, operator="between", formula1=str(lo), formula2=str(hi), allow_blank=True)
            if f.min_exclusive:
                dv = DataValidation(type=kind, operator="between", formula1=str(lo + 1e-9 if kind == "decimal" else lo + 1),
                                    formula2=str(hi), allow_blank=True)  # fmt: skip
        elif lo is not None:
            dv = DataValidation(type=kind, operator="greaterThan" if f.min_exclusive else "greaterThanOrEqual",
                                formula1=str(lo), allow_blank=True)  # fmt: skip
        else:
            return None
    elif f.kind in ("month", "date"):
        dv = DataValidation(type="date", operator="between", formula1="36526", formula2="73051", allow_blank=True)
    else:
        return None
    dv.error = _rule_text(f) + (" (a percentage: type 85 or 85% for 85 percent)" if scale != 1.0 else "")
    dv.errorTitle = f.name
    dv.showErrorMessage = True
    return dv


def _rule_text(f: Field) -> str:
    parts = []
    if f.kind in ("choice", "sku"):
        return f"{f.name} must be one of the listed values"
    if f.kind == "month":
        return f"{f.name} must be a date (the month is used, the day ignored)"
    if f.kind == "date":
        return f"{f.name} must be a date"
    if f.minimum is not None:
        parts.append(f"{'>' if f.min_exclusive else '>='} {f.minimum}")
    if f.maximum is not None:
        parts.append(f"<= {f.maximum}")
    whole = "a whole number " if f.kind == "integer" else "a number "
    return f"{f.name} must be {whole}" + " and ".join(parts)


def default_value(f: Field) -> object:
    """The Inputs sheet's Default cell of a field: the value a blank takes (a number, or text such as ``advance``),
    None where a blank means something else (``_default_text`` then says what)."""
    if f.required or f.default in ("", None) or isinstance(f.default, bool):
        return None
    return f.default


def _default_text(f: Field) -> str:
    if f.required:
        return "required"
    if f.blank_means:
        return f.blank_means
    if is_percent(f) and isinstance(f.default, (int, float)):
        return f"{f.default:g}%"
    return str(f.default) if f.default not in ("", None) else "blank"


def _cell_value(f: Field | None, value: object, percent: bool = False) -> object:
    """A deal value as it is typed into a cell (months as dates; with ``percent``, a percentage as the fraction its
    percent-formatted cell holds: 85 -> 0.85)."""
    if value is None:
        return None
    if percent and f is not None and is_percent(f) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value / 100.0
    if f is not None and f.kind == "month":
        s = str(value)
        return dt.date(int(s[:4]), int(s[5:7]), 1)
    if f is not None and f.kind == "date" and not isinstance(value, dt.date):
        s = str(value)
        return dt.date(int(s[:4]), int(s[5:7]), int(s[8:10]) if len(s) >= 10 else 1)
    return value


SCHEDULE_ROWS = tuple(c.name for c in COLUMNS)
"""Rows of ``CDM_SCHEDULE``'s result, top to bottom; months run across the columns (the template labels them)."""
