"""The Monte Carlo charts, as native Excel charts over cells: one definition for the report and the deal workbook.

Each takes the sheet and where its table sits (the header row, the number of data rows below it and the
columns), so the report (tables written once) and the deal workbook's Risk sheet (tables rewritten by
Refresh, charts following the cells) draw the same charts.
"""

from __future__ import annotations

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.worksheet.worksheet import Worksheet

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
