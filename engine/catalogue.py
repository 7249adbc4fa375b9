"""The packaged reference data: GPU specs, market prices and SLA policies.

Each CSV under ``engine/data/`` carries a source and a date on every row.
They are read once, on first use, with the standard library only.
"""

from __future__ import annotations

import csv
import functools
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class GpuSpec:
    """One row of the GPU catalogue (``engine/data/gpus.csv``).

    Attributes are per GPU: ``tdp_w`` in watts, ``server_kw_per_gpu`` the
    server's nameplate (maximum) wall power divided by its GPUs (kW, before
    network overhead and PUE), ``typical_kw_per_gpu`` the facility power per
    GPU, all-in, that operators and filings report for running sites (kW, read
    at the reference PUE 1.2 and 10% network overhead; ``power_source`` says
    where), ``dense_bf16_tflops``/``dense_fp8_tflops`` dense (not sparse) peak
    TFLOPS, ``hbm_gb`` memory in GB.
    """

    gpu_sku: str
    vendor: str
    architecture: str
    tdp_w: float
    server_kw_per_gpu: float
    typical_kw_per_gpu: float
    dense_bf16_tflops: float
    dense_fp8_tflops: float
    hbm_gb: float
    source: str
    source_date: str
    power_source: str = ""
    power_source_date: str = ""

    @property
    def draw_kw_per_gpu(self) -> float:
        """The typical server draw per GPU (kW): the all-in record without the reference network overhead and PUE,
        so that another PUE or overhead moves the all-in figure (1.5 / (1.1 x 1.2) = 1.136 kW for H100, 89% of
        its 1.275 kW nameplate: real servers draw below their maximum)."""
        return self.typical_kw_per_gpu / ((1.0 + REFERENCE_NETWORK_OVERHEAD_PCT / 100.0) * REFERENCE_PUE)


REFERENCE_PUE = 1.2
REFERENCE_NETWORK_OVERHEAD_PCT = 10.0
"""The PUE and network overhead at which the catalogue's ``typical_kw_per_gpu`` is read (the model's defaults)."""


@dataclass(frozen=True)
class MarketPrice:
    """A reference rent for one SKU (``engine/data/market_prices.csv``), USD per GPU-hour."""

    gpu_sku: str
    reference_usd_per_gpu_hour: float
    low_usd_per_gpu_hour: float
    high_usd_per_gpu_hour: float
    basis: str
    source: str
    source_date: str


@dataclass(frozen=True)
class SlaTier:
    """A service credit: ``credit_pct`` of the monthly fee when uptime is below ``below_uptime_pct``."""

    below_uptime_pct: float
    credit_pct: float


GPU_SPEC_FIELDS = (
    "vendor",
    "architecture",
    "tdp_w",
    "server_kw_per_gpu",
    "typical_kw_per_gpu",
    "dense_bf16_tflops",
    "dense_fp8_tflops",
    "hbm_gb",
    "source",
    "source_date",
)


DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
"""The engine's packaged data (read with ``open``: importlib.resources would pull in zipfile and tempfile, about 5 ms
of every command's start-up, for files that are always on disk next to this module)."""


def _rows(name: str) -> list[dict[str, str]]:
    with open(os.path.join(DATA, name), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@functools.cache
def gpu_catalogue() -> dict[str, GpuSpec]:
    """All GPUs in the catalogue, by SKU."""
    out: dict[str, GpuSpec] = {}
    for r in _rows("gpus.csv"):
        out[r["gpu_sku"]] = GpuSpec(
            gpu_sku=r["gpu_sku"],
            vendor=r["vendor"],
            architecture=r["architecture"],
            tdp_w=float(r["tdp_w"]),
            server_kw_per_gpu=float(r["server_kw_per_gpu"]),
            typical_kw_per_gpu=float(r["typical_kw_per_gpu"]),
            dense_bf16_tflops=float(r["dense_bf16_tflops"]),
            dense_fp8_tflops=float(r["dense_fp8_tflops"]),
            hbm_gb=float(r["hbm_gb"]),
            source=r["source"],
            source_date=r["source_date"],
            power_source=r["power_source"],
            power_source_date=r["power_source_date"],
        )
    return out


@functools.cache
def market_prices() -> dict[str, MarketPrice]:
    """Reference market rents by SKU."""
    return {
        r["gpu_sku"]: MarketPrice(
            gpu_sku=r["gpu_sku"],
            reference_usd_per_gpu_hour=float(r["reference_usd_per_gpu_hour"]),
            low_usd_per_gpu_hour=float(r["low_usd_per_gpu_hour"]),
            high_usd_per_gpu_hour=float(r["high_usd_per_gpu_hour"]),
            basis=r["basis"],
            source=r["source"],
            source_date=r["source_date"],
        )
        for r in _rows("market_prices.csv")
    }


@functools.cache
def sla_policies() -> dict[str, tuple[SlaTier, ...]]:
    """Named SLA credit policies (``engine/data/sla_policies.csv``), tiers by descending threshold."""
    tiers: dict[str, list[SlaTier]] = {}
    for r in _rows("sla_policies.csv"):
        tiers.setdefault(r["sla_policy"], []).append(SlaTier(float(r["below_uptime_pct"]), float(r["credit_pct"])))
    return {k: tuple(sorted(v, key=lambda t: -t.below_uptime_pct)) for k, v in tiers.items()}


@dataclass(frozen=True)
class PricePoint:
    """One observed market price (``engine/data/market_history.csv``)."""

    gpu_sku: str
    kind: str  # reserved_1yr or spot: separate curves, they have moved in opposite directions
    month: str
    usd_per_gpu_hour: float
    source: str


@functools.cache
def market_history() -> tuple[PricePoint, ...]:
    """Observed reference prices by SKU, kind and month, oldest first."""
    rows = [
        PricePoint(r["gpu_sku"], r["kind"], r["month"], float(r["usd_per_gpu_hour"]), r["source"])
        for r in _rows("market_history.csv")
    ]
    return tuple(sorted(rows, key=lambda p: (p.gpu_sku, p.kind, p.month)))


@dataclass(frozen=True)
class CapexBasis:
    """Capex per GPU of one SKU (``engine/data/capex.csv``): the servers as quoted, plus the back-end network where
    the quote leaves it out, so every SKU's ``all_in_usd`` includes networking."""

    gpu_sku: str
    quoted_usd: float
    network_added_usd: float
    source: str
    network_source: str

    @property
    def all_in_usd(self) -> float:
        return self.quoted_usd + self.network_added_usd


@functools.cache
def capex_basis() -> dict[str, CapexBasis]:
    """Every SKU's capex basis, with the sources of the quote and of the network added."""
    return {
        r["gpu_sku"]: CapexBasis(
            r["gpu_sku"], float(r["capex_usd_per_gpu"]), float(r["network_usd_per_gpu"]), r["source"], r["network_source"]
        )
        for r in _rows("capex.csv")
    }


@functools.cache
def capex_per_gpu() -> dict[str, tuple[float, str]]:
    """All-in capex per GPU (servers and networking, for every SKU), USD, with its source."""
    return {k: (b.all_in_usd, f"{b.source}; network: {b.network_source}") for k, b in capex_basis().items()}


NETWORK_USD_PER_GPU = 6612.0
"""Back-end network per GPU in a three-tier fabric (E. Cheah, "H100 Freakonomics", Aug 2024: 2,560 switches, $92.2M,
and cables, $124.5M, for 32,768 GPUs): the network line of the seller's cost stack for a SKU whose all-in figure
includes it."""


def gpu_spec_value(gpu_sku: str, field: str) -> float | str:
    """One catalogue value, e.g. ``gpu_spec_value("H100-SXM", "tdp_w") == 700.0``.

    Raises ``KeyError`` with a readable message for an unknown SKU or field;
    callers that face users validate first.
    """
    spec = gpu_catalogue()[gpu_sku]
    if field not in GPU_SPEC_FIELDS:
        raise KeyError(field)
    value: float | str = getattr(spec, field)
    return value
