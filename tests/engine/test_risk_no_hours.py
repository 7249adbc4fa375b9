"""Paths with no GPU-hours: a ratio has no value (NaN, counted), never a refusal or NaN in JSON (issues 12.2, 12.3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from addin.cli import app
from engine import build_terms
from engine.risk import build_risk, simulate

runner = CliRunner()


def _deal(months: int) -> dict[str, object]:
    end = f"2026-{4 + months:02d}"
    return {"deal_name": "short", "start_month": "2026-05", "end_month": end, "monthly_fee_usd": 1e9, "facility_mw": 300}


@pytest.mark.parametrize("months", [1, 2, 3])
def test_short_deals_simulate_with_the_default_drivers(months: int) -> None:
    terms = build_terms(_deal(months))
    sim = simulate(terms, 3000, 7)
    assert sim.values is not None
    per_used = sim.values["usd_per_used_gpu_hour"]
    empty = np.isnan(per_used)
    stats = sim.stats()["usd_per_used_gpu_hour"]
    assert stats["undefined_paths"] == empty.sum()
    if months == 1:
        assert empty.any(), "the default delay draw leaves some one-month paths with nothing delivered"
    # the statistics are numpy's over the paths that have a value (linear percentiles, plain mean)
    defined = per_used[~empty]
    assert stats["p50"] == pytest.approx(np.percentile(defined, 50), rel=1e-12)
    assert stats["mean"] == pytest.approx(defined.mean(), rel=1e-12)
    # NPV has a value on every path (no hours, no fee: 0)
    assert sim.stats()["npv_usd"]["undefined_paths"] == 0
    assert np.isfinite(sim.values["npv_usd"]).all()


def test_streamed_and_in_memory_summaries_agree_with_undefined_paths() -> None:
    terms = build_terms(_deal(1))
    model = build_risk({"outages_per_year": 12, "outage_days": {"dist": "uniform", "low": 20, "high": 31}}, terms)
    kept = simulate(terms, 5000, 3, model)
    streamed = simulate(terms, 5000, 3, model, keep_paths=100)
    assert streamed.values is None and kept.values is not None
    for name, st in kept.stats().items():
        assert streamed.stats()[name] == st, name  # to the bit, NaN paths counted apart in both


def test_json_says_null_and_counts_paths_with_no_value(tmp_path: Path) -> None:
    deal = tmp_path / "one.toml"
    deal.write_text('deal_name = "one"\nstart_month = "2026-05"\nend_month = "2026-05"\nmonthly_fee_usd = 1e9\n'
                    'facility_mw = 300\n[risk]\noutages_per_year = 12\noutage_days = { dist = "fixed", value = 31 }\n'
                    'delivery_delay_months = 0\n')  # fmt: skip
    res = runner.invoke(app, ["simulate", str(deal), "--json", "--paths", "500"])
    assert res.exit_code == 0, res.output

    def refuse(token: str) -> None:
        raise AssertionError(f"{token} in JSON")

    rec = json.loads(res.stdout, parse_constant=refuse)
    st = rec["stats"]["usd_per_used_gpu_hour"]
    assert 0 < st["undefined_paths"] < 500 and st["p50"] > 0  # a month-long outage in a one-month deal: no hours
    assert rec["stats"]["npv_usd"]["undefined_paths"] == 0
    n = int(st["undefined_paths"])
    table = runner.invoke(app, ["simulate", str(deal), "--paths", "500"])
    assert table.exit_code == 0 and f"no value on {n} of 500 paths" in " ".join(table.stderr.split())


def test_a_statistic_with_no_value_is_null() -> None:
    from addin.cli import _json_safe

    stats = {"p5": float("nan"), "mean": float("inf"), "undefined_paths": 500.0, "rows": [np.float64("nan"), 1.0]}
    assert _json_safe(stats) == {"p5": None, "mean": None, "undefined_paths": 500.0, "rows": [None, 1.0]}


def test_an_output_with_no_value_on_any_path_is_nan_both_ways() -> None:
    """A one-month deal delayed a month on every path: no hours anywhere (the fuzzer found np.partition refusing)."""
    terms = build_terms(_deal(1))
    model = build_risk({"delivery_delay_months": {"dist": "fixed", "value": 1.0}}, terms)
    for keep in (10_000, 10):
        st = simulate(terms, 256, 1, model, keep_paths=keep).stats()
        assert st["usd_per_used_gpu_hour"]["undefined_paths"] == 256 and np.isnan(st["usd_per_used_gpu_hour"]["p50"])
        assert st["npv_usd"] == {"p5": 0.0, "p50": 0.0, "p95": 0.0, "mean": 0.0, "undefined_paths": 0.0}


@pytest.mark.parametrize(
    "spec",
    [
        {"utilization_pct": {"dist": "normal", "mean": 80, "sd": -0.0}},
        {"utilization_pct": {"dist": "lognormal", "mean": 80, "sd_log": -0.0}},
        {"outage_days": {"dist": "normal", "mean": 3, "sd": -0.0}},
    ],
)
def test_a_negative_zero_spread_is_no_spread(spec: dict[str, object]) -> None:
    """The portfolio fuzzing found revenue_sd_log = -0.0 passing the >= 0 rule and numpy refusing it as a sigma."""
    from engine.risk import build_portfolio_risk, simulate_portfolio
    from tests.engine.test_fuzz import PORTFOLIO

    terms = build_terms(_deal(6))
    assert simulate(terms, 300, 1, build_risk(spec, terms)).stats()["npv_usd"]["p50"] > 0
    risk = build_portfolio_risk(
        {"revenue_sd_log": {"dist": "fixed", "value": -0.0}, "outage_days": {"dist": "normal", "mean": 3, "sd": -0.0}}
    )
    assert simulate_portfolio(PORTFOLIO, 256, seed=1, risk=risk)["usd_per_used_gpu_hour"].size == 256
