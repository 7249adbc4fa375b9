"""The report's Sensitivity sheet: one-way tables of the key figures against each input, and two-way tables, each
computed in one vectorised engine call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from addin.report.common import (
    BOLD,
    FORMATS,
    HEADER_FILL,
    SECTION,
    TITLE,
    _month_date,
    _print_setup,
    put,
)
from engine import InputError, build_schedule, build_terms, summarize
from engine.summary import Summary

# Report number formats: finance units, $B with two decimals.


def _batch(raw: dict[str, Any], **arrays: np.ndarray) -> Summary:
    """One vectorised engine call over scenario arrays."""
    return summarize(build_schedule(build_terms(raw, **arrays)))


def _valid_end_offsets(raw: dict[str, Any], base_end: np.datetime64, candidates: Sequence[int]) -> list[int]:
    out = []
    for k in candidates:
        end = base_end + np.timedelta64(k, "M")
        try:
            build_terms(raw, end_month=np.array([end]))
        except InputError:
            continue
        out.append(k)
    return out


def sensitivity_tables(raw: dict[str, Any], s: Summary) -> dict[str, Any]:
    """The report's sensitivity tables, each from one vectorised engine call."""
    t = s.schedule.terms
    fee = float(t.monthly_fee_usd[0])
    util0 = float(t.utilization_pct[0])
    utils = np.array(sorted({50.0, 60.0, 70.0, 80.0, 90.0, 100.0, util0}))
    fee_mult = np.array([0.8, 0.9, 1.0, 1.1, 1.2])
    u_grid, f_grid = np.meshgrid(utils, fee * fee_mult, indexing="ij")
    a = _batch(raw, utilization_pct=u_grid.ravel(), monthly_fee_usd=f_grid.ravel())
    table_a = a["usd_per_used_gpu_hour"].reshape(u_grid.shape)

    rate0 = float(t.discount_rate_pct[0])
    rates = np.array(sorted({max(0.0, rate0 + d) for d in (-4.0, -2.0, 0.0, 2.0, 4.0)}))
    base_end = np.asarray(t.end_month)[0]
    offsets = _valid_end_offsets(raw, base_end, (-12, -6, 0, 6, 12))
    ends = np.array([base_end + np.timedelta64(k, "M") for k in offsets], dtype="datetime64[M]")
    r_grid, e_grid = np.meshgrid(rates, ends, indexing="ij")
    b = _batch(raw, discount_rate_pct=r_grid.ravel(), end_month=e_grid.ravel())
    table_b = b["npv_usd"].reshape(r_grid.shape)
    months_b = b["months_billed"].reshape(r_grid.shape)[0]

    market0 = float(t.market_usd_per_gpu_hour[0])
    uptime0 = float(t.expected_uptime_pct[0])
    drivers = [
        ("Monthly fee -20% / +20%", "monthly_fee_usd", fee * 0.8, fee * 1.2, fee),
        ("Utilisation -20 / +10 points", "utilization_pct", max(1.0, util0 - 20), min(100.0, util0 + 10), util0),
        ("Market price -40% / +40% (spot moved 40% in a year)", "market_usd_per_gpu_hour", market0 * 0.6, market0 * 1.4, market0),
        ("Discount rate -3 / +3 points", "discount_rate_pct", max(0.0, rate0 - 3), rate0 + 3, rate0),
        ("Expected uptime 95% / 100%", "expected_uptime_pct", 95.0, 100.0, uptime0),
    ]
    n = 2 * len(drivers) + 1
    arrays = {field: np.full(n, base) for _, field, _, _, base in drivers}
    for i, (_, field, low, high, _) in enumerate(drivers):
        arrays[field][1 + 2 * i] = low
        arrays[field][2 + 2 * i] = high
    c = _batch(raw, **arrays)
    outputs = ("usd_per_used_gpu_hour", "npv_usd", "premium_to_market_pct")
    one_way = []
    for i, (label, field, low, high, _) in enumerate(drivers):
        one_way.append({
            "driver": label, "field": field, "low_input": low, "high_input": high,
            **{f"{o}_low": float(c[o][1 + 2 * i]) for o in outputs},
            **{f"{o}_high": float(c[o][2 + 2 * i]) for o in outputs},
        })  # fmt: skip
    base = {o: float(c[o][0]) for o in outputs}
    return {"utils": utils, "fees": fee * fee_mult, "table_a": table_a, "rates": rates, "months": months_b, "ends": ends,
            "table_b": table_b, "one_way": one_way, "base": base}  # fmt: skip


def _two_way(  # noqa: PLR0917 (one table's parts)
    ws: Worksheet,
    row: int,
    title: str,
    corner: str,
    columns: list[tuple[Any, str | None]],
    rows: list[float],
    row_fmt: str,
    table: np.ndarray,
    fmt: str,
) -> int:
    """A titled two-way table: column headers (value, format), row headers, cells; returns the next free row."""
    put(ws, row, 1, title, font=SECTION)
    put(ws, row + 1, 1, corner, font=BOLD).fill = HEADER_FILL
    for j, (value, col_fmt) in enumerate(columns, start=2):
        put(ws, row + 1, j, value, col_fmt, BOLD).fill = HEADER_FILL
    for i, r in enumerate(rows):
        put(ws, row + 2 + i, 1, r, row_fmt, BOLD)
        for j in range(len(columns)):
            put(ws, row + 2 + i, 2 + j, float(table[i, j]), fmt)
    return row + 1 + len(rows) + 3


def _sensitivity_sheet(wb: Workbook, raw: dict[str, Any], s: Summary) -> None:
    ws = wb.create_sheet("Sensitivity")
    sens = sensitivity_tables(raw, s)
    ws.column_dimensions["A"].width = 44
    for j in range(2, 12):
        ws.column_dimensions[get_column_letter(j)].width = 19
    put(ws, 1, 1, "Sensitivity (each table is one vectorised engine call)", font=TITLE)
    row = _two_way(ws, 3, "Price per used GPU-hour [$]: utilisation (rows) x monthly fee (columns)",
                   "Utilisation [%] \\ monthly fee [$M]", [(float(f), FORMATS["USD/month"]) for f in sens["fees"]],
                   [float(u) for u in sens["utils"]], '0"%"', sens["table_a"], FORMATS["USD/GPU-hour"])  # fmt: skip
    terms = [(f"to {_month_date(e):%b %Y} ({int(m)} mo)", None) for e, m in zip(sens["ends"], sens["months"])]
    row = _two_way(ws, row, "NPV of payments [$B]: discount rate (rows) x term (columns: last month, months billed)",
                   "Discount rate [%] \\ term", terms, [float(r) for r in sens["rates"]], '0.0"%"', sens["table_b"],
                   FORMATS["USD"])  # fmt: skip
    put(ws, row, 1, "One-way: each driver moved alone (low / high), base in the first row", font=SECTION)
    row += 1
    headers = ("Driver", "Low input", "High input", "$/used GPU-h low", "$/used GPU-h high", "NPV low [$B]", "NPV high [$B]",
               "Premium low [%]", "Premium high [%]")  # fmt: skip
    for j, h in enumerate(headers, start=1):
        c = put(ws, row, j, h, font=BOLD)
        c.fill, c.alignment = HEADER_FILL, Alignment(wrap_text=True)
    row += 1
    base = sens["base"]
    put(ws, row, 1, "Base case")
    put(ws, row, 4, base["usd_per_used_gpu_hour"], FORMATS["USD/GPU-hour"])
    put(ws, row, 6, base["npv_usd"], FORMATS["USD"])
    put(ws, row, 8, base["premium_to_market_pct"], FORMATS["%"])
    for d in sens["one_way"]:
        row += 1
        put(ws, row, 1, d["driver"])
        fmt = FORMATS["USD/month"] if d["field"] == "monthly_fee_usd" else "#,##0.00"
        put(ws, row, 2, d["low_input"], fmt)
        put(ws, row, 3, d["high_input"], fmt)
        put(ws, row, 4, d["usd_per_used_gpu_hour_low"], FORMATS["USD/GPU-hour"])
        put(ws, row, 5, d["usd_per_used_gpu_hour_high"], FORMATS["USD/GPU-hour"])
        put(ws, row, 6, d["npv_usd_low"], FORMATS["USD"])
        put(ws, row, 7, d["npv_usd_high"], FORMATS["USD"])
        put(ws, row, 8, d["premium_to_market_pct_low"], FORMATS["%"])
        put(ws, row, 9, d["premium_to_market_pct_high"], FORMATS["%"])
    _print_setup(ws)
