"""Warnings for legal but inconsistent inputs, each with its arithmetic.

Real deals and press figures contain such inconsistencies (220,000 GPUs
announced for a 300 MW site), so they are reported beside the results and
never refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from engine.capacity import deal_capacity
from engine.catalogue import market_prices
from engine.errors import InputWarning
from engine.fields import FIELDS

if TYPE_CHECKING:
    from engine.terms import DealTerms

FAR_FROM_MARKET = 3.0
"""A price more than 3x the top of the catalogue range (or under a third of its bottom) is flagged."""


def _scenario_note(mask: np.ndarray) -> tuple[int, str]:
    i = int(np.flatnonzero(mask)[0])
    return i, (f" (in {int(mask.sum()):,} of {mask.size:,} cases)" if mask.size > 1 else "")


def consistency_warnings(terms: DealTerms) -> list[InputWarning]:
    """Every legal-but-inconsistent input of ``terms``, as warnings with the arithmetic."""
    out: list[InputWarning] = []
    cap = deal_capacity(terms)
    gpus, kw, mw = np.broadcast_arrays(cap.gpus, cap.kw_per_gpu, terms.facility_mw)
    need_mw = gpus * kw / 1000.0
    over = need_mw > mw * (1 + 1e-9)
    if not cap.sized_from_power and over.any():
        i, note = _scenario_note(over)
        pue = float(np.broadcast_to(terms.pue, over.shape)[i])
        ovh = float(np.broadcast_to(terms.network_overhead_pct, over.shape)[i])
        feeds = int(np.floor(mw[i] * 1000.0 / kw[i]))
        how = (f"kw_per_gpu {kw[i]:g} kW all-in" if terms.kw_per_gpu is not None else
               f"{kw[i]:.3f} kW all-in ({cap.draw_kw_per_gpu:.3f} kW typical server draw x (1 + {ovh:g}% network) x "
               f"PUE {pue:g})")  # fmt: skip
        out.append(
            InputWarning(
                "gpu_count" if not terms.fleet else "fleet",
                "power",
                f"{gpus[i]:,.0f} GPUs x {how} = {need_mw[i]:,.1f} MW, more than facility_mw {mw[i]:,.1f} MW; that "
                f"power feeds {feeds:,} GPUs (powered_gpus; usd_per_powered_gpu_hour prices those){note}",
            )
        )
    for f in FIELDS:
        if f.name.endswith("_pct"):
            v = getattr(terms, f.name)
            if v is None:
                continue
            frac = (v > 0) & (v < 1)
            if frac.any():
                i, note = _scenario_note(frac)
                out.append(
                    InputWarning(
                        f.name,
                        "looks_like_fraction",
                        f"{f.name} is {float(v[i]):g}, which is under 1%; percentages are typed as "
                        f"numbers of percent (90 for 90%), did you mean {float(v[i]) * 100:g}?{note}",
                    )
                )
    prices = market_prices()
    skus = terms.skus
    low = min(prices[s].low_usd_per_gpu_hour for s in skus)
    high = max(prices[s].high_usd_per_gpu_hour for s in skus)
    m = terms.market_usd_per_gpu_hour
    outside = (m < low) | (m > high)
    if outside.any():
        i, note = _scenario_note(outside)
        out.append(
            InputWarning(
                "market_usd_per_gpu_hour",
                "market_range",
                f"market_usd_per_gpu_hour {float(m[i]):g} is outside the catalogue range "
                f"${low:g}-${high:g} per GPU-hour for {', '.join(skus)}{note}",
            )
        )
    return out


def result_warnings(t: DealTerms, values: Mapping[str, np.ndarray]) -> list[InputWarning]:
    """Warnings that need the computed deal: a price far outside the market, a deal dearer than the market.

    Arrays of shape (n_scenarios,); the message names the first scenario flagged.
    """
    out: list[InputWarning] = []
    prices = market_prices()
    low = min(prices[s].low_usd_per_gpu_hour for s in t.skus)
    high = max(prices[s].high_usd_per_gpu_hour for s in t.skus)
    per_hour = values["usd_per_gpu_hour"]
    far = (per_hour > high * FAR_FROM_MARKET) | (per_hour < low / FAR_FROM_MARKET)
    if far.any():
        i, note = _scenario_note(far)
        out.append(
            InputWarning(
                "monthly_fee_usd",
                "far_from_market",
                f"net TCV {values['net_tcv_usd'][i]:,.0f} USD / {values['delivered_gpu_hours'][i]:,.0f} delivered GPU-hours = "
                f"${per_hour[i]:.2f} per GPU-hour, far outside the market range ${low:g}-${high:g} for {', '.join(t.skus)}{note}",
            )
        )
    used = values["usd_per_used_gpu_hour"]
    market = values["market_usd_per_gpu_hour"]
    dearer = used > market
    if dearer.any():
        i, note = _scenario_note(dearer)
        util = float(np.broadcast_to(t.utilization_pct, dearer.shape)[i])
        out.append(
            InputWarning(
                "utilization_pct",
                "dearer_than_market",
                f"at {util:g}% utilisation each used GPU-hour costs ${used[i]:.2f}, more than the ${market[i]:.2f} market price: "
                f"the deal beats renting only above {values['breakeven_utilization_pct'][i]:.0f}% utilisation"
                f"{' (never)' if values['breakeven_utilization_pct'][i] > 100 else ''}{note}",
            )
        )
    return out
