"""Print-ready workbooks (issue 14, item 3): every sheet has a print setup, and the seed prints on at most 30 pages.

LibreOffice recalculates array formulas when it opens a file, whatever the file asks, so the CDM_ arrays
(Schedule, Tables) would print as errors there: the PDF is made, as ``cdm recalc -o`` makes it, from a
values-only copy that keeps the print setup. The pages were also looked at as pictures (see the README).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from addin.cli import app
from addin.excel.build_workbooks import iter_committed
from addin.workbook.sheets.printing import DEAL_PLANS, MONTHS_PER_PAGE

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "workbooks" / "anthropic_xai_colossus1.xlsx"
COMMITTED = [p for p, _ in iter_committed()]
runner = CliRunner()


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_every_sheet_has_a_print_setup(path: Path) -> None:
    wb = load_workbook(path)
    title = str(wb.properties.title or "")
    for ws in wb.worksheets:
        where = f"{path.name} {ws.title}"
        assert ws.page_setup.orientation in ("landscape", "portrait"), where
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth >= 1, where
        assert ws.print_area, where
        assert ws.oddFooter.right.text == "Page &P of &N" and ws.oddHeader.right.text == "&A", where
        if "portfolio" not in path.name:
            assert ws.oddHeader.center.text == title.replace("&", "&&"), where


def test_the_timeline_sheets_repeat_their_labels_and_print_the_term() -> None:
    wb = load_workbook(SEED)
    for name in ("Schedule", "Calc"):
        ws = wb[name]
        assert ws.print_title_cols == "$B:$E" and ws.print_title_rows == "$4:$4", name
        # 37 months (May 2026 - May 2029) print as whole years: 48 months, F..BA, on ceil(48 / 18) = 3 pages across
        assert re.search(r"\$BA\$\d+$", str(ws.print_area)), ws.print_area
        assert ws.page_setup.fitToWidth == -(-48 // MONTHS_PER_PAGE) == 3
    assert set(DEAL_PLANS) == set(wb.sheetnames)


def test_the_risk_charts_are_inside_the_print_area() -> None:
    from openpyxl.utils.cell import range_boundaries

    ws = load_workbook(SEED)["Risk"]
    _, _, max_col, max_row = range_boundaries(str(ws.print_area).split("!")[-1].replace("$", ""))
    assert max_col >= 8 + 9  # charts are anchored in column H and are about 9 columns wide
    assert max_row >= ws.max_row


def test_the_seed_workbook_prints_on_at_most_30_pages(tmp_path: Path) -> None:
    from addin.report.libreoffice import convert, find_soffice

    if find_soffice() is None:
        pytest.skip("LibreOffice not installed; .ci/run installs it")
    copy = tmp_path / "seed-values.xlsx"
    res = runner.invoke(app, ["recalc", str(SEED), "-o", str(copy)])
    assert res.exit_code == 0, res.output
    pdf = convert(copy, "pdf", tmp_path)
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert 10 <= pages <= 30, pages
