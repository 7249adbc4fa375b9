"""Hypothesis strategies over deal terms (valid ones; invalid ones are built from these)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

SKUS = ("H100-SXM", "H200-SXM", "B200", "GB200", "GB300", "MI300X")


@st.composite
def months(draw: st.DrawFn, lo: int = 2024, hi: int = 2030) -> str:
    return f"{draw(st.integers(lo, hi)):04d}-{draw(st.integers(1, 12)):02d}"


@st.composite
def valid_deals(draw: st.DrawFn) -> dict[str, Any]:
    y, m = draw(st.integers(2024, 2030)), draw(st.integers(1, 12))
    n = draw(st.integers(1, 120))
    end_idx = y * 12 + m - 1 + n - 1
    raw: dict[str, Any] = {
        "deal_name": "h",
        "start_month": f"{y:04d}-{m:02d}",
        "end_month": f"{end_idx // 12:04d}-{end_idx % 12 + 1:02d}",
        "monthly_fee_usd": draw(st.floats(1e3, 1e10)),
        "facility_mw": draw(st.floats(0.5, 5000)),
        "gpu_sku": draw(st.sampled_from(SKUS)),
        "pue": draw(st.floats(1.0, 2.0)),
        "network_overhead_pct": draw(st.floats(0, 30)),
        "utilization_pct": draw(st.floats(1, 100)),
        "take_or_pay_min_pct": draw(st.floats(0, 100)),
        "escalator_pct_per_year": draw(st.floats(-10, 20)),
        "discount_rate_pct": draw(st.floats(0, 30)),
        "payment_timing": draw(st.sampled_from(["advance", "arrears"])),
        "expected_uptime_pct": draw(st.floats(90, 100)),
        "sla_policy": draw(st.sampled_from(["none", "aws-ec2-region", "gcp-compute-multizone"])),
        "prepayment_pct": draw(st.floats(0, 50)),
        "equity_pct": draw(st.floats(0, 50)),
        "revenue_share_pct": draw(st.floats(0, 50)),
    }
    ramp = draw(st.integers(0, n - 1))
    raw.update(ramp_months=ramp, ramp_fee_fraction=draw(st.floats(0, 1)), ramp_capacity_fraction=draw(st.floats(0.05, 1)))
    if draw(st.booleans()):
        raw["gpu_count"] = draw(st.integers(1, 1_000_000))
    if draw(st.booleans()):
        raw["lockin_months"] = draw(st.integers(0, n))
        raw["notice_days"] = draw(st.integers(0, 28 * n))
    if draw(st.booleans()):
        raw["delivery_delay_months"] = draw(st.integers(0, 6))
        raw["delivery_grace_months"] = draw(st.integers(0, 3))
        raw["late_capacity_pct"] = draw(st.floats(0, 99))
    return raw
