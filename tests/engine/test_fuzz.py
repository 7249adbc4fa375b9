"""Fuzzing: any value in any input is either refused with a message or gives finite figures."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addin.excel import udfs
from addin.workbook.cells import cell_to_raw, pairs_to_raw
from engine import FIELDS, InputError, evaluate
from tests.strategies import valid_deals

ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e-300, max_value=1e-300),
    st.text(max_size=12),
    st.sampled_from(["#N/A", "#DIV/0!", "=1+1", "-", " ", "2026-05", "May 2026", "1e9", "H100-SXM", "advance"]),
    st.dates(),
    st.lists(st.integers(), max_size=3),
)
NUMERIC = [f for f in FIELDS if f.kind in ("number", "integer")]


def extreme_within_bounds(f: Any) -> st.SearchStrategy[float]:
    lo = f.minimum if f.minimum is not None else -1e6
    hi = f.maximum if f.maximum is not None else 1e6
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


@st.composite
def extreme_changes(draw: st.DrawFn) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(NUMERIC), min_size=1, max_size=5, unique_by=lambda f: f.name))
    return {f.name: draw(extreme_within_bounds(f)) for f in chosen}


def assert_finite_or_refused(raw: dict[str, Any]) -> None:
    try:
        s = evaluate(raw)
    except InputError as exc:
        assert exc.issues and all(i.message for i in exc.issues)
        return
    for name, v in s.values.items():
        assert np.isfinite(v).all(), name
    json.dumps(s.record(0), allow_nan=False)  # NaN or inf would raise here


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(valid_deals(), st.dictionaries(st.sampled_from([f.name for f in FIELDS]), ANYTHING, max_size=4))
def test_any_value_anywhere(raw: dict[str, Any], changes: dict[str, Any]) -> None:
    assert_finite_or_refused({**raw, **changes})


@FUZZ
@given(valid_deals(), extreme_changes())
def test_extreme_values_within_the_rules(raw: dict[str, Any], changes: dict[str, Any]) -> None:
    assert_finite_or_refused({**raw, **changes})


@FUZZ
@given(st.sampled_from([f.name for f in FIELDS] + ["fleet[1].gpu_count", "step_ups[2].from_month", "unknown"]), ANYTHING)
def test_cell_values_convert_or_refuse(name: str, value: Any) -> None:
    try:
        cell_to_raw(name, value)
    except InputError as exc:
        assert exc.issues[0].message


@FUZZ
@given(st.lists(st.tuples(st.one_of(st.sampled_from([f.name for f in FIELDS]), ANYTHING), ANYTHING), max_size=12))
def test_udf_blocks_never_raise(rows: list[tuple[Any, Any]]) -> None:
    block = [[k, v] for k, v in rows]
    for fn in (lambda: udfs.cdm_summary(block, "npv_usd"), lambda: udfs.cdm_schedule(block), lambda: udfs.cdm_check(block)):
        result = fn()
        if isinstance(result, str):
            assert result.startswith("CDM error: ") or result.startswith("OK"), result
    try:
        pairs_to_raw(rows)
    except InputError:
        pass


# ------------------------------------------------------------------ the Risk block

RISK_NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**6), 10**6), st.floats(min_value=-1e3, max_value=1e3)
)


@st.composite
def risk_specs(draw: st.DrawFn) -> object:
    """Anything a user could type for a driver: a number, text, or a distribution table with any parameters."""
    from engine.risk import DIST_PARAMS

    kind = draw(st.sampled_from([*DIST_PARAMS, "gaussian"]))
    params = DIST_PARAMS.get(kind, ("mean", "sd"))
    table: dict[str, object] = {"dist": kind}
    for p in params:
        if p in ("values", "probabilities"):
            table[p] = draw(st.lists(st.one_of(RISK_NUMBER, st.text(max_size=3)), max_size=4))
        else:
            table[p] = draw(st.one_of(RISK_NUMBER, ANYTHING))
    return draw(st.one_of(st.just(table), RISK_NUMBER, ANYTHING))


RISK_KEYS = ["reserved_vol_pct", "spot_vol_pct", "reserved_drift_pct", "spot_drift_pct", "price_correlation",
             "outages_per_year", "spot_start_usd_per_gpu_hour", "utilization_pct", "delivery_delay_months", "outage_days", "discount_rate_pct", "unknown"]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_deals(), st.dictionaries(st.sampled_from(RISK_KEYS), risk_specs(), max_size=4))
def test_any_risk_block_is_refused_or_simulates_finite(raw: dict[str, Any], risk: dict[str, Any]) -> None:
    from engine.risk import build_risk, simulate
    from engine.terms import build_terms

    try:
        terms = build_terms(raw)
        model = build_risk(risk, terms)
        sim = simulate(terms, 256, seed=1, model=model)
    except InputError as exc:
        assert exc.issues and all(i.message for i in exc.issues)
        return
    stats = sim.stats()
    for name, figures in stats.items():  # every statistic finite, unless the output has no value on any path (no hours)
        if figures["undefined_paths"] < 256:
            json.dumps(figures, allow_nan=False)
        else:
            assert name in ("usd_per_used_gpu_hour", "premium_to_market_pct") and np.isnan(figures["p50"]), (name, figures)
    assert (sim.values["replacement_cost_usd"] >= 0).all() and (sim.values["sla_credits_usd"] >= 0).all()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["revenue_doubling_months", "revenue_sd_log", "outages_per_year", "outage_days", "vendors", "other"]),
        st.one_of(risk_specs(), st.dictionaries(st.sampled_from(["AWS", "Google", "Nobody"]),
                                                 st.dictionaries(st.sampled_from(["outages_per_year", "outage_days", "x"]),
                                                                 risk_specs(), max_size=2), max_size=2)),
        max_size=4,
    )
)  # fmt: skip
def test_any_portfolio_risk_block_is_refused_or_simulates_finite(risk: dict[str, Any]) -> None:
    from engine.risk import build_portfolio_risk, simulate_portfolio

    try:
        values = simulate_portfolio(PORTFOLIO, 256, seed=1, risk=build_portfolio_risk(risk))
    except InputError as exc:
        assert exc.issues and all(i.message for i in exc.issues)
        return
    for name, v in values.items():
        assert np.isfinite(v).all(), name
    assert (values["outage_lost_gpu_hours"] >= 0).all() and (values["outage_sla_credits_usd"] >= 0).all()


def _portfolio() -> Any:
    from pathlib import Path

    from addin.workbook.portfolio_file import load_portfolio
    from engine.portfolio import PortfolioResult

    root = Path(__file__).resolve().parents[2]
    return PortfolioResult(load_portfolio(root / "workbooks" / "portfolios" / "anthropic_portfolio.toml")[0])


PORTFOLIO = _portfolio()
