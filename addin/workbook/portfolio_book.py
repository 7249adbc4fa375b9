"""The portfolio workbook: read it (cells -> portfolio), compute its CDM_ functions, build and refresh it.

Layout (defined names are the contract): ``cdm_portfolio`` is the Inputs
sheet's two-column (name, value) block of portfolio inputs; ``cdm_contracts``
is the Contracts table, a header row of vocabulary names and one contract per
row (a fleet in one cell as ``H100-SXM=150000, H200-SXM=50000``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from addin.workbook.cells import cell_to_raw, date_to_serial, is_empty_cell, scalar, write_cell
from addin.workbook.dealfile import DealSource
from engine import InputError, build_terms
from engine.errors import Issue
from engine.portfolio import PORTFOLIO_FIELDS, Portfolio, PortfolioResult, build_portfolio

CONTRACT_COLUMNS = (
    "deal_name", "buyer", "vendor", "site", "start_month", "end_month", "monthly_fee_usd", "ramp_months", "ramp_fee_fraction",
    "ramp_capacity_fraction", "escalator_pct_per_year", "facility_mw", "pue", "gpu_sku", "gpu_count", "fleet",
    "utilization_pct", "sla_policy", "expected_uptime_pct", "notice_days", "lockin_months", "discount_rate_pct",
    "equity_pct", "revenue_share_pct", "warrant_value_usd",
)  # fmt: skip
MAX_CONTRACTS = 20
MAX_OUTAGES = 5
MAX_VALUATIONS = 3
TIMELINE_FORMATS = {"month": "mmm yyyy;;", "USD": '#,##0.0,,"M";-#,##0.0,,"M";""', "%": '0.0;-0.0;""'}
SCHEDULE_ROWS = (
    ("month", "month", "Month"),
    ("net_fee_usd", "USD", "Net fees, all contracts"),
    ("firm_fee_usd", "USD", "Firm fees"),
    ("delivered_gpus", "GPUs", "Delivered GPUs"),
    ("delivered_gpu_hours", "GPU-hours", "Delivered GPU-hours"),
    ("flops", "FLOPs", "Useful FLOPs at each contract's MFU"),
    ("hhi", "#", "Herfindahl index of capacity"),
    ("demand_gpu_hours", "GPU-hours", "Demand (first scenario)"),
    ("shortfall_gpu_hours", "GPU-hours", "Shortfall"),
    ("coverage_pct", "%", "Coverage (supply / demand)"),
)
_FLEET_ITEM = re.compile(r"^\s*([A-Za-z0-9\-]+)\s*=\s*([0-9_,.]+)\s*$")


def parse_fleet_text(text: str, where: str) -> list[dict[str, Any]]:
    """``H100-SXM=150000, GB200=20000`` -> fleet rows; a clear error for anything else."""
    rows = []
    for part in [p for p in re.split(r"[;,]\s*(?=[A-Za-z])", text) if p.strip()]:
        m = _FLEET_ITEM.match(part)
        if not m:
            raise InputError(Issue(where, "fleet", f"{where} must look like H100-SXM=150000, GB200=20000; got {text!r}", text))
        rows.append({"gpu_sku": m.group(1), "gpu_count": float(m.group(2).replace(",", "").replace("_", ""))})
    return rows


def _grid(block: Any) -> np.ndarray:
    """Any range a cell formula passes (a blank, one cell, a row, a table) as a 2-D array of cells."""
    arr = np.asarray(block if block is not None else [[None]], dtype=object)
    return arr.reshape(1, 1) if arr.ndim == 0 else arr.reshape(1, -1) if arr.ndim == 1 else arr


def portfolio_inputs(block: Sequence[Sequence[Any]] | np.ndarray) -> dict[str, Any]:
    """The Inputs (name, value) block -> raw portfolio inputs (lists gathered from name[i] keys)."""
    raw: dict[str, Any] = {}
    lists: dict[str, dict[int, Any]] = {}
    outages: dict[int, dict[str, Any]] = {}
    grid = _grid(block)
    if grid.shape[1] < 2:
        raise InputError(Issue("inputs", "shape", f"the portfolio inputs range must have two columns (name, value), "
                                                  f"got {grid.shape[0]} x {grid.shape[1]} cells", None))  # fmt: skip
    for row in grid:
        key = scalar(row[0])
        if is_empty_cell(key):
            continue
        name = str(key).strip()
        value = scalar(row[1])
        if is_empty_cell(value):
            continue
        m = re.match(r"^(\w+)\[(\d+)\](?:\.(\w+))?$", name)
        if m and m.group(3):
            v: Any = value
            if m.group(3) == "start":
                v = cell_to_raw("start_month", value)
                v = dt.date.fromisoformat(str(np.datetime64(v, "D"))) if v is not None and not isinstance(v, dt.date) else v
            if m.group(3) == "days" and isinstance(v, float) and v.is_integer():
                v = int(v)
            outages.setdefault(int(m.group(2)), {})[m.group(3)] = v
        elif m:
            lists.setdefault(m.group(1), {})[int(m.group(2))] = value
        else:
            raw[name] = cell_to_raw("start_month", value) if name == "start_month" else value
    for name, items in lists.items():
        raw[name] = [items[i] for i in sorted(items)]
    if outages:
        raw["outages"] = [outages[i] for i in sorted(outages)]
    return raw


def contract_rows(block: Sequence[Sequence[Any]] | np.ndarray) -> list[tuple[int, dict[str, Any]]]:
    """The Contracts table -> (row number from 1, raw deal) for every non-empty row."""
    arr = _grid(block)
    if arr.shape[0] < 2:  # a blank or one-row range holds no contract (build_portfolio then says so)
        return []
    header = [str(scalar(h)).strip() if not is_empty_cell(scalar(h)) else "" for h in arr[0]]
    out = []
    for i, row in enumerate(arr[1:], start=1):
        values = {h: scalar(v) for h, v in zip(header, row) if h and not is_empty_cell(scalar(v))}
        if not values:
            continue
        raw: dict[str, Any] = {}
        for h, v in values.items():
            if h == "fleet":
                raw["fleet"] = parse_fleet_text(str(v), f"contracts[{i}].fleet")
            else:
                raw[h] = cell_to_raw(h, v)
        out.append((i, raw))
    return out


def portfolio_from_blocks(inputs: Any, contracts: Any) -> Portfolio:
    """Validated portfolio from the two ranges; every issue names the contract row or the input."""
    issues: list[Issue] = []
    terms = []
    for i, raw in contract_rows(contracts):
        try:
            terms.append(build_terms(raw))
        except InputError as exc:
            issues += [Issue(f"contracts[{i}].{x.field}", x.rule, f"contracts row {i}: {x.message}", x.value) for x in exc.issues]
    if issues:
        raise InputError(issues)
    return build_portfolio(portfolio_inputs(inputs), terms)


def flat_figures(r: PortfolioResult) -> dict[str, Any]:
    """Scalar figures for CDM_PORTFOLIO, by name."""
    from addin.workbook.portfolio_file import portfolio_record

    rec = portfolio_record(r)
    out: dict[str, Any] = {
        k: rec[k] for k in ("npv_usd", "total_fees_usd", "firm_commitment_usd", "hhi_avg", "hhi_max", "burn_to_revenue_multiple")
    }
    out.update({f"commitments_{k}_usd": v for k, v in rec["commitments_by_period_usd"].items()})
    out.update({f"firm_commitments_{k}_usd": v for k, v in rec["firm_commitments_by_period_usd"].items()})
    first = rec["first_shortfall_month"]
    out["first_shortfall_month"] = date_to_serial(np.datetime64(first, "D")) if first else "none"
    out["gpus_to_sign_next_4_quarters"] = float(sum(rec["gpus_to_sign_per_quarter"][:4]))
    out["reliance_ratio_avg"] = rec["reliance"]["ratio_avg"] if "reliance" in rec else "n/a"
    out["contracts"] = float(len(rec["contracts"]))
    return out


FIGURES = ("npv_usd", "total_fees_usd", "firm_commitment_usd", "commitments_next_12_months_usd", "commitments_years_1_to_3_usd",
           "commitments_years_3_to_5_usd", "commitments_beyond_5_years_usd", "firm_commitments_next_12_months_usd",
           "firm_commitments_years_1_to_3_usd", "firm_commitments_years_3_to_5_usd", "firm_commitments_beyond_5_years_usd",
           "hhi_avg", "hhi_max", "reliance_ratio_avg", "burn_to_revenue_multiple", "first_shortfall_month",
           "gpus_to_sign_next_4_quarters", "contracts")  # fmt: skip


def schedule_array(r: PortfolioResult, months: int = 120) -> np.ndarray:
    """(rows, 120): the portfolio's monthly figures, time across, zero past the view, dates as serials."""
    cov = r.coverage(slice(0, 1))  # scenario 0: the one shown
    n = r.portfolio.n_months
    out = np.zeros((len(SCHEDULE_ROWS), months))
    serial = (r.months.astype("datetime64[D]") - np.datetime64("1899-12-30")).astype(np.int64).astype(float)
    coverage = np.where(np.isfinite(cov["coverage_pct"][0]), cov["coverage_pct"][0], 0.0)
    values = {
        "month": serial,
        "net_fee_usd": r.total_fee,
        "firm_fee_usd": r.firm.sum(axis=0),
        "delivered_gpus": r.gpus.sum(axis=0),
        "delivered_gpu_hours": r.total_gpu_hours,
        "flops": r.flops.sum(axis=0),
        "hhi": r.hhi(),
        "demand_gpu_hours": cov["demand_gpu_hours"][0],
        "shortfall_gpu_hours": cov["shortfall_gpu_hours"][0],
        "coverage_pct": coverage,
    }
    for i, (name, _, _) in enumerate(SCHEDULE_ROWS):
        out[i, :n] = values[name][:months]
    return out


def read_portfolio_workbook(path: Path) -> tuple[Portfolio, dict[str, str]]:
    """A portfolio workbook file -> validated portfolio; errors located at Inputs or Contracts cells."""
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.cell import range_boundaries

    from addin.workbook.book import OpenpyxlBook
    from addin.workbook.dealbook import open_workbook

    wb = open_workbook(path)
    book = OpenpyxlBook(wb)
    inputs, contracts = book.read("cdm_portfolio"), book.read("cdm_contracts")
    where: dict[str, str] = {}
    sheet, rng = book.address("cdm_portfolio")
    c0, r0, _, _ = range_boundaries(rng)
    for k, row in enumerate(inputs):
        if not is_empty_cell(row[0]):
            where[str(row[0]).strip()] = f"{sheet}!{get_column_letter(c0 + 1)}{r0 + k}"
    sheet, rng = book.address("cdm_contracts")
    c0, r0, _, _ = range_boundaries(rng)
    header = [str(h) if h else "" for h in contracts[0]]
    for i in range(1, len(contracts)):
        for j, h in enumerate(header):
            where[f"contracts[{i}].{h}"] = f"{sheet}!{get_column_letter(c0 + j)}{r0 + i}"
        where[f"contracts[{i}]"] = f"{sheet}!{get_column_letter(c0)}{r0 + i}"
    try:
        return portfolio_from_blocks(inputs, contracts), where
    except InputError as exc:
        exc.source = DealSource(path=path, raw={}, locations=where, kind="xlsx")  # type: ignore[attr-defined]
        raise


# ------------------------------------------------------------------ the workbook


def _fleet_text(rows: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['gpu_sku']}={int(r['gpu_count'])}" for r in rows)


def build_portfolio_workbook(raw: dict[str, Any] | None = None, contracts: Sequence[dict[str, Any]] = ()) -> Any:
    """The portfolio template (or a portfolio's workbook): Cover, Inputs, Contracts, Portfolio, Timeline, Checks, Vendors."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.formula import ArrayFormula

    from addin.version import package_version
    from addin.workbook.fmt import EXCEL_FORMATS
    from addin.workbook.sheets.risk import PORTFOLIO_RISK_ROWS, _portfolio_risk_charts, _risk
    from addin.workbook.styles import (
        HEADER_FILL,
        HEADER_FONT,
        INPUT_FILL,
        INPUT_FONT,
        LINK_FONT,
        REFRESH_FILL,
        REFRESH_FONT,
        SECTION_FONT,
        TITLE_FONT,
        WRAP,
        Layout,
        _cell_value,
        _fmt_for,
        _name,
        _style_input,
        _validation,
        abs_ref,
    )
    from engine.fields import FIELD_BY_NAME, Field

    raw = dict(raw or {})
    sources: dict[str, str] = raw.pop("sources", {}) or {}
    wb = Workbook()
    wb.remove(wb.active)
    layout = Layout()

    cover = wb.create_sheet("Cover")
    cover.column_dimensions["B"].width = 30
    cover.column_dimensions["C"].width = 100
    cover["B2"] = "Compute Deal Model: portfolio"
    cover["B2"].font = Font(bold=True, size=18)
    write_cell(cover["B3"], str(raw.get("portfolio_name", "") or "Portfolio template"))
    cover["B3"].font = TITLE_FONT
    cover["B5"], cover["C5"] = "Template version", package_version()
    cover["B6"], cover["C6"] = "Master check", '=IF(master_check=1,"OK","CHECK FAILED: see the Checks sheet")'
    cover["C6"].font = LINK_FONT
    cover["B7"] = "Last refresh"
    cover["C7"] = "not refreshed yet: press Refresh model (Compute Deal tab) or run cdm refresh"
    cover["C7"].fill, cover["C7"].font = REFRESH_FILL, REFRESH_FONT
    _name(wb, layout, "cdm_run_stamp", abs_ref("Cover", 3, 7))
    howto = [
        "1. Type the portfolio's inputs on the Inputs sheet and one contract per row on the Contracts sheet "
        "(the same input names as a deal; a mixed fleet in one cell: H100-SXM=150000, GB200=20000).",
        "2. Portfolio, Timeline and Checks compute with =CDM_PORTFOLIO and =CDM_PORTFOLIO_SCHEDULE.",
        "3. Refresh model (or cdm refresh FILE) writes the Vendors sheet: shares, outages, deal structure; "
        "cdm portfolio FILE prints it all.",
    ]
    for i, line in enumerate(howto, start=9):
        cover.cell(i, 2, line)
    cover.cell(13, 2, "Colour legend").font = SECTION_FONT
    cover.cell(14, 2, "Input (typed by you)").font = INPUT_FONT
    cover.cell(14, 2).fill = INPUT_FILL
    cover.cell(15, 2, "Formula (calculated)")
    cover.cell(16, 2, "Written by Refresh").font = REFRESH_FONT
    cover.cell(16, 2).fill = REFRESH_FILL

    ws = wb.create_sheet("Inputs")
    for col, width in zip("ABCDEFG", (2, 46, 30, 20, 16, 30, 60)):
        ws.column_dimensions[col].width = width
    ws["B1"] = "Portfolio inputs"
    ws["B1"].font = TITLE_FONT
    for j, h in enumerate(("Input", "Name", "Value", "Unit", "Blank means", "Source"), start=2):
        c = ws.cell(3, j, h)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
    keys: list[tuple[str, Field, object]] = [(f.name, f, raw.get(f.name)) for f in PORTFOLIO_FIELDS]
    text = Field("x", "text", "", "text", batch=False)
    reliance = raw.get("reliance_vendors") or []
    for i in (1, 2):
        vendor = Field(f"reliance_vendors[{i}]", "text", f"Reliance ratio: vendor {'AB'[i - 1]}", "vendor", batch=False)
        keys.append((f"reliance_vendors[{i}]", vendor, reliance[i - 1] if len(reliance) >= i else None))
    later = raw.get("later_valuations_usd") or []
    keys += [(f"later_valuations_usd[{i}]", Field("v", "number", f"Later valuation {i}", "USD", minimum=0, batch=False),
              later[i - 1] if len(later) >= i else None) for i in range(1, MAX_VALUATIONS + 1)]  # fmt: skip
    outages = raw.get("outages") or []
    for i in range(1, MAX_OUTAGES + 1):
        o = outages[i - 1] if len(outages) >= i else {}
        keys += [
            (f"outages[{i}].vendor", Field("v", "text", f"Outage {i}: vendor", "vendor", batch=False), o.get("vendor")),
            (f"outages[{i}].site", Field("v", "text", f"Outage {i}: or site", "site", batch=False), o.get("site")),
            (f"outages[{i}].start", Field("start_month", "month", f"Outage {i}: first day", "date", batch=False), o.get("start")),
            (f"outages[{i}].days", Field("v", "integer", f"Outage {i}: days out", "days", minimum=1, maximum=366, batch=False),
             o.get("days")),
        ]  # fmt: skip
    del text
    first = 4
    for r, (key, f, given) in enumerate(keys, start=first):
        ws.cell(r, 2, f.label)
        ws.cell(r, 3, key)
        value = given
        if f.kind == "month" and isinstance(given, dt.date):
            value = given if key.endswith(".start") else dt.date(given.year, given.month, 1)
        elif f.kind == "month" and given is not None:
            value = _cell_value(f, given)
        c = write_cell(ws.cell(r, 4), value)
        _style_input(c)
        fmt = "yyyy-mm-dd" if key.endswith(".start") else _fmt_for(f)
        if fmt:
            c.number_format = fmt
        ws.cell(r, 5, f.unit)
        ws.cell(r, 6, "required" if f.required else (f.blank_means or ("" if f.default is None else str(f.default))))
        ws.cell(r, 7, sources.get(key, f.default_source)).alignment = WRAP
        dv = _validation(f)
        if dv is not None:
            ws.add_data_validation(dv)
            dv.add(c.coordinate)
        if f.name in {p.name for p in PORTFOLIO_FIELDS} and f.name == key:
            _name(wb, layout, key, abs_ref("Inputs", 4, r))
    last = first + len(keys) - 1
    _name(wb, layout, "cdm_portfolio", abs_ref("Inputs", 3, first, 4, last))

    cs = wb.create_sheet("Contracts")
    cs["B1"] = "Contracts: one per row, the same input names as a deal (blank = the deal default)"
    cs["B1"].font = TITLE_FONT
    header = 3
    for j, name in enumerate(CONTRACT_COLUMNS, start=2):
        c = cs.cell(header, j, name)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
        cs.column_dimensions[get_column_letter(j)].width = 34 if name == "fleet" else (26 if name == "deal_name" else 16)
    for i in range(1, MAX_CONTRACTS + 1):
        row = contracts[i - 1] if len(contracts) >= i else {}
        for j, name in enumerate(CONTRACT_COLUMNS, start=2):
            f = FIELD_BY_NAME.get(name)
            value = row.get(name)
            if name == "fleet" and isinstance(value, list):
                value = _fleet_text(value)
            elif f is not None and value is not None:
                value = _cell_value(f, value)
            c = write_cell(cs.cell(header + i, j), value)
            _style_input(c)
            if f is not None:
                fmt = _fmt_for(f)
                if fmt:
                    c.number_format = fmt
    for j, name in enumerate(CONTRACT_COLUMNS, start=2):
        f = FIELD_BY_NAME.get(name)
        dv = _validation(f) if f is not None else None
        if dv is not None:
            cs.add_data_validation(dv)
            col = get_column_letter(j)
            dv.add(f"{col}{header + 1}:{col}{header + MAX_CONTRACTS}")
    cs.freeze_panes = cs.cell(header + 1, 3)
    _name(wb, layout, "cdm_contracts", abs_ref("Contracts", 2, header, 1 + len(CONTRACT_COLUMNS), header + MAX_CONTRACTS))

    ps = wb.create_sheet("Portfolio")
    for col, width in zip("ABCDE", (2, 50, 40, 20, 14)):
        ps.column_dimensions[col].width = width
    ps["B1"] = "Portfolio figures (=CDM_PORTFOLIO)"
    ps["B1"].font = TITLE_FONT
    units = {"hhi_avg": "#", "hhi_max": "#", "reliance_ratio_avg": "x", "burn_to_revenue_multiple": "x",
             "first_shortfall_month": "month", "gpus_to_sign_next_4_quarters": "GPUs", "contracts": "#"}  # fmt: skip
    for r, name in enumerate(FIGURES, start=3):
        ps.cell(r, 2, name.replace("_", " ").replace(" usd", " [USD]"))
        ps.cell(r, 3, f"portfolio_{name}")
        c = ps.cell(r, 4, f'=CDM_PORTFOLIO(cdm_portfolio,cdm_contracts,"{name}")')
        unit = units.get(name, "USD")
        c.number_format = {"x": "0.00", "#": "#,##0", "month": "mmm yyyy"}.get(unit, EXCEL_FORMATS.get(unit, "General"))
        ps.cell(r, 5, unit)
        _name(wb, layout, f"portfolio_{name}", abs_ref("Portfolio", 4, r))

    ts = wb.create_sheet("Timeline")
    ts.column_dimensions["B"].width = 36
    ts["B1"] = "The portfolio by month (=CDM_PORTFOLIO_SCHEDULE); 120 months across, zero past the view"
    ts["B1"].font = TITLE_FONT
    first_row = 4
    for r, (name, unit, label) in enumerate(SCHEDULE_ROWS, start=first_row):
        ts.cell(r, 2, label)
        ts.cell(r, 3, name)
        ts.cell(r, 4, unit)
        for k in range(120):
            ts.cell(r, 6 + k).number_format = TIMELINE_FORMATS.get(unit, '#,##0;-#,##0;""')
    last_row = first_row + len(SCHEDULE_ROWS) - 1
    ref = f"F{first_row}:{get_column_letter(5 + 120)}{last_row}"
    ts.cell(first_row, 6).value = ArrayFormula(ref, "=CDM_PORTFOLIO_SCHEDULE(cdm_portfolio,cdm_contracts)")
    _name(wb, layout, "cdm_portfolio_schedule", abs_ref("Timeline", 6, first_row, 125, last_row))
    fee_row = first_row + 1

    ch = wb.create_sheet("Checks")
    ch.column_dimensions["B"].width = 60
    ch.column_dimensions["C"].width = 30
    ch["B1"] = "Checks (1 = passes)"
    ch["B1"].font = TITLE_FONT
    tol = "1E-9*MAX(1,ABS(portfolio_total_fees_usd))"
    fees = f"SUM(Timeline!F{fee_row}:DU{fee_row})"
    buckets = "+".join(
        f"portfolio_commitments_{b}_usd" for b in ("next_12_months", "years_1_to_3", "years_3_to_5", "beyond_5_years")
    )
    checks = [
        ("check_contracts_valid", "Every contract and input is valid", "=IF(ISNUMBER(portfolio_contracts),1,0)"),
        ("check_timeline_fees", "Monthly fees sum to the total", f"=IF(ABS({fees}-portfolio_total_fees_usd)<={tol},1,0)"),
        ("check_buckets", "Commitments by period sum to the total", f"=IF(ABS({buckets}-portfolio_total_fees_usd)<={tol},1,0)"),
        (
            "check_firm_le_total",
            "Firm commitments <= total fees",
            f"=IF(portfolio_firm_commitment_usd<=portfolio_total_fees_usd+{tol},1,0)",
        ),
    ]
    for r, (name, label, formula) in enumerate(checks, start=3):
        ch.cell(r, 2, label)
        ch.cell(r, 3, name)
        ch.cell(r, 4, formula)
        _name(wb, layout, name, abs_ref("Checks", 4, r))
    master = 3 + len(checks) + 1
    ch.cell(master, 2, "Master check").font = HEADER_FONT
    ch.cell(master, 4, f"=MIN(D3:D{master - 2})").font = HEADER_FONT
    _name(wb, layout, "master_check", abs_ref("Checks", 4, master))
    ch.cell(master + 2, 2, "Messages (written by Refresh)").font = SECTION_FONT
    for r in range(master + 3, master + 3 + 20):
        for col in range(2, 6):
            ch.cell(r, col).fill, ch.cell(r, col).font = REFRESH_FILL, REFRESH_FONT
    _name(wb, layout, "cdm_messages", abs_ref("Checks", 2, master + 3, 5, master + 22))

    vs = wb.create_sheet("Vendors")
    vs["B1"] = "Vendors, outages and deal structure (written by Refresh)"
    vs["B1"].font = TITLE_FONT
    for col, width in zip("BCDEFGH", (34, 18, 18, 18, 18, 18, 40)):
        vs.column_dimensions[col].width = width
    for r in range(3, 3 + 40):
        for col in range(2, 9):
            vs.cell(r, col).fill, vs.cell(r, col).font = REFRESH_FILL, REFRESH_FONT
    _name(wb, layout, "cdm_portfolio_results", abs_ref("Vendors", 2, 3, 8, 42))

    vendors = dict.fromkeys(str(c.get("vendor") or c.get("deal_name") or "") for c in contracts)
    vendor_rows = tuple(
        row
        for v in vendors
        if v
        for row in (
            (f"vendors.{v}.outages_per_year", f"Outages a year at {v} (blank = the all-vendor row)"),
            (f"vendors.{v}.outage_days", f"Outage length at {v}, days (blank = the all-vendor row)"),
        )
    )
    n_vendors = sum(1 for v in vendors if v)

    def charts(wb: Workbook, layout: Any, ws: Any, first: int) -> None:
        _portfolio_risk_charts(wb, layout, ws, first, n_vendors)

    _risk(wb, layout, flat_risk(dict(raw.get("risk") or {})), PORTFOLIO_RISK_ROWS + vendor_rows, charts=charts)
    wb.active = wb.sheetnames.index("Contracts")
    wb.properties.creator = wb.properties.lastModifiedBy = "Compute Deal Model"
    wb.properties.created = wb.properties.modified = dt.datetime(2026, 1, 1)
    wb.calculation.fullCalcOnLoad = True
    from addin.workbook.sheets.printing import print_portfolio_workbook

    print_portfolio_workbook(wb, str(raw.get("portfolio_name", "") or "Portfolio template"))
    return wb


def flat_risk(risk: dict[str, Any]) -> dict[str, Any]:
    """A [risk] table with its per-vendor tables as Risk sheet row names: vendors.NAME.outages_per_year."""
    out = {k: v for k, v in risk.items() if k != "vendors"}
    vendors = risk.get("vendors")
    if isinstance(vendors, dict):
        for vendor, table in vendors.items():
            for key, value in table.items() if isinstance(table, dict) else ():
                out[f"vendors.{vendor}.{key}"] = value
    return out


def flatten_portfolio_file(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A portfolio TOML -> (its inputs, contract rows with linked deals read in) for the workbook builder."""
    import tomllib

    from addin.workbook.dealfile import read_text_file
    from addin.workbook.load import load_deal

    raw = tomllib.loads(read_text_file(path))
    rows = []
    for given in raw.pop("contracts", []):
        row = given
        if "deal_file" in given:
            row = dict(load_deal((path.parent / given["deal_file"]).resolve(), given.get("scenario")).raw)
            row.update({k: v for k, v in given.items() if k not in ("deal_file", "scenario")})
        rows.append({k: v for k, v in row.items() if k in CONTRACT_COLUMNS})
    return raw, rows
