"""The report's Scenarios page: every scenario of the deal side by side, valued on the base case's date."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from addin.report.common import BAD_FILL, BOLD, FORMATS, HEADER_FILL, SUBTITLE, TITLE, WRAP, _print_setup, put
from addin.workbook.dealfile import BASE_CASE, DealSource
from engine import build_schedule, summarize
from engine.errors import CdmError

ROWS: tuple[tuple[str, str, str], ...] = (
    # (key, label, format)
    ("term", "Term", "text"),
    ("valuation_date", "Valuation date", "text"),
    ("headline_tcv_usd", "Headline TCV [$B]", "USD"),
    ("net_tcv_usd", "Net TCV [$B]", "USD"),
    ("firm_commitment_usd", "Firm commitment [$B]", "USD"),
    ("npv_usd", "NPV of payments [$B]", "USD"),
    ("gpus", "Contracted GPUs", "GPUs"),
    ("powered_gpus", "GPUs the power feeds", "GPUs"),
    ("usd_per_gpu_hour", "$ per delivered GPU-hour (contracted GPUs)", "USD/GPU-hour"),
    ("usd_per_powered_gpu_hour", "$ per GPU-hour of the GPUs the power feeds", "USD/GPU-hour"),
    ("facility_mw", "Facility power [MW]", "MW"),
    ("required_facility_mw", "Power the contracted GPUs need [MW]", "MW"),
    ("power_check", "Power check", "text"),
)


def scenario_values(src: DealSource) -> dict[str, Any]:
    """One scenario's row values; an invalid scenario gives its first message in every row."""
    try:
        rec = summarize(build_schedule(src.terms())).record(0)
    except CdmError as exc:
        return {key: f"inputs invalid: {str(exc).splitlines()[0]}" if key == "term" else "" for key, _, _ in ROWS}
    short = rec["gpus"] - rec["powered_gpus"]
    power = (f"{short:,.0f} GPUs without power: they need {rec['required_facility_mw']:,.1f} MW of "
             f"{rec['facility_mw']:,.0f} MW" if short > 0 else "the power feeds every contracted GPU")  # fmt: skip
    return {**rec, "term": f"{rec['start_month']} to {rec['end_month']}", "power_check": power}


def scenarios_sheet(wb: Workbook, sources: list[DealSource]) -> None:
    """Append the Scenarios sheet (one column per scenario) when the deal has scenarios besides its base case."""
    if len(sources) < 2:
        return
    ws = wb.create_sheet("Scenarios")
    put(ws, 1, 1, "Scenarios side by side", font=TITLE)
    put(ws, 2, 1, "Each scenario changes some inputs of the base case; unless it sets its own valuation date, its NPV is on "
                  "the base case's, so the NPVs compare.", font=SUBTITLE)  # fmt: skip
    ws.column_dimensions["A"].width = 44
    put(ws, 4, 1, "Measure", font=BOLD).fill = HEADER_FILL
    for j, src in enumerate(sources, start=2):
        c = put(ws, 4, j, src.scenario or BASE_CASE, font=BOLD)
        c.fill = HEADER_FILL
        c.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        ws.column_dimensions[get_column_letter(j)].width = 24
    ws.row_dimensions[4].height = 45
    values = [scenario_values(src) for src in sources]
    for i, (key, label, fmt) in enumerate(ROWS, start=5):
        put(ws, i, 1, label)
        for j, v in enumerate(values, start=2):
            c = put(ws, i, j, v[key], None if fmt == "text" else FORMATS.get(fmt, "General"))
            c.alignment = WRAP if fmt == "text" else Alignment(horizontal="right")
            if key == "power_check" and "without power" in str(v[key]):
                c.fill = BAD_FILL
    ws.row_dimensions[4 + len(ROWS)].height = 45
    ws.freeze_panes = "B5"
    _print_setup(ws)
