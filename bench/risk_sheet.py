"""The risk model as native spreadsheet formulas, for a spreadsheet engine to recalculate.

One row per path: the path's random draws (utilisation, discount rate, and by month the days out and the
spot price where an outage falls, 0 elsewhere) as values, then native formulas for each month's fee after
the SLA credit, the NPV, the net TCV, the $ per used GPU-hour and the outage replacement cost. Used by the
benchmark (time against the engine) and by a parity test (values against the engine on the same draws).
The deal must have no ramp, no late delivery and AWS-style SLA tiers (below 99.99% 10%, below 99% 30%,
below 95% 100%).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from engine.risk import Draws
from engine.schedule import Schedule


def build_sheet(sch: Schedule, d: Draws, n_paths: int, path: Path) -> dict[str, tuple[int, int]]:
    """Write the workbook; return the (row, column) of each output column's first path."""
    m = sch.n_months
    wb = Workbook()
    ws = wb.active
    ws.title = "Paths"
    fee = sch.net_fee_usd[0]
    days = sch.days[0]
    hours = sch.delivered_gpu_hours[0]
    yf = sch.year_fraction[0]
    # row 1: per-month constants of the deal (values, from the deterministic schedule)
    # columns: A utilisation, B discount %, then m days-out, m spot, m net-after-credit formulas, outputs
    c_days, c_spot, c_net = 3, 3 + m, 3 + 2 * m
    c_out = 3 + 3 * m
    const = {"fee": 1, "days": 2, "hours": 3, "yf": 4}
    for j in range(m):
        col = c_net + j
        ws.cell(const["fee"], col, float(fee[j]))
        ws.cell(const["days"], col, float(days[j]))
        ws.cell(const["hours"], col, float(hours[j]))
        ws.cell(const["yf"], col, float(yf[j]))
    days_out_by_month = d.dense(d.outage_days, m)
    spot_by_month = d.dense(d.outage_spot, m)
    first = 6
    for p in range(n_paths):
        r = first + p
        ws.cell(r, 1, float(d.utilization[p]))
        ws.cell(r, 2, float(d.discount[p]))
        for j in range(m):
            ws.cell(r, c_days + j, float(days_out_by_month[p, j]))
            ws.cell(r, c_spot + j, float(spot_by_month[p, j]))
            L = get_column_letter
            up = f"(1-MIN({L(c_days + j)}{r},{L(c_net + j)}$2)/{L(c_net + j)}$2)"
            credit = f"MAX(({up}<0.9999)*0.1,({up}<0.99)*0.3,({up}<0.95)*1)"
            ws.cell(r, c_net + j, f"={L(c_net + j)}$1*(1-{credit})")
        nets = f"{get_column_letter(c_net)}{r}:{get_column_letter(c_net + m - 1)}{r}"
        hrs = f"{get_column_letter(c_net)}$3:{get_column_letter(c_net + m - 1)}$3"
        yfs = f"{get_column_letter(c_net)}$4:{get_column_letter(c_net + m - 1)}$4"
        days_row = f"{get_column_letter(c_net)}$2:{get_column_letter(c_net + m - 1)}$2"
        days_out = f"{get_column_letter(c_days)}{r}:{get_column_letter(c_days + m - 1)}{r}"
        spots = f"{get_column_letter(c_spot)}{r}:{get_column_letter(c_spot + m - 1)}{r}"
        delivered = f"SUMPRODUCT({hrs},1-IF({days_out}>{days_row},{days_row},{days_out})/{days_row})"
        ws.cell(r, c_out, f"=SUMPRODUCT({nets},(1+B{r}/100)^(-{yfs}))")  # NPV
        ws.cell(r, c_out + 1, f"=SUM({nets})")  # net TCV
        ws.cell(r, c_out + 2, f"=SUM({nets})/({delivered}*A{r}/100)")  # $ per used GPU-hour
        ws.cell(r, c_out + 3, f"=SUMPRODUCT({hrs}*IF({days_out}>{days_row},{days_row},{days_out})/{days_row},{spots})")
    wb.save(path)
    return {"npv_usd": (first, c_out), "net_tcv_usd": (first, c_out + 1), "usd_per_used_gpu_hour": (first, c_out + 2),
            "replacement_cost_usd": (first, c_out + 3)}  # fmt: skip


def values_at(cells: list[list[str]], start: tuple[int, int], n: int) -> np.ndarray:
    row, col = start
    return np.array([float(cells[row - 1 + k][col - 1]) for k in range(n)])
