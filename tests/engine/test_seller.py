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
    # maintenance: 5% a year of the $50M GPU capex for 5 years = $12.5M
    assert s["maintenance_usd"][0] == pytest.approx(0.05 * 50e6 * 5, rel=1e-12)
    # staff: $1,000 per GPU-year = $1,000 / 8,760 per delivered GPU-hour x 1,000 GPUs x 43,824 hours = $5,002,740
    assert s["staff_usd"][0] == pytest.approx(1000 * 43_824 * 1000 / 8760, rel=1e-12)
    # insurance: 0.5% a year of capex at cost ($50M + 2 MW / 1.2 x $10M = $66.67M) for 5 years = $1,666,667
    assert s["insurance_usd"][0] == pytest.approx(0.005 * (50e6 + 2 / 1.2 * 10e6) * 5, rel=1e-12)
    costs = s["power_usd"][0] + s["other_opex_usd"][0] + 12.5e6 + 1000 * 43_824 * 1000 / 8760 + 0.005 * (200e6 / 3) * 5
    assert s["cash_costs_usd"][0] == pytest.approx(costs, rel=1e-12)
    assert s["ebitda_usd"][0] == pytest.approx(60 * 3e6 - costs, rel=1e-12)
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
    # capex at cost: GPUs (150k x $50k + 50k x $55k + 20k x ($41,667 rack + $6,612 network)) + 300 MW / PUE 1.2 =
    # 250 MW of IT load x $11.7M = $11.22B + $2.925B = $14.14B (the cost guide quotes per MW of critical load)
    gpu_capex = 150_000 * 50_000 + 50_000 * 55_000 + 20_000 * (41_667 + 6_612)
    assert rec["capex_usd"] == pytest.approx(gpu_capex + 250 * 11.7e6)
    # bought in January 2025, 16 months before May 2026: at book value, GPUs 1 - 16/60 and the site 1 - 16/240
    assert rec["asset_age_months"] == 16
    book = gpu_capex * (1 - 16 / 60) + 250 * 11.7e6 * (1 - 16 / 240)
    assert rec["book_value_at_start_usd"] == pytest.approx(book)  # $8.23B + $2.73B = $10.95B
    # recovered in about 13 months: book value / (fee less costs and 21% tax) = 10.95 / (1.15 x 0.79) = 12.1
    # months, plus the two half-fee ramp months less what they earn
    assert rec["payback_month"] == 13
    # the margin: cash costs are 8.3% of the fee, far below a neocloud's 35-45%: the check says so
    assert rec["ebitda_margin_pct"] == pytest.approx(91.72, abs=0.01)
    assert rec["ebitda_margin_check"].startswith("above the neocloud range (55-65%")
    # the buyer: building from new (12 months renting at market meanwhile) costs less than this contract once it
    # runs beyond 19 months
    assert rec["build_crossover_month"] == 19 and rec["build_saving_npv_usd"] > 0


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
    flows = np.concatenate([[-rec["book_value_at_start_usd"]], summary.case.project_fcf_usd[0][keep]])
    npv = xnpv(rec["project_irr_pct"] / 100.0, flows, np.concatenate([[0], days]))
    assert abs(float(npv)) <= 1e-6 * rec["capex_usd"]


def test_assets_bought_before_the_term_are_sunk_at_book_value() -> None:
    # bought January 2024, 24 months before the term: straight-line book value on 1 Jan 2026 is
    # GPUs $50M x (1 - 24/60) = $30M plus the site $16.67M x (1 - 24/240) = $15M: the project puts in $45M
    m = model(seller_asset_vintage="2024-01")
    assert m.capex[0] == pytest.approx(30e6 + 15e6, rel=1e-12) and m.new_capex[0] == pytest.approx(50e6 + 50e6 / 3)
    # the GPUs have 36 months of depreciation left, at $50M / 60 a month; the site all 60 of the term
    np.testing.assert_allclose(m.gpu_depreciation[0], np.where(np.arange(60) < 36, 50e6 / 60, 0.0))
    # the site's book value at the end: $16.67M x (1 - 84/240) is in the residual
    assert m.residual[0] == pytest.approx(0.2 * 50e6 + 50e6 / 3 * (1 - 84 / 240), rel=1e-12)
    # declining balance: book value 50M x (1 - 2/60)^24
    d = model(seller_asset_vintage="2024-01", seller_depreciation_method="declining")
    assert d.capex[0] == pytest.approx(50e6 * (1 - 2 / 60) ** 24 + 15e6, rel=1e-12)
    assert d.gpu_depreciation[0][0] == pytest.approx(50e6 * (1 - 2 / 60) ** 24 * 2 / 60, rel=1e-12)
    # the NPV at the IRR is still zero with the book value as the outlay
    raw = {**SMALL, "seller_asset_vintage": "2024-01"}
    rec = seller_summary(build_schedule(build_terms(raw))).record(0)
    at_irr = seller_summary(build_schedule(build_terms({**raw, "discount_rate_pct": rec["project_irr_pct"]}))).record(0)
    assert abs(at_irr["project_npv_usd"]) <= 1e-6 * rec["book_value_at_start_usd"]
    # blank: bought for the deal
    assert model().capex[0] == model().new_capex[0] and model().age_months[0] == 0


def test_vintage_after_the_start_is_refused() -> None:
    from engine.errors import InputError

    with pytest.raises(InputError) as e:
        build_terms({**SMALL, "seller_asset_vintage": "2026-03"})
    issue = e.value.issues[0]
    assert issue.field == "seller_asset_vintage" and issue.rule == "order"
    assert "2026-03 is after start_month 2026-01" in issue.message


def test_every_sku_capex_includes_networking() -> None:
    from engine.catalogue import NETWORK_USD_PER_GPU, capex_basis, capex_per_gpu

    # E. Cheah's three-tier fabric: (2,560 switches $92,160,000 + cables $124,518,400) / 32,768 GPUs = $6,612.4
    assert NETWORK_USD_PER_GPU == pytest.approx((92_160_000 + 124_518_400) / 32_768, abs=0.5)
    basis = capex_basis()
    # a rack-only quote (GB200, GB300) gets the network added; an all-in quote (H100) already has it
    assert basis["GB200"].all_in_usd == 41_667 + 6_612 and basis["H100-SXM"].all_in_usd == 50_000
    for sku, b in basis.items():
        assert b.network_source, sku
        assert b.network_added_usd in (0.0, NETWORK_USD_PER_GPU), sku
        assert capex_per_gpu()[sku][0] == b.all_in_usd
    assert build_terms({**SMALL, "seller_capex_usd_per_gpu": None, "gpu_sku": "GB200"}).seller_capex_usd_per_gpu[0] == 48_279


def test_cost_stack_by_hand() -> None:
    s = seller_summary(build_schedule(build_terms(SMALL))).record(0)
    hours = 1000 * 43_824  # delivered GPU-hours over the term
    share = 6_612 / 50_000  # the network's share of an H100's all-in capex
    assert s["stack_gpu_capex_usd_per_gpu_hour"] == pytest.approx(50e6 * (1 - share) / hours, rel=1e-12)
    assert s["stack_network_usd_per_gpu_hour"] == pytest.approx(50e6 * share / hours, rel=1e-12)
    assert s["stack_data_centre_usd_per_gpu_hour"] == pytest.approx(50e6 / 3 / 240 * 60 / hours, rel=1e-12)
    assert s["stack_power_usd_per_gpu_hour"] == pytest.approx(1.5 * 0.07, rel=1e-12)  # 1.5 kW x $0.07
    assert s["stack_staff_maintenance_usd_per_gpu_hour"] == pytest.approx((1000 / 8760 * hours + 12.5e6) / hours)
    assert s["stack_insurance_other_usd_per_gpu_hour"] == pytest.approx(0.1 + 0.005 * 200e6 / 3 * 5 / hours)
    assert s["stack_financing_usd_per_gpu_hour"] == pytest.approx(s["interest_usd"] / hours, rel=1e-12)
    parts = [v for k, v in s.items() if k.startswith("stack_") and k != "stack_total_usd_per_gpu_hour"]
    assert len(parts) == 7 and s["stack_total_usd_per_gpu_hour"] == pytest.approx(sum(parts), rel=1e-12)


def test_margin_check_against_the_neocloud_range() -> None:
    from engine.seller import margin_check

    assert margin_check(60.0).startswith("within") and margin_check(65.0).startswith("within")
    assert margin_check(97.5).startswith("above") and margin_check(40.0).startswith("below")
    # cash costs of $28.2M over 5 years: at $1.2M a month the margin is 1 - 28.2 / 72 = 61%, inside the range
    low = seller_summary(build_schedule(build_terms({**SMALL, "monthly_fee_usd": 1.2e6}))).record(0)
    assert low["ebitda_margin_check"].startswith("within"), low["ebitda_margin_pct"]


def test_build_lead_rents_at_market_while_building() -> None:
    # 12 months to build: the buyer rents those months' delivered GPU-hours at the market price instead of running
    # its own site; the build's capex is still paid on day one
    sch = build_schedule(build_terms({**SMALL, "market_usd_per_gpu_hour": 2.0}))
    none = seller_summary(build_schedule(build_terms({**SMALL, "market_usd_per_gpu_hour": 2.0, "seller_build_lead_months": 0})))
    lead = seller_summary(sch)
    m = lead.model
    first = slice(0, 12)
    rent = (sch.delivered_gpu_hours[0][first] * 2.0 * m.discount[0][first]).sum()
    saved = (m.cash_costs[0][first] * m.discount[0][first]).sum()
    assert lead["build_npv_cost_usd"][0] == pytest.approx(none["build_npv_cost_usd"][0] + rent - saved, rel=1e-12)
    assert lead["build_crossover_month"][0] > none["build_crossover_month"][0]


def test_each_figure_alone_is_what_the_record_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    """Figures are computed on first read, by group: every figure has a group, one read alone equals the record's,
    and asking the project IRR computes that IRR and nothing of the exit case or build-vs-buy."""
    from engine import seller

    sch = build_schedule(build_terms({**SMALL, "monthly_fee_usd": np.array([2e6, 5e6])}))
    record = [seller_summary(sch).record(i) for i in range(2)]
    names = [name for name, _, _ in seller.SELLER_FIGURES]
    assert list(seller_summary(sch).values) == names == [k for k in record[0] if k not in ("deal_name", "ebitda_margin_check")]
    for name in [*names, "ebitda_margin_check"]:
        for i in range(2):
            assert seller_summary(sch).figure(name, i) == record[i][name], name
    irrs: list[int] = []
    real_irr = seller.SellerSummary._irr
    monkeypatch.setattr(seller.SellerSummary, "_irr", lambda self, *a: irrs.append(1) or real_irr(self, *a))
    lazy = seller_summary(sch)
    assert lazy.figure("project_irr_pct") == record[0]["project_irr_pct"] and len(irrs) == 1
    assert lazy.figure("project_irr_pct") == record[0]["project_irr_pct"] and len(irrs) == 1  # computed once
    assert set(lazy.values.done) == {"project_irr_pct"}


def test_breakeven_solved_exactly_matches_a_bisection_on_the_cases() -> None:
    """300 random deals (fee, tax rate, power price, capex, residual, discount rate, opex) in one call: the exact
    piecewise-linear solve against 200 bisection steps on the model's own monthly arithmetic (case() and
    project_npv(), not the solver's sums), to 1e-12 of the price; a deal with no break-even is NaN in both."""
    rng = np.random.default_rng(11)
    n = 300
    base = {**SMALL, "end_month": "2030-12"}
    terms = build_terms(
        base,
        monthly_fee_usd=rng.uniform(1e5, 5e7, n),
        seller_tax_rate_pct=rng.choice([0.0, 21.0, 60.0], n),
        seller_power_usd_per_kwh=rng.uniform(0.01, 0.5, n),
        seller_capex_usd_per_gpu=rng.uniform(1e3, 6e4, n),
        seller_residual_value_pct=rng.uniform(0.0, 100.0, n),
        discount_rate_pct=rng.uniform(-10.0, 15.0, n),  # below zero the resale alone can repay the capex
        seller_staff_usd_per_gpu_year=rng.choice([0.0, 3000.0], n),
        seller_other_opex_usd_per_gpu_hour=rng.choice([0.0, 0.05], n),
        seller_maintenance_pct_per_year=rng.choice([0.0, 3.0], n),
    )
    sch = build_schedule(terms)
    s = seller_summary(sch)
    m = s.model
    got = s["breakeven_usd_per_gpu_hour"]

    def npv(price: np.ndarray) -> np.ndarray:
        return m.project_npv(m.case(sch.delivered_gpu_hours * price[:, None]))

    lo, hi = np.zeros(n), np.full(n, 1000.0)
    none = (npv(lo) > 0) | (npv(hi) <= 0)
    for _ in range(200):
        mid = (lo + hi) / 2.0
        up = npv(mid) > 0
        lo, hi = np.where(up, lo, mid), np.where(up, mid, hi)
    assert none.any() and (~none).sum() > 100  # both kinds drawn
    assert np.array_equal(np.isnan(got), none)
    np.testing.assert_allclose(got[~none], hi[~none], rtol=1e-12, atol=0)
