"""Bad inputs: every rule gives a message naming the field, the rule and the value."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from engine import FIELDS, InputError, build_terms
from engine.terms import is_blank, resolve_blank

BASE = {
    "deal_name": "Test deal",
    "start_month": "2026-05",
    "end_month": "2029-05",
    "monthly_fee_usd": 1.25e9,
    "facility_mw": 300,
}


def messages(**changes: object) -> list[str]:
    raw = {**BASE, **changes}
    raw = {k: v for k, v in raw.items() if v is not DROP}
    with pytest.raises(InputError) as info:
        build_terms(raw)
    return [i.message for i in info.value.issues]


DROP = object()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"pue": 0.8}, "pue must be >= 1.0, got 0.8"),
        ({"pue": 3.5}, "pue must be <= 3.0, got 3.5"),
        ({"end_month": "2026-03"}, "end_month 2026-03 is before start_month 2026-05"),
        ({"deal_name": DROP}, "deal_name is required and is blank"),
        ({"deal_name": "   "}, "deal_name is required and is blank"),
        ({"monthly_fee_usd": None}, "monthly_fee_usd is required and is blank"),
        ({"monthly_fee_usd": 0}, "monthly_fee_usd must be > 0, got 0"),
        ({"monthly_fee_usd": "1.25B"}, "monthly_fee_usd must be a number, got '1.25B'"),
        ({"monthly_fee_usd": True}, "monthly_fee_usd must be a number, got True"),
        ({"monthly_fee_usd": float("nan")}, "monthly_fee_usd must be a finite number, got nan"),
        ({"monthly_fee_usd": float("inf")}, "monthly_fee_usd must be a finite number, got inf"),
        ({"facility_mw": -5}, "facility_mw must be > 0, got -5"),
        ({"utilization_pct": 120}, "utilization_pct must be <= 100, got 120"),
        ({"utilization_pct": 0}, "utilization_pct must be >= 0.01, got 0"),
        ({"monthly_fee_usd": 2e13}, "monthly_fee_usd must be <= 10,000,000,000,000, got 20000000000000"),
        ({"network_overhead_pct": -1}, "network_overhead_pct must be >= 0, got -1"),
        ({"ramp_fee_fraction": 1.5}, "ramp_fee_fraction must be <= 1, got 1.5"),
        ({"ramp_months": 2.5}, "ramp_months must be a whole number, got 2.5"),
        ({"ramp_months": 40}, "ramp_months 40 is longer than the term of 37 months"),
        ({"lockin_months": 38, "notice_days": 90}, "lockin_months 38 is longer than the term of 37 months"),
        ({"notice_days": 2000}, "notice_days 2000 is longer than the term of 1127 days (37 months)"),
        ({"gpu_sku": "H900"}, "gpu_sku 'H900' is not in the GPU catalogue; known SKUs: H100-SXM, H200-SXM, B200, GB200, GB300"),
        ({"payment_timing": "monthly"}, "payment_timing must be one of advance, arrears, got 'monthly'"),
        ({"start_month": "May 2026"}, "start_month must be a month (a date, or text like 2026-05), got 'May 2026'"),
        ({"start_month": 46143}, "start_month must be a month (a date, or text like 2026-05), got 46143"),
        ({"end_month": "2037-01"}, "the term from 2026-05 to 2037-01 is 129 months; at most 120 months are modelled"),
        ({"pue_ratio": 1.2}, "pue_ratio is not a known input"),
        ({"delivery_due_month": "2030-01"}, "delivery_due_month 2030-01 is outside the term 2026-05 to 2029-05"),
        (
            {"step_ups": [{"from_month": "2025-01", "monthly_fee_usd": 2e9}]},
            "step_ups[1].from_month 2025-01 is outside the term 2026-05 to 2029-05",
        ),
        ({"step_ups": [{"from_month": "2027-06"}]}, "step_ups[1].monthly_fee_usd is required and is blank"),
        (
            {"step_ups": [{"from_month": "2027-06", "monthly_fee_usd": 2e9}, {"from_month": "2027-01", "monthly_fee_usd": 3e9}]},
            "step_ups[2].from_month must be in date order",
        ),
        (
            {"fleet": [{"gpu_sku": "H100-SXM", "gpu_count": 100}], "gpu_count": 5},
            "give either gpu_sku/gpu_count or a fleet table, not both (got gpu_count 5 and a fleet of 1 rows)",
        ),
        ({"fleet": [{"gpu_sku": "H100-SXM", "gpu_count": -100}]}, "fleet[1].gpu_count must be > 0, got -100"),
        ({"fleet": [{"gpu_sku": "H100-SXM", "count": 100}]}, "fleet[1].count is not a known input"),
        ({"fleet": {"gpu_sku": "H100-SXM"}}, "fleet must be a table of rows"),
        ({"ramp_table": [{"fee_fraction": 0.5, "capacity_fraction": 0.5}] * 38}, "ramp_table must be <= 24 rows, got '38 rows'"),
        ({"sla_tiers": [{"below_uptime_pct": 99.9, "credit_pct": 150}]}, "sla_tiers[1].credit_pct must be <= 100, got 150"),
        ({"monthly_fee_usd": np.array([1e9, -1.0, 2e9])}, "monthly_fee_usd must be > 0, got -1 (one of 3 values)"),
        ({"monthly_fee_usd": np.ones((2, 2))}, "monthly_fee_usd must be a single value or a 1-D array of scenarios"),
        ({"monthly_fee_usd": np.ones(3), "pue": np.full(4, 1.2)}, "scenario arrays must have one length: pue has 4"),
        ({"ramp_months": 37, "ramp_capacity_fraction": 0.0}, "the deal delivers no GPU-hours"),
    ],
)
def test_bad_input_message(changes: dict[str, object], expected: str) -> None:
    if "no GPU-hours" in expected:
        from engine import build_schedule

        with pytest.raises(InputError) as info:
            build_schedule(build_terms({**BASE, **changes}))
        assert expected in str(info.value)
        return
    assert any(expected in m for m in messages(**changes)), messages(**changes)


def test_every_issue_is_listed_at_once() -> None:
    msgs = messages(pue=0.5, utilization_pct=300, monthly_fee_usd="x")
    assert len(msgs) == 3


def test_issue_carries_field_rule_and_value() -> None:
    with pytest.raises(InputError) as info:
        build_terms({**BASE, "pue": 0.8})
    (issue,) = info.value.issues
    assert (issue.field, issue.rule, issue.value) == ("pue", "min", 0.8)


def test_blank_means_default_in_one_place() -> None:
    t = build_terms({**BASE, "pue": "", "utilization_pct": None, "payment_timing": "  "})
    assert float(t.pue[0]) == 1.2 and float(t.utilization_pct[0]) == 100.0 and t.payment_timing == "advance"
    assert is_blank("") and is_blank(None) and not is_blank(0) and resolve_blank(" ", 7) == 7


def test_every_optional_field_documents_its_default() -> None:
    for f in FIELDS:
        if not f.required:
            assert f.default is not None or f.blank_means, f.name


def test_months_accept_dates_and_text() -> None:
    t = build_terms({**BASE, "start_month": dt.date(2026, 5, 17), "end_month": "2029-05-31"})
    assert int(t.months_billed[0]) == 37


def test_case_insensitive_choices() -> None:
    t = build_terms({**BASE, "gpu_sku": "gb200", "payment_timing": "Arrears"})
    assert (t.gpu_sku, t.payment_timing) == ("GB200", "arrears")


def test_power_inconsistency_is_a_warning_with_arithmetic() -> None:
    from engine.checks import consistency_warnings

    t = build_terms({**BASE, "gpu_count": 220_000})
    (w,) = [w for w in consistency_warnings(t) if w.rule == "power"]
    # H100 typical all-in 1.5 kW (Colossus: 300 MW for 200,000): 220,000 x 1.5 / 1000 = 330.0 MW > 300 MW;
    # 300,000 / 1.5 = 200,000; the typical server draw is 1.5 / (1.1 x 1.2) = 1.136 kW
    assert "220,000 GPUs x 1.500 kW" in w.message and "1.136 kW typical server draw" in w.message
    assert "330.0 MW" in w.message and "feeds 200,000 GPUs" in w.message


def test_fraction_typed_as_percent_is_a_warning() -> None:
    from engine.checks import consistency_warnings

    t = build_terms({**BASE, "utilization_pct": 0.9})
    assert any("did you mean 90?" in w.message for w in consistency_warnings(t))


def test_market_default_is_the_fleet_weighted_catalogue_rent() -> None:
    t = build_terms({**BASE, "fleet": [{"gpu_sku": "H100-SXM", "gpu_count": 3}, {"gpu_sku": "H200-SXM", "gpu_count": 1}]})
    # (3 x 2.65 + 1 x 4.00) / 4 = 2.9875
    assert float(t.market_usd_per_gpu_hour[0]) == pytest.approx(2.9875)


def test_lockin_defaults_to_zero_only_with_notice() -> None:
    assert build_terms(BASE).lockin_months is None
    t = build_terms({**BASE, "notice_days": 30})
    assert float(t.lockin_months[0]) == 0.0
