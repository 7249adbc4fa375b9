"""The Calc sheet: the core schedule rebuilt with ordinary spreadsheet formulas, beside the engine's.

A reviewer follows a month's fee line by line here (FAST style: label, name, unit, one formula per line copied
across the 120-month timeline, totals in column E), and the Checks sheet compares its totals, the defined names
``native_net_tcv_usd``, ``native_npv_usd``, ``native_firm_commitment_usd`` and ``native_usd_per_gpu_hour``, with
the engine's figures. It uses only functions that Excel, LibreOffice and the ``formulas`` package all compute
(EDATE, EOMONTH, DAY, DATE, INDEX/MATCH, MIN/MAX, SUM), so it computes in a spreadsheet without the add-in.

Inputs come from the Scenarios sheet's In use column (the scenario picked on Inputs); a blank takes the default in
the Inputs sheet's Default column. Step-up fees, the monthly ramp table, SLA credits and late delivery stay with
the engine: the sheet counts them, and when any is in use it says so and the Checks skip the comparison.
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.worksheet import Worksheet

from addin.workbook.fmt import EXCEL_FORMATS
from addin.workbook.styles import (
    FIRST_MONTH_COL,
    HEADER_FONT,
    INPUTS,
    LINK_FONT,
    SCENARIOS,
    SECTION_FONT,
    TITLE_FONT,
    WRAP,
    Layout,
    _name,
    abs_ref,
    zero_blank,
)
from engine import MAX_MONTHS, TABLES
from engine.catalogue import gpu_catalogue
from engine.fields import FIELD_BY_NAME

CALC = "Calc"
LAST_MONTH_COL = FIRST_MONTH_COL + MAX_MONTHS - 1

# Conventions the formulas use, as named constants on the Inputs sheet (FAST: no number typed into a formula)
CONSTANTS: tuple[tuple[str, str, float, str], ...] = (
    ("hours_per_day", "Hours in a day", 24, "hours"),
    ("months_per_year", "Months in a year (escalator anniversaries)", 12, "months"),
    ("day_count_basis", "Days in a year for discounting (actual/365, as XNPV)", 365, "days"),
    ("kw_per_mw", "kW in a MW", 1000, "kW"),
    ("percent", "Percent (a whole-number percentage / percent = a fraction)", 100, "%"),
    ("sizing_tolerance", "Rounding slack of floor() in GPUs from MW (the engine's, so GPUs -> MW -> GPUs round-trips)",
     1e-12, "ratio"),
)  # fmt: skip

# (input, label) read from the scenario in use, in the order the sheet lists them
CALC_INPUTS: tuple[str, ...] = (
    "start_month", "end_month", "monthly_fee_usd", "ramp_months", "ramp_fee_fraction", "ramp_capacity_fraction",
    "escalator_pct_per_year", "take_or_pay_min_pct", "utilization_pct", "expected_uptime_pct", "prepayment_pct",
    "discount_rate_pct", "valuation_date", "payment_timing", "notice_days", "lockin_months", "gpu_sku", "gpu_count",
    "facility_mw", "pue", "network_overhead_pct", "kw_per_gpu", "sla_policy", "delivery_delay_months", "late_capacity_pct",
)  # fmt: skip

ENGINE_ONLY = (
    ("step_ups", "from_month", "Step-up fee rows"),
    ("ramp_table", "fee_fraction", "Monthly ramp table rows"),
    ("sla_tiers", "credit_pct", "SLA tier rows"),
)
"""Tables whose rows the sheet does not rebuild (table, the column counted, label)."""


def reference_blocks(wb: Workbook, layout: Layout, ws: Worksheet, row: int) -> int:
    """The Inputs sheet's model constants and the GPU catalogue the Calc sheet looks up; returns the last row."""
    row += 2
    ws.cell(row, 2, "Model constants (conventions the formulas use; not assumptions, do not change)").font = SECTION_FONT
    for name, label, value, unit in CONSTANTS:
        row += 1
        ws.cell(row, 2, label)
        ws.cell(row, 3, name)
        ws.cell(row, 4, unit)
        ws.cell(row, 5, value).number_format = "General"
        _name(wb, layout, name, abs_ref(INPUTS, 5, row))
    row += 2
    ws.cell(row, 2, "GPU catalogue (engine/data/gpus.csv: change it there, then rebuild)").font = SECTION_FONT
    row += 1
    for j, h in enumerate(("GPU model", "", "kW", "Typical server draw per GPU", "", "Source"), start=2):
        ws.cell(row, j, h).font = HEADER_FONT
    first = row + 1
    for sku, spec in gpu_catalogue().items():
        row += 1
        ws.cell(row, 2, sku)
        ws.cell(row, 4, "kW")
        ws.cell(row, 5, spec.draw_kw_per_gpu).number_format = "0.000"
        ws.cell(
            row,
            7,
            f"{spec.typical_kw_per_gpu:g} kW all-in at PUE 1.2 and 10% network: {spec.power_source} ({spec.power_source_date})",
        ).alignment = WRAP
    _name(wb, layout, "cdm_catalogue_skus", abs_ref(INPUTS, 2, first, 2, row))
    _name(wb, layout, "cdm_catalogue_draw_kw", abs_ref(INPUTS, 5, first, 5, row))
    return row


class _Sheet:
    """Rows of the Calc sheet: each line gets a label, a name, a unit and (for time lines) a formula per month."""

    def __init__(self, wb: Workbook, layout: Layout) -> None:
        self.wb, self.layout = wb, layout
        self.ws = wb.create_sheet(CALC)
        self.row = 5
        self.at: dict[str, int] = {}  # line name -> row

    def e(self, name: str) -> str:
        """The absolute column-E cell of a line (a scalar, or a time line's total)."""
        return f"$E${self.at[name]}"

    def m(self, name: str, col: str) -> str:
        """The cell of a time line in the month column ``col`` (row-absolute)."""
        return f"{col}${self.at[name]}"

    def section(self, title: str) -> None:
        self.row += 1
        self.ws.cell(self.row, 2, title).font = SECTION_FONT
        self.row += 1

    def scalar(self, name: str, label: str, unit: str, formula: str, fmt: str | None = None, *, link: bool = False) -> None:
        ws = self.ws
        ws.cell(self.row, 2, label)
        ws.cell(self.row, 3, name)
        ws.cell(self.row, 4, unit)
        c = ws.cell(self.row, 5, formula)
        c.number_format = fmt or EXCEL_FORMATS.get(unit, "General")
        if link:
            c.font = LINK_FONT
        self.at[name] = self.row
        self.row += 1

    def line(self, name: str, label: str, unit: str, formula: str, *, total: bool = False, fmt: str | None = None) -> None:
        """A time line: ``formula`` uses ``{c}`` for the month column; copied to every month."""
        ws = self.ws
        ws.cell(self.row, 2, label)
        ws.cell(self.row, 3, name)
        ws.cell(self.row, 4, unit)
        number_format = fmt or zero_blank(EXCEL_FORMATS.get(unit, "General"))
        if total:
            first, last = get_column_letter(FIRST_MONTH_COL), get_column_letter(LAST_MONTH_COL)
            t = ws.cell(self.row, 5, f"=SUM({first}{self.row}:{last}{self.row})")
            t.number_format, t.font = number_format, HEADER_FONT
        for k in range(MAX_MONTHS):
            col = get_column_letter(FIRST_MONTH_COL + k)
            c = ws.cell(self.row, FIRST_MONTH_COL + k, "=" + formula.format(c=col))
            c.number_format = number_format
        self.at[name] = self.row
        self.row += 1


def _in_use(layout: Layout, key: str) -> str:
    return f"{quote_sheetname(SCENARIOS)}!$D${layout.scenario_rows[key]}"


def build_calc_sheet(wb: Workbook, layout: Layout) -> None:
    """The Calc sheet (after Schedule), its ``native_*`` names and ``native_covered`` (1 when it covers the deal)."""
    s = _Sheet(wb, layout)
    ws = s.ws
    for col, width in zip("ABCDE", (2, 46, 24, 12, 18)):
        ws.column_dimensions[col].width = width
    for k in range(MAX_MONTHS):
        ws.column_dimensions[get_column_letter(FIRST_MONTH_COL + k)].width = 14
    ws["B1"] = "Calc: the schedule in ordinary formulas"
    ws["B1"].font = TITLE_FONT
    ws["B2"] = ("Rebuilds the core schedule from the scenario in use with native formulas (no add-in): one formula per "
                "line, copied across the 120 months. Checks compares its totals with the engine's.")  # fmt: skip
    ws.cell(4, 2, "Timeline: month number").font = HEADER_FONT
    ws.cell(4, 3, "month_number")
    ws.cell(4, 5, "Total / value").font = HEADER_FONT
    for k in range(MAX_MONTHS):
        ws.cell(4, FIRST_MONTH_COL + k, "=COLUMN()-COLUMN($E$4)").number_format = "0"
    s.at["month_number"] = 4

    s.section("Inputs in use (Scenarios sheet, In use column; a blank takes the default on Inputs)")
    for name in CALC_INPUTS:
        live = _in_use(layout, name)
        default = layout.default_cells.get(name)
        fallback = default if default is not None else '""'
        f = FIELD_BY_NAME[name]
        fmt = {"month": "mmm yyyy", "date": "d mmm yyyy"}.get(f.kind) or ('0.0##"%"' if "_pct" in name else None)
        s.scalar(name, f.label, f.unit, f'=IF(OR({live}="",{live}="-"),{fallback},{live})', fmt, link=True)
    fleet_counts = [_in_use(layout, f"fleet[{i}].gpu_count") for i in range(1, _max_rows("fleet") + 1)]
    s.scalar("fleet_gpus", "Mixed-fleet GPUs (sum of the fleet table's counts)", "GPUs", f"=SUM({','.join(fleet_counts)})",
             link=True)  # fmt: skip

    s.section("Engine-only features in use (the sheet does not rebuild them)")
    counted = []
    for table, column, label in ENGINE_ONLY:
        cells = [_in_use(layout, f"{table}[{i}].{column}") for i in range(1, _max_rows(table) + 1)]
        s.scalar(f"{table}_rows", label, "rows", f"=COUNT({','.join(cells)})", "0")
        counted.append(s.e(f"{table}_rows"))
    s.scalar("sla_policy_in_use", "SLA policy credits (1 = a policy is named)", "flag",
             f'=IF(OR({s.e("sla_policy")}="",{s.e("sla_policy")}="none"),0,1)', "0")  # fmt: skip
    s.scalar("late_delivery_in_use", "Late delivery (1 = a delay with capacity missing)", "flag",
             f"=IF(AND({s.e('delivery_delay_months')}>0,{s.e('late_capacity_pct')}>0),1,0)", "0")  # fmt: skip
    engine_only = "+".join([*counted, s.e("sla_policy_in_use"), s.e("late_delivery_in_use")])
    s.scalar("native_covered", "Covered by this sheet (1 = no engine-only feature in use)", "flag",
             f"=IF({engine_only}=0,1,0)", "0")  # fmt: skip
    _name(wb, layout, "native_covered", abs_ref(CALC, 5, s.at["native_covered"]))
    note = ws.cell(3, 2, f'=IF({s.e("native_covered")}=1,"Covers the scenario in use: its totals must equal the engine\'s",'
                         '"Not covered: the scenario in use has step-up fees, a ramp table, SLA credits or late delivery '
                         '(engine only); Checks skip the comparison")')  # fmt: skip
    note.font = HEADER_FONT

    s.section("Term, power and GPUs")
    start, end = s.e("start_month"), s.e("end_month")
    s.scalar("first_day", "First day of the term", "date", f"=DATE(YEAR({start}),MONTH({start}),1)", "d mmm yyyy")
    given_day = s.e("valuation_date")
    s.scalar("valuation_day", "Valuation date (blank: the first day of the term)", "date",
             f"=IF(ISNUMBER({given_day}),{given_day},{s.e('first_day')})", "d mmm yyyy")  # fmt: skip
    s.scalar("months_billed", "Months billed", "months",
             f"=(YEAR({end})-YEAR({start}))*months_per_year+MONTH({end})-MONTH({start})+1", "0")  # fmt: skip
    sku = s.e("gpu_sku")
    s.scalar("draw_kw_per_gpu", "Typical server draw per GPU (catalogue, GPU model in use)", "kW",
             f"=INDEX(cdm_catalogue_draw_kw,MATCH({sku},cdm_catalogue_skus,0))", "0.000")  # fmt: skip
    given = s.e("kw_per_gpu")
    s.scalar("kw_per_gpu_in_use", "All-in facility kW per GPU = kw_per_gpu, else draw x (1 + network) x PUE", "kW",
             f"=IF(ISNUMBER({given}),{given},{s.e('draw_kw_per_gpu')}*(1+{s.e('network_overhead_pct')}/percent)*{s.e('pue')})",
             "0.000")  # fmt: skip
    power_fed = f"INT({s.e('facility_mw')}*kw_per_mw/{s.e('kw_per_gpu_in_use')}*(1+sizing_tolerance))"
    gpu_count, fleet = s.e("gpu_count"), s.e("fleet_gpus")
    s.scalar("gpus", "Contracted GPUs (fleet table, else gpu_count, else what the power feeds)", "GPUs",
             f"=IF({fleet}>0,{fleet},IF(ISNUMBER({gpu_count}),{gpu_count},{power_fed}))", "#,##0")  # fmt: skip
    s.scalar("powered_gpus", "GPUs the power feeds = min(contracted, what the facility's power feeds)", "GPUs",
             f"=MIN({s.e('gpus')},{power_fed})", "#,##0")  # fmt: skip
    lock, notice, day1 = s.e("lockin_months"), s.e("notice_days"), s.e("first_day")
    s.scalar("exit_date", "Earliest exit date = lock-in end + notice (blank: no exit right)", "date",
             f'=IF(AND(ISNUMBER({lock}),ISNUMBER({notice})),EDATE({day1},{lock})+{notice},"")', "d mmm yyyy")  # fmt: skip

    s.section("Monthly schedule (months across; zero past the term)")
    k = "{c}$4"
    s.line("in_term", "In the term (1 = billed)", "flag", f"IF({k}<={s.e('months_billed')},1,0)", fmt='0;-0;""')
    s.line("service_month", "Service month (first day)", "date", f"EDATE({s.e('first_day')},{k}-1)*{s.m('in_term', '{c}')}",
           fmt='mmm yyyy;;""')  # fmt: skip
    s.line("days", "Days in the month", "days", f"IF({s.m('in_term', '{c}')}=1,DAY(EOMONTH({s.m('service_month', '{c}')},0)),0)",
           total=True, fmt='0;-0;""')  # fmt: skip
    s.line("hours", "Hours in the month = days x hours per day", "hours", f"{s.m('days', '{c}')}*hours_per_day", total=True,
           fmt='#,##0;-#,##0;""')  # fmt: skip
    ramp = s.e("ramp_months")
    s.line("fee_fraction", "Fee fraction (ramp)", "fraction",
           f"IF({k}<={ramp},{s.e('ramp_fee_fraction')},1)*{s.m('in_term', '{c}')}", fmt='0.00##;-0.00##;""')  # fmt: skip
    s.line("capacity_fraction", "Capacity fraction (ramp)", "fraction",
           f"IF({k}<={ramp},{s.e('ramp_capacity_fraction')},1)*{s.m('in_term', '{c}')}", fmt='0.00##;-0.00##;""')  # fmt: skip
    s.line("escalator_factor", "Escalator factor = (1 + escalator)^(whole years since the start)", "x",
           f"(1+{s.e('escalator_pct_per_year')}/percent)^INT(({k}-1)/months_per_year)*{s.m('in_term', '{c}')}",
           fmt='0.0000;-0.0000;""')  # fmt: skip
    s.line("list_fee_usd", "List fee = full-rate fee x escalator", "USD",
           f"{s.e('monthly_fee_usd')}*{s.m('escalator_factor', '{c}')}", total=True)  # fmt: skip
    s.line("ramp_reduction_usd", "Ramp reduction = list fee x (1 - fee fraction)", "USD",
           f"{s.m('list_fee_usd', '{c}')}*(1-{s.m('fee_fraction', '{c}')})", total=True)  # fmt: skip
    use = f"MIN(MAX({s.e('utilization_pct')},{s.e('take_or_pay_min_pct')})/percent,1)"
    s.line("usage_reduction_usd", "Usage reduction = (list - ramp) x (1 - max(utilisation, take-or-pay minimum))", "USD",
           f"({s.m('list_fee_usd', '{c}')}-{s.m('ramp_reduction_usd', '{c}')})*(1-{use})", total=True)  # fmt: skip
    list_, ramp_, usage_ = (s.m(n, "{c}") for n in ("list_fee_usd", "ramp_reduction_usd", "usage_reduction_usd"))
    s.line("net_fee_usd", "Net fee = list fee - ramp reduction - usage reduction", "USD", f"{list_}-{ramp_}-{usage_}",
           total=True)  # fmt: skip
    s.line("payment_date", "Payment date (advance: first day; arrears: last day)", "date",
           f'IF({s.m("in_term", "{c}")}=1,IF({s.e("payment_timing")}="arrears",EOMONTH({s.m("service_month", "{c}")},0),'
           f'{s.m("service_month", "{c}")}),0)', fmt='d mmm yyyy;;""')  # fmt: skip
    s.line("year_fraction", "Years from the valuation date = days / day-count basis", "years",
           f"IF({s.m('in_term', '{c}')}=1,({s.m('payment_date', '{c}')}-{s.e('valuation_day')})/day_count_basis,0)",
           fmt='0.0000;-0.0000;""')  # fmt: skip
    s.line("discount_factor", "Discount factor = (1 + discount rate)^-years", "x",
           f"IF({s.m('in_term', '{c}')}=1,(1+{s.e('discount_rate_pct')}/percent)^(-{s.m('year_fraction', '{c}')}),0)",
           fmt='0.0000;-0.0000;""')  # fmt: skip
    prepay = f"{s.e('prepayment_pct')}/percent"
    day_one = f"(1+{s.e('discount_rate_pct')}/percent)^(-({s.e('first_day')}-{s.e('valuation_day')})/day_count_basis)"
    s.line("present_value_usd", "Present value = net fee x (1 - prepaid share) x discount factor (+ the prepayment, paid on "
           "the first day, in month 1)", "USD", f"{s.m('net_fee_usd', '{c}')}*(1-{prepay})*{s.m('discount_factor', '{c}')}"
                  f"+IF({k}=1,{prepay}*{s.e('net_fee_usd')}*{day_one},0)", total=True)  # fmt: skip
    exit_ = s.e("exit_date")
    s.line("firm_fraction", "Firm fraction = share of the month before the exit date", "fraction",
           f'IF({s.m("in_term", "{c}")}=0,0,IF({exit_}="",1,MAX(0,MIN(1,({exit_}-{s.m("service_month", "{c}")})'
           f'/{s.m("days", "{c}")}))))', fmt='0.00##;-0.00##;""')  # fmt: skip
    s.line("firm_fee_usd", "Firm fee = net fee x firm fraction", "USD",
           f"{s.m('net_fee_usd', '{c}')}*{s.m('firm_fraction', '{c}')}", total=True)  # fmt: skip
    s.line("delivered_gpu_hours", "Delivered GPU-hours = GPUs x hours x capacity fraction x uptime", "GPU-hours",
           f"{s.e('gpus')}*{s.m('hours', '{c}')}*{s.m('capacity_fraction', '{c}')}*{s.e('expected_uptime_pct')}/percent",
           total=True)  # fmt: skip

    s.section("Totals (defined names native_*; compared with the engine on the Checks sheet)")
    for name, label, unit, formula in (
        ("native_net_tcv_usd", "Net TCV", "USD", f"={s.e('net_fee_usd')}"),
        ("native_npv_usd", "NPV of payments", "USD", f"={s.e('present_value_usd')}"),
        ("native_firm_commitment_usd", "Firm commitment", "USD", f"={s.e('firm_fee_usd')}"),
        ("native_usd_per_gpu_hour", "Price per delivered GPU-hour = net TCV / delivered GPU-hours", "USD/GPU-hour",
         f"={s.e('net_fee_usd')}/{s.e('delivered_gpu_hours')}"),
    ):  # fmt: skip
        s.scalar(name, label, unit, formula)
        ws.cell(s.at[name], 5).font = HEADER_FONT
        _name(wb, layout, name, abs_ref(CALC, 5, s.at[name]))
    layout.calc_rows = dict(s.at)
    ws.freeze_panes = ws.cell(5, FIRST_MONTH_COL)


def _max_rows(table: str) -> int:
    return next(t.max_rows for t in TABLES if t.name == table)
