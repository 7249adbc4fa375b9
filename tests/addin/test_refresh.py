"""Refresh: writes only its outputs, through defined names; never an input; twice = once."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.formula import ArrayFormula
from typer.testing import CliRunner

from addin.cli import app
from addin.excel.refresh import refresh, refresh_file
from addin.workbook.book import OpenpyxlBook
from engine import FIELDS

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "workbooks" / "anthropic_xai_colossus1.xlsx"
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
OUTPUT_NAMES = ("cdm_messages", "cdm_scenario_results", "cdm_run_stamp", "cdm_risk_results", "cdm_risk_histogram", "cdm_risk_fan",
                "cdm_risk_tornado", "cdm_risk_correlation")  # fmt: skip


def all_cells(path: Path) -> dict[tuple[str, str], Any]:
    """Every non-empty cell; array formulas as (ref, text), since openpyxl compares them by identity."""
    wb = load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if isinstance(v, ArrayFormula):
                    v = ("array", v.ref, v.text)
                if v is not None:
                    out[(ws.title, c.coordinate)] = v
    return out


def output_cells(path: Path) -> set[tuple[str, str]]:
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    wb = load_workbook(path)
    cells = set()
    for name in OUTPUT_NAMES:
        sheet, ref = wb.defined_names[name].attr_text.split("!")
        min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
        cells |= {
            (sheet.strip("'"), f"{get_column_letter(c)}{r}")
            for r in range(min_row, max_row + 1)
            for c in range(min_col, max_col + 1)
        }
    return cells


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / SEED.name
    shutil.copy(SEED, target)
    return target


def test_refresh_changes_nothing_but_its_outputs(copy: Path) -> None:
    before = all_cells(copy)
    refresh_file(copy, NOW)
    after = all_cells(copy)
    outputs = output_cells(copy)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed and changed <= outputs, sorted(changed - outputs)[:5]
    inputs = load_workbook(copy)["Inputs"]
    assert inputs["E9"].value == "Anthropic - xAI Colossus 1"


def test_every_input_cell_is_unchanged(copy: Path) -> None:
    wb0 = load_workbook(copy)
    book0 = OpenpyxlBook(wb0)
    before = {f.name: book0.read(f.name) for f in FIELDS} | {"alternatives": book0.read("cdm_scenario_alternatives")}
    refresh_file(copy, NOW)
    book1 = OpenpyxlBook(load_workbook(copy))
    after = {f.name: book1.read(f.name) for f in FIELDS} | {"alternatives": book1.read("cdm_scenario_alternatives")}
    assert before == after


def test_refresh_is_idempotent(copy: Path, tmp_path: Path) -> None:
    refresh_file(copy, NOW)
    once = all_cells(copy)
    refresh_file(copy, NOW)
    assert all_cells(copy) == once


def test_refresh_writes_messages_comparison_and_stamp(copy: Path) -> None:
    result = refresh_file(copy, NOW)
    assert result.errors == 0 and result.warnings == 2  # power, and dearer than the market at 90% use
    book = OpenpyxlBook(load_workbook(copy))
    stamp = book.read("cdm_run_stamp")[0][0]
    assert stamp.startswith("Refreshed 2026-11-23 12:00 UTC by Compute Deal Model") and "inputs SHA-256" in stamp
    messages = book.read("cdm_messages")
    assert messages[0][0] == "warning" and messages[0][1].startswith("Inputs!") and "338.2 MW" in messages[0][3]
    table = book.read("cdm_scenario_results")
    assert table[0][2:] == ["Base case", "Press: full rate from July", "Press: 300-400k GPUs", "S-1: Colossus I and II",
                            "Announced: 220k Hopper at 1.36 kW"]  # fmt: skip
    net = next(row for row in table if row[1] == "net_tcv_usd")
    assert net[2] == 45e9 and net[3] == 43.75e9  # base; full rate from July: 35 x 1.25B


def test_user_text_starting_with_equals_stays_text(copy: Path) -> None:
    wb = load_workbook(copy)
    wb["Inputs"]["E9"].value = "=HYPERLINK(1)"
    wb["Inputs"]["E9"].data_type = "s"
    wb.save(copy)
    refresh_file(copy, NOW)
    stamp_book = load_workbook(copy)
    assert stamp_book["Inputs"]["E9"].data_type == "s"
    assert OpenpyxlBook(stamp_book).read("cdm_messages")[0][0] in ("warning", "ok")


def test_scenario_errors_are_listed_with_their_cell(copy: Path) -> None:
    wb = load_workbook(copy)
    book = OpenpyxlBook(wb)
    sheet, ref = book.address("cdm_scenario_alternatives")
    row = next(i for i, r in enumerate(book.read("cdm_deal")) if r[0] == "pue")
    from openpyxl.utils.cell import range_boundaries

    min_col, min_row, _, _ = range_boundaries(ref)
    wb[sheet].cell(min_row + row, min_col + 1).value = 0.8  # scenario 3's pue
    result = refresh(book, NOW)
    errors = [m for m in result.messages if m[0] == "error"]
    assert errors == [("error", f"Scenarios!G{min_row + row}", "[Press: 300-400k GPUs] pue must be >= 1.0, got 0.8")]


def test_cli_refuses_a_workbook_open_in_excel(copy: Path) -> None:
    (copy.parent / f"~${copy.name}").write_text("lock")
    before = copy.read_bytes()
    res = CliRunner().invoke(app, ["refresh", str(copy)])
    assert res.exit_code == 2 and "is open in Excel" in res.stderr
    assert copy.read_bytes() == before


def test_cli_refresh(copy: Path) -> None:
    res = CliRunner().invoke(app, ["refresh", str(copy)])
    assert res.exit_code == 0, res.output
    assert "Refreshed" in res.stdout


def test_refresh_writes_the_risk_charts_data(copy: Path) -> None:
    """The Risk sheet's histogram, fan, tornado and rank correlations equal the engine's, under native charts."""
    from addin.workbook.load import load_deal
    from engine.risk import simulate, tornado

    refresh_file(copy, NOW)
    wb = load_workbook(copy)

    def block(name: str) -> list[list[Any]]:
        sheet, ref = wb.defined_names[name].attr_text.split("!")
        return [[c.value for c in row] for row in wb[sheet.strip("'")][ref.replace("$", "")]]

    terms = load_deal(ROOT / "workbooks" / "deals" / "anthropic_xai_colossus1.toml").terms()
    sim = simulate(terms, 10_000, 20260506)
    hist = block("cdm_risk_histogram")
    assert [r[2] for r in hist[1:]] == sim.histogram("npv_usd")["counts"]
    assert [r[0] for r in hist[1:]] == pytest.approx(sim.histogram("npv_usd")["edges"][:-1], rel=1e-12)
    fan = block("cdm_risk_fan")
    months = int(terms.months_billed[0])
    assert fan[1][0] == dt.datetime(2026, 5, 1) and fan[months][0] == dt.datetime(2029, 5, 1) and fan[months + 1] == [None] * 4
    assert [r[2] for r in fan[1 : months + 1]] == pytest.approx(sim.fan()["p50"], rel=1e-12)
    torn = block("cdm_risk_tornado")
    assert [(r[0], r[5]) for r in torn[1:]] == [
        (t["driver"], pytest.approx(t["npv_usd_swing"], rel=1e-12)) for t in tornado(terms, sim.model)
    ]
    corr = block("cdm_risk_correlation")
    assert {r[0] for r in corr[1:]} == {r["driver"] for r in sim.rank_correlation()}
    charts = wb["Risk"]._charts
    assert len(charts) == 3
    refs = [s.val.numRef.f for c in charts for s in c.series]
    hist_ref = wb.defined_names["cdm_risk_histogram"].attr_text.split("!")[1]
    assert any(hist_ref.split(":")[1].replace("B", "D") in f for f in refs)  # the histogram chart reads the Paths column


def test_an_older_smaller_risk_block_is_filled_and_says_what_was_cut(copy: Path) -> None:
    """A workbook made when the simulation had six outputs holds a nine-row results block: refresh fills it and its
    last row says how many rows did not fit, never writing past the block."""
    from openpyxl.utils.cell import range_boundaries

    from engine.risk import OUTPUTS

    wb = load_workbook(copy)
    sheet, ref = wb.defined_names["cdm_risk_results"].attr_text.split("!")
    min_col, min_row, max_col, _ = range_boundaries(ref.replace("$", ""))
    wb.defined_names["cdm_risk_results"].attr_text = f"{sheet}!$B${min_row}:$F${min_row + 8}"
    below = wb[sheet.strip("'")].cell(min_row + 9, min_col).value
    wb.save(copy)
    refresh_file(copy, NOW)
    ws = load_workbook(copy)[sheet.strip("'")]
    rows = [[ws.cell(r, c).value for c in range(min_col, max_col + 1)] for r in range(min_row, min_row + 9)]
    assert rows[0][0] == "Output" and [r[0] for r in rows[1:8]] == list(OUTPUTS[:7])
    cut = len(OUTPUTS) + 2 - 8  # the header, the outputs and the paths row, less the eight rows shown
    assert rows[8][0] == f"{cut} more rows: cdm simulate (or make a new workbook) shows them"
    assert ws.cell(min_row + 9, min_col).value == below  # nothing written past the block
