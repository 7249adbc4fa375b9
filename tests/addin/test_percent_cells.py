"""Percentages the Excel way (issue 14, item 4): a `_pct` cell of the deal workbook is a percent cell.

Excel stores 85% as 0.85 (typing 85 or 85% into a percent-formatted cell both store 0.85), so the reader turns a
percent-formatted cell into the engine's whole-number percent; TOML keeps whole numbers. The references here are
the same deal written as TOML with ``utilization_pct = 85``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from addin.excel.recalc import recalculate
from addin.workbook.book import is_percent_format
from addin.workbook.cells import percent_to_whole
from addin.workbook.load import load_deal
from addin.workbook.template import build_deal_workbook
from engine import FIELDS, TABLES, build_schedule, build_terms, summarize
from engine.fields import is_percent

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "templates" / "example_deal.toml"
FIGURES = ("net_tcv_usd", "npv_usd", "usd_per_gpu_hour", "usd_per_used_gpu_hour", "breakeven_utilization_pct")


def _figures(raw: dict[str, object]) -> dict[str, float]:
    s = summarize(build_schedule(build_terms(raw)))
    return {k: float(s[k][0]) for k in FIGURES}


def _named(wb, name: str):  # type: ignore[no-untyped-def]
    sheet, ref = wb.defined_names[name].attr_text.split("!")
    return wb[sheet.strip("'")][ref.replace("$", "")]


@pytest.fixture(scope="module")
def toml_raw() -> dict[str, object]:
    raw = dict(load_deal(EXAMPLE).raw)
    raw["utilization_pct"] = 85
    return raw


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory, toml_raw: dict[str, object]) -> Path:
    wb, _ = build_deal_workbook({k: v for k, v in toml_raw.items() if k != "utilization_pct"})
    cell = _named(wb, "utilization_pct")
    assert is_percent_format(cell.number_format), cell.number_format
    cell.value = 0.85  # what Excel stores when a user types 85 or 85% into the percent cell
    path = tmp_path_factory.mktemp("pct") / "deal.xlsx"
    wb.save(path)
    return path


def test_every_pct_input_cell_is_a_percent_cell() -> None:
    wb, layout = build_deal_workbook(dict(load_deal(EXAMPLE).raw))
    pct = [f.name for f in FIELDS if is_percent(f)]
    assert "utilization_pct" in pct and "escalator_pct_per_year" in pct and "discount_rate_pct" in pct
    for name in pct:
        assert is_percent_format(_named(wb, name).number_format), name
    sla = next(t for t in TABLES if t.name == "sla_tiers")
    for col in sla.columns:
        sheet, ref = layout.input_cells[f"sla_tiers[1].{col.name}"].split("!")
        assert is_percent_format(wb[sheet.strip("'")][ref.replace("$", "")].number_format), col.name


def test_a_toml_percentage_is_written_as_the_fraction_its_cell_shows() -> None:
    wb, _ = build_deal_workbook(dict(load_deal(EXAMPLE).raw))  # utilization_pct = 90 in the TOML
    assert _named(wb, "utilization_pct").value == pytest.approx(0.9)


def test_085_in_a_percent_cell_gives_the_figures_of_85_in_toml(book: Path, toml_raw: dict[str, object]) -> None:
    src = load_deal(book)
    assert src.raw["utilization_pct"] == 85.0  # not 0.85 percent, and not 85.00000000000001
    got, want = _figures(src.raw), _figures(toml_raw)
    assert got == want
    assert want["usd_per_used_gpu_hour"] == pytest.approx(want["usd_per_gpu_hour"] / 0.85, rel=1e-12)


def test_the_add_in_formulas_see_85_too(book: Path, toml_raw: dict[str, object]) -> None:
    """The CDM_ functions read the Scenarios sheet's In use column: it turns the fraction into 85 natively."""
    res = recalculate(book)
    wb = load_workbook(book)
    want = _figures(toml_raw)
    for name in ("net_tcv_usd", "usd_per_used_gpu_hour"):
        sheet, ref = wb.defined_names[name].attr_text.split("!")
        assert res.get(sheet.strip("'"), ref.replace("$", "")) == pytest.approx(want[name], rel=1e-12), name


def test_a_scenario_alternative_in_a_percent_cell_is_read_the_same_way(book: Path, toml_raw: dict[str, object]) -> None:
    wb = load_workbook(book)
    ws = wb["Scenarios"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 3).value == "utilization_pct")
    assert is_percent_format(ws.cell(row, 6).number_format)
    ws.cell(row, 6).value = 0.7
    path = book.with_name("alt.xlsx")
    wb.save(path)
    raw = load_deal(path, scenario=str(ws.cell(4, 6).value)).raw
    assert raw["utilization_pct"] == 70.0
    assert _figures(raw) == _figures({**toml_raw, "utilization_pct": 70})


def test_a_whole_number_in_a_general_cell_is_still_a_whole_percent(tmp_path: Path, toml_raw: dict[str, object]) -> None:
    """Workbooks made before percent cells hold 85 in a General cell: still 85 percent."""
    wb, _ = build_deal_workbook({k: v for k, v in toml_raw.items() if k != "utilization_pct"})
    cell = _named(wb, "utilization_pct")
    cell.number_format = "General"
    cell.value = 85
    wb.save(tmp_path / "old.xlsx")
    assert _figures(load_deal(tmp_path / "old.xlsx").raw) == _figures(toml_raw)


@pytest.mark.parametrize(
    ("fmt", "percent"),
    [("0%", True), ("0.0##%", True), ('0.0##"%"', False), ("0\\%", False), ("General", False), ("#,##0", False)],
)
def test_only_a_real_percent_format_counts(fmt: str, percent: bool) -> None:
    assert is_percent_format(fmt) is percent


def test_the_conversion_drops_float_noise() -> None:
    assert 0.29 * 100 != 29 and percent_to_whole(0.29) == 29.0
    assert percent_to_whole(0.9999) == 99.99 and percent_to_whole(1.005) == 100.5
