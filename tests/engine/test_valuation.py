"""One valuation date, obligations by period and fiscal years (issue 15, items 3 and 4), against hand arithmetic.

The references here are written out month by month with ``datetime.date`` (not the engine's calendar): XNPV is
sum(payment / (1 + r) ** ((date - valuation date).days / 365)).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from addin.workbook.dealfile import load_toml_deal, with_scenario
from engine import build_schedule, build_terms, summarize
from engine.errors import InputError
from engine.obligations import fiscal_year_of, fiscal_year_totals, obligations_by_period, years_later
from engine.portfolio import PortfolioResult, build_portfolio

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "workbooks" / "deals" / "anthropic_xai_colossus1.toml"
ONE = {"deal_name": "v", "facility_mw": 10, "gpu_count": 1000, "discount_rate_pct": 9.0}


def _first_days(start: dt.date, n: int) -> list[dt.date]:
    return [dt.date(start.year + (start.month - 1 + k) // 12, (start.month - 1 + k) % 12 + 1, 1) for k in range(n)]


def _xnpv(rate: float, flows: list[tuple[dt.date, float]], on: dt.date) -> float:
    return sum(v / (1 + rate) ** ((d - on).days / 365) for d, v in flows)


def _record(raw: dict[str, Any]) -> dict[str, Any]:
    return summarize(build_schedule(build_terms(raw))).record(0)


def test_the_july_scenario_is_valued_on_the_base_case_date() -> None:
    src = load_toml_deal(SEED)
    july = with_scenario(src, "Press: full rate from July")
    rec = summarize(build_schedule(july.terms())).record(0)
    assert rec["valuation_date"] == "2026-05-01" and rec["start_month"] == "2026-07"
    # by hand: 35 payments of $1.25B in advance, Jul 2026 to May 2029, at 9% from 1 May 2026
    flows = [(d, 1.25e9) for d in _first_days(dt.date(2026, 7, 1), 35)]
    expected = _xnpv(0.09, flows, dt.date(2026, 5, 1))
    assert rec["npv_usd"] == pytest.approx(expected, rel=1e-12)
    assert round(rec["npv_usd"] / 1e9, 2) == 38.26  # the figure; on its own start date it was $38.81B
    own = _record({**july.raw, "valuation_date": "2026-07-01"})
    assert round(own["npv_usd"] / 1e9, 2) == 38.81


def test_a_scenario_that_sets_its_own_date_keeps_it() -> None:
    src = load_toml_deal(SEED)
    src.scenarios["Own date"] = {"start_month": "2026-07", "valuation_date": "2026-07-15"}
    assert with_scenario(src, "Own date").terms().valuation_date[0] == np.datetime64("2026-07-15")


def test_a_payment_before_the_valuation_date_is_carried_forward() -> None:
    # one payment of 100 on 1 Jan 2026, valued 365 days later: 100 x 1.09
    rec = _record({**ONE, "start_month": "2026-01", "end_month": "2026-01", "monthly_fee_usd": 100.0,
                   "valuation_date": "2027-01-01"})  # fmt: skip
    assert rec["npv_usd"] == pytest.approx(109.0, rel=1e-12)


def test_the_prepayment_is_discounted_from_the_first_day() -> None:
    # 12 x 100 all prepaid on 1 Jan 2026, valued on 1 Jan 2025 (365 days before): 1200 / 1.09
    rec = _record({**ONE, "start_month": "2026-01", "end_month": "2026-12", "monthly_fee_usd": 100.0,
                   "prepayment_pct": 100, "valuation_date": "2025-01-01"})  # fmt: skip
    assert rec["npv_usd"] == pytest.approx(1200 / 1.09, rel=1e-12)


def test_seller_npv_moves_with_the_valuation_date_by_one_discount_factor() -> None:
    from engine.seller import seller_summary

    raw = {**ONE, "start_month": "2026-01", "end_month": "2028-12", "monthly_fee_usd": 5e6}
    at_start = seller_summary(build_schedule(build_terms(raw)))["project_npv_usd"][0]
    year_before = seller_summary(build_schedule(build_terms({**raw, "valuation_date": "2025-01-01"})))["project_npv_usd"][0]
    assert year_before == pytest.approx(at_start / 1.09, rel=1e-10)  # every flow, capex included, moves by 1.09^-1


def test_a_bad_valuation_date_is_named() -> None:
    with pytest.raises(InputError, match="valuation_date must be a date"):
        build_terms({**ONE, "start_month": "2026-01", "end_month": "2026-12", "monthly_fee_usd": 1.0,
                     "valuation_date": "next spring"})  # fmt: skip


def test_years_later_keeps_the_day_or_takes_the_month_end() -> None:
    days = np.array(["2024-02-29", "2026-01-31", "2026-05-01"], "datetime64[D]")
    assert years_later(days, 1).astype(str).tolist() == ["2025-02-28", "2027-01-31", "2027-05-01"]
    assert years_later(days, 0).astype(str).tolist() == days.astype(str).tolist()


def test_obligations_by_period_by_hand() -> None:
    base = {**ONE, "start_month": "2026-01", "end_month": "2031-12", "monthly_fee_usd": 1.0}  # 72 months of 1
    ob = obligations_by_period(build_schedule(build_terms(base)))
    assert {k: float(v[0]) for k, v in ob.items()} == {"within_1_year": 12, "years_1_to_3": 24, "years_3_to_5": 24,
                                                       "after_5_years": 12}  # fmt: skip
    # valued on 1 Jul 2026: Jan-Jun 2026 (6) are before it and in no period; Jul 2031-Dec 2031 (6) after 5 years
    late = obligations_by_period(build_schedule(build_terms({**base, "valuation_date": "2026-07-01"})))
    assert {k: float(v[0]) for k, v in late.items()} == {"within_1_year": 12, "years_1_to_3": 24, "years_3_to_5": 24,
                                                         "after_5_years": 6}  # fmt: skip
    # arrears: paid on each month's last day, 31 Jan 2026 to 31 Dec 2031; 31 Dec 2026 is within the first year
    arrears = obligations_by_period(build_schedule(build_terms({**base, "payment_timing": "arrears"})))
    assert float(arrears["within_1_year"][0]) == 12 and float(arrears["after_5_years"][0]) == 12


def test_prepaid_and_firm_obligations_by_hand() -> None:
    raw = {**ONE, "start_month": "2026-01", "end_month": "2027-12", "monthly_fee_usd": 1.0, "prepayment_pct": 50,
           "lockin_months": 3, "notice_days": 0}  # fmt: skip
    s = summarize(build_schedule(build_terms(raw)))
    rec = s.record(0)
    # half of all 24 fees (12) prepaid on 1 Jan 2026, the other halves monthly: 12 + 6 in year one, 6 in years 1-3
    assert rec["obligations_by_period_usd"] == {"within_1_year": 18.0, "years_1_to_3": 6.0, "years_3_to_5": 0.0,
                                                "after_5_years": 0.0}  # fmt: skip
    # firm: the three locked-in months (3 x 1), all due in the first year
    assert rec["firm_obligations_by_period_usd"]["within_1_year"] == pytest.approx(3.0)
    assert sum(rec["firm_obligations_by_period_usd"].values()) == pytest.approx(rec["firm_commitment_usd"])


@settings(max_examples=60, deadline=None)
@example(months=1, fee=1000.0, prepaid=7.646999539132096e-308, timing="advance", lockin=0, escalator=0.0)  # a 7e-310 flow
@given(
    months=st.integers(1, 120),
    fee=st.floats(1e3, 1e10),
    prepaid=st.floats(0, 100),
    timing=st.sampled_from(["advance", "arrears"]),
    lockin=st.integers(0, 119),
    escalator=st.floats(-10, 20),
)
def test_obligations_add_up_to_net_tcv_and_the_firm_commitment(
    *, months: int, fee: float, prepaid: float, timing: str, lockin: int, escalator: float
) -> None:
    end = np.datetime64("2026-03") + np.timedelta64(months - 1, "M")
    raw = {**ONE, "start_month": "2026-03", "end_month": str(end), "monthly_fee_usd": fee, "prepayment_pct": prepaid,
           "payment_timing": timing, "lockin_months": min(lockin, months), "notice_days": 30,
           "escalator_pct_per_year": escalator}  # fmt: skip
    rec = _record(raw)
    assert sum(rec["obligations_by_period_usd"].values()) == pytest.approx(rec["net_tcv_usd"], rel=1e-12)
    assert sum(rec["firm_obligations_by_period_usd"].values()) == pytest.approx(rec["firm_commitment_usd"], rel=1e-12,
                                                                               abs=1e-6)  # fmt: skip


def test_fiscal_years() -> None:
    months = np.array(["2026-01", "2026-03", "2026-04", "2026-12"], "datetime64[M]")
    assert fiscal_year_of(months, 3).tolist() == [2026, 2026, 2027, 2027]
    assert fiscal_year_of(months, 12).tolist() == [2026, 2026, 2026, 2026]
    raw = {**ONE, "start_month": "2026-01", "end_month": "2027-12", "monthly_fee_usd": 1.0, "fiscal_year_end_month": 6}
    totals = fiscal_year_totals(build_schedule(build_terms(raw)), ("net_fee_usd",))
    # Jan-Jun 2026 -> FY2026 (6), Jul 2026-Jun 2027 -> FY2027 (12), Jul-Dec 2027 -> FY2028 (6)
    assert {y: v["net_fee_usd"] for y, v in totals.items()} == {2026: 6.0, 2027: 12.0, 2028: 6.0}


def test_the_portfolio_npv_is_each_contract_on_the_portfolio_date() -> None:
    a = {**ONE, "deal_name": "a", "vendor": "A", "start_month": "2026-01", "end_month": "2026-12", "monthly_fee_usd": 10.0}
    b = {**ONE, "deal_name": "b", "vendor": "B", "start_month": "2027-01", "end_month": "2027-06", "monthly_fee_usd": 7.0,
         "discount_rate_pct": 12.0}  # fmt: skip
    p = build_portfolio({"portfolio_name": "p", "start_month": "2026-01", "revenue_usd_per_year": 1e9,
                         "gpu_hours_per_usd": 1.0, "valuation_date": "2025-07-01"},
                        [build_terms(a), build_terms(b)])  # fmt: skip
    on = dt.date(2025, 7, 1)
    expected = _xnpv(0.09, [(d, 10.0) for d in _first_days(dt.date(2026, 1, 1), 12)], on) + _xnpv(
        0.12, [(d, 7.0) for d in _first_days(dt.date(2027, 1, 1), 6)], on
    )
    assert PortfolioResult(p).npv_usd() == pytest.approx(expected, rel=1e-12)
    blank = build_portfolio({"portfolio_name": "p", "start_month": "2026-01", "revenue_usd_per_year": 1e9,
                             "gpu_hours_per_usd": 1.0}, [build_terms(a)])  # fmt: skip
    assert str(blank.valuation_day) == "2026-01-01"


def test_market_npv_and_npv_over_market_by_hand() -> None:
    # Jan-Mar 2026, 1,000 GPUs, January a ramp month at half capacity and half fee, paid in arrears (31 Jan, 28 Feb,
    # 31 Mar: 30, 58 and 89 days from 1 Jan), 80% used, market $2.00, 9%
    rec = _record({**ONE, "start_month": "2026-01", "end_month": "2026-03", "monthly_fee_usd": 1e6, "ramp_months": 1,
                   "ramp_fee_fraction": 0.5, "ramp_capacity_fraction": 0.5, "payment_timing": "arrears",
                   "utilization_pct": 80, "expected_uptime_pct": 100, "market_usd_per_gpu_hour": 2.0})  # fmt: skip
    used = [1000 * 744 * 0.5 * 0.8, 1000 * 672 * 0.8, 1000 * 744 * 0.8]  # 297,600, 537,600, 595,200 GPU-hours
    days = [30, 58, 89]
    market = sum(u * 2.0 / 1.09 ** (d / 365) for u, d in zip(used, days, strict=True))
    fees = sum(f / 1.09 ** (d / 365) for f, d in zip((0.5e6, 1e6, 1e6), days, strict=True))
    assert rec["market_npv_usd"] == pytest.approx(market, rel=1e-12)
    assert rec["npv_usd"] == pytest.approx(fees, rel=1e-12)
    assert rec["npv_over_market_usd"] == pytest.approx(fees - market, rel=1e-12)
