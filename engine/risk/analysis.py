"""What drives the outputs: rank correlations over the paths, the tornado, two-way data tables."""

from __future__ import annotations

import numpy as np

from engine.errors import InputError, Issue
from engine.risk.model import MAX_TABLE_CELLS, RiskModel
from engine.schedule import build_schedule
from engine.summary import summarize
from engine.terms import DealTerms, build_terms

CORRELATION_PATHS = 100_000  # the rank correlations of drivers with outputs use the first paths


def _average_ranks(v: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties given the average of the ranks they span (as Spearman's coefficient needs)."""
    _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse]


def rank_correlations(drivers: dict[str, np.ndarray], outputs: dict[str, np.ndarray]) -> list[dict[str, float | str | None]]:
    """Spearman's rank correlation of every driver's draws with each output across paths, largest first (by the
    first output); None where a driver or an output does not vary. Outages and spot are drivers here too.
    Paths where an output has no value (NaN: no hours) are left out of that output's correlations."""
    defined = {k: ~np.isnan(v) for k, v in outputs.items()}
    ranked = {k: _average_ranks(v[defined[k]]) for k, v in outputs.items()}
    rows: list[dict[str, float | str | None]] = []
    for name, v in drivers.items():
        row: dict[str, float | str | None] = {"driver": name}
        for out, ro in ranked.items():
            r = _average_ranks(v[defined[out]])
            sd = float(r.std() * ro.std()) if r.size else 0.0
            row[out] = float(np.mean((r - r.mean()) * (ro - ro.mean())) / sd) if sd > 0 else None
        rows.append(row)
    first = next(iter(outputs))

    def size(row: dict[str, float | str | None]) -> float:
        value = row[first]
        return -abs(value) if isinstance(value, float) else 0.0

    return sorted(rows, key=size)


TORNADO_OUTPUTS = ("npv_usd", "all_in_cost_npv_usd", "usd_per_used_gpu_hour", "premium_to_market_pct", "npv_over_market_usd")
"""The outputs every tornado row is read against. ``all_in_cost_npv_usd`` is the fee NPV plus the capacity a delay
holds back, rented at the row's market price on the payment dates (no outages: they are not a tornado driver)."""
CORRELATION_OUTPUTS = ("npv_usd", "all_in_cost_npv_usd", "usd_per_used_gpu_hour", "premium_to_market_pct")
"""Simulated outputs each driver's draws are rank-correlated with (the market NPV is not simulated per path)."""
VALUATION_SWING_POINTS = 1.0
"""The discount rate's tornado row when it is not simulated: the deal's rate -/+ 1 point (a valuation choice)."""


def tornado(terms: DealTerms, model: RiskModel, outputs: tuple[str, ...] = TORNADO_OUTPUTS) -> list[dict[str, float | str]]:
    """Each driver alone at its 5th and 95th percentile (others at base), against every output: one vectorised
    engine call. Rows are the risks, largest swing of the first output first (``group`` "risk"), then the discount
    rate apart (``group`` "valuation"): the analyst's choice, at its simulated P5/P95 if opted in, else -/+ 1 point.

    Percentiles of each driver come from 20,000 draws of its distribution (a generator seeded with zero).
    """
    rng = np.random.default_rng(0)
    assert model.utilization is not None and model.discount_rate_pct is not None
    rate = model.discount_rate_pct.draw(rng, (20_000,))
    if model.discount_rate_pct.kind == "fixed":
        rate = float(np.asarray(terms.discount_rate_pct)[0]) + np.array([-1.0, 1.0]) * VALUATION_SWING_POINTS
    drivers = {
        "utilization_pct": np.clip(model.utilization.draw(rng, (20_000,)), 0.01, 100.0),
        "discount_rate_pct": np.clip(rate, -50.0, 100.0),
        "delivery_delay_months": np.clip(np.round(model.delivery_delay_months.draw(rng, (20_000,))), 0, 1200),
    }
    market = float(np.asarray(terms.market_usd_per_gpu_hour)[0])
    years = float(np.asarray(terms.months_billed)[0]) / 12.0
    sigma = model.reserved_vol_pct / 100.0 * np.sqrt(years / 2.0)  # the average price over the term varies about half as much
    drivers["market_usd_per_gpu_hour"] = market * np.exp(rng.normal(-(sigma**2) / 2.0, sigma, 20_000))
    base = {k: float(np.asarray(getattr(terms, k))[0]) for k in drivers}
    lows = {k: float(np.percentile(v, 5)) for k, v in drivers.items()}
    highs = {k: float(np.percentile(v, 95)) for k, v in drivers.items()}
    if model.discount_rate_pct.kind == "fixed":  # not simulated: the valuation row is the rate -/+ 1 point exactly
        lows["discount_rate_pct"], highs["discount_rate_pct"] = (float(x) for x in drivers["discount_rate_pct"])
    names = list(drivers)
    n = 1 + 2 * len(names)
    arrays = {k: np.full(n, base[k]) for k in names}
    for i, k in enumerate(names):
        arrays[k][1 + 2 * i] = lows[k]
        arrays[k][2 + 2 * i] = highs[k]
    arrays["delivery_delay_months"] = np.round(arrays["delivery_delay_months"])
    # a delay at its P95 may leave a short deal no hours: its unit prices are NaN (no value), never a refusal
    s = summarize(build_schedule(build_terms(terms.raw, **arrays), require_delivery=False), require_finite=False)
    on_time = build_schedule(build_terms(terms.raw, **{**arrays, "delivery_delay_months": np.zeros(n)}), require_delivery=False)
    sch = s.schedule
    missing = np.maximum(on_time.delivered_gpu_hours - sch.delivered_gpu_hours, 0.0) * arrays["market_usd_per_gpu_hour"][:, None]
    values = {o: np.asarray(s[o], float) for o in outputs if o != "all_in_cost_npv_usd"}
    values["all_in_cost_npv_usd"] = s["npv_usd"] + (missing * sch.discount_factor).sum(axis=1)
    rows: list[dict[str, float | str]] = []
    for i, k in enumerate(names):
        group = "valuation" if k == "discount_rate_pct" else "risk"
        row: dict[str, float | str] = {"driver": k, "group": group, "low_input": lows[k], "high_input": highs[k]}
        for o in outputs:
            row[f"{o}_at_low"] = float(values[o][1 + 2 * i])
            row[f"{o}_at_high"] = float(values[o][2 + 2 * i])
            row[f"{o}_swing"] = abs(float(values[o][2 + 2 * i]) - float(values[o][1 + 2 * i]))
        rows.append(row)
    return sorted(rows, key=lambda r: (r["group"] == "valuation", -np.nan_to_num(float(r[f"{outputs[0]}_swing"]), nan=-1.0)))


def data_table(
    terms: DealTerms, output: str, *, row_field: str, row_values: np.ndarray, col_field: str, col_values: np.ndarray
) -> np.ndarray:
    """Any output over any two inputs, (len(rows), len(cols)), in one vectorised engine call."""
    if row_field == col_field:
        raise InputError(
            Issue("columns", "distinct", f"the rows and columns must vary two different inputs, got {row_field} twice", col_field)
        )
    cells = np.asarray(row_values).size * np.asarray(col_values).size
    if cells > MAX_TABLE_CELLS:
        months = int(np.asarray(terms.months_billed).max())
        gb = cells * months * 8 * 30 / 1e9  # about 30 float arrays of (deals, months) in one engine call
        shape = f"{np.asarray(row_values).size:,} x {np.asarray(col_values).size:,}"
        message = f"a data table of {shape} = {cells:,} cells needs about {gb:,.1f} GB; at most {MAX_TABLE_CELLS:,} cells"
        raise InputError(Issue("table", "size", f"{message} (for example 100 x 100)", cells))
    r, c = np.meshgrid(np.asarray(row_values), np.asarray(col_values), indexing="ij")
    s = summarize(build_schedule(build_terms(terms.raw, **{row_field: r.ravel(), col_field: c.ravel()})))
    if output not in s.values:
        raise InputError(Issue("output", "name", f"output must be one of {', '.join(s.values)}, got {output!r}", output))
    return s[output].reshape(r.shape)
