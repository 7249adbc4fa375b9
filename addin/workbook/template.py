"""Build the deal template and the seed deal workbooks (FAST Standard / ICAEW conventions).

``build_deal_workbook()`` makes ``templates/deal.xlsx``; given a deal it
makes that deal's workbook (``workbooks/<deal>.xlsx``) with the deal's values
typed into the input cells and its scenarios side by side. ``python -m
addin.excel.build_workbooks`` rewrites every committed workbook; a test proves
the committed files are what this code builds today.

Sheets, in reading order: Cover, Inputs, Scenarios, Schedule, Summary,
Checks, Compare. Only Inputs (and the scenario columns of Scenarios) hold
typed values; every other cell is a formula or is written by Refresh. Time
runs across the columns of Schedule, 120 months, zero and hidden past the
term. Defined names exist for scalar inputs and add-in anchors only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula

from addin.version import package_version
from addin.workbook.cells import NIL_MARK, write_cell
from addin.workbook.fmt import EXCEL_FORMATS
from addin.workbook.sheets.calc import build_calc_sheet, reference_blocks
from addin.workbook.sheets.checks import build_checks_sheet
from addin.workbook.sheets.fiscal import fiscal_years, flag_over_power
from addin.workbook.sheets.printing import print_deal_workbook
from addin.workbook.sheets.risk import _risk, _risk_charts
from addin.workbook.styles import (
    BASE_CASE,
    CALC_FONT,
    CHECK_TOLERANCE,
    COMPARE,
    COVER,
    FIRST_MONTH_COL,
    HEADER_FILL,
    HEADER_FONT,
    INPUT_FILL,
    INPUT_FONT,
    INPUTS,
    LINK_FONT,
    N_SCENARIO_COLUMNS,
    REFRESH_FILL,
    REFRESH_FONT,
    SCENARIOS,
    SCHEDULE,
    SCHEDULE_ROWS,
    SECTION_FONT,
    SUMMARY,
    TITLE_FONT,
    WHOLE_PERCENT_FORMAT,
    WRAP,
    Layout,
    _cell_value,
    _default_text,
    _fmt_for,
    _name,
    _style_input,
    _validation,
    abs_ref,
    default_value,
    new_sheet,
    zero_blank,
)
from engine import COLUMNS, FIELDS, MAX_MONTHS, METRICS, TABLES
from engine.errors import CdmError
from engine.fields import Field, is_percent
from engine.obligations import OBLIGATION_FIGURES, obligation_label

# ------------------------------------------------------------------ sheets


def _cover(wb: Workbook, layout: Layout, deal_name: str) -> None:
    ws = wb.create_sheet(COVER)
    ws.column_dimensions["A"].width = 2
    ws.column_dimensions["B"].width = 30
    ws.column_dimensions["C"].width = 90
    ws["B2"] = "Compute Deal Model"
    ws["B2"].font = Font(bold=True, size=18)
    write_cell(ws["B3"], deal_name or "Deal template")
    ws["B3"].font = TITLE_FONT
    rows: list[tuple[str, object]] = [
        ("Template version", package_version()),
        ("Master check", '=IF(master_check=1,"OK","CHECK FAILED: see the Checks sheet")'),
        ("Input warnings", '=warning_count&" (legal but inconsistent inputs; see Checks)"'),
        (
            "Native Calc sheet",
            '=IF(native_covered=1,"covers the scenario in use (compared on Checks)","engine-only features in use: see Calc")',
        ),
        ("Active scenario", "=scenario"),
        ("Last refresh", None),
    ]
    for i, (label, value) in enumerate(rows, start=5):
        ws.cell(i, 2, label).font = HEADER_FONT
        c = ws.cell(i, 3, value)
        if isinstance(value, str) and value.startswith("="):
            c.font = LINK_FONT
    stamp_row = 5 + len(rows) - 1
    stamp = ws.cell(stamp_row, 3, "not refreshed yet: press Refresh model (Compute Deal tab) or run cdm refresh")
    stamp.fill, stamp.font, stamp.alignment = REFRESH_FILL, REFRESH_FONT, WRAP
    ws.row_dimensions[stamp_row].height = 30  # the stamp runs to two lines
    _name(wb, layout, "cdm_run_stamp", abs_ref(COVER, 3, stamp_row))
    howto = [
        "1. Type the deal's terms in the yellow cells of the Inputs sheet. A blank cell means the default shown beside it.",
        "2. Pick the active scenario at the top of Inputs; alternatives are typed on the Scenarios sheet "
        "(blank = same as base case; - = blank).",
        "3. The Schedule, Summary, Checks and Tables sheets compute with =CDM_ formulas (the Compute Deal add-in); the Calc "
        "sheet rebuilds the schedule in ordinary formulas, and Checks compare the two. On Tables, retype any figure, input "
        "name or value to try.",
        "4. Press Refresh model on the Compute Deal ribbon tab (or run cdm refresh FILE) for the checks list, "
        "the scenario comparison, the Monte Carlo summary on Risk and the run stamp.",
        "5. Without Excel: the file holds every figure's last computed value; cdm recalc FILE evaluates every formula; "
        "cdm report FILE builds the review report.",
        "Sign convention: payments by the buyer are positive amounts; NPV is the present value of those payments.",
        "Percentages are percent cells: type 90 or 90% for 90 percent; fractions (ramp) as 0-1.",
    ]
    top = stamp_row + 2
    ws.cell(top, 2, "How to use").font = SECTION_FONT
    for i, line in enumerate(howto, start=top + 1):
        _cover_line(ws, i, line)
    top += len(howto) + 2
    ws.cell(top, 2, "Colour legend").font = SECTION_FONT
    legend = [
        ("Input (typed by you)", INPUT_FONT, INPUT_FILL),
        ("Formula (calculated)", CALC_FONT, None),
        ("Link to another sheet", LINK_FONT, None),
        ("Written by Refresh (do not type)", REFRESH_FONT, REFRESH_FILL),
    ]
    for i, (label, font, fill) in enumerate(legend, start=top + 1):
        c = ws.cell(i, 2, label)
        c.font = font
        if fill is not None:
            c.fill = fill
    top += len(legend) + 2
    ws.cell(top, 2, "Qualifications").font = SECTION_FONT
    qualifications = [
        "Figures are only as good as the inputs: terms marked ASSUMED in a deal's sources are not public.",
        "Delivered GPU-hours assume the contracted GPUs run every hour of the month, "
        "scaled by the ramp, late delivery and uptime.",
        "Market prices are reference rents from engine/data/market_prices.csv (source and date per row); "
        "spot and reserved differ.",
        "The model covers one contract at a time; portfolio, seller economics and risk are separate workbooks.",
    ]
    for i, line in enumerate(qualifications, start=top + 1):
        _cover_line(ws, i, line)


def _cover_line(ws: Any, row: int, text: str) -> None:
    """A line of prose across columns B:C, wrapped, its row tall enough for it (about 110 characters a line)."""
    ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
    c = ws.cell(row, 2, text)
    c.alignment = WRAP
    ws.row_dimensions[row].height = 15 * max(1, -(-len(text) // 110))


def _inputs(wb: Workbook, layout: Layout, values: dict[str, object]) -> int:
    ws = new_sheet(
        wb,
        INPUTS,
        (2, 44, 26, 16, 18, 18, 48, 40),
        "Inputs",
        "Type in the yellow cells. A blank cell takes the default in column F. Every input has a defined name (column C).",
    )
    ws["B4"] = "Active scenario"
    ws["B4"].font = HEADER_FONT
    sc = ws["E4"]
    sc.value = values.get("_scenario", BASE_CASE)
    _style_input(sc)
    dv = DataValidation(type="list", formula1=f"={abs_ref(SCENARIOS, 5, 4, 4 + N_SCENARIO_COLUMNS, 4)}", allow_blank=False)
    dv.error, dv.errorTitle, dv.showErrorMessage = "Pick a scenario named on the Scenarios sheet", "scenario", True
    ws.add_data_validation(dv)
    dv.add("E4")
    _name(wb, layout, "scenario", abs_ref(INPUTS, 5, 4))
    headers = ("Input", "Name", "Unit", "Value (base case)", "Default (a blank means)", "Source", "Notes")
    for j, h in enumerate(headers, start=2):
        c = ws.cell(6, j, h)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
    ws.freeze_panes = "B7"
    sources: dict[str, str] = values.get("_sources", {})  # type: ignore[assignment]
    row = 7
    section = None
    for f in FIELDS:
        if f.section != section:
            section = f.section
            row += 1
            ws.cell(row, 2, section).font = SECTION_FONT
            row += 1
        ws.cell(row, 2, f.label)
        ws.cell(row, 3, f.name)
        ws.cell(row, 4, f.unit)
        c = write_cell(ws.cell(row, 5), _cell_value(f, values.get(f.name), percent=True))  # user text stays text
        _style_input(c)
        fmt = _fmt_for(f, percent=True)
        if fmt:
            c.number_format = fmt
        default = default_value(f)
        if default is None:
            ws.cell(row, 6, _default_text(f)).alignment = WRAP
        else:
            d = write_cell(ws.cell(row, 6), default)
            d.alignment = Alignment(horizontal="center", vertical="top")
            if isinstance(default, (int, float)):
                d.number_format = WHOLE_PERCENT_FORMAT if is_percent(f) else (fmt or "General")
            layout.default_cells[f.name] = abs_ref(INPUTS, 6, row)
            if f.blank_means:
                ws.cell(row, 8, "Blank: " + f.blank_means).alignment = WRAP
        write_cell(ws.cell(row, 7), sources.get(f.name, f.default_source)).alignment = WRAP
        dvf = _validation(f, percent=True)
        if dvf is not None:
            ws.add_data_validation(dvf)
            dvf.add(c.coordinate)
        ref = abs_ref(INPUTS, 5, row)
        _name(wb, layout, f.name, ref)
        layout.input_cells[f.name] = ref
        row += 1
    for table in TABLES:
        row += 1
        ws.cell(row, 2, table.label).font = SECTION_FONT
        ws.cell(row, 3, table.name)
        write_cell(ws.cell(row, 7), sources.get(table.name, "")).alignment = WRAP
        row += 1
        for j, col in enumerate(table.columns):
            c = ws.cell(row, 5 + j, col.name)
            c.font, c.fill = HEADER_FONT, HEADER_FILL
        ws.cell(row, 3, "Name")
        ws.cell(row, 4, " / ".join(col.unit for col in table.columns))
        row += 1
        first = row
        table_rows: list[dict[str, object]] = values.get(table.name) or []  # type: ignore[assignment]
        for i in range(1, table.max_rows + 1):
            ws.cell(row, 2, f"{table.name} row {i}")
            ws.cell(row, 3, f"{table.name}[{i}]")
            given = table_rows[i - 1] if i <= len(table_rows) else {}
            for j, col in enumerate(table.columns):
                c = ws.cell(row, 5 + j, _cell_value(col, given.get(col.name), percent=True))
                _style_input(c)
                fmt = _fmt_for(col, percent=True)
                if fmt:
                    c.number_format = fmt
                dvc = _validation(col, percent=True)
                if dvc is not None:
                    ws.add_data_validation(dvc)
                    dvc.add(c.coordinate)
                layout.input_cells[f"{table.name}[{i}].{col.name}"] = abs_ref(INPUTS, 5 + j, row)
            row += 1
        _name(wb, layout, table.name, abs_ref(INPUTS, 5, first, 4 + len(table.columns), row - 1))
    _name(wb, layout, "cdm_input_sources", abs_ref(INPUTS, 3, 7, 7, row - 1))
    row += 1
    ws.cell(row, 2, "Model settings").font = SECTION_FONT
    row += 1
    ws.cell(row, 2, "Tolerance of the Checks sheet (relative)")
    ws.cell(row, 3, "check_tolerance")
    ws.cell(row, 4, "ratio")
    c = ws.cell(row, 5, values.get("_check_tolerance", CHECK_TOLERANCE))
    _style_input(c)
    ws.cell(row, 6, "1e-9: figures agree to nine significant digits")
    _name(wb, layout, "check_tolerance", abs_ref(INPUTS, 5, row))
    return reference_blocks(wb, layout, ws, row)


def _scenario_keys() -> list[tuple[str, Field]]:
    keys: list[tuple[str, Field]] = [(f.name, f) for f in FIELDS]
    for table in TABLES:
        for i in range(1, table.max_rows + 1):
            keys += [(f"{table.name}[{i}].{col.name}", col) for col in table.columns]
    return keys


def _scenarios(wb: Workbook, layout: Layout, scenarios: dict[str, dict[str, object]]) -> None:
    ws = wb.create_sheet(SCENARIOS)
    for col, width in zip("ABCDE", (2, 34, 28, 18, 18)):
        ws.column_dimensions[col].width = width
    for j in range(N_SCENARIO_COLUMNS - 1):
        ws.column_dimensions[get_column_letter(6 + j)].width = 22
    ws["B1"] = "Scenarios"
    ws["B1"].font = TITLE_FONT
    ws["B2"] = ("The base case links to Inputs. Type an alternative only where it differs: a blank cell takes the base case. "
                "Column D is what the model uses (the scenario picked on Inputs).")  # fmt: skip
    ws.cell(4, 2, "Input").font = HEADER_FONT
    ws.cell(4, 3, "Name").font = HEADER_FONT
    ws.cell(4, 4, "In use").font = HEADER_FONT
    ws.cell(4, 5, BASE_CASE).font = HEADER_FONT
    names = list(scenarios)[: N_SCENARIO_COLUMNS - 1]
    for j in range(N_SCENARIO_COLUMNS - 1):
        c = write_cell(ws.cell(4, 6 + j), names[j] if j < len(names) else f"Scenario {j + 2}")
        _style_input(c)
        c.font = Font(color="0000FF", bold=True)
        c.alignment = WRAP
    ws.row_dimensions[4].height = 45
    _name(wb, layout, "cdm_scenario_names", abs_ref(SCENARIOS, 5, 4, 4 + N_SCENARIO_COLUMNS, 4))
    ws.cell(5, 2, "Scenario number (1 = base case)")
    ws.cell(5, 4, "=MATCH(scenario,cdm_scenario_names,0)")
    _name(wb, layout, "scenario_index", abs_ref(SCENARIOS, 4, 5))
    ws.freeze_panes = "D7"
    last_alt = get_column_letter(4 + N_SCENARIO_COLUMNS)
    row = 7
    for key, f in _scenario_keys():
        ws.cell(row, 2, f.label if "[" not in key else key.split(".")[0].replace("[", " row ").rstrip("]") + ": " + f.label)
        ws.cell(row, 3, key)
        base = layout.input_cells[key]
        if key == "valuation_date":  # blank: the base case's first day, which every scenario then shares
            start = layout.input_cells["start_month"]
            link = ws.cell(row, 5, f'=IF({base}="",IF({start}="","",DATE(YEAR({start}),MONTH({start}),1)),{base})')
        else:
            link = ws.cell(row, 5, f'=IF({base}="","",{base})')
        link.font = LINK_FONT
        pick = f"INDEX($E{row}:${last_alt}{row},1,scenario_index)"
        in_use = f'IF({pick}="",$E{row},{pick})'
        if is_percent(f):  # the cells hold fractions (percent format); CDM_ functions read the engine's whole numbers
            live = ws.cell(row, 4, f"=IF(ISNUMBER({in_use}),ROUND({in_use}*100,10),{in_use})")
        else:
            live = ws.cell(row, 4, f"={in_use}")
        fmt = _fmt_for(f, percent=True)
        for j in range(N_SCENARIO_COLUMNS - 1):
            given = scenarios[names[j]].get(key) if j < len(names) else None
            alt = write_cell(ws.cell(row, 6 + j), _cell_value(f, given, percent=True))
            _style_input(alt)
            if fmt:
                alt.number_format = fmt
        if fmt:
            live.number_format = fmt if fmt != "@" else "General"
            link.number_format = live.number_format
            if is_percent(f):
                live.number_format = WHOLE_PERCENT_FORMAT
        dv = _validation(f, percent=True)
        if dv is not None:
            ws.add_data_validation(dv)
            dv.add(f"F{row}:{last_alt}{row}")
        layout.scenario_rows[key] = row
        row += 1
    _name(wb, layout, "cdm_deal", abs_ref(SCENARIOS, 3, 7, 4, row - 1))
    _name(wb, layout, "cdm_scenario_alternatives", abs_ref(SCENARIOS, 6, 7, 4 + N_SCENARIO_COLUMNS, row - 1))


def _schedule(wb: Workbook, layout: Layout) -> None:
    ws = wb.create_sheet(SCHEDULE)
    ws.column_dimensions["A"].width = 2
    ws.column_dimensions["B"].width = 40
    ws.column_dimensions["C"].width = 26
    ws.column_dimensions["D"].width = 10
    ws.column_dimensions["E"].width = 16
    ws["B1"] = "Schedule"
    ws["B1"].font = TITLE_FONT
    ws["B2"] = "Computed by one array formula, =CDM_SCHEDULE(cdm_deal), over a fixed 120-month timeline. Do not type here."
    last = FIRST_MONTH_COL + MAX_MONTHS - 1
    ws.cell(4, 2, "Timeline").font = HEADER_FONT
    ws.cell(4, 5, "Total").font = HEADER_FONT
    for k in range(MAX_MONTHS):
        col = FIRST_MONTH_COL + k
        ws.cell(4, col, "=COLUMN()-COLUMN($E$4)").number_format = "0"
        ws.column_dimensions[get_column_letter(col)].width = 12
    first_row = 6
    units = {c.name: c for c in COLUMNS}
    summed = {name for name, c in units.items() if c.unit in ("USD", "GPU-hours") and name != "cumulative_fee_usd"}
    for r, name in enumerate(SCHEDULE_ROWS):
        row = first_row + r
        c = units[name]
        ws.cell(row, 2, c.label)
        ws.cell(row, 3, name)
        ws.cell(row, 4, c.unit)
        if name in summed:
            t = ws.cell(row, 5, f"=SUM({get_column_letter(FIRST_MONTH_COL)}{row}:{get_column_letter(last)}{row})")
            t.number_format = zero_blank(EXCEL_FORMATS.get(c.unit, "General"))
            t.font = HEADER_FONT
        layout.schedule_rows[name] = row
        fmt = zero_blank(EXCEL_FORMATS.get(c.unit, "General"))
        for k in range(MAX_MONTHS):
            ws.cell(row, FIRST_MONTH_COL + k).number_format = fmt
    last_row = first_row + len(SCHEDULE_ROWS) - 1
    ref = f"{get_column_letter(FIRST_MONTH_COL)}{first_row}:{get_column_letter(last)}{last_row}"
    ws.cell(first_row, FIRST_MONTH_COL).value = ArrayFormula(ref, "=CDM_SCHEDULE(cdm_deal)")
    _name(wb, layout, "cdm_schedule", abs_ref(SCHEDULE, FIRST_MONTH_COL, first_row, last, last_row))
    flag_over_power(ws, layout, FIRST_MONTH_COL)
    fiscal_years(ws, layout, FIRST_MONTH_COL, last_row + 2)
    ws.freeze_panes = ws.cell(first_row, FIRST_MONTH_COL)


def _summary(wb: Workbook, layout: Layout) -> None:
    ws = new_sheet(
        wb,
        SUMMARY,
        (2, 48, 30, 20, 16),
        "Summary",
        "Key figures of the scenario in use, computed by =CDM_SUMMARY(cdm_deal, name).",
    )
    for j, h in enumerate(("Figure", "Name", "Value", "Unit"), start=2):
        c = ws.cell(4, j, h)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
    ws.cell(5, 2, "Deal")
    ws.cell(5, 3, "deal_name")
    ws.cell(5, 4, '=CDM_SUMMARY(cdm_deal,"deal_name")')
    row = 6
    input_names = {f.name for f in FIELDS}
    extras = [("irr_vs_market_pct", "%", "IRR vs market (used hours at market price - payments)"),
              ("exit_date", "date", "Earliest exit date (blank: no termination right)"),
              ("valuation_date", "date", "Valuation date (every NPV is discounted to it)")]  # fmt: skip
    extras += [(name, "USD", obligation_label(name)) for name in OBLIGATION_FIGURES]
    for name, unit, label in [(m.name, m.unit, m.label) for m in METRICS] + extras:
        ws.cell(row, 2, label)
        ws.cell(row, 3, name)
        c = ws.cell(row, 4, f'=CDM_SUMMARY(cdm_deal,"{name}")')
        c.number_format = EXCEL_FORMATS.get(unit, "General")
        ws.cell(row, 5, unit)
        layout.summary_rows[name] = row
        if name not in input_names:
            _name(wb, layout, name, abs_ref(SUMMARY, 4, row))
        row += 1
    row += 1
    ws.cell(row, 2, "Seller and build vs buy (=CDM_SELLER)").font = SECTION_FONT
    row += 1
    for name, unit, label in SELLER_SUMMARY_FIGURES:
        ws.cell(row, 2, label)
        ws.cell(row, 3, f"seller_{name}" if not name.startswith(("seller_", "build_")) else name)
        c = ws.cell(row, 4, f'=CDM_SELLER(cdm_deal,"{name}")')
        c.number_format = EXCEL_FORMATS.get(unit, "General")
        if unit == "text":  # a sentence, not a figure: across the value and unit columns, wrapped
            ws.merge_cells(start_row=row, start_column=4, end_row=row, end_column=5)
            c.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
            ws.row_dimensions[row].height = 45
        else:
            ws.cell(row, 5, unit)
        layout.summary_rows[f"seller:{name}"] = row
        row += 1
    row += 1
    ws.cell(
        row, 2, "Sizing from the catalogue (first SKU of the deal, power in use; kw_per_gpu, if given, is in the figures above)"
    ).font = SECTION_FONT
    row += 1
    live = {key: f"{quote_sheetname(SCENARIOS)}!$D${r}" for key, r in layout.scenario_rows.items()}
    fleet1, default_sku = live["fleet[1].gpu_sku"], layout.default_cells["gpu_sku"]  # the engine's order: fleet, SKU, default
    one = live["gpu_sku"]
    sku = f'IF(OR({fleet1}="",{fleet1}="-"),IF(OR({one}="",{one}="-"),{default_sku},{one}),{fleet1})'
    args = f"{live['pue']},{live['network_overhead_pct']}"
    sizing = [
        ("GPU model", "sizing_gpu_sku", f"={sku}", "SKU"),
        (
            "All-in kW per GPU (catalogue: typical draw x (1 + network) x PUE)",
            "sizing_kw_per_gpu",
            f"=CDM_KW_PER_GPU({sku},{args})",
            "kW",
        ),
        ("GPUs the facility can feed", "sizing_gpus_from_mw", f"=CDM_GPUS_FROM_MW({live['facility_mw']},{sku},{args})", "GPUs"),
        ("Facility MW those GPUs need", "sizing_mw_from_gpus", f"=CDM_MW_FROM_GPUS(sizing_gpus_from_mw,{sku},{args})", "MW"),
        ("IT load", "sizing_it_mw", '=CDM_INPUT(cdm_deal,"facility_mw")/CDM_INPUT(cdm_deal,"pue")', "MW"),
        ("TDP per GPU", "sizing_tdp_w", f'=CDM_GPU_SPEC({sku},"tdp_w")', "W"),
        ("Dense BF16 per GPU", "sizing_dense_bf16_tflops", f'=CDM_GPU_SPEC({sku},"dense_bf16_tflops")', "TFLOPS"),
    ]
    for label, name, formula, unit in sizing:
        ws.cell(row, 2, label)
        ws.cell(row, 3, name)
        c = ws.cell(row, 4, formula)
        c.number_format = EXCEL_FORMATS.get(unit, "#,##0.000")
        ws.cell(row, 5, unit)
        _name(wb, layout, name, abs_ref(SUMMARY, 4, row))
        layout.summary_rows[name] = row
        row += 1


SELLER_SUMMARY_FIGURES = (
    ("revenue_usd", "USD", "Seller revenue"),
    ("ebitda_usd", "USD", "Seller EBITDA"),
    ("ebitda_margin_pct", "%", "Seller EBITDA margin"),
    ("ebitda_margin_check", "text", "Seller EBITDA margin against the neocloud range"),
    ("operating_margin_pct", "%", "Seller operating margin"),
    ("capex_usd", "USD", "Seller capex"),
    ("book_value_at_start_usd", "USD", "Seller book value at the start (sunk capex at book)"),
    ("stack_total_usd_per_gpu_hour", "USD/GPU-hour", "Seller cost stack per delivered GPU-hour"),
    ("project_irr_pct", "%", "Seller project IRR"),
    ("project_npv_usd", "USD", "Seller project NPV"),
    ("payback_month", "months", "Seller payback month"),
    ("breakeven_usd_per_gpu_hour", "USD/GPU-hour", "Seller break-even price per GPU-hour"),
    ("early_exit_project_npv_usd", "USD", "Seller NPV if the buyer leaves at the first exit"),
    ("build_saving_npv_usd", "USD", "Buyer: NPV saved by building instead"),
    ("build_crossover_month", "months", "Buyer: term beyond which building is cheaper"),
)

COMPARE_FIGURES = (
    "months_billed", "headline_tcv_usd", "net_tcv_usd", "firm_commitment_usd", "firm_share_pct", "npv_usd", "gpus",
    "kw_per_gpu", "required_facility_mw", "usd_per_gpu_hour", "usd_per_used_gpu_hour", "usd_per_kw_month",
    "premium_to_market_pct", "breakeven_utilization_pct",
)  # fmt: skip


def _compare(wb: Workbook, layout: Layout) -> None:
    ws = wb.create_sheet(COMPARE)
    ws.column_dimensions["A"].width = 2
    ws.column_dimensions["B"].width = 44
    ws.column_dimensions["C"].width = 26
    ws["B1"] = "Scenario comparison"
    ws["B1"].font = TITLE_FONT
    ws["B2"] = "Every scenario side by side, written as values by Refresh (one vectorised engine run)."
    units = {m.name: m.unit for m in METRICS}
    labels = {m.name: m.label for m in METRICS}
    first, last_col = 4, 3 + N_SCENARIO_COLUMNS
    for j in range(N_SCENARIO_COLUMNS):
        ws.column_dimensions[get_column_letter(4 + j)].width = 20
    for r, name in enumerate(("scenario", *COMPARE_FIGURES)):
        row = first + r
        ws.cell(row, 2, labels.get(name, "Scenario"))
        ws.cell(row, 3, name)
        for col in range(4, last_col + 1):
            cell = ws.cell(row, col)
            cell.fill, cell.font = REFRESH_FILL, REFRESH_FONT
            if name in units:
                cell.number_format = EXCEL_FORMATS.get(units[name], "General")
    _name(wb, layout, "cdm_scenario_results", abs_ref(COMPARE, 2, first, last_col, first + len(COMPARE_FIGURES)))


# The Tables sheet's two-way tables: (figure, its unit, the input down the rows and its values, across and its values)
TWO_WAY_TABLES: tuple[tuple[str, str, str, tuple[float, ...], str, tuple[float, ...]], ...] = (
    ("usd_per_used_gpu_hour", "USD/GPU-hour", "utilization_pct", (60, 70, 80, 90, 100),
     "take_or_pay_min_pct", (0, 25, 50, 75, 100)),
    ("npv_usd", "USD", "discount_rate_pct", (6, 8, 10, 12, 14), "delivery_delay_months", (0, 1, 2, 3, 6)),
)  # fmt: skip


def _tables(wb: Workbook, layout: Layout) -> None:
    """Two-way data tables as =CDM_TABLE array formulas: every name and value in them can be retyped."""
    ws = new_sheet(wb, "Tables", (2, 34, 26, 16, 16, 16, 16, 16, 2),
                   "Two-way tables: any figure over any two inputs, one engine call each",
                   ("Type any figure name (as on the Summary sheet) and any two numeric input names (as on the Inputs "
                "sheet), and the values to try; the table recomputes with the workbook. Unlike an Excel data table it "
                "is one call, not a recalculation per cell."))  # fmt: skip
    top = 4
    for k, (figure, unit, row_input, row_values, col_input, col_values) in enumerate(TWO_WAY_TABLES, start=1):
        ws.cell(top, 2, f"Table {k}").font = SECTION_FONT
        for r, (label, value) in enumerate((("Figure", figure), ("Down the rows", row_input), ("Across the columns", col_input))):
            ws.cell(top + 1 + r, 2, label)
            _style_input(ws.cell(top + 1 + r, 3, value))
        head = top + 5
        ws.cell(head, 3, f'=C{top + 2}&" down, "&C{top + 3}&" across"').font = HEADER_FONT
        for j, v in enumerate(col_values):
            _style_input(ws.cell(head, 4 + j, v))
        for i, v in enumerate(row_values):
            _style_input(ws.cell(head + 1 + i, 3, v))
            for j in range(len(col_values)):
                ws.cell(head + 1 + i, 4 + j).number_format = EXCEL_FORMATS.get(unit, "General")
        last_row, last_col = head + len(row_values), 3 + len(col_values)
        rows = f"C{head + 1}:C{last_row}"
        cols = f"D{head}:{get_column_letter(last_col)}{head}"
        body = f"D{head + 1}:{get_column_letter(last_col)}{last_row}"
        formula = f"=CDM_TABLE(cdm_deal,C{top + 1},C{top + 2},{rows},C{top + 3},{cols})"
        ws.cell(head + 1, 4).value = ArrayFormula(body, formula)
        _name(wb, layout, f"cdm_table_{k}", abs_ref("Tables", 4, head + 1, last_col, last_row))
        top = last_row + 3


def build_deal_workbook(
    raw: dict[str, object] | None = None,
    scenarios: dict[str, dict[str, object]] | None = None,
    sources: dict[str, str] | None = None,
    risk: dict[str, object] | None = None,
) -> tuple[Workbook, Layout]:
    """The deal template (``raw`` None) or a deal's workbook with its values typed in.

    Scenario values for tables are given as whole tables (``fleet = [...]``)
    and spread over the table's rows.
    """
    raw = dict(raw or {})
    src = dict(sources or raw.pop("sources", {}) or {})  # type: ignore[arg-type]
    raw.pop("sources", None)
    wb = Workbook()
    wb.remove(wb.active)
    layout = Layout()
    values: dict[str, object] = {**raw, "_sources": src}
    _cover(wb, layout, str(raw.get("deal_name", "")))
    _inputs(wb, layout, values)
    _scenarios(wb, layout, {k: _flatten_tables(v) for k, v in (scenarios or {}).items()})
    _schedule(wb, layout)
    build_calc_sheet(wb, layout)
    _summary(wb, layout)
    build_checks_sheet(wb, layout)
    _compare(wb, layout)
    _tables(wb, layout)
    _risk(wb, layout, dict(risk or {}), charts=_risk_charts)
    print_deal_workbook(wb, str(raw.get("deal_name") or "Deal template"), _longest_term(raw, scenarios or {}))
    wb.active = wb.sheetnames.index(INPUTS)
    props = wb.properties
    props.creator = props.lastModifiedBy = "Compute Deal Model"
    props.title = str(raw.get("deal_name", "Deal template"))
    props.created = props.modified = dt.datetime(2026, 1, 1)
    wb.calculation.fullCalcOnLoad = True
    return wb, layout


def _longest_term(raw: dict[str, object], scenarios: dict[str, dict[str, object]]) -> int:
    """Months billed by the longest scenario (the timeline sheets print that many); 120 when a month is unreadable."""

    def month(value: object) -> int:
        if isinstance(value, (dt.date, dt.datetime)):
            return value.year * 12 + value.month
        text = str(value)
        return int(text[:4]) * 12 + int(text[5:7])

    try:
        terms = [month(o.get("end_month", raw.get("end_month"))) - month(o.get("start_month", raw.get("start_month"))) + 1
                 for o in [{}, *scenarios.values()]]  # fmt: skip
    except (ValueError, TypeError, IndexError):
        return MAX_MONTHS
    return max(1, min(MAX_MONTHS, max(terms)))


def refuse_lost_scenarios(src: Any) -> None:
    """CdmError when a deal's scenarios cannot all be written to the workbook's scenario columns (nothing is dropped)."""
    n = len(src.scenarios)
    if n > N_SCENARIO_COLUMNS - 1:
        names = ", ".join(repr(k) for k in list(src.scenarios)[N_SCENARIO_COLUMNS - 1 :])
        raise CdmError(f"{src.path}: has {n} scenarios; the deal workbook holds {N_SCENARIO_COLUMNS - 1} beside the base case, "
                       f"so {names} would be lost: move them to a second deal file; nothing was written")  # fmt: skip


def _flatten_tables(overrides: dict[str, object]) -> dict[str, object]:
    """``fleet = [{...}, ...]`` -> ``fleet[1].gpu_sku`` keys; unused rows of an overridden table are blanked with ''."""
    out: dict[str, object] = {}
    for key, value in overrides.items():
        table = next((t for t in TABLES if t.name == key), None)
        if table is None or not isinstance(value, list):
            out[key] = value
            continue
        for i in range(1, table.max_rows + 1):
            row = value[i - 1] if i <= len(value) else {}
            for col in table.columns:
                # a blank alternative means "same as base case", so rows the scenario drops are marked "-"
                out[f"{table.name}[{i}].{col.name}"] = row.get(col.name, NIL_MARK) if isinstance(row, dict) else NIL_MARK
    return out


EXAMPLE_DEAL = Path(__file__).resolve().parents[2] / "templates" / "example_deal.toml"
EXAMPLE_PORTFOLIO = Path(__file__).resolve().parents[2] / "templates" / "example_portfolio.toml"


def build_template() -> tuple[Workbook, Layout]:
    """The deal template: the layout with the example deal typed in (so it computes when opened)."""
    from addin.workbook.dealfile import load_toml_deal

    return build_deal_workbook(load_toml_deal(EXAMPLE_DEAL).raw)
