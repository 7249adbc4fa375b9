"""Hypothesis invariants of the schedule, the summary and sizing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.pyloop import LoopDeal, loop_schedule
from engine import build_schedule, build_terms, summarize
from engine.sizing import gpus_from_mw, kw_per_gpu, mw_from_gpus
from tests.strategies import valid_deals

SETTINGS = settings(max_examples=150, deadline=None)


@SETTINGS
@given(valid_deals())
def test_schedule_invariants(raw: dict[str, Any]) -> None:
    s = summarize(build_schedule(build_terms(raw)))
    sch = s.schedule
    net = float(s["net_tcv_usd"][0])
    # net fees sum to net TCV, and net TCV = list - every reduction
    assert float(sch.net_fee_usd.sum()) == pytest.approx(net, rel=1e-12)
    parts = (
        sch.list_fee_usd - sch.ramp_reduction_usd - sch.late_delivery_reduction_usd - sch.usage_reduction_usd - sch.sla_credit_usd
    ).sum()
    scale = float(sch.list_fee_usd.sum())  # rounding grows with the list total, even when net is 0
    assert float(parts) == pytest.approx(net, rel=1e-9, abs=1e-12 * scale)
    # cumulative fee never decreases; firm <= net; NPV <= net at a non-negative rate
    assert (np.diff(sch.cumulative_fee_usd[0]) >= -1e-6).all()
    assert float(s["firm_commitment_usd"][0]) <= net * (1 + 1e-12) + 1e-6
    assert float(s["npv_usd"][0]) <= net * (1 + 1e-12) + 1e-6
    # cash + equity = net; $/used >= $/delivered; everything finite
    paid = s["cash_paid_usd"][0] + s["equity_paid_usd"][0] + s["revenue_share_paid_usd"][0]
    assert float(paid) == pytest.approx(net, rel=1e-12, abs=1e-6)
    assert s["usd_per_used_gpu_hour"][0] >= s["usd_per_gpu_hour"][0] * (1 - 1e-12)
    for name, value in s.values.items():
        assert np.isfinite(value).all(), name


@SETTINGS
@given(valid_deals(), st.lists(st.floats(1e3, 1e10), min_size=2, max_size=6), st.lists(st.floats(1, 100), min_size=2, max_size=6))
def test_batch_row_equals_single_run(raw: dict[str, Any], fees: list[float], utils: list[float]) -> None:
    n = min(len(fees), len(utils))
    fee_arr, util_arr = np.array(fees[:n]), np.array(utils[:n])
    batch = summarize(build_schedule(build_terms(raw, monthly_fee_usd=fee_arr, utilization_pct=util_arr)))
    for i in range(n):
        single = summarize(build_schedule(build_terms(raw, monthly_fee_usd=fee_arr[i], utilization_pct=util_arr[i])))
        for name, value in single.values.items():
            assert batch[name][i] == value[0], name
        np.testing.assert_array_equal(batch.schedule.net_fee_usd[i], single.schedule.net_fee_usd[0])


@settings(max_examples=60, deadline=None)
@given(valid_deals())
def test_engine_equals_loop_on_random_deals(raw: dict[str, Any]) -> None:
    t = build_terms(raw)
    s = summarize(build_schedule(t))
    y, m = (int(x) for x in raw["start_month"].split("-"))
    loop = loop_schedule(
        LoopDeal(
            start_year=y,
            start_month=m,
            months=int(t.months_billed[0]),
            monthly_fee_usd=raw["monthly_fee_usd"],
            gpus=float(s["gpus"][0]),
            ramp_months=raw["ramp_months"],
            ramp_fee_fraction=raw["ramp_fee_fraction"],
            ramp_capacity_fraction=raw["ramp_capacity_fraction"],
            escalator_pct_per_year=raw["escalator_pct_per_year"],
            utilization_pct=raw["utilization_pct"],
            take_or_pay_min_pct=raw["take_or_pay_min_pct"],
            expected_uptime_pct=raw["expected_uptime_pct"],
            sla_tiers=tuple((x.below_uptime_pct, x.credit_pct) for x in t.sla_tiers),
            discount_rate_pct=raw["discount_rate_pct"],
            arrears=raw["payment_timing"] == "arrears",
            lockin_months=raw.get("lockin_months"),
            notice_days=raw.get("notice_days"),
            prepayment_pct=raw["prepayment_pct"],
            delivery_grace_months=raw.get("delivery_grace_months", 0),
            delivery_delay_months=raw.get("delivery_delay_months", 0),
            late_capacity_pct=raw.get("late_capacity_pct", 100.0),
        )
    )
    for key, value in loop.items():
        assert s.record(0)[key] == pytest.approx(value, rel=1e-9, abs=1e-6), key


@given(st.integers(1, 5_000_000), st.floats(0.5, 3.0), st.floats(0, 30), st.floats(1.0, 2.0))
def test_sizing_round_trip(gpus: int, server_kw: float, overhead: float, pue: float) -> None:
    kw = kw_per_gpu(server_kw, overhead, pue)
    assert int(gpus_from_mw(mw_from_gpus(gpus, kw), kw)) == gpus


@given(st.floats(0.1, 10_000), st.floats(1.0, 3.0))
def test_sized_gpus_never_exceed_power(mw: float, kw: float) -> None:
    g = gpus_from_mw(mw, kw)
    assert g * kw <= mw * 1000 * (1 + 1e-9)
    assert (g + 1) * kw > mw * 1000


@SETTINGS
@given(
    valid_deals(),
    st.lists(st.tuples(st.integers(0, 6), st.floats(-20, 60)), min_size=2, max_size=12),
    st.integers(1, 11),
)
def test_totals_of_a_slice_equal_the_batch_bit_for_bit(raw: dict[str, Any], rows: list[tuple[int, float]], cut: int) -> None:
    # delay and discount rate by scenario make full (scenario, month) factors, summed in one pass: a scenario's
    # totals must not depend on which other scenarios share its batch (Monte Carlo chunks rely on it)
    delay = np.array([r[0] for r in rows], float)
    rate = np.array([r[1] for r in rows])
    raw = {**raw, "late_capacity_pct": 40.0}
    batch = summarize(build_schedule(build_terms(raw, delivery_delay_months=delay, discount_rate_pct=rate)))
    cut = min(cut, len(rows) - 1)
    for part in (slice(0, cut), slice(cut, len(rows))):
        alone = summarize(build_schedule(build_terms(raw, delivery_delay_months=delay[part], discount_rate_pct=rate[part])))
        for name in ("net_tcv_usd", "npv_usd", "firm_commitment_usd", "delivered_gpu_hours"):
            np.testing.assert_array_equal(alone[name], batch[name][part], err_msg=name)


@settings(max_examples=60, deadline=None)
@given(valid_deals(), st.lists(st.tuples(st.integers(0, 6), st.floats(-20, 60), st.floats(1, 100)), min_size=1, max_size=8))
def test_points_and_head_equal_the_full_columns(raw: dict[str, Any], rows: list[tuple[int, float, float]]) -> None:
    from engine.schedule import COLUMNS, POINTWISE

    delay, rate, util = (np.array(c, float) for c in zip(*rows, strict=True))
    sch = build_schedule(build_terms({**raw, "late_capacity_pct": 40.0}, delivery_delay_months=delay, discount_rate_pct=rate,
                                     utilization_pct=util))  # fmt: skip
    rng = np.random.default_rng(len(rows))
    r, c = rng.integers(0, sch.n_scenarios, 40), rng.integers(0, sch.n_months, 40)
    names = sorted(POINTWISE)
    for name, value in zip(names, sch.at(r, c, *names), strict=True):
        full = np.broadcast_to(getattr(sch, name), sch.shape)[r, c]
        if full.dtype.kind == "M":
            np.testing.assert_array_equal(value, full, err_msg=name)
        else:  # the factors may multiply in another order: equal to a few units in the last place
            np.testing.assert_allclose(value, full, rtol=4e-16 * 8, atol=1e-300, err_msg=name)  # subnormals lose digits
    head = sch.head(max(1, sch.n_scenarios // 2))
    for col in COLUMNS:
        np.testing.assert_array_equal(
            np.broadcast_to(getattr(head, col.name), head.shape),
            np.broadcast_to(getattr(sch, col.name), sch.shape)[: head.n_scenarios],
            err_msg=col.name,
        )


def test_points_refuse_columns_that_depend_on_other_months() -> None:
    sch = build_schedule(build_terms({"deal_name": "x", "start_month": "2026-01", "end_month": "2026-12", "monthly_fee_usd": 1e6,
                                      "facility_mw": 1, "prepayment_pct": 10}))  # fmt: skip
    for name in ("cumulative_fee_usd", "present_value_usd", "cash_payment_usd", "month_index"):
        with pytest.raises(ValueError, match="depends on other months"):
            sch.at(np.array([0]), np.array([3]), name)
