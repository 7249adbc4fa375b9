"""Number formatting for people: $B, $M, %, GPUs, in terminal text and Excel formats."""

from __future__ import annotations

import math

# Excel number formats by unit, shared by templates and reports.
EXCEL_FORMATS: dict[str, str] = {
    "USD": '#,##0.00,,," B";-#,##0.00,,," B"',
    "USD/month": '#,##0.0,," M"',
    "USD/year": '#,##0.00,,," B"',
    "USD/GPU-hour": '"$"#,##0.00',
    "USD/PFLOP-hour": '"$"#,##0.00',
    "USD/kW-month": '"$"#,##0',
    "USD/MW-month": '"$"#,##0.00,," M"',
    "%": '0.0"%"',
    "months": "0.0",
    "GPUs": "#,##0",
    "kW": "0.000",
    "MW": "#,##0.0",
    "PFLOPS": "#,##0",
    "FLOPs": "0.00E+00",
    "GPU-hours": '#,##0.0,,," B"',
    "fraction": "0.000",
    "x": "0.0000",
    "years": "0.000",
    "days": "0",
    "hours": "#,##0",
    "#": "0",
    "date": "yyyy-mm-dd",
    "month": "mmm yyyy",
}


def human(value: float | int | None, unit: str) -> str:
    """A figure as a finance user reads it: ``$45.00B``, ``$7.77``, ``13.7%``, ``220,000``."""
    if value is None:
        return "n/a"
    v = float(value)
    if not math.isfinite(v):
        return "n/a"
    if unit in {"USD", "USD/year"}:
        a = abs(v)
        if a >= 1e9:
            return f"${v / 1e9:,.2f}B"
        if a >= 1e6:
            return f"${v / 1e6:,.1f}M"
        return f"${v:,.0f}"
    if unit == "USD/month":
        return f"${v / 1e6:,.1f}M"
    if unit in ("USD/GPU-hour", "USD/PFLOP-hour"):
        return f"${v:,.2f}"
    if unit == "USD/kW-month":
        return f"${v:,.0f}"
    if unit == "USD/MW-month":
        return f"${v / 1e6:,.2f}M"
    if unit == "%":
        return f"{v:,.1f}%"
    if unit in ("GPUs", "hours", "days", "#"):
        return f"{v:,.0f}"
    if unit == "GPU-hours":
        return f"{v / 1e9:,.2f}B"
    if unit == "FLOPs":
        return f"{v:.3e}"
    if unit in ("kW", "fraction", "x", "years"):
        return f"{v:,.3f}"
    if unit == "months":
        return f"{v:,.0f}" if v.is_integer() else f"{v:,.1f}"
    if unit == "multiple":
        return f"{v:,.1f}x"
    if unit == "MW":
        return f"{v:,.1f}"
    if unit == "PFLOPS":
        return f"{v:,.0f}"
    return f"{v:,.4g}"
