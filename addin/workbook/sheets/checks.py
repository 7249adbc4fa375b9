"""The Checks sheet: model integrity checks that make the master check, input warnings that do not, the Calc
sheet's totals against the engine's, and the engine's messages (written by Refresh)."""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl import Workbook

from addin.workbook.styles import (
    CHECKS,
    FIRST_MONTH_COL,
    HEADER_FILL,
    HEADER_FONT,
    MESSAGE_ROWS,
    REFRESH_FILL,
    REFRESH_FONT,
    SCHEDULE,
    SECTION_FONT,
    Layout,
    _name,
    abs_ref,
    new_sheet,
)
from engine import MAX_MONTHS


def _sched_ref(layout: Layout, name: str) -> str:
    row = layout.schedule_rows[name]
    return abs_ref(SCHEDULE, FIRST_MONTH_COL, row, FIRST_MONTH_COL + MAX_MONTHS - 1, row)


@dataclass
class Check:
    name: str
    label: str
    formula: str
    integrity: bool  # True: part of the master check; False: an input warning


def build_checks_sheet(wb: Workbook, layout: Layout) -> None:
    ws = new_sheet(
        wb,
        CHECKS,
        (2, 58, 34, 12, 70),
        "Checks",
        "1 = passes, 0 = fails. Model integrity checks make the master check; input warnings do not block.",
    )
    tol = "check_tolerance"

    def close(a: str, b: str) -> str:
        return f"=IF(ABS(({a})-({b}))<={tol}*MAX(1,ABS({b})),1,0)"

    net = _sched_ref(layout, "net_fee_usd")
    rows = {name: _sched_ref(layout, name) for name in layout.schedule_rows}
    inp = 'CDM_INPUT(cdm_deal,"{}")'.format
    native_npv = (
        f"SUMPRODUCT({net},(1-{inp('prepayment_pct')}/100)*(1+{inp('discount_rate_pct')}/100)^(-{rows['year_fraction']}))"
        f"+SUM({rows['prepayment_usd']})"
    )
    paid = f"SUM({rows['cash_payment_usd']})+SUM({rows['equity_payment_usd']})+SUM({rows['revenue_share_payment_usd']})"
    round_trip = (
        "=IF(CDM_GPUS_FROM_MW(sizing_mw_from_gpus,sizing_gpu_sku,"
        f"{inp('pue')},{inp('network_overhead_pct')})=sizing_gpus_from_mw,1,0)"
    )
    checks = [
        Check("check_inputs_valid", "Every input is valid (CDM_CHECK says OK)",
              '=IF(LEFT(CDM_CHECK(cdm_deal),2)="OK",1,0)', True),
        Check("check_net_fees_sum", "Monthly net fees sum to net TCV", close(f"SUM({net})", "net_tcv_usd"), True),
        Check("check_headline", "Headline TCV = full-rate fee x months billed",
              close(f"{inp('monthly_fee_usd')}*months_billed", "headline_tcv_usd"), True),
        Check("check_firm_le_net", "Firm commitment <= net TCV", f"=IF(firm_commitment_usd<=net_tcv_usd*(1+{tol}),1,0)", True),
        Check("check_cumulative", "Cumulative fee at the end = net TCV",
              close(f"MAX({rows['cumulative_fee_usd']})", "net_tcv_usd"), True),
        Check("check_npv_native", "NPV recomputed natively from the schedule's net fees and dates",
              close(native_npv, "npv_usd"), True),
        Check("check_usd_per_gpu_hour", "$/GPU-hour = net TCV / delivered GPU-hours",
              close(f"SUM({net})/SUM({rows['delivered_gpu_hours']})", "usd_per_gpu_hour"), True),
        Check("check_cash_equity", "Cash + equity + revenue-share payments = net TCV", close(paid, "net_tcv_usd"), True),
        Check("check_mw_gpu_round_trip", "GPUs -> MW -> GPUs round-trips (sizing block)", round_trip, True),
        *[Check(f"check_{native}", f"Calc sheet (native formulas): {label} = the engine's (passes when Calc does not cover "
                "the scenario in use)", f"=IF(native_covered=0,1,{close(native, engine)[1:]})", True)
          for native, engine, label in NATIVE_CHECKS],
        Check("check_capacity_le_power", "Delivered capacity never needs more than the facility's power",
              f"=IF(MAX({rows['delivered_mw']})<={inp('facility_mw')}*(1+{tol}),1,0)", False),
        Check("check_no_input_warnings", "No legal-but-inconsistent inputs (see the messages below after Refresh)",
              "=IF(CDM_WARNING_COUNT(cdm_deal)=0,1,0)", False),
        Check("check_premium_in_range", "Price within 3x of the market reference (premium to market below 200%)",
              "=IF(premium_to_market_pct<200,1,0)", False),
    ]  # fmt: skip
    for j, h in enumerate(("Check", "Name", "Result", "Group"), start=2):
        c = ws.cell(4, j, h)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
    row = 5
    integrity_cells, warning_cells = [], []
    for chk in checks:
        ws.cell(row, 2, chk.label)
        ws.cell(row, 3, chk.name)
        ws.cell(row, 4, chk.formula)
        ws.cell(row, 5, "model integrity" if chk.integrity else "input warning")
        (integrity_cells if chk.integrity else warning_cells).append(f"$D${row}")
        _name(wb, layout, chk.name, abs_ref(CHECKS, 4, row))
        row += 1
    row += 1
    ws.cell(row, 2, "Master check (1 = every model integrity check passes)").font = HEADER_FONT
    ws.cell(row, 4, f"=MIN({','.join(integrity_cells)})").font = HEADER_FONT
    _name(wb, layout, "master_check", abs_ref(CHECKS, 4, row))
    row += 1
    ws.cell(row, 2, "Input warnings (checks that fail, plus the engine's own warnings)").font = HEADER_FONT
    ws.cell(row, 4, f"=COUNTIF({warning_cells[0]}:{warning_cells[-1]},0)").font = HEADER_FONT
    _name(wb, layout, "warning_count", abs_ref(CHECKS, 4, row))
    row += 2
    ws.cell(row, 2, "Messages from the engine (written by Refresh)").font = SECTION_FONT
    row += 1
    for j, h in enumerate(("Severity", "Where", "", "Message"), start=2):
        c = ws.cell(row, j, h)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
    row += 1
    for r in range(row, row + MESSAGE_ROWS):
        for col in range(2, 6):
            cell = ws.cell(r, col)
            cell.fill, cell.font = REFRESH_FILL, REFRESH_FONT
    _name(wb, layout, "cdm_messages", abs_ref(CHECKS, 2, row, 5, row + MESSAGE_ROWS - 1))


NATIVE_CHECKS = (
    ("native_net_tcv_usd", "net_tcv_usd", "net TCV"),
    ("native_npv_usd", "npv_usd", "NPV"),
    ("native_firm_commitment_usd", "firm_commitment_usd", "firm commitment"),
    ("native_usd_per_gpu_hour", "usd_per_gpu_hour", "$/GPU-hour"),
)
"""(Calc sheet total, engine figure, label): the shadow model's comparisons on the Checks sheet."""
