"""GPU sizing: facility power <-> GPUs, compute throughput, budgets and run times.

Every function broadcasts like a ufunc: pass scalars or arrays of any
compatible shapes and get an array of the broadcast shape. Units are in the
names: MW and kW of power, TFLOPS/PFLOPS of dense peak throughput, hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from engine.catalogue import gpu_catalogue

HOURS_PER_AVERAGE_MONTH = 8760.0 / 12.0
"""730 hours: a 365-day year over 12 months, used where no calendar month is given."""

_ROUND_TRIP_TOLERANCE = 1e-12
"""Relative slack in ``floor`` so that GPUs -> MW -> GPUs survives float rounding."""


def kw_per_gpu(server_kw_per_gpu: ArrayLike, network_overhead_pct: ArrayLike, pue: ArrayLike) -> np.ndarray:
    """All-in facility kW per GPU = server kW x (1 + network overhead) x PUE.

    The server kW is the typical draw (``GpuSpec.draw_kw_per_gpu``), not the nameplate: for H100 at PUE 1.2 and
    10% overhead, 1.136 kW gives 1.5 kW all-in, Colossus's 300 MW for 200,000 GPUs.

    >>> round(float(kw_per_gpu(1.5 / 1.32, 10, 1.2)), 4)
    1.5
    """
    return np.asarray(server_kw_per_gpu, float) * (1.0 + np.asarray(network_overhead_pct, float) / 100.0) * np.asarray(pue, float)


def gpus_from_mw(facility_mw: ArrayLike, kw_per_gpu_all_in: ArrayLike) -> np.ndarray:
    """GPUs a facility can feed = floor(facility MW x 1000 / all-in kW per GPU).

    >>> int(gpus_from_mw(300, 1.5))
    200000
    """
    with np.errstate(over="ignore"):  # beyond a float: inf, which the summary refuses as a figure (min() ignores it)
        exact = np.asarray(facility_mw, float) * 1000.0 / np.asarray(kw_per_gpu_all_in, float)
        return np.floor(exact * (1.0 + _ROUND_TRIP_TOLERANCE))


def mw_from_gpus(gpus: ArrayLike, kw_per_gpu_all_in: ArrayLike) -> np.ndarray:
    """Facility MW needed = GPUs x all-in kW per GPU / 1000.

    >>> round(float(mw_from_gpus(220_000, 1.5)), 2)
    330.0
    """
    return np.asarray(gpus, float) * np.asarray(kw_per_gpu_all_in, float) / 1000.0


def it_mw(facility_mw: ArrayLike, pue: ArrayLike) -> np.ndarray:
    """IT load MW = facility MW / PUE (GPU servers plus network and storage)."""
    return np.asarray(facility_mw, float) / np.asarray(pue, float)


def dense_pflops(gpus: ArrayLike, dense_tflops_per_gpu: ArrayLike) -> np.ndarray:
    """Fleet dense peak PFLOPS = GPUs x TFLOPS per GPU / 1000."""
    return np.asarray(gpus, float) * np.asarray(dense_tflops_per_gpu, float) / 1000.0


def flops_per_month(
    gpus: ArrayLike, dense_tflops_per_gpu: ArrayLike, mfu_pct: ArrayLike, hours: ArrayLike = HOURS_PER_AVERAGE_MONTH
) -> np.ndarray:
    """Useful FLOPs in a month = GPUs x TFLOPS x 1e12 x MFU x hours x 3600.

    >>> f"{float(flops_per_month(100_000, 989, 40)):.3e}"
    '1.040e+26'
    """
    return (
        np.asarray(gpus, float)
        * np.asarray(dense_tflops_per_gpu, float)
        * 1e12
        * np.asarray(mfu_pct, float)
        / 100.0
        * np.asarray(hours, float)
        * 3600.0
    )


def training_days(total_flops: ArrayLike, gpus: ArrayLike, dense_tflops_per_gpu: ArrayLike, mfu_pct: ArrayLike) -> np.ndarray:
    """Days a training run of ``total_flops`` takes on the fleet at the given MFU.

    >>> round(float(training_days(1e26, 100_000, 989, 40)), 1)
    29.3
    """
    per_second = np.asarray(gpus, float) * np.asarray(dense_tflops_per_gpu, float) * 1e12 * np.asarray(mfu_pct, float) / 100.0
    return np.asarray(total_flops, float) / per_second / 86400.0


def gpus_for_budget(
    budget_usd_per_month: ArrayLike, usd_per_gpu_hour: ArrayLike, hours: ArrayLike = HOURS_PER_AVERAGE_MONTH
) -> np.ndarray:
    """GPUs a monthly budget rents at a price: floor(budget / (price x hours)).

    >>> int(gpus_for_budget(1.25e9, 2.65))
    646161
    """
    exact = np.asarray(budget_usd_per_month, float) / (np.asarray(usd_per_gpu_hour, float) * np.asarray(hours, float))
    return np.floor(exact * (1.0 + _ROUND_TRIP_TOLERANCE))


@dataclass(frozen=True)
class FleetProfile:
    """Count-weighted per-GPU figures of a (possibly mixed) fleet.

    ``gpus`` is the total; per-GPU attributes are averages weighted by count.
    """

    skus: tuple[str, ...]
    counts: tuple[float, ...]
    server_kw_per_gpu: float
    draw_kw_per_gpu: float
    dense_bf16_tflops: float
    dense_fp8_tflops: float
    tdp_w: float

    @property
    def gpus(self) -> float:
        return float(sum(self.counts))


def fleet_profile(skus: Sequence[str], counts: Sequence[float] | None = None) -> FleetProfile:
    """Blend catalogue figures over a fleet; equal weights when counts are not given."""
    cat = gpu_catalogue()
    w = np.ones(len(skus)) if counts is None else np.asarray(counts, float)
    w_norm = w / w.sum()

    def blend(attr: str) -> float:
        return float(sum(getattr(cat[s], attr) * wi for s, wi in zip(skus, w_norm, strict=True)))

    return FleetProfile(
        skus=tuple(skus),
        counts=tuple(float(x) for x in w) if counts is not None else (),
        server_kw_per_gpu=blend("server_kw_per_gpu"),
        draw_kw_per_gpu=blend("draw_kw_per_gpu"),
        dense_bf16_tflops=blend("dense_bf16_tflops"),
        dense_fp8_tflops=blend("dense_fp8_tflops"),
        tdp_w=blend("tdp_w"),
    )


@dataclass(frozen=True)
class SizingResult:
    """What a facility holds or needs. Powers in MW, throughput in PFLOPS, FLOPs per 730-hour month."""

    facility_mw: float
    pue: float
    network_overhead_pct: float
    it_mw: float
    gpu_server_mw: float
    network_mw: float
    kw_per_gpu: float
    gpus_by_sku: dict[str, float]
    gpus: float
    required_facility_mw: float
    power_headroom_mw: float
    dense_bf16_pflops: float
    dense_fp8_pflops: float
    mfu_pct: float
    flops_per_month: float


def size_facility(
    facility_mw: float,
    fleet: Sequence[tuple[str, float | None]],
    pue: float = 1.2,
    network_overhead_pct: float = 10.0,
    mfu_pct: float = 40.0,
    *,
    kw_per_gpu_all_in: float | None = None,
) -> SizingResult:
    """Size a facility for a fleet; at most one SKU may have a blank count, which fills the remaining power.

    ``kw_per_gpu_all_in`` (the ``kw_per_gpu`` input) replaces every SKU's typical draw x (1 + overhead) x PUE.

    >>> r = size_facility(300, [("H100-SXM", None)])
    >>> int(r.gpus), round(r.kw_per_gpu, 3)
    (200000, 1.5)
    >>> r = size_facility(300, [("H100-SXM", 100_000), ("GB200", None)])
    >>> int(r.gpus_by_sku["GB200"])
    78575
    """
    cat = gpu_catalogue()
    kw = {s: float(kw_per_gpu(cat[s].draw_kw_per_gpu, network_overhead_pct, pue)) if kw_per_gpu_all_in is None
          else float(kw_per_gpu_all_in) for s, _ in fleet}  # fmt: skip
    fixed_kw = sum(kw[s] * float(n) for s, n in fleet if n is not None)
    counts: dict[str, float] = {}
    for s, n in fleet:
        if n is None:
            remaining_mw = max(facility_mw - fixed_kw / 1000.0, 0.0)
            counts[s] = counts.get(s, 0.0) + float(gpus_from_mw(remaining_mw, kw[s]))
        else:
            counts[s] = counts.get(s, 0.0) + float(n)
    total = sum(counts.values())
    required_kw = sum(kw[s] * n for s, n in counts.items())
    prof = fleet_profile(list(counts), list(counts.values())) if total > 0 else fleet_profile([fleet[0][0]])
    it = float(it_mw(facility_mw, pue))
    server_mw = sum(cat[s].draw_kw_per_gpu * n for s, n in counts.items()) / 1000.0  # typical draw, not nameplate
    if kw_per_gpu_all_in is not None:  # the all-in figure given: the servers' share is what is left after PUE and network
        server_mw = required_kw / 1000.0 / ((1.0 + network_overhead_pct / 100.0) * pue)
    return SizingResult(
        facility_mw=facility_mw,
        pue=pue,
        network_overhead_pct=network_overhead_pct,
        it_mw=it,
        gpu_server_mw=server_mw,
        network_mw=server_mw * network_overhead_pct / 100.0,
        kw_per_gpu=required_kw / total if total > 0 else kw[fleet[0][0]],
        gpus_by_sku=counts,
        gpus=total,
        required_facility_mw=required_kw / 1000.0,
        power_headroom_mw=facility_mw - required_kw / 1000.0,
        dense_bf16_pflops=float(dense_pflops(total, prof.dense_bf16_tflops)),
        dense_fp8_pflops=float(dense_pflops(total, prof.dense_fp8_tflops)),
        mfu_pct=mfu_pct,
        flops_per_month=float(flops_per_month(total, prof.dense_bf16_tflops, mfu_pct)),
    )
