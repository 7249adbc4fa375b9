"""Seller economics and build vs buy against hand arithmetic and numpy-financial."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import numpy_financial as npf
import pytest

from addin.workbook.load import load_deal
from engine import build_schedule, build_terms
from engine.seller import SellerModel, seller_summary

ROOT = Path(__file__).resolve().parents[2]
SMALL: dict[str, Any] = {
    "deal_name": "seller", "start_month": "2026-01", "end_month": "2030-12", "monthly_fee_usd": 3e6,
    "facility_mw": 2, "gpu_count": 1000, "seller_capex_usd_per_gpu": 50_000, "seller_dc_capex_usd_per_mw": 10e6,
    "seller_power_usd_per_kwh": 0.07, "seller_other_opex_usd_per_gpu_hour": 0.1, "seller_debt_pct": 60,
    "seller_interest_rate_pct": 9, "seller_loan_tenor_months": 48, "seller_tax_rate_pct": 21,
    "seller_residual_value_pct": 20, "discount_rate_pct": 10,
}  # fmt: skip


def model(**changes: Any) -> SellerModel:
    return SellerModel(build_schedule(build_terms({**SMALL, **changes})))


def test_straight_line_depreciation_by_hand() -> None:
    m = model()
    # GPUs: 1,000 x $50,000 = $50M over 5 years = 60 months: $833,333.33 a month
    # data centre: 2 MW / PUE 1.2 = 1.667 MW of IT load x $10M = $16.67M over 20 years = 240 months: $69,444.44 a month
    np.testing.assert_allclose(m.gpu_depreciation[0], np.full(60, 50e6 / 60))
    np.testing.assert_allclose(m.depreciation[0], np.full(60, 50e6 / 60 + 2 / 1.2 * 10e6 / 240))


def test_declining_balance_depreciation_by_hand() -> None:
    m = model(seller_depreciation_method="declining")
    # double-declining: monthly rate 2 / 60; month k charges 50M x (2/60) x (1 - 2/60)^k
    expected = 50e6 * (2 / 60) * (1 - 2 / 60) ** np.arange(60)
    np.testing.assert_allclose(m.gpu_depreciation[0], expected, rtol=1e-13)
    assert m.gpu_depreciation[0].sum() == pytest.approx(50e6 * (1 - (1 - 2 / 60) ** 60), rel=1e-12)


def test_loan_schedule_matches_numpy_financial() -> None:
    m = model()
    debt = 0.6 * (50e6 + 2 / 1.2 * 10e6)  # 60% of $66.67M capex = $40M
    assert m.debt[0] == pytest.approx(debt)
    rate, n = 0.09 / 12, 48
    payment = -npf.pmt(rate, n, debt)
    periods = np.arange(1, n + 1)
    np.testing.assert_allclose(m.interest[0][:n], -npf.ipmt(rate, periods, n, debt), rtol=1e-12)
    np.testing.assert_allclose(m.principal[0][:n], -npf.ppmt(rate, periods, n, debt), rtol=1e-12)
    np.testing.assert_allclose(m.interest[0][:n] + m.principal[0][:n], payment, rtol=1e-12)
    assert m.interest[0][0] == pytest.approx(debt * rate)  # first month: balance x monthly rate
    assert m.principal[0].sum() == pytest.approx(debt) and m.balance_at_end[0] == pytest.approx(0, abs=1e-4)
    assert (m.interest[0][n:] == 0).all()


def _xirr_by_bisection(flows: np.ndarray, dates: list[dt.date]) -> float:
    """A reference XIRR: 200 bisection steps on XNPV with the day counts from ``datetime.date``."""
    days = np.array([(d - dates[0]).days for d in dates], float) / 365.0

    def npv(r: float) -> float:
        return float(np.sum(flows * (1 + r) ** -days))

    lo, hi = -0.99, 100.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if npv(mid) > 0 else (lo, mid)
    return (lo + hi) / 2 * 100.0


def test_irr_is_xirr_on_the_payment_dates() -> None:
    # advance payments: the first month's flow falls on 1 Jan 2026, the day the capex is paid (a monthly IRR would
    # put it a month later and overstate nothing but the timing); each later flow on the first day of its month
    s = seller_summary(build_schedule(build_terms(SMALL)))
    dates = [dt.date(2026, 1, 1)] + [dt.date(2026 + k // 12, k % 12 + 1, 1) for k in range(60)]
    flows = np.concatenate([[-s.model.capex[0]], s.case.project_fcf_usd[0]])
    assert s["project_irr_pct"][0] == pytest.approx(_xirr_by_bisection(flows, dates), rel=1e-9)
    equity = np.concatenate([[-(s.model.capex[0] - s.model.debt[0])], s.case.equity_fcf_usd[0]])
    assert s["equity_irr_pct"][0] == pytest.approx(_xirr_by_bisection(equity, dates), rel=1e-9)
    monthly = ((1 + npf.irr(flows)) ** 12 - 1) * 100
    assert s["project_irr_pct"][0] > monthly  # the same flows, each dated a month earlier than the monthly convention


def test_cash_costs_by_hand() -> None:
    s = seller_summary(build_schedule(build_terms(SMALL)))
    # power: min(1,000 x 1.5 kW (H100 typical all-in), 2,000 kW) = 1,500 kW x hours x $0.07; hours Jan 2026 -
    # Dec 2030 = 1,826 days x 24
    hours = 1826 * 24
    assert s["power_usd"][0] == pytest.approx(1000 * 1.5 * hours * 0.07, rel=1e-12)
    assert s["other_opex_usd"][0] == pytest.approx(1000 * hours * 0.1, rel=1e-12)
    assert s["ebitda_usd"][0] == pytest.approx(60 * 3e6 - s["power_usd"][0] - s["other_opex_usd"][0], rel=1e-12)
    # residual: 20% of $50M GPU capex + the data centre's book value ($20M - 60 months x $83,333.33)
    assert s["residual_usd"][0] == pytest.approx(0.2 * 50e6 + 2 / 1.2 * 10e6 * (1 - 60 / 240), rel=1e-12)


def test_breakeven_price_plugged_back_gives_zero_npv() -> None:
    sch = build_schedule(build_terms(SMALL))
    s = seller_summary(sch)
    price = float(s["breakeven_usd_per_gpu_hour"][0])
    m = s.model
    npv = m.project_npv(m.case(sch.delivered_gpu_hours * price))
    assert abs(npv[0]) < 1e-6 * m.capex[0]
    assert (
        m.project_npv(m.case(sch.delivered_gpu_hours * price * 1.01))[0]
        > 0
        > m.project_npv(m.case(sch.delivered_gpu_hours * price * 0.99))[0]
    )


def test_batch_row_equals_single_run() -> None:
    fees = np.array([2e6, 3e6, 5e6])
    batch = seller_summary(build_schedule(build_terms(SMALL, monthly_fee_usd=fees)))
    for i, fee in enumerate(fees):
        single = seller_summary(build_schedule(build_terms({**SMALL, "monthly_fee_usd": fee})))
        for name, value in single.values.items():
            np.testing.assert_allclose(batch[name][i], value[0], rtol=1e-9, err_msg=name)


def test_seed_figures_anthropic() -> None:
    src = load_deal(ROOT / "workbooks" / "deals" / "anthropic_xai_colossus1.toml")
    sch = build_schedule(src.terms())
    rec = seller_summary(sch).record(0)
    # deal-facts 4A: electricity is about 1.2% of the fee. Power drawn is capped by the 300 MW facility:
    # the fleet needs 200,000 Hopper x 1.5 kW + 20,000 GB200 x 1.909 kW = 300 + 38.18 = 338.18 MW; ramp months
    # draw half of it, 169.09 MW; then 300 MW for the rest of the term.
    ramp_hours = (31 + 30) * 24
    full_hours = 1127 * 24 - ramp_hours
    power = (338.18 / 2 * 1000 * ramp_hours + 300_000 * full_hours) * 0.068
    assert rec["power_usd"] == pytest.approx(power, rel=1e-9)
    assert rec["power_share_of_fee_pct"] == pytest.approx(power / 45e9 * 100, rel=1e-9)
    assert 1.1 < rec["power_share_of_fee_pct"] < 1.3
    # capex: GPUs (150k x $50k + 50k x $55k + 20k x $41,667) + 300 MW / PUE 1.2 = 250 MW of IT load x $11.7M
    # = $11.08B + $2.925B = $14.01B (the cost guide quotes per MW of critical load, not of facility power)
    assert rec["capex_usd"] == pytest.approx(150_000 * 50_000 + 50_000 * 55_000 + 20_000 * 41_667 + 250 * 11.7e6)
    # recovered in about 15 months: capex / (fee less costs and 21% tax) = 14.01 / (1.22 x 0.79) = 14.5 months, plus
    # the two half-fee ramp months less what they earn
    assert rec["payback_month"] == 15
    # the buyer: building costs less than this contract once it runs beyond about 14 months
    assert rec["build_crossover_month"] == 14 and rec["build_saving_npv_usd"] > 0


def test_cli_udf_and_report_agree_with_the_engine(tmp_path: Path) -> None:
    import json

    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from addin.cli import app
    from addin.excel import udfs

    deal = ROOT / "workbooks" / "deals" / "google_spacex.toml"
    rec = seller_summary(build_schedule(load_deal(deal).terms())).record(0)
    runner = CliRunner()
    res = runner.invoke(app, ["summary", str(deal), "--side", "seller", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout) == rec
    assert runner.invoke(app, ["summary", str(deal), "--side", "vendor"]).exit_code == 2
    raw = load_deal(deal).raw
    block = [[k, v] for k, v in raw.items() if k != "sources"]
    assert udfs.cdm_seller(block, "project_irr_pct") == rec["project_irr_pct"]
    assert udfs.cdm_seller(block, "irr").startswith("CDM error: unknown seller figure 'irr'")
    out = tmp_path / "r.xlsx"
    assert runner.invoke(app, ["report", str(deal), "-o", str(out)]).exit_code == 0
    wb = load_workbook(out)
    for name in ("seller_project_irr_pct", "seller_payback_month", "seller_breakeven_usd_per_gpu_hour", "build_saving_npv_usd"):
        sheet, ref = wb.defined_names[name].attr_text.split("!")
        key = name.removeprefix("seller_")
        assert wb[sheet.strip("'")][ref.replace("$", "")].value == pytest.approx(rec[key], rel=1e-12), name
    assert len(wb["Seller"]._charts) == 1


def test_data_centre_capex_is_on_it_load() -> None:
    # an owned 130 MW site at PUE 1.3: 100 MW of IT load x $11.7M = $1.17B, whatever the GPUs
    m = model(facility_mw=130, pue=1.3, seller_dc_capex_usd_per_mw=11.7e6, seller_facility="owned")
    assert m.dc_capex[0] == pytest.approx(100 * 11.7e6, rel=1e-12)
    assert model(facility_mw=130, pue=1.3, seller_facility="colocation").dc_capex[0] == 0.0


def test_npv_at_the_project_irr_is_zero() -> None:
    # the IRR is solved on the dated flows the NPV discounts (XIRR): at that rate the project NPV is zero
    for changes in ({}, {"payment_timing": "arrears", "prepayment_pct": 15}, {"seller_depreciation_method": "declining"}):
        raw = {**SMALL, **changes}
        rec = seller_summary(build_schedule(build_terms(raw))).record(0)
        assert rec["project_irr_pct"] is not None and rec["project_irr_pct"] < 100, changes
        at_irr = seller_summary(build_schedule(build_terms({**raw, "discount_rate_pct": rec["project_irr_pct"]}))).record(0)
        assert abs(at_irr["project_npv_usd"]) <= 1e-6 * rec["capex_usd"], changes


def test_seed_project_irr_by_xnpv() -> None:
    # the seed's IRR (over 100%, beyond the discount-rate input's range) checked by Excel's XNPV on the same dated flows
    from engine.finance import xnpv

    sch = build_schedule(load_deal(ROOT / "workbooks" / "deals" / "anthropic_xai_colossus1.toml").terms())
    summary = seller_summary(sch)
    rec = summary.record(0)
    keep = sch.active[0]
    days = (sch.payment_date[0][keep] - np.datetime64("2026-05-01")).astype(int)
    flows = np.concatenate([[-rec["capex_usd"]], summary.case.project_fcf_usd[0][keep]])
    npv = xnpv(rec["project_irr_pct"] / 100.0, flows, np.concatenate([[0], days]))
    assert abs(float(npv)) <= 1e-6 * rec["capex_usd"]
