"""Drawing and simulating paths of a deal, block by block, in bounded memory (see the package docstring)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from engine.errors import InputError, Issue
from engine.quantiles import KEEP_PATHS, STREAM_BUDGET_BYTES, Summary, summarise
from engine.risk.analysis import CORRELATION_OUTPUTS, CORRELATION_PATHS, rank_correlations
from engine.risk.model import (
    BLOCK_PATHS,
    DEFAULT_CHUNK_PATHS,
    FAN_SAMPLE_PATHS,
    MAX_CHUNK_PATHS,
    MAX_SEED,
    SPOT_TO_RESERVED,
    Dist,
    RiskModel,
    default_risk,
)
from engine.schedule import build_schedule, credit_pct_for_uptime
from engine.summary import summarize
from engine.terms import DealTerms, build_terms


@dataclass
class Draws:
    """The random inputs of a block (or a chunk) of paths.

    Per path (n,): utilisation, delivery delay, discount rate and the market reserved price averaged over
    the term's months; per path and month, the reserved walk (``reserved_ratio`` (n, n_months - 1): the price at
    month j >= 1 relative to ``reserved_trend[j - 1]``, the market price times the walk's drift). Outages are
    sparse, one entry per path-month with an outage, sorted by path then
    month: the path, the month (0 = start), the days out and that month's spot price. The spot walk
    matters only where lost hours are replaced at spot, so it is drawn only there.
    """

    utilization: np.ndarray
    delay: np.ndarray
    discount: np.ndarray
    reserved_mean: np.ndarray
    outage_path: np.ndarray
    outage_month: np.ndarray
    outage_days: np.ndarray
    outage_spot: np.ndarray
    reserved_ratio: np.ndarray
    reserved_trend: np.ndarray
    market: float

    def reserved_price(self) -> np.ndarray:
        """The simulated reserved price of every path and month (n, n_months): the market price at month 0."""
        n = self.n_paths
        out = np.empty((n, self.reserved_ratio.shape[1] + 1))
        out[:, 0] = self.market
        np.multiply(self.reserved_ratio, self.reserved_trend, out=out[:, 1:])
        return out

    @property
    def n_paths(self) -> int:
        return int(self.utilization.shape[0])

    def take(self, lo: int, hi: int) -> Draws:
        """Paths ``lo`` to ``hi - 1``, renumbered from 0."""
        keep = (self.outage_path >= lo) & (self.outage_path < hi)
        return Draws(
            utilization=self.utilization[lo:hi],
            delay=self.delay[lo:hi],
            discount=self.discount[lo:hi],
            reserved_mean=self.reserved_mean[lo:hi],
            outage_path=self.outage_path[keep] - lo,
            outage_month=self.outage_month[keep],
            outage_days=self.outage_days[keep],
            outage_spot=self.outage_spot[keep],
            reserved_ratio=self.reserved_ratio[lo:hi],
            reserved_trend=self.reserved_trend,
            market=self.market,
        )

    def dense(self, values: np.ndarray, n_months: int) -> np.ndarray:
        """An outage quantity (``outage_days`` or ``outage_spot``) as a (n_paths, n_months) array, 0 where no outage."""
        out = np.zeros((self.n_paths, n_months))
        out[self.outage_path, self.outage_month] = values
        return out


def draw_blocks(model: RiskModel, terms: DealTerms, seed: int, blocks: range, n_months: int) -> Draws:
    """The random inputs of blocks ``blocks``, paths numbered from the first block's first path.

    Each block draws from its own stream in a fixed order, so a path gets the same numbers whatever the
    chunk; the arithmetic on the draws (the price walks, merging outages) then runs once over the chunk.
    """
    assert model.utilization is not None and model.discount_rate_pct is not None
    # the reserved walk's standard normal steps, each block's drawn straight into its rows
    z = np.empty((BLOCK_PATHS * len(blocks), n_months - 1))
    raw = [_draw_raw(model, seed, b, z[i * BLOCK_PATHS : (i + 1) * BLOCK_PATHS]) for i, b in enumerate(blocks)]
    util, delay, discount, counts, months, durations, z_spot = (np.concatenate(part) for part in zip(*raw, strict=True))
    path, month, days, first_event = merge_outages(counts, months, durations, n_months)
    # the reserved walk, in place: z[:, j - 1] becomes the standard walk at month j (0 at month 0), read at
    # the outage months for the spot walk, then the price relative to the start, averaged over the months
    np.cumsum(z, axis=1, out=z)
    w_reserved = np.zeros(path.size)
    later = month > 0  # (a one-month term has no steps at all)
    w_reserved[later] = z[path[later], month[later] - 1]
    mu, sigma = model.reserved_drift_pct / 100.0, model.reserved_vol_pct / 100.0
    z *= sigma / np.sqrt(12.0)
    np.exp(z, out=z)
    trend = np.exp((mu - sigma**2 / 2.0) / 12.0 * np.arange(1, n_months))
    market = float(np.asarray(terms.market_usd_per_gpu_hour)[0])
    reserved_mean = market * (1.0 + np.einsum("ij,j->i", z, trend)) / n_months
    # the spot walk where it is needed: its own Brownian part at the outage months, by independent
    # increments over the gap since the path's previous outage month (or since month 0)
    first = np.ones(path.size, bool)
    first[1:] = path[1:] != path[:-1]
    gap = month - np.where(first, 0, np.roll(month, 1))
    w_own = np.sqrt(gap) * z_spot[first_event]
    rank = np.arange(path.size) - np.maximum.accumulate(np.where(first, np.arange(path.size), 0))  # 0 = path's first
    for r in range(1, int(rank.max(initial=0)) + 1):  # a running sum within each path (at most n_months rounds)
        at = np.flatnonzero(rank == r)
        w_own[at] += w_own[at - 1]
    rho = model.price_correlation
    w_spot = rho * w_reserved + np.sqrt(max(1.0 - rho**2, 0.0)) * w_own
    spot_start = model.spot_start_usd_per_gpu_hour or market * SPOT_TO_RESERVED
    spot = _gbm_at(spot_start, model.spot_drift_pct, model.spot_vol_pct, month, w_spot)
    return Draws(util, delay, discount, reserved_mean, path, month, days, spot, z, market * trend, market)


def draw_block(model: RiskModel, terms: DealTerms, seed: int, block: int, n_months: int) -> Draws:
    """The random inputs of block ``block``: always the same numbers for the same seed and block."""
    return draw_blocks(model, terms, seed, range(block, block + 1), n_months)


def _draw_raw(model: RiskModel, seed: int, block: int, z: np.ndarray) -> tuple[np.ndarray, ...]:
    """One block's draws from its own stream, in this order: per path, the reserved walk's steps (into ``z``), outages."""
    assert model.utilization is not None and model.discount_rate_pct is not None
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
    n, n_months = z.shape[0], z.shape[1] + 1
    util = np.clip(model.utilization.draw(rng, (n,)), 0.01, 100.0)
    delay = np.clip(np.round(model.delivery_delay_months.draw(rng, (n,))), 0, 1200)
    discount = np.clip(model.discount_rate_pct.draw(rng, (n,)), -50.0, 100.0)
    rng.standard_normal(out=z)
    counts, months, durations = _outage_events(rng, model.outages_per_year, model.outage_days, n, n_months)
    return util, delay, discount, counts, months, durations, rng.standard_normal(months.size)


def _outage_events(rng: np.random.Generator, per_year: float, length: Dist, n: int, n_months: int) -> tuple[np.ndarray, ...]:
    """Outages per path (Poisson(per_year x months / 12)), then each one's month (uniform) and whole days."""
    counts = rng.poisson(per_year * n_months / 12.0, n)
    k = int(counts.sum())
    if not k:
        return counts, np.zeros(0, np.intp), np.zeros(0)
    return counts, rng.integers(0, n_months, k), np.maximum(np.floor(length.draw(rng, (k,))), 0.0)  # never below 0 days


def merge_outages(counts: np.ndarray, months: np.ndarray, durations: np.ndarray, n_months: int) -> tuple[np.ndarray, ...]:
    """Outage events (``counts[i]`` for path i, in path order) as one entry per path-month, sorted by path then month.

    Two outages in one month add up. Returns the path, month and days out of each entry and the index
    of its first event.
    """
    key = np.repeat(np.arange(counts.size), counts) * n_months + months
    if not key.size:
        return np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0), np.zeros(0, np.intp)
    order = np.argsort(key, kind="stable")
    key = key[order]
    start = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    days = np.add.reduceat(durations[order], start)
    return key[start] // n_months, key[start] % n_months, days, order[start]


def draw_outages(rng: np.random.Generator, per_year: float, length: Dist, n: int, n_months: int) -> tuple[np.ndarray, ...]:
    """A Poisson process of ``per_year`` outages, each lasting ``length`` whole days, over n paths.

    Each path's count over the term is Poisson(per_year x months / 12) and each outage falls in a month
    drawn uniformly: the same process as a Poisson count every month. Returns the path, month and days
    out of every path-month with an outage (two outages in one month add up), sorted by path then month.
    """
    counts, months, durations = _outage_events(rng, per_year, length, n, n_months)
    return merge_outages(counts, months, durations, n_months)[:3]


def _gbm_at(start: float, drift_pct: float, vol_pct: float, months: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A monthly geometric walk at month ``months`` given its standard walk ``w`` there: E = start x exp(drift x t)."""
    mu, sigma = drift_pct / 100.0, vol_pct / 100.0
    out = np.multiply(w, sigma / np.sqrt(12.0))
    out += (mu - sigma**2 / 2.0) / 12.0 * months
    np.exp(out, out=out)
    out *= start
    return out


OUTPUTS = ("usd_per_used_gpu_hour", "npv_usd", "premium_to_market_pct", "sla_credits_usd", "replacement_cost_usd", "net_tcv_usd",
           "delay_replacement_usd", "all_in_cost_usd", "all_in_cost_npv_usd", "exit_saving_npv_usd")  # fmt: skip
"""Per-path outputs. The buyer's all-in cost = fees - SLA credits + outage hours bought at spot + delayed capacity
rented at the path's market price; its NPV discounts each on its month's payment date, beside the fee NPV.
``exit_saving_npv_usd``: what leaving at the first exit date saves on the path (the fees after it less renting the
used hours at the path's market price, discounted, when positive); its mean is the value of the exit right."""


@dataclass
class PathResults:
    """Per-path outputs (n,), and monthly cost (k, m) of the first k = min(n, FAN_SAMPLE_PATHS) paths, for the fan chart."""

    values: dict[str, np.ndarray]
    monthly_cost: np.ndarray
    drivers: dict[str, np.ndarray] = field(default_factory=dict)  # each path's draw of each driver (n,)


def simulate_block(terms: DealTerms, d: Draws, fan_paths: int = FAN_SAMPLE_PATHS) -> PathResults:
    """Every output for a block of paths (the deal rebuilt on the engine's scenario axis).

    Totals come from the engine's factored schedule, never built month by month. Outages touch a few
    path-months in a hundred, so their effects (lost hours, extra SLA credits, spot replacement) are
    computed at those path-months only (``Schedule.at``) and summed per path; the monthly cost is built
    only for the first ``fan_paths`` paths, the ones kept for the fan chart.
    """
    t = build_terms(terms.raw, utilization_pct=d.utilization, delivery_delay_months=d.delay, discount_rate_pct=d.discount)
    s = summarize(build_schedule(t, require_delivery=False), require_finite=False)  # a delay may leave a path no hours
    sch = s.schedule
    n, m = sch.shape

    def per_path(v: np.ndarray) -> np.ndarray:
        return np.bincount(rows, weights=v, minlength=n)

    inside = d.outage_month < m
    rows, cols, out = d.outage_path[inside], d.outage_month[inside], d.outage_days[inside]
    days, delivered, net, credit, active, discount = sch.at(
        rows, cols, "days", "delivered_gpu_hours", "net_fee_usd", "sla_credit_usd", "active", "discount_factor"
    )
    share_out = np.divide(np.minimum(out, days), days, out=np.zeros(rows.shape), where=days > 0)
    lost = delivered * share_out
    uptime = float(np.asarray(terms.expected_uptime_pct)[0]) * (1.0 - share_out)
    base_credit = credit_pct_for_uptime(np.asarray(terms.expected_uptime_pct, float)[:1], terms.sla_tiers)[0]
    extra = np.maximum(credit_pct_for_uptime(uptime, terms.sla_tiers) - base_credit, 0.0)
    credits = (net + credit) * extra / 100.0 * active
    replacement = lost * d.outage_spot[inside]
    pv = s["npv_usd"] - per_path(credits * discount)  # a credit is deducted from the payment of its month
    net_tcv = s["net_tcv_usd"] - per_path(credits)
    delivered_total = s["delivered_gpu_hours"] - per_path(lost)
    used_total = delivered_total * (d.utilization / 100.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # a path that delivers no hours (a delay past the term, outages every day) has no unit price: NaN, which
        # the summary leaves out of the statistics and counts (``undefined_paths``)
        per_used = np.where(used_total > 0, net_tcv / used_total, np.nan)
        per_delivered = np.where(delivered_total > 0, net_tcv / delivered_total, np.nan)
    # capacity a delay holds back is rented elsewhere meanwhile, month by month at the path's simulated reserved
    # price of that month (a delay is known at the due date, months ahead: reserved capacity, not spot); the hours
    # are those the on-time schedule delivers and the late one does not
    delay_cost = delay_cost_pv = np.zeros(n)
    if (d.delay > 0).any():
        on_time = build_schedule(build_terms(terms.raw, delivery_delay_months=0.0), require_delivery=False)
        missing = np.maximum(on_time.delivered_gpu_hours[:, :m] - sch.delivered_gpu_hours, 0.0) * d.reserved_price()[:, :m]
        delay_cost, delay_cost_pv = missing.sum(axis=1), (missing * sch.discount_factor).sum(axis=1)
    outage_cost = per_path(replacement)
    # the buyer's exit right: at the first exit date it may leave and rent the hours it uses at the path's market
    # price; it saves the fees after that date less that rent, when positive (zero without an exit right)
    exit_saving = np.zeros(n)
    if terms.notice_days is not None and terms.lockin_months is not None:
        after = (1.0 - sch.firm_fraction) * sch.active * sch.discount_factor
        fees_after = (sch.net_fee_usd * after).sum(axis=1)
        rent_after = (sch.delivered_gpu_hours * after).sum(axis=1) * (d.utilization / 100.0) * d.reserved_mean
        exit_saving = np.maximum(fees_after - rent_after, 0.0)
    values = {
        "usd_per_used_gpu_hour": per_used,
        "npv_usd": pv,
        "premium_to_market_pct": (per_delivered / d.reserved_mean - 1.0) * 100.0,
        "sla_credits_usd": per_path(credits),
        "replacement_cost_usd": outage_cost,
        "net_tcv_usd": net_tcv,
        "delay_replacement_usd": delay_cost,
        "all_in_cost_usd": net_tcv + outage_cost + delay_cost,
        "all_in_cost_npv_usd": pv + per_path(replacement * discount) + delay_cost_pv,
        "exit_saving_npv_usd": exit_saving,
    }
    kept = max(min(n, fan_paths), 0)
    monthly_cost = np.array(sch.head(kept).net_fee_usd, dtype=float)
    fan = rows < kept  # (row, col) pairs are distinct, so += adds each once
    monthly_cost[rows[fan], cols[fan]] += replacement[fan] - credits[fan]
    drivers = {
        "utilization_pct": d.utilization,
        "delivery_delay_months": d.delay,
        "discount_rate_pct": d.discount,
        "market_reserved_avg_usd_per_gpu_hour": d.reserved_mean,
        "outage_days_in_term": per_path(np.minimum(out, days)),
    }
    return PathResults(values, monthly_cost, drivers)


ChunkRunner = Callable[[Callable[[range], Any], list[range]], Iterator[Any]]  # runs a chunk function over chunks, in order


def dask_chunk_runner(client: Any) -> ChunkRunner:
    """Run chunks on a Dask distributed cluster; results come back in submission order (same numbers)."""

    def map_chunks(run: Callable[[range], Any], chunks: list[range]) -> Iterator[Any]:
        futures = client.map(run, chunks, pure=False)
        for future in futures:
            yield future.result()

    return map_chunks


def memory_bound_bytes(chunk_paths: int, n_months: int, n_paths: int = 0) -> int:
    """Peak working memory of a chunk, at most 20 float64 arrays of (chunk_paths, n_months) (measured: 6 with the
    default drivers, 17 at 12 outages a year, where outage events are most numerous before chunks shrink), plus
    the outputs held for the summary: 8 bytes a path an output up to KEEP_PATHS paths, else those of the first
    KEEP_PATHS paths (they place the windows) and what the one-pass summary keeps, at most its budget (see
    engine.quantiles)."""
    held = n_paths * len(OUTPUTS) * 8 if n_paths <= KEEP_PATHS else KEEP_PATHS * len(OUTPUTS) * 8 + STREAM_BUDGET_BYTES
    return 20 * 8 * chunk_paths * n_months + held


def check_run(n_paths: int, seed: int, chunk_paths: int, n_months: int, max_paths: int = 100_000_000) -> None:
    """InputError naming the option, the range and the value for a run the machine should not attempt."""
    issues = []
    if not 1 <= n_paths <= max_paths:
        issues.append(Issue("paths", "range", f"paths must be from 1 to {max_paths:,}, got {n_paths}", n_paths))
    if not 0 <= seed <= MAX_SEED:
        issues.append(Issue("seed", "range", f"seed must be a whole number from 0 to {MAX_SEED:,}, got {seed}", seed))
    if chunk_paths < 1 or min(chunk_paths, n_paths) > MAX_CHUNK_PATHS:  # a chunk past the run's paths is the run
        gb = memory_bound_bytes(max(chunk_paths, 1), n_months) / 1e9
        message = f"chunk_paths must be from 1 to {MAX_CHUNK_PATHS:,} (a chunk of {chunk_paths:,} paths needs about {gb:,.1f} GB)"
        issues.append(Issue("chunk_paths", "range", f"{message}, got {chunk_paths}", chunk_paths))
    if issues:
        raise InputError(issues)


def blocks_for(n_paths: int) -> int:
    return -(-n_paths // BLOCK_PATHS)


def run_blocks(terms: DealTerms, model: RiskModel, seed: int, blocks: range) -> PathResults:
    """Blocks ``blocks`` of the simulation, concatenated (a chunk); the unit a Dask worker would run."""
    n_months = int(np.asarray(terms.months_billed).max())
    # draws are made block by block (each block its own stream, so chunking never changes them);
    # the engine then runs once over the whole chunk
    fan_paths = FAN_SAMPLE_PATHS - blocks.start * BLOCK_PATHS  # the fan chart keeps the first paths only
    return simulate_block(terms, draw_blocks(model, terms, seed, blocks, n_months), fan_paths)


@dataclass
class Simulation:
    """Results of ``n_paths`` paths: the summary of every output, a fan-chart sample of monthly cost, and the
    per-path outputs themselves when there are at most :data:`engine.quantiles.KEEP_PATHS` paths (else None)."""

    n_paths: int
    seed: int
    values: dict[str, np.ndarray] | None
    fan_sample: np.ndarray
    model: RiskModel
    summary: Summary
    sample_drivers: dict[str, np.ndarray] = field(default_factory=dict)  # the first paths' draws, for the correlations
    sample_outputs: dict[str, np.ndarray] = field(default_factory=dict)

    def rank_correlation(self) -> list[dict[str, float | str | None]]:
        """Spearman's rank correlation of every driver with NPV and $/used GPU-hour over the first paths."""
        return rank_correlations(self.sample_drivers, self.sample_outputs)

    def stats(self) -> dict[str, dict[str, float]]:
        """P5, P50, P95 and mean of every output."""
        return self.summary.stats

    def fan(self) -> dict[str, list[float]]:
        q = np.percentile(self.fan_sample, [5, 50, 95], axis=0)
        return {"p5": q[0].tolist(), "p50": q[1].tolist(), "p95": q[2].tolist()}

    def histogram(self, output: str = "npv_usd") -> dict[str, list[float]]:
        """20 bins between the output's smallest and largest value (NPV's is kept)."""
        return self.summary.histograms[output]


def simulate(
    terms: DealTerms,
    n_paths: int,
    seed: int,
    model: RiskModel | None = None,
    *,
    chunk_paths: int = DEFAULT_CHUNK_PATHS,
    progress: Callable[[int, int], None] | None = None,
    map_chunks: ChunkRunner | None = None,
    keep_paths: int = KEEP_PATHS,
) -> Simulation:
    """Simulate ``n_paths`` paths of a single deal (``terms`` with one scenario).

    ``chunk_paths`` is rounded up to whole blocks of 256 paths; results do not depend on it. ``map_chunks``
    runs the chunks elsewhere (a Dask cluster); by default they run here, one after another. Above
    ``keep_paths`` paths the outputs are not kept but summarised in two streamed passes (the same numbers,
    memory bounded whatever ``n_paths``; see :mod:`engine.quantiles`).
    """
    if terms.n_scenarios != 1:
        raise InputError(Issue("scenarios", "shape", "simulate one deal at a time (one scenario)", terms.n_scenarios))
    check_run(n_paths, seed, chunk_paths, int(np.asarray(terms.months_billed).max()))
    model = model or default_risk(terms)
    if model.utilization is None or model.discount_rate_pct is None:
        model = replace(model, utilization=model.utilization or default_risk(terms).utilization,
                        discount_rate_pct=model.discount_rate_pct or default_risk(terms).discount_rate_pct)  # fmt: skip
    if model.outages_per_year > 12.0:  # outage events are held one by one until merged: fewer paths a chunk
        chunk_paths = int(chunk_paths * 12.0 / model.outages_per_year)
    per_chunk = max(1, -(-chunk_paths // BLOCK_PATHS))
    n_blocks = blocks_for(n_paths)
    chunks = [range(b, min(b + per_chunk, n_blocks)) for b in range(0, n_blocks, per_chunk)]
    fan: list[np.ndarray] = []
    sample: list[PathResults] = []  # drivers and outputs of the first paths, for the rank correlations

    run = functools.partial(run_blocks, terms, model, seed)  # a module function: worker processes can unpickle it

    def outputs() -> Iterator[dict[str, np.ndarray]]:
        results = map_chunks(run, chunks) if map_chunks is not None else (run(c) for c in chunks)
        first_pass = not fan
        kept = 0
        for r in results:
            if first_pass and kept < CORRELATION_PATHS:  # the fan chart's and the correlations' paths
                fan.append(r.monthly_cost[: max(FAN_SAMPLE_PATHS - kept, 0)])
                sample.append(r)
                kept += r.values["npv_usd"].shape[0]
            yield r.values

    threads = int(getattr(map_chunks, "workers", 1))  # a local pool's cores are free once its last chunk is in
    summary = summarise(outputs, n_paths, OUTPUTS, keep=keep_paths, progress=progress, histograms=("npv_usd",),
                        threads=threads)  # fmt: skip
    fan_sample = np.concatenate(fan)[: min(n_paths, FAN_SAMPLE_PATHS)]
    cut = min(n_paths, CORRELATION_PATHS)
    drivers = {k: np.concatenate([r.drivers[k] for r in sample])[:cut] for k in sample[0].drivers}
    outs = {k: np.concatenate([r.values[k] for r in sample])[:cut] for k in CORRELATION_OUTPUTS}
    return Simulation(n_paths, seed, summary.values, fan_sample, model, summary, drivers, outs)
