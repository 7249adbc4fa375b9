"""Monte Carlo risk of a deal and a portfolio: price paths, utilisation, late delivery, outages (discount rate opt-in).

Everything is drawn with an injected seed, path by path along axis 0,
one block of :data:`BLOCK_PATHS` paths at a time from its own stream
(``SeedSequence(seed, spawn_key=(block,))``), so path ``i`` gets the same numbers
whatever the chunk size; chunks are whole blocks, processed one after
another so memory stays bounded (see :func:`memory_bound_bytes`), and the
outputs are summarised by :mod:`engine.quantiles` in bounded memory too.

Drivers and their default distributions (docs/how-to/monte-carlo.md; ASSUMED where the
reference sheet has no figure):

* market reserved and spot prices: separate geometric random walks, monthly
  steps, annual volatility 40% each (H100 moved about 40% in a year both ways,
  SemiAnalysis via theinformationmachine.fyi, Oct 2025 - Jun 2026), correlation -0.3 (they moved in opposite
  directions), no drift; start at the deal's market price and at spot = market
  x 2.42 / 2.65 (the H100 ratio in June 2026) unless the spot start is given;
* utilisation: triangular from base - 20 points to min(base + 5, 100), mode base;
* delivery delay: 0, 1 or 3 months with probabilities 0.7, 0.2, 0.1;
* outages: Poisson, 1 a year, each lasting a whole number of days uniform from 1 to 7;
* discount rate: fixed at the deal's rate. It is the analyst's valuation choice, not a risk: it is simulated only
  when the Risk block gives it a distribution (opt in), and the tornado shows it apart, as a "valuation" row.

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

The package: ``model`` (drivers, distributions, the Risk block), ``analysis`` (rank correlations, tornado,
data tables), ``paths`` (drawing and simulating a deal's paths), ``portfolio`` (a portfolio's paths). It imports
only the engine's own modules; everything public is re-exported here.
"""

from __future__ import annotations

from engine.risk.analysis import (
    CORRELATION_PATHS,
    TORNADO_OUTPUTS,
    _average_ranks,
    data_table,
    rank_correlations,
    tornado,
)
from engine.risk.model import (
    BLOCK_PATHS,
    DEFAULT_CHUNK_PATHS,
    DIST_PARAMS,
    DISTRIBUTIONS,
    FAN_SAMPLE_PATHS,
    MAX_CHUNK_PATHS,
    MAX_SEED,
    MAX_TABLE_CELLS,
    MODEL_FIELD,
    RISK_DISTS,
    RISK_SCALARS,
    SCALAR_RANGES,
    SPOT_TO_RESERVED,
    Dist,
    RiskModel,
    build_risk,
    default_risk,
    fixed_risk,
    parse_dist,
    scalar_driver,
)
from engine.risk.paths import (
    OUTPUTS,
    ChunkRunner,
    Draws,
    PathResults,
    Simulation,
    blocks_for,
    check_run,
    dask_chunk_runner,
    draw_block,
    draw_blocks,
    draw_outages,
    memory_bound_bytes,
    merge_outages,
    run_blocks,
    simulate,
    simulate_block,
)
from engine.risk.portfolio import (
    PORTFOLIO_CORRELATED,
    PORTFOLIO_OUTPUTS,
    PORTFOLIO_RISK_KEYS,
    VENDOR_RISK_KEYS,
    PortfolioRisk,
    PortfolioSimulation,
    VendorOutages,
    build_portfolio_risk,
    portfolio_paths,
    simulate_portfolio,
    summarise_portfolio,
)

__all__ = [
    "BLOCK_PATHS",
    "CORRELATION_PATHS",
    "DEFAULT_CHUNK_PATHS",
    "DISTRIBUTIONS",
    "DIST_PARAMS",
    "FAN_SAMPLE_PATHS",
    "MAX_CHUNK_PATHS",
    "MAX_SEED",
    "MAX_TABLE_CELLS",
    "MODEL_FIELD",
    "OUTPUTS",
    "PORTFOLIO_CORRELATED",
    "PORTFOLIO_OUTPUTS",
    "PORTFOLIO_RISK_KEYS",
    "RISK_DISTS",
    "RISK_SCALARS",
    "SCALAR_RANGES",
    "SPOT_TO_RESERVED",
    "TORNADO_OUTPUTS",
    "VENDOR_RISK_KEYS",
    "ChunkRunner",
    "Dist",
    "Draws",
    "PathResults",
    "PortfolioRisk",
    "PortfolioSimulation",
    "RiskModel",
    "Simulation",
    "VendorOutages",
    "_average_ranks",
    "blocks_for",
    "build_portfolio_risk",
    "build_risk",
    "check_run",
    "dask_chunk_runner",
    "data_table",
    "default_risk",
    "draw_block",
    "draw_blocks",
    "draw_outages",
    "fixed_risk",
    "memory_bound_bytes",
    "merge_outages",
    "parse_dist",
    "portfolio_paths",
    "rank_correlations",
    "run_blocks",
    "scalar_driver",
    "simulate",
    "simulate_block",
    "simulate_portfolio",
    "summarise_portfolio",
    "tornado",
]
