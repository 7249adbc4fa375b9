"""``cdm compare``: several deals side by side on the same measures, with a chart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from addin.report.common import BAD_FILL, BOLD, FORMATS, HEADER_FILL, SECTION, SUBTITLE, TITLE, WRAP, _print_setup, put
from addin.version import package_version
from addin.workbook.dealfile import DealSource
from engine import build_schedule, build_terms, summarize
from engine.summary import Summary
from engine.terms import DealTerms

MEASURES: tuple[tuple[str, str, str], ...] = (
    # (key, label, format)
    ("buyer", "Buyer", "text"),
    ("vendor", "Vendor", "text"),
    ("term", "Term", "text"),
    ("months_billed", "Months billed", "GPUs"),
    ("net_tcv_usd", "Net TCV [$B]", "USD"),
    ("annual_run_rate_usd", "Annual run rate [$B]", "USD"),
    ("firm_share_pct", "Firm share of net TCV [%]", "%"),
    ("firm_commitment_usd", "Firm commitment [$B]", "USD"),
    ("valuation_date", "Valuation date (every deal's NPV)", "text"),
    ("npv_usd", "NPV of payments [$B]", "USD"),
    ("npv_per_gw_usd", "NPV per GW of facility power [$B]", "USD"),
    ("facility_mw", "Facility power [MW]", "MW"),
    ("gpus", "GPUs", "GPUs"),
    ("gpu_skus", "GPU models", "text"),
    ("usd_per_gpu_hour", "$ per delivered GPU-hour", "USD/GPU-hour"),
    ("usd_per_powered_gpu_hour", "$ per GPU-hour of the GPUs the power feeds", "USD/GPU-hour"),
    ("usd_per_kw_month", "$ per kW-month of facility power", "USD/kW-month"),
    ("market_usd_per_gpu_hour", "Market reference [$/GPU-hour]", "USD/GPU-hour"),
    ("premium_to_market_pct", "Premium to market [%]", "%"),
    ("breakeven_utilization_pct", "Break-even utilisation [%]", "%"),
    ("warnings", "Input warnings", "GPUs"),
    ("assumed", "Inputs marked ASSUMED", "text"),
)


@dataclass
class Compared:
    source: DealSource
    summary: Summary

    def values(self) -> dict[str, object]:
        rec = self.summary.record(0)
        t = self.summary.schedule.terms
        assumed = sorted(k for k, v in t.sources.items() if "ASSUMED" in v.upper())
        return {
            **rec,
            "term": f"{rec['start_month']} to {rec['end_month']}",
            "npv_per_gw_usd": rec["npv_usd"] / (rec["facility_mw"] / 1000.0),
            "gpu_skus": ", ".join(rec["gpu_skus"]),
            "warnings": len(rec["warnings"]),
            "assumed": ", ".join(assumed) if assumed else "none recorded",
        }


def common_valuation_date(terms: list[DealTerms], given: str | None = None) -> str:
    """The one date every compared deal is valued on: ``given``, else the first day of the earliest start month."""
    if given is not None:
        return given
    return str(min(np.asarray(t.start_month, "datetime64[M]").min() for t in terms).astype("datetime64[D]"))


def evaluate_sources(sources: list[DealSource], valuation_date: str | None = None) -> list[Compared]:
    """Each deal's summary, every NPV on one valuation date (``valuation_date``, else the earliest start)."""
    terms = [src.terms() for src in sources]
    on = common_valuation_date(terms, valuation_date)
    return [Compared(src, summarize(build_schedule(build_terms({**t.raw, "valuation_date": on}))))
            for src, t in zip(sources, terms, strict=True)]  # fmt: skip


def build_comparison(deals: list[Compared], command_line: str = "", now: dt.datetime | None = None) -> Workbook:
    now = now or dt.datetime.now(dt.UTC)
    wb = Workbook()
    ws = wb.active
    ws.title = "Comparison"
    put(ws, 1, 1, "Deals side by side", font=TITLE)
    put(ws, 2, 1, f"Generated {now:%Y-%m-%d %H:%M} UTC by Compute Deal Model {package_version()}: {command_line}", font=SUBTITLE)
    ws.column_dimensions["A"].width = 40
    header_row = 4
    put(ws, header_row, 1, "Measure", font=BOLD).fill = HEADER_FILL
    for j, d in enumerate(deals, start=2):
        name = d.summary.schedule.terms.deal_name + (f" [{d.source.scenario}]" if d.source.scenario else "")
        c = put(ws, header_row, j, name, font=BOLD)
        c.fill = HEADER_FILL
        c.alignment = Alignment(wrap_text=True, horizontal="center")
        ws.column_dimensions[get_column_letter(j)].width = 22
    ws.row_dimensions[header_row].height = 32
    rows: dict[str, int] = {}
    for i, (key, label, fmt) in enumerate(MEASURES, start=header_row + 1):
        put(ws, i, 1, label)
        rows[key] = i
        for j, d in enumerate(deals, start=2):
            v = d.values()[key]
            c = put(ws, i, j, v, None if fmt == "text" else FORMATS.get(fmt, "General"))
            c.alignment = WRAP if fmt == "text" else Alignment(horizontal="right")
            if key == "warnings" and isinstance(v, int) and v > 0:
                c.fill = BAD_FILL
    ws.freeze_panes = ws.cell(header_row + 1, 2)
    last = header_row + len(MEASURES)
    put(ws, last + 2, 1, "Notes", font=SECTION)
    note_row = last + 3
    for d in deals:
        for w in d.summary.warnings:
            put(ws, note_row, 1, d.summary.schedule.terms.deal_name)
            put(ws, note_row, 2, w.message)
            note_row += 1

    def by_deal(measure: str, title: str, y_title: str, number_format: str) -> BarChart:
        """A column per deal for one measure's row."""
        chart = BarChart()
        chart.type, chart.title, chart.y_axis.title, chart.y_axis.numFmt = "col", title, y_title, number_format
        r = rows[measure]
        chart.add_data(
            Reference(ws, min_col=1, max_col=1 + len(deals), min_row=r, max_row=r), from_rows=True, titles_from_data=True
        )
        chart.set_categories(Reference(ws, min_col=2, max_col=1 + len(deals), min_row=header_row, max_row=header_row))
        chart.legend = None
        chart.height, chart.width = 8, 22
        return chart

    ws.add_chart(
        by_deal("usd_per_gpu_hour", "Price per delivered GPU-hour, by deal", "$ per GPU-hour", '"$"0.00'), f"A{note_row + 2}"
    )
    kw = by_deal("usd_per_kw_month", "Price per kW-month of facility power, by deal", "$ per kW-month", '"$"#,##0')
    ws.add_chart(kw, f"A{note_row + 20}")
    _print_setup(ws, f"{header_row}:{header_row}")
    return wb


def sources_from_paths(paths: list[Path]) -> list[DealSource]:
    from addin.workbook.load import load_deal

    return [load_deal(p) for p in paths]
