"""What every review workbook shares: its styles and number formats, writing a cell, print setup, the Risk sheet's
frame, and writing the file (atomically, refusing to overwrite the input) and its PDF. Imports workbook and engine only."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from addin.workbook.atomic import atomic_write, refuse_input_as_output, resolve_output
from addin.workbook.cells import write_cell
from engine.errors import CdmError

TITLE = Font(bold=True, size=16)


SUBTITLE = Font(italic=True, color="595959")


BOLD = Font(bold=True)


SECTION = Font(bold=True, color="1F3864", size=12)


HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")


GOOD_FILL = PatternFill("solid", fgColor="E2EFDA")


BAD_FILL = PatternFill("solid", fgColor="FCE4D6")


WRAP = Alignment(wrap_text=True, vertical="top")


FORMATS = {
    "USD": '"$"#,##0.00,,,"B";-"$"#,##0.00,,,"B"',
    "USD/year": '"$"#,##0.00,,,"B"',
    "USD/month": '"$"#,##0.0,,"M"',
    "USDm": '"$"#,##0.0,,"M";-"$"#,##0.0,,"M";"-"',
    "USD/GPU-hour": '"$"#,##0.00',
    "USD/PFLOP-hour": '"$"#,##0.00',
    "USD/kW-month": '"$"#,##0',
    "USD/MW-month": '"$"#,##0.00,,"M"',
    "%": '0.0"%"',
    "GPUs": "#,##0",
    "GPU-hours": '#,##0.00,,,"B"',
    "GPU-hours-m": '#,##0.0,,"M"',
    "x2": "0.00",
    "MW": "#,##0.0",
    "kW": "0.000",
    "months": "0.0",
    "PFLOPS": "#,##0",
    "FLOPs": "0.00E+00",
    "fraction": "0.00",
    "x": "0.0000",
    "date": "yyyy-mm-dd",
    "month": "mmm yyyy",
}


class ReportError(CdmError):
    """The report cannot be written where asked."""


def put(ws: Worksheet, row: int, col: int, value: Any, fmt: str | None = None, font: Font | None = None) -> Any:  # noqa: PLR0917
    """Write a value; text is always text (never a formula, whatever its first character)."""
    cell = write_cell(ws.cell(row, col), value)
    if fmt:
        cell.number_format = fmt
    if font is not None:
        cell.font = font
    return cell


def _name(wb: Workbook, name: str, ws: Worksheet, row: int, col: int) -> None:
    ref = f"{quote_sheetname(ws.title)}!${get_column_letter(col)}${row}"
    wb.defined_names[name] = DefinedName(name, attr_text=ref)


def _print_setup(ws: Worksheet, title_rows: str | None = None) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.print_options.horizontalCentered = True
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.center.text = "&A - page &P of &N"
    ws.oddFooter.right.text = "Compute Deal Model"


def _month_date(m: np.datetime64) -> dt.date:
    return dt.date.fromisoformat(str(m.astype("datetime64[D]")))


REPORT_PATHS = 10_000


REPORT_SEED = 20260506


def risk_sheet(wb: Workbook, whose: str, given: dict[str, object] | None) -> Worksheet:
    """A report's Risk sheet with its title: the paths, the seed, and which drivers the Risk block gave."""
    ws = wb.create_sheet("Risk")
    put(ws, 1, 1, f"Risk: {REPORT_PATHS:,} Monte Carlo paths, seed {REPORT_SEED}", font=TITLE)
    named = ", ".join(sorted(given)) if given else "none"
    put(
        ws,
        2,
        1,
        f"Drivers given in the {whose}'s Risk block: {named}; the rest are the defaults (see Monte Carlo in the docs).",
        font=SUBTITLE,
    )
    return ws


def put_histogram(ws: Worksheet, header: int, hist: dict[str, list[float]], label: str, fmt: str) -> None:
    """A histogram's bins (from, to, paths) under a header row, for a histogram chart to draw."""
    _header_row(ws, header, [label, "to", "Paths"])
    for k, count in enumerate(hist["counts"]):
        put(ws, header + 1 + k, 1, hist["edges"][k], fmt)
        put(ws, header + 1 + k, 2, hist["edges"][k + 1], fmt)
        put(ws, header + 1 + k, 3, count, "#,##0")


def _header_row(ws: Worksheet, row: int, labels: list[str]) -> None:
    for j, label in enumerate(labels, start=1):
        c = put(ws, row, j, label, font=BOLD)
        c.fill = HEADER_FILL


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_output(source: Path, output: Path) -> None:
    """Refuse an output that would overwrite the input or is not an .xlsx."""
    if output.suffix.lower() != ".xlsx":
        raise ReportError(f"{output}: the report is an .xlsx workbook; give a name ending in .xlsx")
    if output.resolve() == source.resolve():
        raise ReportError(f"{output} is the input file: choose another output name (nothing was written)")
    refuse_input_as_output(output, source)  # a hard link to the input is the input too
    resolve_output(output)  # a folder, device or FIFO is refused before the work, not after


def save_report(wb: Workbook, output: Path) -> None:
    with atomic_write(output) as tmp:
        wb.save(tmp)


def export_pdfs(reports: list[Path]) -> tuple[list[Path], str | None]:
    """The PDF of each report beside it, all from one LibreOffice process (one start-up and profile for the lot),
    each written atomically; the PDFs written, and LibreOffice's complaint if some could not be made."""
    from addin.report.libreoffice import LibreOfficeError, convert_many

    written: list[Path] = []
    problem = None
    with tempfile.TemporaryDirectory(prefix="cdm-pdf-") as tmp:
        try:
            convert_many(reports, "pdf", Path(tmp))
        except LibreOfficeError as exc:
            problem = str(exc)
        for xlsx in reports:
            produced = Path(tmp) / f"{xlsx.stem}.pdf"
            if produced.exists():
                with atomic_write(xlsx.with_suffix(".pdf")) as target:
                    shutil.copyfile(produced, target)
                written.append(xlsx.with_suffix(".pdf"))
    return written, problem


def export_pdf(xlsx: Path, pdf: Path) -> Path:
    """Convert the report to PDF with LibreOffice, atomically (the old PDF survives a failure)."""
    from addin.report.libreoffice import convert

    with tempfile.TemporaryDirectory(prefix="cdm-pdf-") as tmp:
        produced = convert(xlsx, "pdf", Path(tmp))
        with atomic_write(pdf) as target:
            shutil.copyfile(produced, target)
    return pdf
