"""A deal's GPUs and power per GPU, from its terms and the catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.sizing import fleet_profile, gpus_from_mw, kw_per_gpu

if TYPE_CHECKING:
    from engine.terms import DealTerms


@dataclass(frozen=True)
class DealCapacity:
    """GPUs and per-GPU figures of a deal; arrays of shape (1,) or (n_scenarios,).

    ``sized_from_power`` is True when the GPU count was blank and comes from
    ``floor(facility_mw x 1000 / kw_per_gpu)``. ``kw_per_gpu`` is the deal's
    ``kw_per_gpu`` input when given, else the catalogue's typical server draw x
    (1 + network overhead) x PUE; ``powered_gpus`` = min(GPUs, what the
    facility's power feeds at that kW).
    """

    gpus: np.ndarray
    kw_per_gpu: np.ndarray
    powered_gpus: np.ndarray
    server_kw_per_gpu: float
    draw_kw_per_gpu: float
    dense_bf16_tflops: float
    dense_fp8_tflops: float
    sized_from_power: bool


def deal_capacity(terms: DealTerms) -> DealCapacity:
    """GPUs of a deal: the fleet's total, the given ``gpu_count``, or sized from power."""
    if terms.fleet:
        prof = fleet_profile([e.gpu_sku for e in terms.fleet], [e.gpu_count for e in terms.fleet])
    else:
        prof = fleet_profile([terms.gpu_sku])
    kw = kw_per_gpu(prof.draw_kw_per_gpu, terms.network_overhead_pct, terms.pue)
    if terms.kw_per_gpu is not None:  # the all-in figure given: it replaces the catalogue, PUE and overhead
        kw = np.asarray(terms.kw_per_gpu, float)
    if terms.fleet:
        gpus, sized = np.array([prof.gpus]), False
    elif terms.gpu_count is not None:
        gpus, sized = terms.gpu_count, False
    else:
        gpus, sized = gpus_from_mw(terms.facility_mw, kw), True
    gpus = np.asarray(gpus, float)
    return DealCapacity(
        gpus=gpus,
        kw_per_gpu=np.asarray(kw, float),
        powered_gpus=np.minimum(gpus, gpus_from_mw(terms.facility_mw, kw)),
        server_kw_per_gpu=prof.server_kw_per_gpu,
        draw_kw_per_gpu=prof.draw_kw_per_gpu,
        dense_bf16_tflops=prof.dense_bf16_tflops,
        dense_fp8_tflops=prof.dense_fp8_tflops,
        sized_from_power=sized,
    )
