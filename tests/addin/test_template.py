"""The template and seed workbooks: current with the code, conventions kept, computing without Excel."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.formula import ArrayFormula

from addin.excel.build_workbooks import build_committed, iter_committed
from addin.excel.recalc import Recalculated, recalculate
from addin.excel.udfs import ERROR_PREFIX
from addin.workbook.cells import is_excel_error
from addin.workbook.load import load_deal
from engine import FIELDS, TABLES, evaluate
from engine.summary import METRICS

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = [p for p, _ in iter_committed()]
DEAL_BOOKS = [p for p in COMMITTED if "portfolio" not in p.name]
PORTFOLIO_BOOKS = [p for p in COMMITTED if "portfolio" in p.name]
CALC_SHEETS = ("Schedule", "Calc", "Summary", "Checks")


def canonical(path: Path) -> dict[str, Any]:
    """What a workbook shows and does, independent of zip timestamps: cells, formats, names, validations."""
    wb = load_workbook(path)
    out: dict[str, Any] = {"sheets": wb.sheetnames, "names": {n: d.attr_text for n, d in wb.defined_names.items()}}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if isinstance(v, ArrayFormula):
                    v = ("array", v.ref, v.text)
                if v is not None or c.fill.fgColor.rgb not in (None, "00000000"):
                    cells[c.coordinate] = (
                        repr(v),
                        c.number_format,
                        c.font.color.rgb if c.font.color else None,
                        c.fill.fgColor.rgb,
                    )
        out[ws.title] = {
            "cells": cells,
            "freeze": ws.freeze_panes,
            "validations": sorted(
                (str(dv.sqref), dv.type, dv.formula1, dv.formula2) for dv in ws.data_validations.dataValidation
            ),
        }
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("built")
    return {p.name: p for p in build_committed(out)}


@pytest.mark.parametrize("committed", COMMITTED, ids=lambda p: p.name)
def test_committed_workbook_is_what_the_code_builds(committed: Path, built: dict[str, Path]) -> None:
    assert committed.exists(), f"{committed} is missing: run make workbooks"
    assert canonical(committed) == canonical(built[committed.name]), f"{committed.name} is stale: run make workbooks"


@pytest.mark.parametrize("committed", COMMITTED, ids=lambda p: p.name)
def test_committed_workbook_is_reproducible(committed: Path, built: dict[str, Path]) -> None:
    """Every zip entry, its bytes and its timestamp, is the same on every build: regenerating leaves git clean."""
    import zipfile

    def entries(path: Path) -> list[tuple[str, tuple[int, ...], bytes]]:
        with zipfile.ZipFile(path) as z:
            return [(i.filename, i.date_time, z.read(i.filename)) for i in z.infolist()]

    assert entries(committed) == entries(built[committed.name]), f"{committed.name}: run make workbooks"
    assert all(stamp == (2026, 1, 1, 0, 0, 0) for _, stamp, _ in entries(committed))


def test_every_input_has_name_style_and_validation() -> None:
    wb = load_workbook(ROOT / "templates" / "deal.xlsx")
    ws = wb["Inputs"]
    for f in FIELDS:
        dn = wb.defined_names[f.name]
        sheet, ref = dn.attr_text.split("!")
        assert sheet.strip("'") == "Inputs"
        cell = ws[ref.replace("$", "")]
        assert cell.font.color.rgb.endswith("0000FF") and cell.fill.fgColor.rgb.endswith("FFF2CC"), f.name
        row = cell.row
        assert ws.cell(row, 3).value == f.name and ws.cell(row, 4).value == f.unit and ws.cell(row, 2).value == f.label
        validated = any(cell.coordinate in dv.sqref for dv in ws.data_validations.dataValidation)
        assert validated == (f.kind != "text"), f.name  # every non-text input has an Excel validation rule
    for t in TABLES:
        assert t.name in wb.defined_names
    sku_dv = next(dv for dv in ws.data_validations.dataValidation if "H100-SXM" in (dv.formula1 or ""))
    assert sku_dv.type == "list"


def test_calculation_sheets_hold_no_typed_numbers() -> None:
    for path in COMMITTED:
        wb = load_workbook(path)
        for name in CALC_SHEETS if path in DEAL_BOOKS else ("Portfolio", "Timeline", "Checks"):
            # the cells an array formula fills hold its cached values, as Excel stores them: not typed numbers
            arrays = [c.value.ref for row in wb[name].iter_rows() for c in row if isinstance(c.value, ArrayFormula)]
            filled = {cell for ref in arrays for row in wb[name][ref] for cell in (c.coordinate for c in row)}
            for row in wb[name].iter_rows():
                for c in row:
                    if c.coordinate in filled:
                        continue
                    assert not isinstance(c.value, (int, float)), f"{path.name} {name}!{c.coordinate} holds a typed number"


def test_schedule_is_one_fixed_size_array_formula() -> None:
    wb = load_workbook(ROOT / "templates" / "deal.xlsx")
    arrays = [c.value for row in wb["Schedule"].iter_rows() for c in row if isinstance(c.value, ArrayFormula)]
    assert len(arrays) == 1
    from addin.excel.udfs import SCHEDULE_ROWS

    last_row = 6 + len(SCHEDULE_ROWS) - 1  # one row per line item from row 6; months F..DU = 120 columns
    assert arrays[0].text == "=CDM_SCHEDULE(cdm_deal)" and arrays[0].ref == f"F6:DU{last_row}"
    assert len(SCHEDULE_ROWS) == 30  # 29 lines and mw_over_facility


def named(path: Path, name: str) -> tuple[str, str]:
    """(sheet, cell) of a single-cell defined name."""
    sheet, ref = load_workbook(path).defined_names[name].attr_text.split("!")
    return sheet.strip("'"), ref.replace("$", "")


def cached(path: Path) -> Recalculated:
    """The values a committed workbook stores for its formula cells. The reproducibility test above proves they are
    what ``recalculate`` computes today (the build recalculates and stores them, and the bytes must match), so the
    tests below read them instead of recalculating every workbook again."""
    formulas, values = load_workbook(path), load_workbook(path, data_only=True)
    out = Recalculated()
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for c in row:
                cells = [c.coordinate]
                if isinstance(c.value, ArrayFormula):
                    cells = [x.coordinate for line in ws[c.value.ref] for x in line]
                elif not (isinstance(c.value, str) and c.data_type == "f"):
                    continue
                for ref in cells:
                    v = values[ws.title][ref].value
                    if isinstance(v, (dt.datetime, dt.date, dt.time)):  # openpyxl reads a date-formatted number as a date
                        v = float(to_excel(v))
                    out.values[(ws.title, ref)] = v
                    if is_excel_error(v) or (isinstance(v, str) and v.startswith(ERROR_PREFIX)):
                        out.errors.append((ws.title, ref, str(v)))
    return out


@pytest.fixture(scope="module")
def recalculated() -> dict[str, Any]:
    return {p.name: cached(p) for p in COMMITTED}


def test_a_fresh_recalculation_gives_the_stored_values() -> None:
    """One workbook recalculated here against what it stores, to 15 significant digits (the others: the reproducibility
    test)."""
    path = ROOT / "workbooks" / "google_spacex.xlsx"
    fresh, stored = recalculate(path), cached(path)
    assert fresh.values.keys() == stored.values.keys() and not fresh.errors
    for key, value in fresh.values.items():  # stored to 15 significant digits, Excel's precision
        want = float(f"{value:.15g}") if isinstance(value, float) else value
        assert stored.values[key] == want, key


@pytest.mark.parametrize("path", PORTFOLIO_BOOKS, ids=lambda p: p.name)
def test_portfolio_workbooks_recalculate_and_match_the_engine(path: Path, recalculated: dict[str, Any]) -> None:
    from addin.workbook.portfolio_book import read_portfolio_workbook
    from addin.workbook.portfolio_file import portfolio_record
    from engine.portfolio import PortfolioResult

    r = recalculated[path.name]
    assert r.errors == [] and len(r.values) > 1000
    assert r.get(*named(path, "master_check")) == 1
    p, _ = read_portfolio_workbook(path)
    rec = portfolio_record(PortfolioResult(p))
    assert r.get(*named(path, "portfolio_total_fees_usd")) == pytest.approx(rec["total_fees_usd"], rel=1e-12)
    assert r.get(*named(path, "portfolio_firm_commitment_usd")) == pytest.approx(rec["firm_commitment_usd"], rel=1e-12)
    assert r.get(*named(path, "portfolio_hhi_avg")) == pytest.approx(rec["hhi_avg"], rel=1e-12)


def test_portfolio_workbook_equals_its_toml() -> None:
    from addin.workbook.portfolio_book import read_portfolio_workbook
    from addin.workbook.portfolio_file import load_portfolio, portfolio_record
    from engine.portfolio import PortfolioResult

    book, _ = read_portfolio_workbook(ROOT / "workbooks" / "anthropic_portfolio.xlsx")
    toml, _ = load_portfolio(ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml")
    a, b = portfolio_record(PortfolioResult(book)), portfolio_record(PortfolioResult(toml))
    assert a == b


@pytest.mark.parametrize("path", DEAL_BOOKS, ids=lambda p: p.name)
def test_recalculates_without_error_cells(path: Path, recalculated: dict[str, Any]) -> None:
    r = recalculated[path.name]
    assert len(r.values) > 3000
    assert r.errors == []
    assert r.get(*named(path, "master_check")) == 1
    for check in ("check_net_fees_sum", "check_npv_native", "check_headline", "check_cash_equity", "check_mw_gpu_round_trip"):
        assert r.get(*named(path, check)) == 1, check


@pytest.mark.parametrize("path", [p for p, t in iter_committed() if t is not None and p in DEAL_BOOKS], ids=lambda p: p.name)
def test_recalculated_summary_equals_engine(path: Path, recalculated: dict[str, Any]) -> None:
    toml = ROOT / "workbooks" / "deals" / f"{path.stem}.toml"
    engine_rec = evaluate(load_deal(toml).raw).record(0)
    wb = load_workbook(path)
    ws = wb["Summary"]
    r = recalculated[path.name]
    names = {ws.cell(i, 3).value: i for i in range(5, 60)}
    for m in METRICS:
        got = r.get("Summary", f"D{names[m.name]}")
        assert got == pytest.approx(engine_rec[m.name], rel=1e-12), m.name
    # the Schedule's total column, a native SUM over the array formula's cells
    sched = wb["Schedule"]
    net_row = next(i for i in range(6, 40) if sched.cell(i, 3).value == "net_fee_usd")
    assert r.get("Schedule", f"E{net_row}") == pytest.approx(engine_rec["net_tcv_usd"], rel=1e-12)


@pytest.mark.parametrize("path", [p for p, t in iter_committed() if t is not None and p in DEAL_BOOKS], ids=lambda p: p.name)
def test_recalculated_tables_equal_single_engine_runs(path: Path, recalculated: dict[str, Any]) -> None:
    """The Tables sheet's =CDM_TABLE array formulas, computed headless, against one engine run per cell."""
    from openpyxl.utils import get_column_letter

    from addin.workbook.template import TWO_WAY_TABLES

    raw = load_deal(ROOT / "workbooks" / "deals" / f"{path.stem}.toml").raw
    r = recalculated[path.name]
    names = load_workbook(path).defined_names
    for k, (figure, _, row_input, row_values, col_input, col_values) in enumerate(TWO_WAY_TABLES, start=1):
        _, ref = names[f"cdm_table_{k}"].attr_text.split("!")
        top, first_col = int(ref.split(":")[0].split("$")[2]), 4  # $D$10:$H$14 -> row 10, column D
        for i, rv in enumerate(row_values):
            for j, cv in enumerate(col_values):
                expected = evaluate({**raw, row_input: rv, col_input: cv})[figure][0]
                got = r.get("Tables", f"{get_column_letter(first_col + j)}{top + i}")
                assert got == pytest.approx(expected, rel=1e-12), (figure, rv, cv)


def test_checks_flag_the_power_inconsistency_as_a_warning(recalculated: dict[str, Any]) -> None:
    path = ROOT / "workbooks" / "anthropic_xai_colossus1.xlsx"
    r = recalculated[path.name]
    assert r.get(*named(path, "check_capacity_le_power")) == 0  # 338.2 MW needed > 300 MW
    assert r.get(*named(path, "check_inputs_valid")) == 1
    assert r.get(*named(path, "master_check")) == 1  # the master check is about the model, not the press figures
    assert r.get(*named(path, "warning_count")) == 2
