"""Monte Carlo risk of a deal: price paths, utilisation, late delivery, outages, discount rate.

Everything is drawn with an injected seed, path by path along axis 0,
one block of :data:`BLOCK_PATHS` paths at a time from its own stream
(``SeedSequence(seed, spawn_key=(block,))``), so path ``i`` gets the same numbers
whatever the chunk size; chunks are whole blocks, processed one after
another so memory stays bounded (see :func:`memory_bound_bytes`), and the
outputs are summarised by :mod:`engine.quantiles` in bounded memory too.

Drivers and their default distributions (README, "Risk"; ASSUMED where the
reference sheet has no figure):

* market reserved and spot prices: separate geometric random walks, monthly
  steps, annual volatility 40% each (H100 moved about 40% in a year both ways,
  deal-facts section 4E), correlation -0.3 (they moved in opposite
  directions), no drift; start at the deal's market price and at spot = market
  x 2.42 / 2.65 (the H100 ratio in June 2026) unless the spot start is given;
* utilisation: triangular from base - 20 points to min(base + 5, 100), mode base;
* delivery delay: 0, 1 or 3 months with probabilities 0.7, 0.2, 0.1;
* outages: Poisson, 1 a year, each lasting a whole number of days uniform from 1 to 7;
* discount rate: normal, sd 1 point.

Per path: the deal is rebuilt with that path's utilisation, delay and
discount rate (the engine's scenario axis); outages remove GPU-hours and lower
that month's uptime, so the contract's SLA tiers give credits back; lost hours
are replaced at that path's spot price.

What is drawn is what the outputs read. The reserved walk enters only as its
average over the term (the premium to market), so it is drawn in full,
``(n_paths, n_months - 1)`` standard normal steps, and reduced at once. The spot
walk enters only where lost hours are bought, so it is drawn only at the outage
months: its own random part by independent increments over the gaps between a
path's outage months, plus ``correlation`` x the reserved walk there, which is
exactly the joint distribution of the two full walks at those months. Outages
are held sparse (one entry per path-month with an outage, a few in a hundred).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from engine.errors import InputError, Issue
from engine.quantiles import FINE_BINS, KEEP_PATHS, Summary, summarise
from engine.schedule import build_schedule, credit_pct_for_uptime
from engine.summary import summarize
from engine.terms import DealTerms, build_terms

BLOCK_PATHS = 256
MAX_CHUNK_PATHS = 65_536
"""A chunk's arrays are (chunk paths x months); beyond this they defeat the memory bound the chunks exist for."""
MAX_SEED = 2**64 - 1
MAX_TABLE_CELLS = 10_000
"""A data table is one engine call over rows x columns deals: 10,000 (100 x 100) stays within a few hundred MB."""
DEFAULT_CHUNK_PATHS = 4096  # fastest measured (arrays of 4,096 x 60 float64, 2 MB, stay in cache); 8,192 was ~8% slower
FAN_SAMPLE_PATHS = 4096  # paths whose monthly cost is kept for the fan chart
SPOT_TO_RESERVED = 2.42 / 2.65
DISTRIBUTIONS = ("fixed", "normal", "lognormal", "triangular", "uniform", "discrete")


@dataclass(frozen=True)
class Dist:
    """A distribution: ``kind`` and its parameters (see :data:`DISTRIBUTIONS`).

    normal(mean, sd), lognormal(mean, sd of the log), triangular(low, mode, high), uniform(low, high),
    discrete(values, probabilities), fixed(value).
    """

    kind: str
    a: float = 0.0
    b: float = 0.0
    c: float = 0.0
    values: tuple[float, ...] = ()
    probabilities: tuple[float, ...] = ()

    def draw(self, rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
        if self.kind == "fixed":
            return np.full(size, self.a)
        if self.kind == "normal":
            return rng.normal(self.a, self.b, size)
        if self.kind == "lognormal":
            return rng.lognormal(np.log(self.a) - self.b**2 / 2, self.b, size)  # mean a
        if self.kind == "triangular":
            if self.a == self.c:
                return np.full(size, self.a)
            return rng.triangular(self.a, self.b, self.c, size)
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b, size)
        return rng.choice(np.asarray(self.values, float), size=size, p=np.asarray(self.probabilities, float))


@dataclass(frozen=True)
class RiskModel:
    """The drivers of one deal's simulation (defaults from :func:`default_risk`)."""

    reserved_vol_pct: float = 40.0
    spot_vol_pct: float = 40.0
    reserved_drift_pct: float = 0.0
    spot_drift_pct: float = 0.0
    spot_start_usd_per_gpu_hour: float | None = None  # None: the deal's market price x SPOT_TO_RESERVED
    price_correlation: float = -0.3
    utilization: Dist | None = None
    delivery_delay_months: Dist = field(default_factory=lambda: Dist("discrete", values=(0, 1, 3), probabilities=(0.7, 0.2, 0.1)))
    outages_per_year: float = 1.0
    outage_days: Dist = field(default_factory=lambda: Dist("uniform", 1, 8))  # whole days 1-7: floor of uniform(1, 8)
    discount_rate_pct: Dist | None = None


def default_risk(terms: DealTerms) -> RiskModel:
    u = float(np.asarray(terms.utilization_pct)[0])
    r = float(np.asarray(terms.discount_rate_pct)[0])
    return RiskModel(utilization=Dist("triangular", max(u - 20.0, 0.01), u, min(u + 5.0, 100.0)),
                     discount_rate_pct=Dist("normal", r, 1.0))  # fmt: skip


def fixed_risk(terms: DealTerms) -> RiskModel:
    """No uncertainty at all: the simulation must reproduce the deterministic schedule."""
    u = float(np.asarray(terms.utilization_pct)[0])
    r = float(np.asarray(terms.discount_rate_pct)[0])
    return RiskModel(reserved_vol_pct=0.0, spot_vol_pct=0.0, utilization=Dist("fixed", u), delivery_delay_months=Dist("fixed", 0),
                     outages_per_year=0.0, discount_rate_pct=Dist("fixed", r))  # fmt: skip


@dataclass
class Draws:
    """The random inputs of a block (or a chunk) of paths.

    Per path (n,): utilisation, delivery delay, discount rate and the market reserved price averaged over
    the term's months. Outages are sparse, one entry per path-month with an outage, sorted by path then
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
    return Draws(util, delay, discount, reserved_mean, path, month, days, spot)


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


OUTPUTS = ("usd_per_used_gpu_hour", "npv_usd", "premium_to_market_pct", "sla_credits_usd", "replacement_cost_usd", "net_tcv_usd")


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
    values = {
        "usd_per_used_gpu_hour": per_used,
        "npv_usd": pv,
        "premium_to_market_pct": (per_delivered / d.reserved_mean - 1.0) * 100.0,
        "sla_credits_usd": per_path(credits),
        "replacement_cost_usd": per_path(replacement),
        "net_tcv_usd": net_tcv,
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
    the outputs held for the summary: 8 bytes a path an output up to KEEP_PATHS paths, else the streamed
    summary's fine histograms (see engine.quantiles)."""
    held = n_paths * len(OUTPUTS) * 8 if n_paths <= KEEP_PATHS else (FINE_BINS + 2) * len(OUTPUTS) * 8
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

    def run(blocks: range) -> PathResults:
        return run_blocks(terms, model, seed, blocks)

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

    summary = summarise(outputs, n_paths, OUTPUTS, keep=keep_paths, progress=progress, histograms=("npv_usd",))
    fan_sample = np.concatenate(fan)[: min(n_paths, FAN_SAMPLE_PATHS)]
    cut = min(n_paths, CORRELATION_PATHS)
    drivers = {k: np.concatenate([r.drivers[k] for r in sample])[:cut] for k in sample[0].drivers}
    outs = {k: np.concatenate([r.values[k] for r in sample])[:cut] for k in TORNADO_OUTPUTS}
    return Simulation(n_paths, seed, summary.values, fan_sample, model, summary, drivers, outs)


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


TORNADO_OUTPUTS = ("npv_usd", "usd_per_used_gpu_hour")


def tornado(terms: DealTerms, model: RiskModel, outputs: tuple[str, ...] = TORNADO_OUTPUTS) -> list[dict[str, float | str]]:
    """Each driver alone at its 5th and 95th percentile (others at base): one vectorised engine call.

    Percentiles of each driver come from 20,000 draws of its distribution (seed 0).
    """
    rng = np.random.default_rng(0)
    assert model.utilization is not None and model.discount_rate_pct is not None
    drivers = {
        "utilization_pct": np.clip(model.utilization.draw(rng, (20_000,)), 0.01, 100.0),
        "discount_rate_pct": np.clip(model.discount_rate_pct.draw(rng, (20_000,)), -50.0, 100.0),
        "delivery_delay_months": np.clip(np.round(model.delivery_delay_months.draw(rng, (20_000,))), 0, 1200),
    }
    market = float(np.asarray(terms.market_usd_per_gpu_hour)[0])
    years = float(np.asarray(terms.months_billed)[0]) / 12.0
    sigma = model.reserved_vol_pct / 100.0 * np.sqrt(years / 2.0)  # the average price over the term varies about half as much
    drivers["market_usd_per_gpu_hour"] = market * np.exp(rng.normal(-(sigma**2) / 2.0, sigma, 20_000))
    base = {k: float(np.asarray(getattr(terms, k))[0]) for k in drivers}
    lows = {k: float(np.percentile(v, 5)) for k, v in drivers.items()}
    highs = {k: float(np.percentile(v, 95)) for k, v in drivers.items()}
    names = list(drivers)
    n = 1 + 2 * len(names)
    arrays = {k: np.full(n, base[k]) for k in names}
    for i, k in enumerate(names):
        arrays[k][1 + 2 * i] = lows[k]
        arrays[k][2 + 2 * i] = highs[k]
    arrays["delivery_delay_months"] = np.round(arrays["delivery_delay_months"])
    # a delay at its P95 may leave a short deal no hours: its unit prices are NaN (no value), never a refusal
    s = summarize(build_schedule(build_terms(terms.raw, **arrays), require_delivery=False), require_finite=False)
    rows: list[dict[str, float | str]] = []
    for i, k in enumerate(names):
        row: dict[str, float | str] = {"driver": k, "low_input": lows[k], "high_input": highs[k]}
        for o in outputs:
            row[f"{o}_at_low"] = float(s[o][1 + 2 * i])
            row[f"{o}_at_high"] = float(s[o][2 + 2 * i])
            row[f"{o}_swing"] = abs(float(s[o][2 + 2 * i]) - float(s[o][1 + 2 * i]))
        rows.append(row)
    return sorted(rows, key=lambda r: -np.nan_to_num(float(r[f"{outputs[0]}_swing"]), nan=-1.0))


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


# ---------------------------------------------------------------- the Risk block (user distributions)

DIST_PARAMS = {
    "fixed": ("value",),
    "normal": ("mean", "sd"),
    "lognormal": ("mean", "sd_log"),
    "triangular": ("low", "mode", "high"),
    "uniform": ("low", "high"),
    "discrete": ("values", "probabilities"),
}
RISK_SCALARS = (
    "reserved_vol_pct",
    "spot_vol_pct",
    "reserved_drift_pct",
    "spot_drift_pct",
    "price_correlation",
    "outages_per_year",
    "spot_start_usd_per_gpu_hour",
)
RISK_DISTS = ("utilization_pct", "delivery_delay_months", "outage_days", "discount_rate_pct")
MODEL_FIELD = {"utilization_pct": "utilization"}  # vocabulary name -> RiskModel field


def _number(value: object) -> bool:
    """A finite int or float (not a bool; an int too large for a float is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def parse_dist(name: str, spec: object) -> Dist:
    """One distribution from ``{dist = "triangular", low = .., mode = .., high = ..}``; InputError naming the rule."""
    issues: list[Issue] = []

    def bad(message: str, value: object = None) -> None:
        issues.append(Issue(f"risk.{name}", "distribution", f"risk.{name}: {message}", value))

    if _number(spec):
        return Dist("fixed", float(spec))  # type: ignore[arg-type]
    if not isinstance(spec, dict):
        raise InputError(
            Issue(f"risk.{name}", "type", f"risk.{name} must be a number or a distribution table, got {spec!r}", spec)
        )
    kind = spec.get("dist")
    if kind not in DIST_PARAMS:
        raise InputError(
            Issue(f"risk.{name}.dist", "choice", f"risk.{name}.dist must be one of {', '.join(DIST_PARAMS)}, got {kind!r}", kind)
        )
    params = DIST_PARAMS[str(kind)]
    unknown = set(spec) - {"dist", *params}
    if unknown:
        bad(f"{', '.join(sorted(unknown))} is not a parameter of {kind} (its parameters: {', '.join(params)})")
    if kind == "discrete":
        values, probs = spec.get("values"), spec.get("probabilities")
        if not (isinstance(values, list) and isinstance(probs, list) and values and len(values) == len(probs)):
            bad("discrete needs values and probabilities, two lists of the same length", spec)
        elif not all(_number(v) for v in values) or not all(_number(p) and p >= 0 for p in probs):
            bad("values must be numbers and probabilities numbers >= 0", spec)
        elif abs(sum(probs) - 1.0) > 1e-9:
            bad(f"probabilities must add up to 1, got {sum(probs):g}", probs)
        if issues:
            raise InputError(issues)
        return Dist("discrete", values=tuple(float(v) for v in values), probabilities=tuple(float(p) for p in probs))  # type: ignore[union-attr]
    got = [spec.get(p) for p in params]
    for p, v in zip(params, got):
        if not _number(v):
            bad(f"{p} must be a number, got {v!r}", v)
    if issues:
        raise InputError(issues)
    a = [float(v) for v in got]  # type: ignore[arg-type]
    if kind in ("normal", "lognormal") and a[1] < 0:
        bad(f"{params[1]} must be >= 0, got {a[1]:g}", a[1])
    if kind == "lognormal" and a[0] <= 0:
        bad(f"mean must be > 0, got {a[0]:g}", a[0])
    if kind == "triangular" and not a[0] <= a[1] <= a[2]:
        bad(f"low <= mode <= high is required, got {a[0]:g}, {a[1]:g}, {a[2]:g}", a)
    if kind == "uniform" and not a[0] <= a[1]:
        bad(f"low <= high is required, got {a[0]:g}, {a[1]:g}", a)
    if issues:
        raise InputError(issues)
    return Dist(str(kind), *a[:3])  # type: ignore[arg-type]


def _collect(items: Iterable[tuple[str, object]], parse: Callable[[str, object], tuple[str, object]]) -> dict[str, object]:
    """``parse`` each (key, value) into (field, parsed value); every problem of every item is listed together."""
    issues: list[Issue] = []
    out: dict[str, object] = {}
    for key, value in items:
        try:
            field_name, parsed = parse(key, value)
            out[field_name] = parsed
        except InputError as exc:
            issues.extend(exc.issues)
    if issues:
        raise InputError(issues)
    return out


def build_risk(raw: dict[str, object] | None, terms: DealTerms) -> RiskModel:
    """The user's Risk block over the documented defaults; every problem listed, naming the driver and rule."""

    def parse(key: str, value: object) -> tuple[str, object]:
        if key in RISK_SCALARS:
            return key, scalar_driver(key, key, value)
        if key in RISK_DISTS:
            return MODEL_FIELD.get(key, key), parse_dist(key, value)
        known = ", ".join(RISK_SCALARS + RISK_DISTS)
        raise InputError(Issue(f"risk.{key}", "unknown", f"risk.{key} is not a risk driver; the drivers are: {known}", None))

    return replace(default_risk(terms), **_collect((raw or {}).items(), parse))  # type: ignore[arg-type]


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
    """Demand and outage uncertainty of a portfolio (defaults ASSUMED, README "Risk")."""

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

    def run(blocks: range) -> dict[str, np.ndarray]:
        return _portfolio_chunk(result, seed, portfolio_risk, blocks)

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
    from engine.sizing import HOURS_PER_AVERAGE_MONTH

    risk = risk or PortfolioRisk()
    p = result.portfolio
    m = p.n_months
    base_doubling = float(np.asarray(p.demand.revenue_doubling_months).reshape(-1)[0])
    base_revenue = float(np.asarray(p.demand.revenue_usd_per_year).reshape(-1)[0])
    gph = float(np.asarray(p.demand.gpu_hours_per_usd).reshape(-1)[0])
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
            demand = (base_revenue * level)[:, None] * 2.0 ** (j / doubling[:, None]) / 12.0 * gph
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


def _unwrap_fixed(value: object) -> object:
    """A Risk sheet row "fixed, 1" (``{"dist": "fixed", "value": 1}``) is the scalar 1; anything else as given."""
    if isinstance(value, dict) and value.get("dist") == "fixed" and set(value) <= {"dist", "value"}:
        return value.get("value")
    return value


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
SCALAR_RANGES = {
    "reserved_vol_pct": (0.0, 500.0),
    "spot_vol_pct": (0.0, 500.0),
    "reserved_drift_pct": (-100.0, 100.0),  # beyond, prices overflow within a term
    "spot_drift_pct": (-100.0, 100.0),
    "price_correlation": (-1.0, 1.0),
    "outages_per_year": (0.0, 500.0),
    "revenue_sd_log": (0.0, 5.0),  # a spread of e^5 = 148x a standard deviation is already extreme
    "spot_start_usd_per_gpu_hour": (0.01, 1000.0),  # the same bounds as a deal's market price
}


def scalar_driver(name: str, key: str, value: object) -> float:
    """A scalar driver's value (``fixed, v`` on a Risk sheet is v), or an InputError naming it, its range and the value."""
    value = _unwrap_fixed(value)
    lo, hi = SCALAR_RANGES[key]
    if not _number(value) or not lo <= float(value) <= hi:  # type: ignore[arg-type]
        shown = f"{float(value):g}" if _number(value) else repr(value)  # type: ignore[arg-type]
        raise InputError(
            Issue(f"risk.{name}", "range", f"risk.{name} must be a number from {lo:g} to {hi:g}, got {shown}", value)
        )
    return float(value)  # type: ignore[arg-type]


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
