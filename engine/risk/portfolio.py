"""Monte Carlo of a portfolio: demand growth and vendor outages against contracted supply."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from engine.errors import InputError, Issue
from engine.quantiles import KEEP_PATHS, Summary, summarise
from engine.risk.analysis import CORRELATION_PATHS, rank_correlations
from engine.risk.model import (
    BLOCK_PATHS,
    DEFAULT_CHUNK_PATHS,
    FAN_SAMPLE_PATHS,
    Dist,
    _collect,
    parse_dist,
    scalar_driver,
)
from engine.risk.paths import ChunkRunner, blocks_for, check_run, draw_outages
from engine.schedule import credit_pct_for_uptime

# ---------------------------------------------------------------- portfolios

PORTFOLIO_OUTPUTS = (
    "first_shortfall_month",
    "gpus_to_sign_next_4_quarters",
    "usd_per_used_gpu_hour",
    "unused_contracted_pct",
    "outage_lost_gpu_hours",
    "outage_sla_credits_usd",
    "outage_replacement_cost_usd",
)


@dataclass(frozen=True)
class PortfolioRisk:
    """Demand and outage uncertainty of a portfolio (defaults ASSUMED, docs/how-to/monte-carlo.md)."""

    revenue_doubling_months: Dist | None = None  # default triangular(0.75 x base, base, 1.5 x base)
    revenue_sd_log: float = 0.15  # starting revenue lognormal around the portfolio's figure
    outages_per_year: float = 1.0  # for every vendor, independently
    outage_days: Dist = field(default_factory=lambda: Dist("uniform", 1, 8))
    vendors: tuple[VendorOutages, ...] = ()  # a vendor's own rate or length, where it differs

    def outages_for(self, vendor: str) -> tuple[float, Dist]:
        """The outage rate and length of ``vendor``: its own where given, else the all-vendor ones."""
        own = next((v for v in self.vendors if v.vendor == vendor), None)
        per_year = own.outages_per_year if own is not None and own.outages_per_year is not None else self.outages_per_year
        days = own.outage_days if own is not None and own.outage_days is not None else self.outage_days
        return per_year, days


@dataclass(frozen=True)
class VendorOutages:
    """One vendor's outage rate and length, each None where the all-vendor figure applies."""

    vendor: str
    outages_per_year: float | None = None
    outage_days: Dist | None = None


def simulate_portfolio(result: Any, n_paths: int, seed: int, risk: PortfolioRisk | None = None) -> dict[str, np.ndarray]:
    """Per-path outputs of a portfolio (``engine.portfolio.PortfolioResult``), every path held in memory
    (:func:`summarise_portfolio` summarises any number of paths in bounded memory)."""
    outs: dict[str, list[np.ndarray]] = {k: [] for k in PORTFOLIO_OUTPUTS}
    for block in portfolio_paths(result, seed, risk, range(blocks_for(n_paths))):
        for k in PORTFOLIO_OUTPUTS:
            outs[k].append(block[k])
    return {k: np.concatenate(v)[:n_paths] for k, v in outs.items()}


@dataclass
class PortfolioSimulation:
    """A portfolio's simulation: the summary of every output, the % of paths demand never outgrows supply, the
    demand fan (P5/P50/P95 of demanded GPU-hours by month over the first paths) against contracted supply,
    and the first paths' driver draws and outputs for the rank correlations."""

    summary: Summary
    never_short_pct: float
    demand_fan: dict[str, list[float]]
    supply: list[float]
    sample_drivers: dict[str, np.ndarray]
    sample_outputs: dict[str, np.ndarray]

    def rank_correlation(self) -> list[dict[str, float | str | None]]:
        """Spearman's rank correlation of every driver with the first shortfall month and $/used GPU-hour."""
        return rank_correlations(self.sample_drivers, self.sample_outputs)


PORTFOLIO_CORRELATED = ("first_shortfall_month", "usd_per_used_gpu_hour")


def _portfolio_chunk(result: Any, seed: int, risk: PortfolioRisk | None, blocks: range) -> dict[str, np.ndarray]:
    """The blocks of one chunk, concatenated (the unit a Dask worker runs)."""
    parts = list(portfolio_paths(result, seed, risk, blocks))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def summarise_portfolio(result: Any, n_paths: int, seed: int, risk: PortfolioRisk | None = None, *,
                        keep_paths: int = KEEP_PATHS, map_chunks: ChunkRunner | None = None,
                        chunk_paths: int = DEFAULT_CHUNK_PATHS) -> PortfolioSimulation:  # fmt: skip
    """Every portfolio output summarised (P5/P50/P95, mean; a histogram of $/used GPU-hour) in bounded memory.

    ``map_chunks`` runs the chunks elsewhere (a Dask cluster); the numbers are the same.
    """
    m = result.portfolio.n_months
    check_run(n_paths, seed, chunk_paths, m, max_paths=10_000_000)
    never, passes = [0], [0]
    sample: list[dict[str, np.ndarray]] = []
    per_chunk = max(1, -(-chunk_paths // BLOCK_PATHS))
    n_blocks = blocks_for(n_paths)
    ranges = [range(b, min(b + per_chunk, n_blocks)) for b in range(0, n_blocks, per_chunk)]
    portfolio_risk = risk or PortfolioRisk()
    portfolio_paths(result, seed, portfolio_risk, range(0))  # validate before any chunk is sent anywhere

    run = functools.partial(_portfolio_chunk, result, seed, portfolio_risk)  # picklable: worker processes run it

    def chunks() -> Iterator[dict[str, np.ndarray]]:
        passes[0] += 1
        counted = 0
        results = map_chunks(run, ranges) if map_chunks is not None else (run(r) for r in ranges)
        for block in results:
            if passes[0] == 1:  # the first pass counts them (the paths past n_paths are cut off)
                take = block["first_shortfall_month"][: n_paths - counted]
                never[0] += int((take >= m).sum())
                if counted < CORRELATION_PATHS:  # demand by month only for the fan's first paths
                    keys = [k for k in block if k != "demand_gpu_hours" or counted < FAN_SAMPLE_PATHS]
                    sample.append({k: block[k][: take.size] for k in keys})
                counted += take.size
            yield block

    summary = summarise(chunks, n_paths, PORTFOLIO_OUTPUTS, keep=keep_paths, histograms=("usd_per_used_gpu_hour",))
    demand = np.concatenate([b["demand_gpu_hours"] for b in sample if "demand_gpu_hours" in b])[:FAN_SAMPLE_PATHS]
    q = np.percentile(demand, [5, 50, 95], axis=0)
    cut = min(n_paths, CORRELATION_PATHS)
    drivers = {
        k.removeprefix("driver:"): np.concatenate([b[k] for b in sample])[:cut] for k in sample[0] if k.startswith("driver:")
    }
    outs = {k: np.concatenate([b[k] for b in sample])[:cut] for k in PORTFOLIO_CORRELATED}
    fan = {"p5": q[0].tolist(), "p50": q[1].tolist(), "p95": q[2].tolist()}
    return PortfolioSimulation(summary, never[0] / n_paths * 100.0, fan, result.total_gpu_hours.tolist(), drivers, outs)


def portfolio_paths(result: Any, seed: int, risk: PortfolioRisk | None, blocks: range) -> Iterator[dict[str, np.ndarray]]:
    """The per-path outputs of a portfolio for ``blocks``, block by block (256 paths each, seeded like deals).

    first_shortfall_month is the month index (0 = start) demand first exceeds supply; the view's length
    when it never does. Demand follows the doubling model, or the portfolio's demand table scaled by the
    starting-revenue spread when it has one (the doubling time is then not used). Used GPU-hours in a
    month = min(demand, contracted supply): take-or-pay fees are paid on all of it. usd_per_used_gpu_hour
    = (net fees - outage SLA credits + spot replacement) / used GPU-hours; unused_contracted_pct =
    contracted GPU-hours not used / contracted GPU-hours.
    """
    from engine.portfolio import doublings
    from engine.sizing import HOURS_PER_AVERAGE_MONTH

    risk = risk or PortfolioRisk()
    p = result.portfolio
    m = p.n_months
    base_doubling = float(np.asarray(p.demand.revenue_doubling_months).reshape(-1)[0])
    base_revenue = float(np.asarray(p.demand.revenue_usd_per_year).reshape(-1)[0])
    gph = float(np.asarray(p.demand.gpu_hours_per_usd).reshape(-1)[0])
    slowdown = float(np.asarray(p.demand.doubling_slowdown_pct_per_year).reshape(-1)[0])
    table = None if p.demand.table_gpu_hours is None else np.asarray(p.demand.table_gpu_hours, float)[:m]
    doubling_dist = risk.revenue_doubling_months or Dist("triangular", 0.75 * base_doubling, base_doubling, 1.5 * base_doubling)
    supply = result.total_gpu_hours[None, :]
    vendor_hours = result.vendor_gpu_hours
    for own in risk.vendors:
        if own.vendor not in result.vendors:
            key = "outages_per_year" if own.outages_per_year is not None else "outage_days"
            message = f"risk.vendors names {own.vendor!r}, which is not a vendor of the portfolio: {', '.join(result.vendors)}"
            raise InputError(Issue(f"risk.vendors.{own.vendor}.{key}", "vendor", message, own.vendor))
    outages = [risk.outages_for(v) for v in result.vendors]
    contracts = p.contracts
    of_vendor = [[i for i, t in enumerate(contracts) if (t.vendor or t.deal_name) == v] for v in result.vendors]
    uptime = [float(np.asarray(t.expected_uptime_pct)[0]) for t in contracts]
    base_credit = [float(credit_pct_for_uptime(np.asarray(t.expected_uptime_pct, float)[:1], t.sla_tiers)[0]) for t in contracts]
    fees = float(result.total_fee.sum())
    contracted = float(result.total_gpu_hours.sum())
    if contracted <= 0:
        message = "the contracts deliver no GPU-hours within the portfolio's months"
        raise InputError(Issue("contracts", "no_delivery", message, 0.0))
    days = result.days
    j = np.arange(m)[None, :]

    def each() -> Iterator[dict[str, np.ndarray]]:
        for block in blocks:
            yield one_block(block)

    def one_block(block: int) -> dict[str, np.ndarray]:
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
        n = BLOCK_PATHS
        doubling = np.clip(doubling_dist.draw(rng, (n,)), 0.5, 1200.0)
        level = rng.lognormal(-(risk.revenue_sd_log**2) / 2.0, risk.revenue_sd_log, n)
        if table is not None:  # a demand table sets the shape; its level is as uncertain as starting revenue
            demand = level[:, None] * table[None, :]
        else:
            growth = doublings(j, doubling[:, None], np.array(slowdown))
            demand = (base_revenue * level)[:, None] * 2.0**growth / 12.0 * gph
        shortfall = np.maximum(demand - supply, 0.0)
        short = shortfall > 0
        first_shortfall = np.where(short.any(axis=1), np.argmax(short, axis=1), m).astype(float)
        need = np.maximum.accumulate(shortfall / HOURS_PER_AVERAGE_MONTH, axis=1)
        to_sign = need[:, min(11, m - 1)]
        used = np.minimum(demand, supply).sum(axis=1)
        if not (used > 0).all():
            field_name = "demand_table_gpu_hours" if table is not None else "revenue_usd_per_year"
            message = f"demand comes to no GPU-hours in the contracts' months: check {field_name} and the demand inputs"
            raise InputError(Issue(field_name, "no_demand", message, None))
        lost = np.zeros(n)
        credits = np.zeros(n)
        days_out = {}
        for v, (per_year, length) in enumerate(outages):
            path, month, out = draw_outages(rng, per_year, length, n, m)
            share = np.minimum(out, days[month]) / days[month]
            lost += np.bincount(path, weights=vendor_hours[v][month] * share, minlength=n)
            days_out[f"driver:outage_days_at:{result.vendors[v]}"] = np.bincount(
                path, weights=np.minimum(out, days[month]), minlength=n
            )
            for i in of_vendor[v]:  # the extra credit each of the vendor's contracts gives back that month
                extra = np.maximum(credit_pct_for_uptime(uptime[i] * (1.0 - share), contracts[i].sla_tiers) - base_credit[i], 0.0)
                credits += np.bincount(path, weights=result.billed[i][month] * extra / 100.0, minlength=n)
        replacement = lost * p.spot_usd_per_gpu_hour
        return {
            "first_shortfall_month": first_shortfall,
            "gpus_to_sign_next_4_quarters": to_sign,
            "usd_per_used_gpu_hour": (fees - credits + replacement) / used,
            "unused_contracted_pct": (contracted - np.minimum(used, contracted)) / contracted * 100.0,
            "outage_lost_gpu_hours": lost,
            "outage_sla_credits_usd": credits,
            "outage_replacement_cost_usd": replacement,
            "demand_gpu_hours": demand,  # (n, months), for the demand fan
            **({} if table is not None else {"driver:revenue_doubling_months": doubling}),
            "driver:starting_revenue_level": level,
            **days_out,
        }

    return each()


PORTFOLIO_RISK_KEYS = ("revenue_doubling_months", "revenue_sd_log", "outages_per_year", "outage_days")


def build_portfolio_risk(raw: dict[str, object] | None) -> PortfolioRisk:
    """A portfolio's ``[risk]`` table over the documented defaults; every problem listed with its rule.

    ``vendors`` holds a table per vendor with its own ``outages_per_year`` and ``outage_days``.
    """

    def parse(key: str, value: object) -> tuple[str, object]:
        if key == "vendors":
            return key, _vendor_outages(value)
        return key, _portfolio_driver(key, key, value, PORTFOLIO_RISK_KEYS)

    return replace(PortfolioRisk(), **_collect((raw or {}).items(), parse))  # type: ignore[arg-type]


VENDOR_RISK_KEYS = ("outages_per_year", "outage_days")


def _portfolio_driver(name: str, key: str, value: object, known: tuple[str, ...]) -> object:
    """One driver of a portfolio's risk table (``name`` as the user wrote it, under ``risk.``)."""
    if key not in known:
        what = "a vendor outage driver" if known == VENDOR_RISK_KEYS else "a portfolio risk driver"
        message = f"risk.{name} is not {what}; the drivers are: {', '.join(known)}"
        raise InputError(Issue(f"risk.{name}", "unknown", message, None))
    if key in ("revenue_doubling_months", "outage_days"):
        return parse_dist(name, value)
    return scalar_driver(name, key, value)


# the range of every scalar driver, deals' and portfolios' alike


def _vendor_outages(value: object) -> tuple[VendorOutages, ...]:
    """``[risk.vendors."Name"]`` tables -> each vendor's own outage rate and length; every problem listed."""
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        message = 'risk.vendors must hold a table per vendor, e.g. [risk.vendors."CoreWeave"] with outages_per_year = 2'
        raise InputError(Issue("risk.vendors", "type", message, None))

    def vendor(name: str, table: object) -> tuple[str, object]:
        def parse(key: str, spec: object) -> tuple[str, object]:
            return key, _portfolio_driver(f"vendors.{name}.{key}", key, spec, VENDOR_RISK_KEYS)

        given = _collect(table.items(), parse)  # type: ignore[attr-defined]
        return name, VendorOutages(str(name), given.get("outages_per_year"), given.get("outage_days"))  # type: ignore[arg-type]

    return tuple(_collect(value.items(), vendor).values())  # type: ignore[arg-type]
