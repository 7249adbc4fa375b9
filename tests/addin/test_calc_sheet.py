"""The Calc sheet (issue 14, item 1): the core schedule in ordinary formulas, a standing shadow model.

The references are independent of the engine's code path: LibreOffice (which has no CDM_ functions) and the
``formulas`` package compute the sheet's native formulas, and their totals are compared with ``cdm summary``'s
figures for the same workbook. Every deal here is one the sheet covers, except where a test says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from addin.excel.recalc import recalculate
from addin.workbook.load import load_deal
from addin.workbook.template import build_deal_workbook
from engine import build_schedule, build_terms, summarize

ROOT = Path(__file__).resolve().parents[2]
SEEDS = [*sorted(p for p in (ROOT / "workbooks").glob("*.xlsx") if "portfolio" not in p.name), ROOT / "templates" / "deal.xlsx"]
NATIVE = {
    "native_net_tcv_usd": "net_tcv_usd",
    "native_npv_usd": "npv_usd",
    "native_firm_commitment_usd": "firm_commitment_usd",
    "native_usd_per_gpu_hour": "usd_per_gpu_hour",
}
BASE = {"deal_name": "Calc variant", "start_month": "2026-03", "end_month": "2031-02", "monthly_fee_usd": 250e6}

# Deals that exercise every line of the sheet: arrears, escalator anniversaries, prepayment, take-or-pay below and
# above utilisation, uptime, exit rights inside and beyond the term, three ways of counting GPUs.
VARIANTS: dict[str, dict[str, object]] = {
    "arrears-escalator-prepaid": {
        **BASE,
        "payment_timing": "arrears",
        "escalator_pct_per_year": 3.5,
        "prepayment_pct": 20,
        "facility_mw": 150,
        "gpu_sku": "B200",
        "pue": 1.3,
        "network_overhead_pct": 5,
    },
    "valued-before-the-start-prepaid": {  # valuation date 10 months before the term: the prepayment is discounted too
        **BASE,
        "valuation_date": "2025-05-17",
        "prepayment_pct": 35,
        "payment_timing": "arrears",
        "facility_mw": 100,
    },
    "valued-inside-the-term": {  # payments before the valuation date are carried forward, as XNPV does
        **BASE,
        "valuation_date": "2027-08-09",
        "facility_mw": 100,
    },
    "usage-below-take-or-pay": {
        **BASE,
        "utilization_pct": 55,
        "take_or_pay_min_pct": 70,
        "expected_uptime_pct": 99.5,
        "facility_mw": 200,
        "gpu_count": 90_000,
        "discount_rate_pct": 11.25,
    },
    "usage-above-take-or-pay": {
        **BASE,
        "utilization_pct": 85,
        "take_or_pay_min_pct": 60,
        "facility_mw": 120,
        "ramp_months": 5,
        "ramp_fee_fraction": 0.3,
        "ramp_capacity_fraction": 0.4,
    },
    "exit-mid-month": {**BASE, "notice_days": 45, "lockin_months": 7, "facility_mw": 80, "gpu_sku": "GB200"},
    "exit-beyond-term": {**BASE, "end_month": "2026-08", "notice_days": 60, "lockin_months": 5, "facility_mw": 10},
    "fleet": {
        **BASE,
        "facility_mw": 300,
        "fleet": [{"gpu_sku": "H100-SXM", "gpu_count": 60_000}, {"gpu_sku": "GB200", "gpu_count": 40_000}],
    },
    "one-month": {**BASE, "end_month": "2026-03", "facility_mw": 5, "payment_timing": "arrears"},
}


def _named(wb: Any, name: str) -> Any:
    sheet, ref = wb.defined_names[name].attr_text.split("!")
    return wb[sheet.strip("'")][ref.replace("$", "")]


def _engine(path: Path) -> dict[str, float]:
    s = summarize(build_schedule(build_terms(load_deal(path).raw)))
    return {k: float(s[k][0]) for k in NATIVE.values()}


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("calc")
    out = {}
    for name, raw in VARIANTS.items():
        wb, _ = build_deal_workbook(raw)
        wb.save(d / f"{name}.xlsx")
        out[name] = d / f"{name}.xlsx"
    for seed in SEEDS:
        out[seed.stem] = seed
    # the seed with another scenario in use, and with its monthly fee doubled
    wb = load_workbook(ROOT / "workbooks" / "anthropic_xai_colossus1.xlsx")
    _named(wb, "scenario").value = "Press: full rate from July"
    wb.save(d / "seed-press-scenario.xlsx")
    out["seed-press-scenario"] = d / "seed-press-scenario.xlsx"
    wb = load_workbook(ROOT / "workbooks" / "anthropic_xai_colossus1.xlsx")
    _named(wb, "monthly_fee_usd").value = 2 * _named(wb, "monthly_fee_usd").value
    wb.save(d / "seed-fee-doubled.xlsx")
    out["seed-fee-doubled"] = d / "seed-fee-doubled.xlsx"
    return out


@pytest.fixture(scope="module")
def libreoffice(books: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every book recalculated by LibreOffice in one process: the native names' values, by book."""
    from addin.report.libreoffice import convert_many, find_soffice

    if find_soffice() is None:
        pytest.skip("LibreOffice not installed; .ci/run installs it")
    names = list(books)
    copies = tmp_path_factory.mktemp("lo-in")
    inputs = []
    for name in names:  # distinct file names, as LibreOffice names each output after its input
        target = copies / f"{name}.xlsx"
        target.write_bytes(books[name].read_bytes())
        inputs.append(target)
    produced = convert_many(inputs, "xlsx", tmp_path_factory.mktemp("lo-out"))
    out = {}
    for name, path in zip(names, produced, strict=True):
        wb = load_workbook(path, data_only=True)
        out[name] = {n: _named(wb, n).value for n in [*NATIVE, "native_covered"]}
    return out


@pytest.mark.parametrize("name", [*VARIANTS, *(p.stem for p in SEEDS), "seed-press-scenario"])
def test_libreoffice_computes_the_native_totals_equal_to_the_engine(
    name: str, books: dict[str, Path], libreoffice: dict[str, dict[str, Any]]
) -> None:
    got = libreoffice[name]
    assert got["native_covered"] == 1
    want = _engine(books[name])
    for native, figure in NATIVE.items():
        assert got[native] == pytest.approx(want[figure], rel=1e-9), (name, native)


def test_the_native_figures_follow_a_changed_input(libreoffice: dict[str, dict[str, Any]]) -> None:
    base, doubled = libreoffice["anthropic_xai_colossus1"], libreoffice["seed-fee-doubled"]
    assert doubled["native_net_tcv_usd"] == pytest.approx(2 * base["native_net_tcv_usd"], rel=1e-12)
    assert doubled["native_npv_usd"] == pytest.approx(2 * base["native_npv_usd"], rel=1e-12)
    # the scenario switch reaches the sheet too: full rate from July is 35 months at $1.25B
    assert libreoffice["seed-press-scenario"]["native_net_tcv_usd"] == pytest.approx(35 * 1.25e9, rel=1e-12)


def test_the_seed_by_hand() -> None:
    """Anthropic - xAI: May and June at half the fee, then 35 months at $1.25B: 2 x 0.625 + 35 x 1.25 = $45.0B;
    firm: the 3-month lock-in ends 1 Aug 2026, plus 90 days' notice = 30 Oct 2026, so May-Sep in full
    (0.625 + 0.625 + 1.25 + 1.25 + 1.25 = 5.0) and 29 of October's 31 days (1.25 x 29/31 = 1.1694): $6.1694B."""
    res = recalculate(ROOT / "workbooks" / "anthropic_xai_colossus1.xlsx")
    wb = load_workbook(ROOT / "workbooks" / "anthropic_xai_colossus1.xlsx")

    def value(name: str) -> Any:
        sheet, ref = wb.defined_names[name].attr_text.split("!")
        return res.get(sheet.strip("'"), ref.replace("$", ""))

    assert value("native_net_tcv_usd") == pytest.approx(45.0e9, rel=1e-15)
    assert value("native_firm_commitment_usd") == pytest.approx((5.0 + 1.25 * 29 / 31) * 1e9, rel=1e-12)


def test_engine_only_features_are_named_and_skipped(tmp_path: Path) -> None:
    raw = {**BASE, "facility_mw": 100, "step_ups": [{"from_month": "2027-03", "monthly_fee_usd": 300e6}]}
    wb, _ = build_deal_workbook(raw)
    wb.save(tmp_path / "steps.xlsx")
    res = recalculate(tmp_path / "steps.xlsx")
    book = load_workbook(tmp_path / "steps.xlsx")

    def value(name: str) -> Any:
        sheet, ref = book.defined_names[name].attr_text.split("!")
        return res.get(sheet.strip("'"), ref.replace("$", ""))

    assert value("native_covered") == 0
    assert value("native_net_tcv_usd") == pytest.approx(60 * 250e6)  # the step-up is not in the native sheet
    assert value("check_native_net_tcv_usd") == 1 and value("master_check") == 1
    assert "Not covered" in res.get("Calc", "B3")


def test_a_broken_native_line_fails_the_master_check(tmp_path: Path) -> None:
    """The comparison can fail: a Calc formula that drops the ramp makes the native net TCV differ."""
    wb = load_workbook(ROOT / "workbooks" / "anthropic_xai_colossus1.xlsx")
    ws = wb["Calc"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 3).value == "ramp_reduction_usd")
    ws.cell(row, 6).value = "=0"  # month 1's ramp reduction forgotten
    wb.save(tmp_path / "broken.xlsx")
    res = recalculate(tmp_path / "broken.xlsx")

    def value(name: str) -> Any:
        sheet, ref = wb.defined_names[name].attr_text.split("!")
        return res.get(sheet.strip("'"), ref.replace("$", ""))

    assert value("check_native_net_tcv_usd") == 0 and value("master_check") == 0
    assert value("native_net_tcv_usd") == pytest.approx(45.625e9)


def test_the_sheet_has_no_typed_numbers_and_one_formula_per_line() -> None:
    """FAST: every month of a line is the same formula, shifted by column (R1C1-identical)."""
    import re

    wb = load_workbook(ROOT / "workbooks" / "google_spacex.xlsx")
    ws = wb["Calc"]
    lines = 0
    for r in range(1, ws.max_row + 1):
        first = ws.cell(r, 6).value
        if not (isinstance(first, str) and first.startswith("=")) or ws.cell(r, 3).value is None:
            continue
        lines += 1
        shape = re.sub(r"\b(?<!\$)F(?=\$?\d)", "{c}", first)
        for col in range(7, 6 + 120):
            letter = ws.cell(r, col).column_letter
            assert ws.cell(r, col).value == shape.replace("{c}", letter), (r, letter)
    assert lines == 19
