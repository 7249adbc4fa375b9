"""Cached values (issue 14, item 2): every workbook we write opens with its numbers, add-in or not.

The shipped workbooks are read back with openpyxl ``data_only=True`` (what a viewer without a calculation engine
shows) and with LibreOffice told never to recalculate; their figures are compared with the engine's for the same
inputs, read through the deal reader.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.formula import ArrayFormula
from typer.testing import CliRunner

from addin.cli import app
from addin.excel.build_workbooks import iter_committed
from addin.excel.cached import CALC_ID, store_values
from addin.excel.recalc import Recalculated
from addin.workbook.load import load_deal
from engine import FIELDS, build_schedule, build_terms, summarize
from engine.summary import METRICS

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = [p for p, _ in iter_committed()]
DEAL_BOOKS = [p for p in COMMITTED if "portfolio" not in p.name]
runner = CliRunner()


def _named(wb: Any, name: str) -> Any:
    sheet, ref = wb.defined_names[name].attr_text.split("!")
    return wb[sheet.strip("'")][ref.replace("$", "").split(":")[0]]


def _named_block(wb: Any, name: str) -> list[list[Any]]:
    sheet, ref = wb.defined_names[name].attr_text.split("!")
    return [[c.value for c in row] for row in wb[sheet.strip("'")][ref.replace("$", "")]]


def _formula_cells(path: Path) -> dict[tuple[str, str], str]:
    wb = load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, ArrayFormula) or (isinstance(c.value, str) and c.data_type == "f"):
                    out[(ws.title, c.coordinate)] = str(getattr(c.value, "text", c.value))
    return out


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_every_formula_cell_of_a_shipped_workbook_has_a_cached_value(path: Path) -> None:
    values = load_workbook(path, data_only=True)
    formulas = _formula_cells(path)
    assert len(formulas) > 20
    blank = [f"{s}!{c}: {f}" for (s, c), f in formulas.items() if values[s][c].value is None]
    # a formula may compute to a blank (stored as no value): only those that can return "" (a blank input) do
    assert all('""' in b for b in blank), blank[:5]
    errors = [f"{s}!{c}" for (s, c) in formulas if str(values[s][c].value).startswith("#")]
    assert not errors, errors[:10]


@pytest.mark.parametrize("path", DEAL_BOOKS, ids=lambda p: p.name)
def test_the_cached_summary_figures_are_the_engines(path: Path) -> None:
    wb = load_workbook(path, data_only=True)
    s = summarize(build_schedule(build_terms(load_deal(path).raw)))
    inputs = {f.name for f in FIELDS}  # a figure that is also an input is named on Inputs, not Summary
    for m in METRICS:
        if m.name in wb.defined_names and m.name not in inputs:
            assert _named(wb, m.name).value == pytest.approx(float(s[m.name][0]), rel=1e-12, abs=1e-12), m.name
    assert _named(wb, "master_check").value == 1
    assert _named(wb, "native_net_tcv_usd").value == pytest.approx(float(s["net_tcv_usd"][0]), rel=1e-12)


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_shipped_workbooks_are_refreshed(path: Path) -> None:
    wb = load_workbook(path, data_only=True)
    assert str(_named(wb, "cdm_run_stamp").value).startswith("Refreshed 2026-01-01 00:00 UTC by Compute Deal Model")
    messages = _named_block(wb, "cdm_messages")
    assert messages[0][0] in ("ok", "warning", "error", "note") and messages[0][3]
    if path in DEAL_BOOKS:
        compare = _named_block(wb, "cdm_scenario_results")
        assert compare[0][2] == "Base case" and isinstance(compare[3][2], (int, float))  # net TCV of the base case
        risk = _named_block(wb, "cdm_risk_results")
        assert any(isinstance(v, float) for row in risk for v in row)


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_shipped_workbooks_ask_for_no_full_calculation_on_load(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        calc = z.read("xl/workbook.xml").decode()
    assert f'calcId="{CALC_ID}"' in calc and "fullCalcOnLoad" not in calc


def test_libreoffice_without_recalculation_shows_the_numbers(tmp_path: Path) -> None:
    """LibreOffice has no CDM_ functions: recalculating would give #NAME?; opening shows the stored values."""
    from addin.report.libreoffice import find_soffice, run_bounded

    soffice = find_soffice()
    if soffice is None:
        pytest.skip("LibreOffice not installed; .ci/run installs it")
    seed = ROOT / "workbooks" / "anthropic_xai_colossus1.xlsx"
    sheet = load_workbook(seed).sheetnames.index("Summary") + 1
    csv = f"csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,{sheet}"
    cmd = [soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", "--norestore",
           "--convert-to", csv, "--outdir", str(tmp_path), str(seed)]  # fmt: skip
    run_bounded(cmd, 180, "LibreOffice timed out")
    text = next(tmp_path.glob("*.csv")).read_text(encoding="utf-8")
    assert "net_tcv_usd,45000000000," in text and "#NAME?" not in text


def test_cdm_new_and_refresh_write_cached_values(tmp_path: Path) -> None:
    out = tmp_path / "new.xlsx"
    res = runner.invoke(app, ["new", "-o", str(out), "--from", str(ROOT / "workbooks" / "deals" / "iren_microsoft.toml")])
    assert res.exit_code == 0, res.output
    s = summarize(build_schedule(build_terms(load_deal(out).raw)))
    wb = load_workbook(out, data_only=True)
    assert _named(wb, "npv_usd").value == pytest.approx(float(s["npv_usd"][0]), rel=1e-12)
    assert str(_named(wb, "cdm_run_stamp").value).startswith("Refreshed ")
    # change an input (openpyxl drops the cached values on save), refresh headless: the values are back, new ones
    wb = load_workbook(out)
    _named(wb, "monthly_fee_usd").value = 2 * _named(wb, "monthly_fee_usd").value
    wb.save(out)
    assert load_workbook(out, data_only=True)["Summary"]["D8"].value is None
    res = runner.invoke(app, ["refresh", str(out)])
    assert res.exit_code == 0, res.output
    wb = load_workbook(out, data_only=True)
    assert _named(wb, "net_tcv_usd").value == pytest.approx(2 * float(s["net_tcv_usd"][0]), rel=1e-12)


def test_the_report_workbook_holds_values_only(tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    res = runner.invoke(app, ["report", str(ROOT / "workbooks" / "deals" / "google_spacex.toml"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert not _formula_cells(out)


def test_each_kind_of_value_is_stored_as_excel_types_it(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "S h'eet"
    for ref in ("A1", "A2", "A3", "A4", "A5", "A6"):
        ws[ref] = "=1"
    ws["B1"] = ArrayFormula("B1:B2", "=X()")
    ws["B2"].number_format = "0.00"
    path = tmp_path / "kinds.xlsx"
    wb.save(path)
    result = Recalculated(values={("S h'eet", "A1"): 1.5, ("S h'eet", "A2"): "a <b> & c", ("S h'eet", "A3"): True,
                                  ("S h'eet", "A4"): "#N/A", ("S h'eet", "A5"): None, ("S h'eet", "A6"): 7,
                                  ("S h'eet", "B1"): 2.0, ("S h'eet", "B2"): 3.0})  # fmt: skip
    store_values(path, result)
    got = load_workbook(path, data_only=True)["S h'eet"]
    assert [got[r].value for r in ("A1", "A2", "A3", "A4", "A5", "A6", "B1", "B2")] == [
        1.5, "a <b> & c", True, "#N/A", None, 7, 2.0, 3.0,
    ]  # fmt: skip
    back = load_workbook(path)["S h'eet"]
    assert back["A1"].value == "=1" and back["B1"].value.text == "=X()"  # the formulas are kept
