"""The deal report: one workbook a reviewer understands in a minute, and its PDF.

Sheets: Summary (the deal on one screen), Schedule (months down, frozen
header, totals), Charts (native Excel charts over the Schedule), Sensitivity
(two-way and one-way tables, each computed in one vectorised engine call),
Claims (public claims against the model, with verdicts and arithmetic),
Assumptions (every input and its source) and About (version, input file and
its SHA-256, command line). Values are written as values; user text is always
written as text, even when it starts with ``=``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from addin.report.claims import Verdict, check_claims, claims_for, claims_sheet, load_claims
from addin.report.common import (
    BAD_FILL,
    BOLD,
    FORMATS,
    GOOD_FILL,
    HEADER_FILL,
    REPORT_PATHS,
    REPORT_SEED,
    SECTION,
    SUBTITLE,
    TITLE,
    WRAP,
    _header_row,
    _month_date,
    _name,
    _print_setup,
    file_sha256,
    put,
    put_histogram,
    risk_sheet,
)
from addin.report.scenarios import scenarios_sheet
from addin.report.sensitivity import _sensitivity_sheet
from addin.version import package_version
from addin.workbook.dealfile import DealSource
from addin.workbook.load import load_scenarios
from addin.workbook.sheets.risk import fan_chart, histogram_chart, tornado_chart
from engine import FIELDS, build_schedule, summarize
from engine.catalogue import gpu_catalogue, market_prices
from engine.summary import Summary

# Report number formats: finance units, $B with two decimals.


@dataclass
class ReportContext:
    source: DealSource
    summary: Summary
    verdicts: list[Verdict]
    command_line: str
    generated: dt.datetime
    input_sha256: str


# ------------------------------------------------------------------ Summary


def _summary_sheet(wb: Workbook, ctx: ReportContext) -> None:
    ws = wb.active
    ws.title = "Summary"
    s, rec = ctx.summary, ctx.summary.record(0)
    t = s.schedule.terms
    for col, width in zip("ABCDE", (2, 46, 20, 16, 70)):
        ws.column_dimensions[col].width = width
    put(ws, 1, 2, f"Deal report: {t.deal_name}", font=TITLE)
    scenario = f"; scenario: {ctx.source.scenario}" if ctx.source.scenario else ""
    put(ws, 2, 2, f"{t.buyer or 'Buyer'} buys compute from {t.vendor or 'the vendor'}, {rec['start_month']} to "
                  f"{rec['end_month']}{scenario}. Generated {ctx.generated:%Y-%m-%d %H:%M} UTC from {ctx.source.path.name}.",
        font=SUBTITLE)  # fmt: skip
    n_bad = sum(v.inconsistent for v in ctx.verdicts)
    n_tested = sum(v.tested for v in ctx.verdicts)
    checks_ok, check_notes = integrity_checks(s)
    flag = "OK" if checks_ok else "FAILED"
    warnings = s.warnings
    put(ws, 3, 2, f"Model checks: {flag}. Input warnings: {len(warnings)}. Public claims inconsistent with the terms: "
                  f"{n_bad} of {n_tested} tested.", font=BOLD)  # fmt: skip
    ws.cell(3, 2).fill = GOOD_FILL if checks_ok else BAD_FILL
    sections: list[tuple[str, list[tuple[str, str, Any, str]]]] = [
        ("Term", [
            ("months_billed", "Months billed", rec["months_billed"], "GPUs"),
            ("exit_date", "Earliest exit date (lock-in + notice)", _date_or_text(rec["exit_date"]), "date"),
            ("firm_months", "Firm period [months]", rec["firm_months"], "months"),
        ]),
        ("Commitment", [
            ("headline_tcv_usd", "Headline TCV [$B] (full-rate fee x months)", rec["headline_tcv_usd"], "USD"),
            ("net_tcv_usd", "Net TCV [$B] (after ramp, cuts and credits)", rec["net_tcv_usd"], "USD"),
            ("firm_commitment_usd", "Firm commitment [$B] (before the earliest exit)", rec["firm_commitment_usd"], "USD"),
            ("firm_share_pct", "Firm share of net TCV [%]", rec["firm_share_pct"], "%"),
            ("valuation_date", "Valuation date (every NPV is discounted to it)",
             dt.date.fromisoformat(rec["valuation_date"]), "date"),
            ("npv_usd", f"NPV of payments [$B] at {float(t.discount_rate_pct[0]):g}% (XNPV) on {rec['valuation_date']}",
             rec["npv_usd"], "USD"),
            ("annual_run_rate_usd", "Annual run rate [$B/year]", rec["annual_run_rate_usd"], "USD/year"),
        ]),
        ("Capacity", [
            ("gpus", f"GPUs [count] ({', '.join(t.skus)})", rec["gpus"], "GPUs"),
            ("powered_gpus", "GPUs the power feeds [count]", rec["powered_gpus"], "GPUs"),
            ("facility_mw", "Facility power [MW]", rec["facility_mw"], "MW"),
            ("required_facility_mw", "Power the GPUs need [MW]", rec["required_facility_mw"], "MW"),
            ("kw_per_gpu", "All-in kW per GPU [kW]", rec["kw_per_gpu"], "kW"),
            ("dense_bf16_pflops", "Dense BF16 peak [PFLOPS]", rec["dense_bf16_pflops"], "PFLOPS"),
        ]),
        ("Unit prices", [
            ("usd_per_gpu_hour", "Price per delivered GPU-hour [$]", rec["usd_per_gpu_hour"], "USD/GPU-hour"),
            ("usd_per_powered_gpu_hour", "Price per GPU-hour of the GPUs the power feeds [$]", rec["usd_per_powered_gpu_hour"],
             "USD/GPU-hour"),
            ("usd_per_used_gpu_hour", f"Price per used GPU-hour [$] at {float(t.utilization_pct[0]):g}% use",
             rec["usd_per_used_gpu_hour"], "USD/GPU-hour"),
            ("usd_per_kw_month", "Price per kW-month of facility power [$]", rec["usd_per_kw_month"], "USD/kW-month"),
            ("usd_per_pflop_hour", "Price per dense BF16 PFLOP-hour [$]", rec["usd_per_pflop_hour"], "USD/PFLOP-hour"),
            ("market_usd_per_gpu_hour", "Market reference [$/GPU-hour]", rec["market_usd_per_gpu_hour"], "USD/GPU-hour"),
            ("premium_to_market_pct", "Premium to market [%]", rec["premium_to_market_pct"], "%"),
            ("breakeven_utilization_pct", "Break-even utilisation against market [%]", rec["breakeven_utilization_pct"], "%"),
        ]),
    ]  # fmt: skip
    row = 5
    for title, items in sections:
        put(ws, row, 2, title, font=SECTION)
        row += 1
        for name, label, value, unit in items:
            put(ws, row, 2, label)
            put(ws, row, 3, value, FORMATS.get(unit, "General"))
            note = _note(name, rec)
            if note:
                put(ws, row, 5, note).alignment = WRAP
            _name(wb, name, ws, row, 3)
            row += 1
        row += 1
    row = _obligations_block(wb, ws, rec, row)
    put(ws, row, 2, "Overall check", font=SECTION)
    row += 1
    put(ws, row, 2, "Model integrity checks")
    c = put(ws, row, 3, flag, font=BOLD)
    c.fill = GOOD_FILL if checks_ok else BAD_FILL
    _name(wb, "overall_check", ws, row, 3)
    put(ws, row, 5, "; ".join(check_notes)).alignment = WRAP
    row += 1
    put(ws, row, 2, "Input warnings (legal but inconsistent inputs)")
    put(ws, row, 3, len(warnings), "0")
    _name(wb, "warning_count", ws, row, 3)
    row += 1
    for w in warnings:
        put(ws, row, 5, w.message).alignment = WRAP
        ws.row_dimensions[row].height = 30
        row += 1
    put(ws, row, 2, "Claims inconsistent with the terms (see Claims)")
    put(ws, row, 3, f"{sum(v.inconsistent for v in ctx.verdicts)} of {sum(v.tested for v in ctx.verdicts)} tested")
    _print_setup(ws)


def _obligations_block(wb: Workbook, ws: Worksheet, rec: dict[str, Any], row: int) -> int:
    """Payments due by period from the valuation date, all and firm, as a lessee's obligations note shows them."""
    from engine.obligations import PERIOD_LABELS

    put(ws, row, 2, f"Payments due by period from {rec['valuation_date']} [$B]", font=SECTION)
    put(ws, row, 3, "All payments", font=BOLD).alignment = Alignment(horizontal="right")
    put(ws, row, 4, "Firm", font=BOLD).alignment = Alignment(horizontal="right")
    row += 1
    every, firm = rec["obligations_by_period_usd"], rec["firm_obligations_by_period_usd"]
    for key, label in PERIOD_LABELS.items():
        put(ws, row, 2, f"Due {label}")
        put(ws, row, 3, every[key], FORMATS["USD"])
        put(ws, row, 4, firm[key], FORMATS["USD"])
        _name(wb, f"obligations_{key}_usd", ws, row, 3)
        _name(wb, f"firm_obligations_{key}_usd", ws, row, 4)
        row += 1
    put(ws, row, 2, "Total", font=BOLD)
    put(ws, row, 3, sum(every.values()), FORMATS["USD"], BOLD)
    put(ws, row, 4, sum(firm.values()), FORMATS["USD"], BOLD)
    before = rec["net_tcv_usd"] - sum(every.values())
    put(ws, row, 5, "Equals net TCV and the firm commitment: no payment falls before the valuation date." if abs(before) <=
        1e-9 * max(rec["net_tcv_usd"], 1.0) else f"Payments dated before the valuation date ({before / 1e9:,.2f} $B) are "
        "in no period.").alignment = WRAP  # fmt: skip
    return row + 2


def _date_or_text(value: str | None) -> Any:
    return dt.date.fromisoformat(value) if value else "no termination right"


def _note(name: str, rec: dict[str, Any]) -> str:
    notes = {
        "firm_commitment_usd": "What the buyer cannot walk away from: fees accrued before the earliest exit date.",
        "required_facility_mw": (f"More than the facility's {rec['facility_mw']:,.0f} MW: the GPU count and the power disagree."
                                 if rec["required_facility_mw"] > rec["facility_mw"] * (1 + 1e-9) else ""),
        "breakeven_utilization_pct": ("Above 100%: at any utilisation the deal costs more per used GPU-hour than the market."
                                      if rec["breakeven_utilization_pct"] > 100 else ""),
        "npv_usd": "Present value of what the buyer pays (positive = cost); actual/365 from the valuation date.",
        "valuation_date": "Blank: the term's first day; scenarios share the base case's.",
        "usd_per_gpu_hour": ("The headline basis: the contracted GPUs, as the contract bills them. The power feeds fewer, "
                             "so the price per GPU-hour the power can deliver is the line below."
                             if rec["powered_gpus"] < rec["gpus"] else "The headline basis: the contracted GPUs, all of "
                             "which the facility's power feeds."),
        "powered_gpus": (f"floor({rec['facility_mw']:,.0f} MW x 1000 / {rec['kw_per_gpu']:.3f} kW) = {rec['powered_gpus']:,.0f}: "
                         f"{rec['gpus'] - rec['powered_gpus']:,.0f} contracted GPUs have no power"
                         if rec["powered_gpus"] < rec["gpus"] else ""),
    }  # fmt: skip
    return notes.get(name, "")


def integrity_checks(s: Summary) -> tuple[bool, list[str]]:
    """The report's model checks, from the schedule: every one must hold within 1e-9 (relative)."""
    sch = s.schedule
    net = float(s["net_tcv_usd"][0])
    tol = 1e-9 * max(1.0, abs(net))
    results = {
        "net fees sum to net TCV": abs(float(sch.net_fee_usd[0].sum()) - net) <= tol,
        "list fee less reductions = net TCV": abs(float((sch.list_fee_usd[0] - sch.ramp_reduction_usd[0]
                                                          - sch.late_delivery_reduction_usd[0] - sch.usage_reduction_usd[0]
                                                          - sch.sla_credit_usd[0]).sum()) - net) <= tol,
        "firm <= net": float(s["firm_commitment_usd"][0]) <= net + tol,
        "cash + equity + revenue share = net TCV": abs(
            float(s["cash_paid_usd"][0] + s["equity_paid_usd"][0] + s["revenue_share_paid_usd"][0]) - net
        ) <= tol,
        "cumulative fee ends at net TCV": abs(float(sch.cumulative_fee_usd[0, -1]) - net) <= tol,
        "NPV = sum of present values": abs(float(sch.present_value_usd[0].sum()) - float(s["npv_usd"][0])) <= tol,
    }  # fmt: skip
    ok = all(results.values())
    notes = [f"{k}: {'pass' if v else 'FAIL'}" for k, v in results.items()]
    return ok, notes


# ------------------------------------------------------------------ Schedule and charts

SCHEDULE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (key, header, format)
    ("month", "Month", "month"),
    ("capacity_fraction", "Capacity fraction", "fraction"),
    ("delivered_gpus", "Delivered GPUs", "GPUs"),
    ("gpus_power_feeds", "GPUs the power feeds", "GPUs"),
    ("delivered_mw", "Delivered MW", "MW"),
    ("mw_over_facility", "MW above the facility's power (flag)", "MW"),
    ("delivered_gpu_hours", "Delivered GPU-hours (M)", "GPU-hours-m"),
    ("list_fee_usd", "List fee ($M)", "USDm"),
    ("reductions_usd", "Ramp, delivery, usage and SLA cuts ($M)", "USDm"),
    ("net_fee_usd", "Net fee ($M)", "USDm"),
    ("firm_fee_usd", "Firm part ($M)", "USDm"),
    ("cancellable_fee_usd", "Cancellable part ($M)", "USDm"),
    ("cumulative_fee_usd", "Cumulative net fee ($M)", "USDm"),
    ("payment_date", "Payment date", "date"),
    ("discount_factor", "Discount factor", "x"),
    ("present_value_usd", "Present value ($M)", "USDm"),
    ("usd_per_gpu_hour", "$ per delivered GPU-hour", "USD/GPU-hour"),
    ("market_usd_per_gpu_hour", "Market $ per GPU-hour", "USD/GPU-hour"),
)
SCHEDULE_HEADER_ROW = 4
CHART_PAGE_BREAK_ROW = 34
TOTALLED = {"delivered_gpu_hours", "list_fee_usd", "reductions_usd", "net_fee_usd", "firm_fee_usd", "cancellable_fee_usd",
            "present_value_usd"}  # fmt: skip


def schedule_rows(s: Summary) -> dict[str, np.ndarray]:
    """The report's schedule columns for the deal's own term."""
    sch = s.schedule
    row = sch.row(0)
    t = sch.terms
    from engine.sizing import gpus_from_mw

    out: dict[str, np.ndarray] = {k: row[k] for k in row}
    out["reductions_usd"] = (row["ramp_reduction_usd"] + row["late_delivery_reduction_usd"] + row["usage_reduction_usd"]
                             + row["sla_credit_usd"])  # fmt: skip
    out["cancellable_fee_usd"] = row["net_fee_usd"] - row["firm_fee_usd"]
    hours = row["delivered_gpu_hours"]
    per_hour = np.where(hours > 0, row["net_fee_usd"] / np.where(hours > 0, hours, 1.0), 0.0)  # no delivery: no price
    out["usd_per_gpu_hour"] = per_hour
    out["market_usd_per_gpu_hour"] = np.full(per_hour.shape, float(t.market_usd_per_gpu_hour[0]))
    feeds = float(gpus_from_mw(float(t.facility_mw[0]), float(sch.capacity.kw_per_gpu.reshape(-1)[0])))
    out["gpus_power_feeds"] = np.full(per_hour.shape, feeds)
    return out


def _schedule_sheet(wb: Workbook, s: Summary) -> tuple[Worksheet, int, int]:
    ws = wb.create_sheet("Schedule")
    rows = schedule_rows(s)
    put(ws, 1, 1, f"Monthly schedule: {s.schedule.terms.deal_name}", font=TITLE)
    put(ws, 2, 1, "Money in USD millions; one row per service month; the firm part is what accrues before the earliest exit.",
        font=SUBTITLE)  # fmt: skip
    for j, (_, header, _) in enumerate(SCHEDULE_COLUMNS, start=1):
        c = put(ws, SCHEDULE_HEADER_ROW, j, header, font=BOLD)
        c.fill = HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        ws.column_dimensions[get_column_letter(j)].width = 14
    ws.row_dimensions[SCHEDULE_HEADER_ROW].height = 45
    n = rows["month"].size
    first = SCHEDULE_HEADER_ROW + 1
    for i in range(n):
        for j, (key, _, fmt) in enumerate(SCHEDULE_COLUMNS, start=1):
            v = rows[key][i]
            if key == "month":
                v = _month_date(v)
            elif key == "payment_date":
                v = dt.date.fromisoformat(str(v))
            else:
                v = float(v)
            c = put(ws, first + i, j, v, FORMATS[fmt])
            if key == "mw_over_facility" and v > 0:
                c.fill = BAD_FILL
    total_row = first + n
    put(ws, total_row, 1, "Total", font=BOLD)
    for j, (key, _, fmt) in enumerate(SCHEDULE_COLUMNS, start=1):
        if key in TOTALLED:
            put(ws, total_row, j, float(rows[key].sum()), FORMATS[fmt], BOLD)
    if rows["mw_over_facility"].max() > 0:
        put(ws, total_row + 1, 1, "Shaded: the contracted GPUs need more power than the facility has in these months; "
            "the power-fed basis (Summary) prices only the GPUs it feeds.", font=SUBTITLE)  # fmt: skip
    _fiscal_years(ws, s, total_row + 3)
    ws.freeze_panes = ws.cell(first, 2)
    _print_setup(ws, f"{SCHEDULE_HEADER_ROW}:{SCHEDULE_HEADER_ROW}")
    return ws, first, total_row - 1


FISCAL_COLUMNS = (("net_fee_usd", "Net fee ($M)"), ("firm_fee_usd", "Firm part ($M)"),
                  ("present_value_usd", "Present value ($M)"), ("delivered_gpu_hours", "Delivered GPU-hours (M)"))  # fmt: skip


def _fiscal_years(ws: Worksheet, s: Summary, row: int) -> None:
    """Fiscal-year subtotals of the schedule under it (``fiscal_year_end_month``; 12 = calendar years)."""
    from engine.obligations import fiscal_year_totals

    t = s.schedule.terms
    end = int(np.asarray(t.fiscal_year_end_month).reshape(-1)[0])
    when = "calendar years" if end == 12 else f"fiscal years ending in {dt.date(2000, end, 1):%B}"
    put(ws, row, 1, f"Subtotals by {when} (FY = the year it ends in)", font=SECTION)
    put(ws, row + 1, 1, "Fiscal year", font=BOLD).fill = HEADER_FILL
    for j, (_, header) in enumerate(FISCAL_COLUMNS, start=2):
        put(ws, row + 1, j, header, font=BOLD).fill = HEADER_FILL
    totals = fiscal_year_totals(s.schedule, tuple(k for k, _ in FISCAL_COLUMNS))
    for i, (year, sums) in enumerate(totals.items(), start=row + 2):
        put(ws, i, 1, f"FY{year}")
        for j, (key, _) in enumerate(FISCAL_COLUMNS, start=2):
            put(ws, i, j, sums[key], FORMATS["GPU-hours-m" if key == "delivered_gpu_hours" else "USDm"])


def _col_of(key: str) -> int:
    return next(j for j, (k, _, _) in enumerate(SCHEDULE_COLUMNS, start=1) if k == key)


def _charts_sheet(wb: Workbook, sched: Worksheet, first: int, last: int) -> None:
    ws = wb.create_sheet("Charts")
    put(ws, 1, 1, "Charts (native Excel charts over the Schedule sheet)", font=TITLE)
    months = Reference(sched, min_col=_col_of("month"), min_row=first, max_row=last)

    def ref(key: str) -> Reference:
        return Reference(sched, min_col=_col_of(key), min_row=SCHEDULE_HEADER_ROW, max_row=last)

    bars = BarChart()
    bars.type = "col"
    bars.grouping = "stacked"
    bars.overlap = 100
    bars.title = "Monthly net fee (firm and cancellable) and cumulative commitment"
    bars.y_axis.title = "Net fee per month, $M"
    bars.y_axis.numFmt = "#,##0,,"
    bars.add_data(ref("firm_fee_usd"), titles_from_data=True)
    bars.add_data(ref("cancellable_fee_usd"), titles_from_data=True)
    bars.set_categories(months)
    bars.x_axis.number_format = "mmm yy"
    bars.series[0].graphicalProperties.solidFill = "1F3864"
    bars.series[1].graphicalProperties.solidFill = "9DC3E6"
    cumulative = LineChart()
    cumulative.add_data(ref("cumulative_fee_usd"), titles_from_data=True)
    cumulative.y_axis.axId = 200
    cumulative.y_axis.title = "Cumulative net fee, $M"
    cumulative.y_axis.numFmt = "#,##0,,"
    cumulative.y_axis.crosses = "max"
    for series in cumulative.series:
        series.smooth = False
        series.graphicalProperties.line.solidFill = "C00000"
    bars += cumulative
    bars.height, bars.width = 8, 26
    bars.legend.position = "b"
    ws.add_chart(bars, "A3")

    def against(title: str, y_title: str, number_format: str, measure: str, reference: str, height: float) -> LineChart:  # noqa: PLR0917
        """A monthly measure (solid) against its reference (dashed), lines not smoothed."""
        chart = LineChart()
        chart.title, chart.y_axis.title, chart.y_axis.numFmt = title, y_title, number_format
        chart.add_data(ref(measure), titles_from_data=True)
        chart.add_data(ref(reference), titles_from_data=True)
        chart.set_categories(months)
        chart.x_axis.number_format = "mmm yy"
        for series in chart.series:
            series.smooth = False
        chart.series[1].graphicalProperties.line.dashStyle = "dash"
        chart.height, chart.width = height, 26
        chart.legend.position = "b"
        return chart

    title = "Delivered GPUs against what the facility's power can feed"
    ws.add_chart(against(title, "GPUs", "#,##0", "delivered_gpus", "gpus_power_feeds", 7), "A20")
    ws.row_breaks.append(Break(id=CHART_PAGE_BREAK_ROW))  # two charts on the first page, the third on the next
    title = "Price per delivered GPU-hour against the market reference"
    chart = against(title, "$ per GPU-hour", '"$"0.00', "usd_per_gpu_hour", "market_usd_per_gpu_hour", 8)
    ws.add_chart(chart, f"A{CHART_PAGE_BREAK_ROW + 2}")
    _print_setup(ws)


# ------------------------------------------------------------------ Seller


SELLER_MONTHLY: tuple[tuple[str, str], ...] = (
    ("revenue_usd", "Revenue ($M)"),
    ("cash_costs_usd", "Cash costs ($M)"),
    ("ebitda_usd", "EBITDA ($M)"),
    ("depreciation_usd", "Depreciation ($M)"),
    ("interest_usd", "Interest ($M)"),
    ("tax_usd", "Tax ($M)"),
    ("project_fcf_usd", "Project cash flow ($M)"),
    ("cumulative_project_fcf_usd", "Cumulative project cash flow after capex ($M)"),
)


def _seller_sheet(wb: Workbook, s: Summary) -> None:
    from engine.seller import SELLER_FIGURES, seller_summary

    ws = wb.create_sheet("Seller")
    seller = seller_summary(s.schedule)
    rec = seller.record(0)
    put(ws, 1, 1, "The seller's economics, and what building would cost the buyer", font=TITLE)
    put(ws, 2, 1, "Seller cost base from the deal's seller inputs (Assumptions sheet); capex at the start, residual at the end.",
        font=SUBTITLE)  # fmt: skip
    ws.column_dimensions["A"].width = 64
    ws.column_dimensions["B"].width = 18
    row = 4
    for name, unit, label in SELLER_FIGURES:
        put(ws, row, 1, f"{label}")
        value = rec[name]
        if value is None:
            put(ws, row, 2, "none within the term" if "month" in name else "n/a (no sign change)")
        else:
            put(ws, row, 2, value, "#,##0" if unit == "months" else FORMATS.get(unit, "General"))
        _name(wb, f"seller_{name}" if not name.startswith("build_") else name, ws, row, 2)
        if name == "ebitda_margin_pct":
            check = put(ws, row, 3, rec["ebitda_margin_check"])
            if not rec["ebitda_margin_check"].startswith("within"):
                check.fill = BAD_FILL
        row += 1
    row += 1
    header = row
    put(ws, header, 4, "Month", font=BOLD).fill = HEADER_FILL
    for j, (_, label) in enumerate(SELLER_MONTHLY, start=5):
        c = put(ws, header, j, label, font=BOLD)
        c.fill, c.alignment = HEADER_FILL, Alignment(wrap_text=True)
        ws.column_dimensions[get_column_letter(j)].width = 14
    ws.column_dimensions["D"].width = 11
    ws.row_dimensions[header].height = 45
    keep = s.schedule.active[0]
    months = s.schedule.month[0][keep]
    case = seller.case
    first = header + 1
    for i, m in enumerate(months):
        put(ws, first + i, 4, _month_date(m), FORMATS["month"])
        for j, (key, _) in enumerate(SELLER_MONTHLY, start=5):
            put(ws, first + i, j, float(getattr(case, key)[0][keep][i]), FORMATS["USDm"])
    last = first + len(months) - 1
    chart = BarChart()
    chart.type = "col"
    payback = rec["payback_month"]
    chart.title = "Seller's cumulative project cash flow after capex" + (
        f": paid back in month {payback}" if payback else ": not paid back"
    )
    chart.y_axis.title = "$M"
    chart.y_axis.numFmt = "#,##0,,"
    col = 5 + len(SELLER_MONTHLY) - 1
    chart.add_data(Reference(ws, min_col=col, min_row=header, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=4, min_row=first, max_row=last))
    chart.x_axis.number_format = "mmm yy"
    chart.legend = None
    chart.height, chart.width = 8, 22
    ws.add_chart(chart, "A" + str(len(SELLER_FIGURES) + 6))
    ws.freeze_panes = ws.cell(header + 1, 1)
    _print_setup(ws)


# ------------------------------------------------------------------ Risk


def _risk_sheet(wb: Workbook, s: Summary, risk: dict[str, object] | None = None) -> None:
    from engine.risk import build_risk, simulate, tornado

    terms = s.schedule.terms
    model = build_risk(risk, terms)
    sim = simulate(terms, REPORT_PATHS, REPORT_SEED, model)
    stats = sim.stats()
    ws = risk_sheet(wb, "deal", risk)
    ws.column_dimensions["A"].width = 46
    for j in range(2, 10):
        ws.column_dimensions[get_column_letter(j)].width = 15
    units = {"usd_per_used_gpu_hour": "USD/GPU-hour", "premium_to_market_pct": "%"}
    _header_row(ws, 4, ["Output", "P5", "P50", "P95", "Mean"])
    for i, (name, st) in enumerate(stats.items(), start=5):
        put(ws, i, 1, name)
        for j, q in enumerate(("p5", "p50", "p95", "mean"), start=2):
            put(ws, i, j, st[q], FORMATS.get(units.get(name, "USD"), "General"))
            if name in ("npv_usd", "usd_per_used_gpu_hour") and q in ("p5", "p50", "p95"):
                _name(wb, f"risk_{name}_{q}", ws, i, j)
    row = 5 + len(stats) + 1
    put_histogram(ws, row, sim.histogram("npv_usd"), "NPV bin from", FORMATS["USD"])
    ws.add_chart(histogram_chart(ws, row, 20, 1, 3), "F4")
    fan_row = row + 23
    fan = sim.fan()
    _header_row(ws, fan_row, ["Month", "Monthly cost P5 ($M)", "P50 ($M)", "P95 ($M)"])
    keep = s.schedule.active[0]
    months = s.schedule.month[0][keep]
    for k, m in enumerate(months):
        put(ws, fan_row + 1 + k, 1, _month_date(m), FORMATS["month"])
        for j, q in enumerate(("p5", "p50", "p95"), start=2):
            put(ws, fan_row + 1 + k, j, fan[q][k], FORMATS["USDm"])
    last = fan_row + len(months)
    ws.add_chart(fan_chart(ws, fan_row, len(months), 1), "F20")
    t_row = last + 2
    rows = tornado(terms, model)
    _header_row(ws, t_row, ["Driver (P5 / P95)", "Low input", "High input", "NPV at low", "NPV at high", "NPV swing",
                            "$/used GPU-hour swing", "Premium swing [points]", "NPV over market swing",
                            "All-in cost NPV swing"])  # fmt: skip
    for cell in ws[t_row]:
        cell.alignment = WRAP
    ws.row_dimensions[t_row].height = 30
    for k, r in enumerate(rows, start=t_row + 1):
        valuation = r["group"] == "valuation"
        put(ws, k, 1, f"{r['driver']} (valuation choice, -/+ 1 point)" if valuation else str(r["driver"]))
        put(ws, k, 2, r["low_input"], "#,##0.00")
        put(ws, k, 3, r["high_input"], "#,##0.00")
        put(ws, k, 4, r["npv_usd_at_low"], FORMATS["USD"])
        put(ws, k, 5, r["npv_usd_at_high"], FORMATS["USD"])
        put(ws, k, 6, r["npv_usd_swing"], FORMATS["USD"])
        put(ws, k, 7, r["usd_per_used_gpu_hour_swing"], FORMATS["USD/GPU-hour"])
        put(ws, k, 8, r["premium_to_market_pct_swing"], "#,##0.0")
        put(ws, k, 9, r["npv_over_market_usd_swing"], FORMATS["USD"])
        put(ws, k, 10, r["all_in_cost_npv_usd_swing"], FORMATS["USD"])
    ws.add_chart(tornado_chart(ws, t_row, len(rows), 1, 6), "F36")
    c_row = t_row + len(rows) + 2
    put(ws, c_row, 1, "Rank correlation of each driver's draws with the outputs across the paths (every driver, outages too)",
        font=SUBTITLE)  # fmt: skip
    _header_row(ws, c_row + 1, ["Driver", "With NPV", "With $/used GPU-hour", "With premium to market"])
    for k, r in enumerate(sim.rank_correlation(), start=c_row + 2):
        put(ws, k, 1, str(r["driver"]))
        for j, out in enumerate(("npv_usd", "usd_per_used_gpu_hour", "premium_to_market_pct"), start=2):
            value = r[out]
            put(ws, k, j, value if isinstance(value, float) else "n/a", "+0.00;-0.00;0.00")
    _print_setup(ws)


# ------------------------------------------------------------------ Claims, Assumptions, About


def _assumptions_sheet(wb: Workbook, src: DealSource, s: Summary) -> None:
    ws = wb.create_sheet("Assumptions")
    t = s.schedule.terms
    put(ws, 1, 1, "Assumptions: every input, the value used and its source", font=TITLE)
    headers = ("Input", "Name", "Value used", "Unit", "Given or default", "Source")
    for j, (h, w) in enumerate(zip(headers, (40, 26, 22, 16, 16, 80)), start=1):
        c = put(ws, 3, j, h, font=BOLD)
        c.fill = HEADER_FILL
        ws.column_dimensions[get_column_letter(j)].width = w
    row = 4
    for f in FIELDS:
        value = getattr(t, f.name)
        given = f.name in src.raw and src.raw[f.name] not in (None, "")
        if isinstance(value, np.ndarray):
            v = value[0]
            shown: Any = _month_date(v) if value.dtype.kind == "M" else float(v)
        else:
            shown = "" if value is None else value
        if value is None and f.blank_means:
            shown = f.blank_means
        if t.fleet and f.name in ("gpu_sku", "gpu_count"):
            shown = "see the fleet table below"
        source = t.sources.get(f.name) or (f.default_source or f.blank_means if not given else "")
        put(ws, row, 1, f.label)
        put(ws, row, 2, f.name)
        put(ws, row, 3, shown, "mmm yyyy" if f.kind == "month" else ("#,##0.####" if isinstance(shown, float) else None))
        ws.cell(row, 3).alignment = Alignment(horizontal="left")
        put(ws, row, 4, f.unit)
        put(ws, row, 5, "given" if given else "default")
        put(ws, row, 6, source).alignment = WRAP
        row += 1
    if t.fleet:
        row += 1
        put(ws, row, 1, "Fleet", font=SECTION)
        put(ws, row, 6, t.sources.get("fleet", "")).alignment = WRAP
        for e in t.fleet:
            row += 1
            put(ws, row, 1, e.gpu_sku)
            put(ws, row, 3, e.gpu_count, "#,##0").alignment = Alignment(horizontal="left")
            put(ws, row, 4, "GPUs")
    for label, items in (("Ramp table", t.ramp_table), ("Step-ups", t.step_ups), ("SLA tiers", t.sla_tiers)):
        if items:
            row += 2
            put(ws, row, 1, label, font=SECTION)
            for it in items:
                row += 1
                put(ws, row, 1, ", ".join(f"{k} {getattr(it, k)}" for k in it.__dataclass_fields__))
    _print_setup(ws, "3:3")


def _about_sheet(wb: Workbook, ctx: ReportContext) -> None:
    ws = wb.create_sheet("About")
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 110
    put(ws, 1, 1, "About this report", font=TITLE)
    rows: list[tuple[str, Any]] = [
        ("Compute Deal Model version", package_version()),
        ("Generated (UTC)", ctx.generated.strftime("%Y-%m-%d %H:%M:%S")),
        ("Input file", ctx.source.path.name),
        ("Input file SHA-256", ctx.input_sha256),
        ("Scenario", ctx.source.scenario or "base case"),
        ("Command line", ctx.command_line),
        ("Conventions", "USD; payments by the buyer are positive; NPV at the deal's discount rate, actual/365 (XNPV); "
                        "$/GPU-hour on calendar hours; see Methodology in the documentation."),
    ]  # fmt: skip
    for i, (k, v) in enumerate(rows, start=3):
        put(ws, i, 1, k, font=BOLD)
        put(ws, i, 2, v).alignment = WRAP
    r = 3 + len(rows) + 1
    put(ws, r, 1, "Reference data (engine/data)", font=SECTION)
    prices = market_prices()
    for sku in ctx.summary.schedule.terms.skus:
        spec = gpu_catalogue()[sku]
        r += 1
        put(ws, r, 1, sku)
        put(ws, r, 2, f"{spec.source} ({spec.source_date}); market ${prices[sku].reference_usd_per_gpu_hour:.2f}/GPU-hour, "
                      f"{prices[sku].basis}: {prices[sku].source} ({prices[sku].source_date})").alignment = WRAP  # fmt: skip
    _print_setup(ws)


# ------------------------------------------------------------------ entry points


def build_report(src: DealSource, command_line: str = "", now: dt.datetime | None = None) -> tuple[Workbook, ReportContext]:
    """The report workbook of one deal (validated; InputError if its inputs are bad)."""
    terms = src.terms()
    summary = summarize(build_schedule(terms))
    claims_file = claims_for(terms.deal_name)
    verdicts = check_claims(load_claims(claims_file), summary) if claims_file is not None else []
    ctx = ReportContext(src, summary, verdicts, command_line, now or dt.datetime.now(dt.UTC), file_sha256(src.path))
    wb = Workbook()
    _summary_sheet(wb, ctx)
    scenarios_sheet(wb, load_scenarios(src.path))
    sched, first, last = _schedule_sheet(wb, summary)
    _charts_sheet(wb, sched, first, last)
    _sensitivity_sheet(wb, dict(src.raw), summary)
    _seller_sheet(wb, summary)
    _risk_sheet(wb, summary, src.risk)
    claims_sheet(wb, verdicts, claims_file)
    _assumptions_sheet(wb, src, summary)
    _about_sheet(wb, ctx)
    wb.properties.creator = "Compute Deal Model"
    wb.properties.title = f"Deal report: {terms.deal_name}"
    return wb, ctx
