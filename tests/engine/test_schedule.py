"""The schedule and key figures against independent references.

References: hand calculations (arithmetic in the comments), numpy-financial,
LibreOffice's native XNPV (recorded values, and recomputed live when
LibreOffice is installed), and the plain-Python month loop in bench/pyloop.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import numpy_financial as npf
import pytest

from addin.workbook.load import load_deal
from bench.pyloop import LoopDeal, loop_schedule
from engine import build_schedule, build_terms, evaluate
from engine.finance import monthly_irr_annualised, xnpv

DEALS = Path(__file__).resolve().parents[2] / "workbooks" / "deals"

ANTHROPIC_LIKE = {
    "deal_name": "hand",
    "start_month": "2026-05",
    "end_month": "2029-05",
    "monthly_fee_usd": 1.25e9,
    "ramp_months": 2,
    "ramp_fee_fraction": 0.5,
    "ramp_capacity_fraction": 0.5,
    "facility_mw": 300,
    "gpu_count": 220_000,
    "notice_days": 90,
    "lockin_months": 3,
}


def test_hand_calculation_anthropic_like() -> None:
    s = evaluate(ANTHROPIC_LIKE)
    r = s.record(0)
    # months: May 2026 .. May 2029 inclusive = 3 x 12 + 1 = 37
    assert r["months_billed"] == 37
    # headline = 1.25e9 x 37 = 46.25e9; net = 46.25e9 - 2 months x 0.5 x 1.25e9 = 45.0e9
    assert r["headline_tcv_usd"] == pytest.approx(46.25e9, rel=1e-15)
    assert r["net_tcv_usd"] == pytest.approx(45.0e9, rel=1e-15)
    # days: 2026-05-01 .. 2029-06-01 = 3 x 365 + 1 (29 Feb 2028) + 31 = 1127; hours = 27,048
    # delivered = 220,000 x (27,048 - 0.5 x (31 + 30) x 24) = 220,000 x 26,316 = 5,789,520,000
    assert r["delivered_gpu_hours"] == pytest.approx(5_789_520_000, rel=1e-15)
    assert r["usd_per_gpu_hour"] == pytest.approx(45e9 / 5_789_520_000, rel=1e-15)
    # exit = 2026-08-01 + 90 days = 2026-10-30; firm = 0.625 x 2 + 1.25 x 3 + 1.25 x 29/31 (Oct 1..29)
    assert r["exit_date"] == "2026-10-30"
    assert r["firm_commitment_usd"] == pytest.approx((0.625 * 2 + 1.25 * 3 + 1.25 * 29 / 31) * 1e9, rel=1e-14)
    # $/kW-month = 1.25e9 / 300,000 kW = 4,166.67 (deal-facts 4A)
    assert r["usd_per_kw_month"] == pytest.approx(1.25e9 / 300_000, rel=1e-15)
    # premium = 7.7727 / 2.65 - 1; break-even utilisation = 7.7727 / 2.65
    assert r["breakeven_utilization_pct"] == pytest.approx(45e9 / 5_789_520_000 / 2.65 * 100, rel=1e-13)
    # annual run rate: 1.25e9 x 12 = 15e9, the press's "$15 billion annually"
    assert r["annual_run_rate_usd"] == 15e9


def test_hand_npv_three_months() -> None:
    t = build_terms(
        {
            "deal_name": "n",
            "start_month": "2026-01",
            "end_month": "2026-03",
            "monthly_fee_usd": 100.0,
            "facility_mw": 1,
            "discount_rate_pct": 10,
        }
    )
    npv = float(evaluate(t.raw)["npv_usd"][0])
    # advance: 1 Jan (t=0), 1 Feb (31/365), 1 Mar (59/365)
    assert npv == pytest.approx(100 + 100 * 1.1 ** (-31 / 365) + 100 * 1.1 ** (-59 / 365), rel=1e-15)
    arrears = float(evaluate({**t.raw, "payment_timing": "arrears"})["npv_usd"][0])
    # arrears: 31 Jan (30/365), 28 Feb (58/365), 31 Mar (89/365)
    assert arrears == pytest.approx(sum(100 * 1.1 ** (-d / 365) for d in (30, 58, 89)), rel=1e-15)


# XNPV computed by LibreOffice 7.4 (Debian bookworm) from the same dated cash flows: an openpyxl
# sheet with dates in A, payments in B (the prepayment on the first day, then each month's payment
# on its payment date) and =XNPV(rate, B, A), converted headless to CSV. Recomputed live below.
LIBREOFFICE_XNPV = {
    "anthropic_xai_colossus1": 39504081883.5576,
    "google_spacex": 27125050160.0947,
    "iren_microsoft": 8265170145.74632,
}


@pytest.mark.parametrize("deal", sorted(LIBREOFFICE_XNPV))
def test_npv_matches_libreoffice_recorded(deal: str) -> None:
    npv = float(evaluate(load_deal(DEALS / f"{deal}.toml").raw)["npv_usd"][0])
    assert npv == pytest.approx(LIBREOFFICE_XNPV[deal], rel=1e-12)


def _dated_flows(deal: str) -> tuple[list[dt.date], list[float], float, float]:
    s = evaluate(load_deal(DEALS / f"{deal}.toml").raw)
    sch = s.schedule
    r = sch.row(0)
    day0 = dt.date.fromisoformat(str(r["month"][0].astype("datetime64[D]")))
    dates = [day0] + [dt.date.fromisoformat(str(d)) for d in r["payment_date"]]
    prepay = float(sch.terms.prepayment_pct[0]) / 100
    flows = [float(sch.prepayment_usd[0, 0])] + [float(x) * (1 - prepay) for x in r["net_fee_usd"]]
    return dates, flows, float(sch.terms.discount_rate_pct[0]) / 100, float(s["npv_usd"][0])


@pytest.mark.libreoffice
def test_npv_matches_libreoffice_live(tmp_path: Path) -> None:
    from openpyxl import Workbook

    from addin.report.libreoffice import computed_first_sheet, find_soffice

    if find_soffice() is None:
        pytest.skip("LibreOffice not installed; .ci/run installs it so CI runs this test")
    wb = Workbook()
    ws = wb.active
    rows: dict[str, tuple[int, float]] = {}
    row = 1
    for deal in sorted(LIBREOFFICE_XNPV):
        dates, flows, rate, ours = _dated_flows(deal)
        first = row
        for d, f in zip(dates, flows):
            ws.cell(row, 1, d)
            ws.cell(row, 2, f)
            row += 1
        ws.cell(row, 3, f"=XNPV({rate},B{first}:B{row - 1},A{first}:A{row - 1})")
        rows[deal] = (row, ours)
        row += 1
    wb.save(tmp_path / "xnpv.xlsx")
    cells = computed_first_sheet(tmp_path / "xnpv.xlsx")
    for deal, (r, ours) in rows.items():
        assert float(cells[r - 1][2]) == pytest.approx(ours, rel=1e-12), deal


def test_xnpv_equals_numpy_financial_npv_on_yearly_dates() -> None:
    # With payments exactly 365 days apart, XNPV's (d - d0)/365 exponents are 0, 1, 2, ...: the
    # same discounting as numpy_financial.npv, which puts its first value at t = 0.
    flows = np.array([[-1000.0, 300, 400, 500, 200], [50.0, 60, 70, 80, 90]])
    rates = np.array([0.09, 0.15])
    days = np.arange(5) * 365
    ours = xnpv(rates, flows, days)
    ref = [npf.npv(r, f) for r, f in zip(rates, flows)]
    np.testing.assert_allclose(ours, ref, rtol=1e-14)


def test_irr_is_numpy_financial_annualised() -> None:
    flows = np.array([-1000.0] + [95.0] * 12)
    r = npf.irr(flows)
    assert monthly_irr_annualised(flows) == pytest.approx(((1 + r) ** 12 - 1) * 100, rel=1e-12)
    assert monthly_irr_annualised(np.array([-1.0, -2.0])) is None


def test_irr_vs_market_exists_with_a_prepayment_below_market() -> None:
    # 20% prepaid at a price below market: an up-front outflow, then monthly savings -> one sign change.
    raw = {
        "deal_name": "p",
        "start_month": "2026-01",
        "end_month": "2027-12",
        "monthly_fee_usd": 1e6,
        "facility_mw": 1,
        "gpu_count": 1000,
        "prepayment_pct": 20,
        "market_usd_per_gpu_hour": 2.0,
    }
    s = evaluate(raw)
    rec = s.record(0)
    sch = s.schedule
    # dated as the NPV dates them: the prepayment (20% of 24 x $1M = $4.8M) on 1 Jan 2026; each month's used hours
    # at $2 less its $0.8M payment on the month's first day (advance)
    dates = [dt.date(2026, 1, 1)] + [dt.date(2026 + k // 12, k % 12 + 1, 1) for k in range(24)]
    flows = np.concatenate([[-4.8e6], sch.used_gpu_hours[0] * 2.0 - 0.8e6])
    years = np.array([(d - dates[0]).days for d in dates]) / 365.0
    lo, hi = -0.99, 100.0
    for _ in range(200):  # a reference XIRR by bisection
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.sum(flows * (1 + mid) ** -years) > 0 else (lo, mid)
    assert rec["irr_vs_market_pct"] == pytest.approx(lo * 100, rel=1e-9)
    r = rec["irr_vs_market_pct"] / 100
    assert abs(np.sum(flows * (1 + r) ** -years)) <= 1e-9 * 4.8e6  # the NPV of these flows at their IRR is zero


LOOP_CASES = [
    ({}, {}),
    ({"escalator_pct_per_year": 3.0, "end_month": "2031-04"}, {"escalator_pct_per_year": 3.0, "months": 60}),
    ({"payment_timing": "arrears", "discount_rate_pct": 12}, {"arrears": True, "discount_rate_pct": 12}),
    ({"utilization_pct": 60, "take_or_pay_min_pct": 80}, {"utilization_pct": 60, "take_or_pay_min_pct": 80}),
    (
        {"expected_uptime_pct": 98.5, "sla_policy": "aws-ec2-region"},
        {"expected_uptime_pct": 98.5, "sla_tiers": ((99.99, 10), (99.0, 30), (95.0, 100))},
    ),
    (
        {"delivery_due_month": "2026-07", "delivery_grace_months": 1, "delivery_delay_months": 3, "late_capacity_pct": 40},
        {"delivery_due": (2026, 7), "delivery_grace_months": 1, "delivery_delay_months": 3, "late_capacity_pct": 40},
    ),
    ({"prepayment_pct": 20}, {"prepayment_pct": 20}),
    ({"step_ups": [{"from_month": "2027-06", "monthly_fee_usd": 1.5e9}]}, {"step_ups": ((2027, 6, 1.5e9),)}),
    ({"notice_days": 45, "lockin_months": 0}, {"notice_days": 45, "lockin_months": 0}),
]


@pytest.mark.parametrize(("engine_changes", "loop_changes"), LOOP_CASES)
def test_engine_equals_plain_python_loop(engine_changes: dict[str, object], loop_changes: dict[str, object]) -> None:
    raw = {
        "deal_name": "loop",
        "start_month": "2026-05",
        "end_month": "2029-05",
        "monthly_fee_usd": 1.25e9,
        "ramp_months": 2,
        "ramp_fee_fraction": 0.5,
        "ramp_capacity_fraction": 0.6,
        "facility_mw": 300,
        "gpu_count": 200_000,
        **engine_changes,
    }
    r = evaluate(raw).record(0)
    months = int(build_terms(raw).months_billed[0])
    loop = loop_schedule(
        LoopDeal(
            **{
                "start_year": 2026,
                "start_month": 5,
                "months": months,
                "monthly_fee_usd": 1.25e9,
                "gpus": 200_000,
                "ramp_months": 2,
                "ramp_fee_fraction": 0.5,
                "ramp_capacity_fraction": 0.6,
                **loop_changes,
            }
        )
    )
    for key, value in loop.items():
        assert r[key] == pytest.approx(value, rel=1e-12), key


def test_late_delivery_cut_by_hand() -> None:
    # Google-SpaceX style: due Oct 2026, 1-month grace, all capacity 2 months late.
    raw = {
        "deal_name": "g",
        "start_month": "2026-10",
        "end_month": "2027-03",
        "monthly_fee_usd": 920e6,
        "facility_mw": 210,
        "gpu_count": 110_000,
        "delivery_due_month": "2026-10",
        "delivery_grace_months": 1,
        "delivery_delay_months": 2,
        "late_capacity_pct": 100,
    }
    sch = build_schedule(build_terms(raw))
    # Oct: late, inside grace -> full fee, nothing delivered; Nov: late after grace -> fee cut to 0.
    np.testing.assert_allclose(sch.net_fee_usd[0], [920e6, 0, 920e6, 920e6, 920e6, 920e6])
    np.testing.assert_allclose(sch.capacity_fraction[0], [0, 0, 1, 1, 1, 1])


def test_equity_split_and_prepayment_conserve_value() -> None:
    raw = {
        "deal_name": "e",
        "start_month": "2026-01",
        "end_month": "2026-12",
        "monthly_fee_usd": 1e6,
        "facility_mw": 1,
        "prepayment_pct": 25,
        "equity_pct": 40,
    }
    s = evaluate(raw)
    # cash + equity = net TCV = 12e6; equity = 40% of it = 4.8e6; prepayment = 25% x 12e6 = 3e6
    assert float(s["cash_paid_usd"][0] + s["equity_paid_usd"][0]) == pytest.approx(12e6, rel=1e-15)
    assert float(s["equity_paid_usd"][0]) == pytest.approx(4.8e6, rel=1e-15)
    assert float(s.schedule.prepayment_usd[0, 0]) == pytest.approx(3e6, rel=1e-15)


def test_scenarios_with_different_terms_share_one_array() -> None:
    t = build_terms(ANTHROPIC_LIKE, end_month=np.array(["2027-04", "2029-05"], dtype="datetime64[M]"))
    sch = build_schedule(t)
    assert sch.shape == (2, 37)
    assert not sch.active[0, 12:].any() and sch.net_fee_usd[0, 12:].sum() == 0
    assert float(sch.net_fee_usd[1].sum()) == pytest.approx(45e9)


def test_pandas_views_for_notebooks() -> None:
    """Schedule.to_frame and Summary.to_series: the same numbers, labelled, with pandas imported only when asked."""
    import subprocess
    import sys

    from engine import COLUMNS, build_schedule, build_terms, summarize

    t = build_terms({"deal_name": "x", "start_month": "2026-11", "end_month": "2027-02", "monthly_fee_usd": 1e6,
                     "facility_mw": 10, "ramp_months": 1, "ramp_fee_fraction": 0.5})  # fmt: skip
    s = summarize(build_schedule(t))
    frame = s.schedule.to_frame()
    # Nov at half fee, then Dec, Jan, Feb in full: 0.5 + 3 = 3.5 million
    assert list(frame.index.astype(str)) == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert frame["net_fee_usd"].tolist() == [0.5e6, 1e6, 1e6, 1e6] and frame["net_fee_usd"].sum() == s["net_tcv_usd"][0] == 3.5e6
    assert set(frame.columns) == {c.name for c in COLUMNS} - {"month"}
    series = s.to_series()
    assert series["net_tcv_usd"] == 3.5e6 and series["months_billed"] == 4 and series.name == "x"
    code = "import sys, engine; from engine import build_terms; assert 'pandas' not in sys.modules, 'pandas imported'"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, check=False).returncode == 0


def _sla_deal(**changes: object) -> dict[str, object]:
    return {"deal_name": "sla", "start_month": "2026-01", "end_month": "2026-12", "monthly_fee_usd": 1e6,
            "gpu_count": 1000, "facility_mw": 2, "expected_uptime_pct": 94.0, **changes}  # fmt: skip


def test_sla_credit_cap_by_hand() -> None:
    from engine import build_terms

    # 94% uptime is below AWS's 95% tier: a retail policy credits 100% of each $1M month, its own cap
    retail = build_schedule(build_terms(_sla_deal(sla_policy="aws-ec2-region")))
    np.testing.assert_allclose(retail.sla_credit_usd[0], np.full(12, 1e6))
    # a contract that caps a month's credits at 25% of the fee: $250,000 a month
    capped = build_schedule(build_terms(_sla_deal(sla_policy="aws-ec2-region", sla_credit_cap_pct=25)))
    np.testing.assert_allclose(capped.sla_credit_usd[0], np.full(12, 0.25e6))
    # bespoke tiers with no cap: 50% of the month by default (Colohouse), and a warning that names the clipped tier
    tiers = [{"below_uptime_pct": 99.0, "credit_pct": 10}, {"below_uptime_pct": 95.0, "credit_pct": 100}]
    t = build_terms(_sla_deal(sla_tiers=tiers))
    np.testing.assert_allclose(build_schedule(t).sla_credit_usd[0], np.full(12, 0.5e6))
    (warning,) = [w for w in t.warnings if w.field == "sla_credit_cap_pct"]
    assert "above 50% (100%) are capped at 50%" in warning.message
    # the contract says 100%: kept, and no warning
    t = build_terms(_sla_deal(sla_tiers=tiers, sla_credit_cap_pct=100))
    np.testing.assert_allclose(build_schedule(t).sla_credit_usd[0], np.full(12, 1e6))
    assert not [w for w in t.warnings if w.field == "sla_credit_cap_pct"]


def test_shipped_portfolio_applies_no_retail_tiers_to_undisclosed_contracts() -> None:
    from pathlib import Path

    from addin.workbook.portfolio_file import load_portfolio

    root = Path(__file__).resolve().parents[2]
    p, _ = load_portfolio(root / "workbooks" / "portfolios" / "anthropic_portfolio.toml")
    assert all(t.sla_policy == "none" and not t.sla_tiers for t in p.contracts)
