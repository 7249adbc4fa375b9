"""The Risk sheet of deal and portfolio workbooks: the driver rows a user types, the tables Refresh fills, and the
Monte Carlo charts: native Excel charts over cells, one definition for the report and the workbooks (each takes the
sheet and where its table sits, so tables written once and tables rewritten by Refresh draw the same charts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from addin.workbook.cells import write_cell
from addin.workbook.fmt import EXCEL_FORMATS
from addin.workbook.styles import (
    HEADER_FILL,
    HEADER_FONT,
    REFRESH_FILL,
    REFRESH_FONT,
    SECTION_FONT,
    Layout,
    _name,
    _style_input,
    abs_ref,
    new_sheet,
)
from engine import MAX_MONTHS
from engine.risk import DIST_PARAMS, OUTPUTS, PORTFOLIO_OUTPUTS

RISK_ROWS: tuple[tuple[str, str], ...] = (
    ("reserved_vol_pct", "Market reserved price: volatility, % a year (default 40)"),
    ("spot_vol_pct", "Spot price: volatility, % a year (default 40)"),
    ("reserved_drift_pct", "Market reserved price: drift, % a year (default 0)"),
    ("spot_drift_pct", "Spot price: drift, % a year (default 0)"),
    ("spot_start_usd_per_gpu_hour", "Spot price at the start, $/GPU-hour (default market price x 2.42 / 2.65)"),
    ("price_correlation", "Correlation of reserved and spot moves (default -0.3)"),
    ("outages_per_year", "Outages a year (default 1)"),
    ("utilization_pct", "Utilisation, % (default triangular base-20, base, base+5)"),
    ("delivery_delay_months", "Delivery delay, months (default discrete 0,1,3 at 0.7,0.2,0.1)"),
    ("outage_days", "Outage length, days (default uniform 1 to 8, whole days)"),
    ("discount_rate_pct", "Discount rate, % (default fixed at the deal's rate: a valuation choice; a distribution opts in)"),
)


PORTFOLIO_RISK_ROWS: tuple[tuple[str, str], ...] = (
    ("revenue_doubling_months", "Revenue doubling time, months (default triangular 0.75x, 1x, 1.5x the portfolio's)"),
    ("revenue_sd_log", "Starting revenue spread, sd of its log (default 0.15)"),
    ("outages_per_year", "Outages a year, for each vendor (default 1)"),
    ("outage_days", "Outage length, days (default uniform 1 to 8, whole days)"),
)


RISK_TORNADO_DRIVERS = 4  # utilisation, delivery delay, discount rate, market price (engine.risk.tornado)
RISK_CORRELATION_DRIVERS = 5  # those four's draws (the market price as its term average) and outage days


RefreshTable = tuple[str, str, list[str], int, list[str]]  # name, title, column headers, rows, number formats


def _refresh_tables(wb: Workbook, layout: Layout, ws: Any, first: int, blocks: tuple[RefreshTable, ...]) -> dict[str, int]:
    """Tables Refresh rewrites, one under another from row ``first``, each named; returns each one's header row."""
    headers = {}
    row = first
    for name, title, labels, n, formats in blocks:
        ws.cell(row, 2, title).font = SECTION_FONT
        header = row + 1
        for j, label in enumerate(labels):
            c = ws.cell(header, 2 + j, label)
            c.font, c.fill = HEADER_FONT, HEADER_FILL
            for r in range(header + 1, header + 1 + n):
                cell = ws.cell(r, 2 + j)
                cell.fill, cell.font, cell.number_format = REFRESH_FILL, REFRESH_FONT, formats[j]
        _name(wb, layout, name, abs_ref("Risk", 2, header, 1 + len(labels), header + n))
        headers[name] = header
        row = header + n + 3
    return headers


CORRELATION_FORMAT = "+0.00;-0.00;0.00"


def _risk_charts(wb: Workbook, layout: Layout, ws: Any, first: int) -> None:
    """A deal's Monte Carlo tables Refresh rewrites (NPV histogram, monthly-cost fan on the 120-month timeline,
    tornado, rank correlations) and native charts over them, which follow the cells when they change."""
    usd = EXCEL_FORMATS["USD"]
    h = _refresh_tables(wb, layout, ws, first, (
        ("cdm_risk_histogram", "NPV histogram (written by Refresh)", ["NPV from", "to", "Paths"], 20, [usd, usd, "#,##0"]),
        ("cdm_risk_fan", "Monthly cost by month, P5 / P50 / P95 over the paths (written by Refresh)",
         ["Month", "Monthly cost P5", "P50", "P95"], MAX_MONTHS, ["mmm yyyy", *[EXCEL_FORMATS["USD/month"]] * 3]),
        ("cdm_risk_tornado", "Tornado: each driver alone at its P5 and P95 (written by Refresh)",
         ["Driver", "Low input", "High input", "NPV at low", "NPV at high", "NPV swing"], RISK_TORNADO_DRIVERS,
         ["@", "#,##0.00", "#,##0.00", usd, usd, usd]),
        ("cdm_risk_correlation", "Rank correlation of each driver's draws with the outputs (written by Refresh)",
         ["Driver", "With NPV", "With $/used GPU-hour"], RISK_CORRELATION_DRIVERS, ["@", CORRELATION_FORMAT, CORRELATION_FORMAT]),
    ))  # fmt: skip
    ws.add_chart(histogram_chart(ws, h["cdm_risk_histogram"], 20, 2, 4), f"H{h['cdm_risk_histogram'] - 1}")
    ws.add_chart(fan_chart(ws, h["cdm_risk_fan"], MAX_MONTHS, 2), f"H{h['cdm_risk_fan'] - 1}")
    ws.add_chart(tornado_chart(ws, h["cdm_risk_tornado"], RISK_TORNADO_DRIVERS, 2, 7), f"H{h['cdm_risk_tornado'] - 1}")


def _portfolio_risk_charts(wb: Workbook, layout: Layout, ws: Any, first: int, n_vendors: int) -> None:
    """A portfolio's Monte Carlo tables Refresh rewrites ($/used GPU-hour histogram, demand fan against contracted
    supply, rank correlations of its drivers, each vendor's outage days among them) and native charts over them."""
    gpu_hours, per_hour = EXCEL_FORMATS["GPU-hours"], EXCEL_FORMATS["USD/GPU-hour"]
    drivers = 2 + n_vendors  # doubling time, starting revenue level, outage days at each vendor
    fan_title = "Demanded GPU-hours by month, P5 / P50 / P95 over the paths, against contracted supply (written by Refresh)"
    h = _refresh_tables(wb, layout, ws, first, (
        ("cdm_risk_histogram", "$ per used GPU-hour histogram (written by Refresh)", ["$/used GPU-hour from", "to", "Paths"],
         20, [per_hour, per_hour, "#,##0"]),
        ("cdm_risk_fan", fan_title, ["Month", "Demand P5", "P50", "P95", "Contracted supply"], MAX_MONTHS,
         ["mmm yyyy", *[gpu_hours] * 4]),
        ("cdm_risk_correlation", "Rank correlation of each driver's draws with the outputs (written by Refresh)",
         ["Driver", "With first shortfall month", "With $/used GPU-hour"], drivers,
         ["@", CORRELATION_FORMAT, CORRELATION_FORMAT]),
    ))  # fmt: skip
    hist, fan, corr = h["cdm_risk_histogram"], h["cdm_risk_fan"], h["cdm_risk_correlation"]
    ws.add_chart(histogram_chart(ws, hist, 20, 2, 4, title="Histogram of $ per used GPU-hour (paths per bin)",
                                 number_format='"$"0.00'), f"H{hist - 1}")  # fmt: skip
    ws.add_chart(fan_chart(ws, fan, MAX_MONTHS, 2, series=4, number_format='#,##0,,," B"',
                           title="Demanded GPU-hours (P5 / P50 / P95) against contracted supply"), f"H{fan - 1}")  # fmt: skip
    ws.add_chart(tornado_chart(ws, corr, drivers, 2, 3, number_format="0.0",
                               title="Rank correlation with the first shortfall month"), f"H{corr - 1}")  # fmt: skip


def _risk(wb: Workbook, layout: Layout, risk: dict[str, object], rows: tuple[tuple[str, str], ...] = RISK_ROWS,
          charts: Callable[[Workbook, Layout, Any, int], None] | None = None) -> None:  # fmt: skip
    """The Risk block: one row per driver (distribution and parameters); blank = the documented default."""
    ws = new_sheet(wb, "Risk", (2, 64, 40, 18, 18, 18, 18, 40),
                   "Risk: distributions of the simulation's drivers (blank = the default in column B)",
                   ("Distribution: fixed (value), normal (mean, sd), lognormal (mean, sd_log), triangular (low, mode, high), "
                "uniform (low, high), discrete (values, probabilities: text lists such as 0, 1, 3 and 0.7, 0.2, 0.1). "
                "Scalar drivers take a value in the first parameter."))  # fmt: skip
    for j, h in enumerate(("Driver", "Name", "Distribution", "Parameter 1", "Parameter 2", "Parameter 3"), start=2):
        c = ws.cell(4, j, h)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
    dv = DataValidation(type="list", formula1='"fixed,normal,lognormal,triangular,uniform,discrete"', allow_blank=True)
    ws.add_data_validation(dv)
    for r, (name, label) in enumerate(rows, start=5):
        ws.cell(r, 2, label)
        ws.cell(r, 3, name)
        given = risk.get(name)
        cells: list[object] = [None, None, None, None]
        if isinstance(given, (int, float)):
            cells = ["fixed", given, None, None]
        elif isinstance(given, dict):
            params = DIST_PARAMS.get(str(given.get("dist")), ())
            values = [given.get(p) for p in params]
            values = [", ".join(f"{x:g}" for x in v) if isinstance(v, list) else v for v in values]
            cells = [given.get("dist"), *values, *([None] * (3 - len(values)))]
        for j, v in enumerate(cells[:4], start=4):
            c = write_cell(ws.cell(r, j), v)
            _style_input(c)
        dv.add(f"D{r}")
    last = 4 + len(rows)
    _name(wb, layout, "cdm_risk", abs_ref("Risk", 3, 5, 7, last))
    top = last + 3
    ws.cell(top - 1, 2, "Simulation results (written by Refresh: 10,000 paths, seed 20260506)").font = SECTION_FONT
    block = max(len(OUTPUTS), len(PORTFOLIO_OUTPUTS)) + 2  # a header, one row an output, the paths and seed
    for r in range(top, top + block):
        for col in range(2, 8):
            cell = ws.cell(r, col)
            cell.fill, cell.font = REFRESH_FILL, REFRESH_FONT
            if col > 2:
                cell.number_format = "[>=1000]#,##0;[<=-1000]-#,##0;#,##0.00"  # money, GPUs, hours, % alike
    _name(wb, layout, "cdm_risk_results", abs_ref("Risk", 2, top, 6, top + block - 1))
    if charts is not None:
        charts(wb, layout, ws, top + block + 2)


# ------------------------------------------------------------------ the charts

BILLIONS = '"$"0.0,,,"B"'


def _bars(ws: Worksheet, header: int, rows: int, columns: tuple[int, int], kind: str, title: str, number_format: str) -> BarChart:  # noqa: PLR0917
    """Bars over the values column of ``columns`` (labels, values), one per row below ``header``."""
    labels, values = columns
    chart = BarChart()
    chart.type, chart.title = kind, title
    chart.add_data(Reference(ws, min_col=values, min_row=header, max_row=header + rows), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=labels, min_row=header + 1, max_row=header + rows))
    chart.x_axis.number_format = number_format
    chart.legend, chart.height, chart.width = None, 7 if kind == "col" else 6, 16
    return chart


def histogram_chart(ws: Worksheet, header: int, rows: int, from_col: int, count_col: int, *,
                    title: str = "Histogram of NPV (paths per bin)", number_format: str = BILLIONS) -> BarChart:  # fmt: skip
    """Paths per bin: bars over ``count_col``, labelled by each bin's lower edge in ``from_col``."""
    return _bars(ws, header, rows, (from_col, count_col), "col", title, number_format)


def fan_chart(ws: Worksheet, header: int, rows: int, month_col: int, *, series: int = 3,
              title: str = "Fan chart of monthly cost (net fee after credits + outage replacement at spot)",
              number_format: str = "#,##0,,") -> LineChart:  # fmt: skip
    """P5, P50 and P95 (and any further series) in the columns after ``month_col``, by month."""
    chart = LineChart()
    chart.title = title
    for j in range(month_col + 1, month_col + 1 + series):
        chart.add_data(Reference(ws, min_col=j, min_row=header, max_row=header + rows), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=month_col, min_row=header + 1, max_row=header + rows))
    chart.y_axis.numFmt, chart.x_axis.number_format = number_format, "mmm yy"
    for line in chart.series:
        line.smooth = False
    chart.height, chart.width = 7, 16
    chart.legend.position = "b"
    return chart


def tornado_chart(ws: Worksheet, header: int, rows: int, driver_col: int, swing_col: int, *,
                  title: str = "Tornado: NPV swing by driver (each alone at its P5 and P95)",
                  number_format: str = BILLIONS) -> BarChart:  # fmt: skip
    """A value per driver (an NPV swing, a rank correlation) as horizontal bars over ``swing_col``."""
    return _bars(ws, header, rows, (driver_col, swing_col), "bar", title, number_format)
