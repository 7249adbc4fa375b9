"""Under the Schedule sheet's array: the flag on months whose delivered MW exceed the facility's, and fiscal-year
subtotals in ordinary formulas (YEAR, MONTH, MIN, MAX, SUMIF) that a reviewer can follow without the add-in."""

from __future__ import annotations

from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.worksheet import Worksheet

from addin.workbook.fmt import EXCEL_FORMATS
from addin.workbook.styles import HEADER_FONT, SCENARIOS, SECTION_FONT, Layout, zero_blank
from engine.fields import MAX_MONTHS

FLAG_FILL = PatternFill("solid", fgColor="F8CBAD")
FISCAL_LINES = (("net_fee_usd", "USD"), ("firm_fee_usd", "USD"), ("present_value_usd", "USD"),
                ("delivered_gpu_hours", "GPU-hours"))  # fmt: skip
MAX_FISCAL_YEARS = MAX_MONTHS // 12 + 1
"""120 months touch at most 11 fiscal years."""


def flag_over_power(ws: Worksheet, layout: Layout, first_col: int) -> None:
    """Shade each month of the ``mw_over_facility`` line that is above zero (the power cannot feed those GPUs)."""
    row = layout.schedule_rows["mw_over_facility"]
    ref = f"{get_column_letter(first_col)}{row}:{get_column_letter(first_col + MAX_MONTHS - 1)}{row}"
    ws.conditional_formatting.add(ref, CellIsRule(operator="greaterThan", formula=["0"], fill=FLAG_FILL))
    ws.cell(row, 2).font = HEADER_FONT


def fiscal_years(ws: Worksheet, layout: Layout, first_col: int, row: int) -> int:
    """The fiscal-year block from ``row``; returns the last row used."""
    last_col = first_col + MAX_MONTHS - 1
    live = f"{quote_sheetname(SCENARIOS)}!$D${layout.scenario_rows['fiscal_year_end_month']}"
    fye = f"IF(ISNUMBER({live}),{live},{layout.default_cells['fiscal_year_end_month']})"
    ws.cell(row, 2, "Fiscal years (FY = the calendar year it ends in; fiscal_year_end_month on Inputs)").font = SECTION_FONT
    row += 1
    month_row = layout.schedule_rows["month"]
    fy_row = row
    ws.cell(fy_row, 2, "Fiscal year of each month")
    ws.cell(fy_row, 3, "fiscal_year")
    for k in range(MAX_MONTHS):
        m = f"{get_column_letter(first_col + k)}${month_row}"
        ws.cell(fy_row, first_col + k, f'=IF({m}=0,"",YEAR({m})+IF(MONTH({m})>{fye},1,0))').number_format = '"FY"0'
    fys = f"${get_column_letter(first_col)}${fy_row}:${get_column_letter(last_col)}${fy_row}"
    row += 2
    head = row
    ws.cell(head, 2, "Subtotals by fiscal year").font = HEADER_FONT
    ws.cell(head, 5, "Total").font = HEADER_FONT
    for k in range(MAX_FISCAL_YEARS):
        c = ws.cell(head, first_col + k, f'=IF(MIN({fys})+{k}>MAX({fys}),"",MIN({fys})+{k})')
        c.number_format, c.font = '"FY"0', HEADER_FONT
    for name, unit in FISCAL_LINES:
        row += 1
        src = layout.schedule_rows[name]
        line = f"${get_column_letter(first_col)}${src}:${get_column_letter(last_col)}${src}"
        ws.cell(row, 2, ws.cell(src, 2).value)
        ws.cell(row, 3, f"fy_{name}")
        ws.cell(row, 4, unit)
        fmt = zero_blank(EXCEL_FORMATS.get(unit, "General"))
        total = ws.cell(
            row, 5, f"=SUM({get_column_letter(first_col)}{row}:{get_column_letter(first_col + MAX_FISCAL_YEARS - 1)}{row})"
        )
        total.number_format, total.font = fmt, HEADER_FONT
        for k in range(MAX_FISCAL_YEARS):
            year = f"{get_column_letter(first_col + k)}${head}"
            ws.cell(row, first_col + k, f'=IF({year}="","",SUMIF({fys},{year},{line}))').number_format = fmt
        layout.schedule_rows[f"fy_{name}"] = row
    layout.schedule_rows["fy_header"] = head
    layout.schedule_rows["fiscal_year"] = fy_row
    return row
