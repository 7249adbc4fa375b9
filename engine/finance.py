"""Discounting in spreadsheet conventions, vectorised over scenarios.

``xnpv`` follows Excel's XNPV: cash flow ``k`` dated ``d_k`` is discounted by
``(1 + rate) ** -((d_k - d_0) / 365)``. IRR is numpy-financial's, never
hand-written.
"""

from __future__ import annotations

import numpy as np
import numpy_financial as npf
from numpy.typing import ArrayLike


def xnpv(rate: ArrayLike, cash_flows: ArrayLike, day_offsets: ArrayLike) -> np.ndarray:
    """Excel XNPV over the last axis.

    Parameters
    ----------
    rate : array_like, shape (n,) or scalar
        Annual effective rate as a fraction (0.09 for 9%).
    cash_flows : array_like, shape (n, m) or (m,)
        Cash flows; the first is the reference date.
    day_offsets : array_like, shape (n, m) or (m,)
        Days from the reference date (the first is normally 0).

    Returns
    -------
    ndarray, shape (n,) (or scalar-shaped for 1-D input)

    Examples
    --------
    >>> round(float(xnpv(0.1, [100, 110], [0, 365])), 10)
    200.0
    """
    r = np.asarray(rate, float)
    cf = np.asarray(cash_flows, float)
    t = np.asarray(day_offsets, float) / 365.0
    r_col = r[..., None] if r.ndim and cf.ndim > 1 else r
    return np.sum(cf * (1.0 + r_col) ** (-t), axis=-1)


def monthly_irr_annualised(cash_flows: np.ndarray) -> float | None:
    """Annual effective IRR, in %, of monthly cash flows; None without a sign change.

    Uses ``numpy_financial.irr`` on the monthly flows and compounds:
    ``(1 + r_month) ** 12 - 1``.

    >>> round(monthly_irr_annualised(np.array([-100.0] + [10.0] * 12)), 4)
    41.2999
    """
    flows = np.asarray(cash_flows, float)
    if not ((flows > 0).any() and (flows < 0).any()):
        return None
    r = _npf_irr(flows)
    if not np.isfinite(r) or r <= -1.0:
        return None
    r = _polish(flows, r)
    with np.errstate(over="ignore"):
        annual = float(np.expm1(12.0 * np.log1p(r)) * 100.0)
    return annual if np.isfinite(annual) else None


def _npf_irr(flows: np.ndarray) -> float:
    """numpy-financial's IRR, or NaN where its polynomial has no finite companion matrix (a leading flow so small,
    7e-310, that dividing by it overflows: numpy's eigenvalue solver then refuses the matrix)."""
    try:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return float(npf.irr(flows))
    except np.linalg.LinAlgError:
        return float("nan")


def _polish(flows: np.ndarray, r: float) -> float:
    """Newton steps on NPV(r) = sum of flow_k x (1 + r)^-k from numpy-financial's root: its polynomial-root solver
    leaves errors of ~1e-12 that differ between numpy builds; a few steps take the root to machine precision, so
    the same flows give the same IRR on every platform."""
    k = np.arange(flows.size, dtype=float)
    for _ in range(4):
        disc = (1.0 + r) ** -k
        slope = -float(np.dot(k * flows, disc)) / (1.0 + r)
        if slope == 0.0 or not np.isfinite(slope):
            break
        step = float(np.dot(flows, disc)) / slope
        if not np.isfinite(step) or abs(step) > 1e-6 * max(1.0, abs(r)):  # not near a root: keep numpy-financial's
            break
        r -= step
        if abs(step) <= 1e-16 * max(1.0, abs(r)):
            break
    return r


XIRR_GRID = np.unique(np.concatenate([np.linspace(-30.0, -3.0, 28), np.linspace(-3.0, 3.0, 241), np.linspace(3.0, 50.0, 48)]))
"""x = ln(1 + rate) where :func:`xirr` looks for sign changes: 0.025 apart between rates of -95% and +1,900%."""


XIRR_GRID_REACH = float(np.abs(XIRR_GRID).max())
XIRR_UNSCALED_SPAN = 600.0
"""Below this largest |x t| on the grid no discount factor e^(-x t) overflows (e^709 does), so the grid's NPVs are
computed as they are, not scaled row by row."""


def xirr(cash_flows: ArrayLike, day_offsets: ArrayLike) -> float | None:
    """Annual effective IRR, in %, of dated cash flows (Excel's XIRR): the rate at which :func:`xnpv` is zero.

    None without a sign change or without a root. Solved in x = ln(1 + r), where each term f_k e^(-x t_k) is smooth:
    a bracket where the NPV changes sign is found on a grid (:data:`XIRR_GRID`; the one nearest a rate of zero when
    there are several), then Newton steps kept inside the bracket (a bisection where a step would leave it) run to
    machine precision, so the NPV at the rate returned is zero to within about 1e-12 of the flows' size. The NPV is
    evaluated scaled by its largest discount factor, so no rate overflows: the scale changes neither its sign nor the
    Newton step.

    >>> round(xirr([-100.0, 110.0], [0, 365]), 10)
    10.0
    """
    f = np.asarray(cash_flows, float)
    t = np.asarray(day_offsets, float) / 365.0
    if not ((f > 0).any() and (f < 0).any()):
        return None

    def scaled(x: float) -> tuple[float, float, float]:
        """NPV, its slope and the size of the flows at x, all times the same positive factor."""
        e = -x * t
        w = np.exp(e - e.max())
        return float(np.dot(f, w)), float(np.dot(-t * f, w)), float(np.dot(np.abs(f), w))

    # the bracket: the NPV's signs on a grid of x from -30 (a rate of -100%) to 50 (e^50), finest near 0, all at once
    # (each row scaled by its largest discount factor); of the intervals where the sign changes, the one nearest
    # x = 0, as numpy-financial's IRR takes the root nearest a rate of zero
    unscaled = float(np.abs(t).max(initial=0.0)) * XIRR_GRID_REACH < XIRR_UNSCALED_SPAN
    e = -XIRR_GRID[:, None] * t[None, :]
    if unscaled:  # no discount factor on the grid overflows: the NPVs themselves, one product
        npv = np.exp(e) @ f
    else:  # each row scaled by its largest discount factor (the sign is all the bracket needs)
        npv = (np.exp(e - e.max(axis=1, keepdims=True)) * f).sum(axis=1)
    signs = np.sign(npv)
    change = np.flatnonzero(signs[:-1] * signs[1:] <= 0)
    if change.size == 0:
        return None
    k = int(change[np.argmin(np.abs(XIRR_GRID[change] + XIRR_GRID[change + 1]))])
    lo, hi = float(XIRR_GRID[k]), float(XIRR_GRID[k + 1])
    f_lo = scaled(lo)[0]
    if f_lo == 0.0:
        return float(np.expm1(lo) * 100.0)
    x = (lo + hi) / 2.0
    if unscaled and npv[k] != npv[k + 1]:  # start where the chord between the grid's NPVs is zero
        chord = lo - float(npv[k]) * (hi - lo) / float(npv[k + 1] - npv[k])
        x = chord if lo < chord < hi else x
    for _ in range(200):
        g, slope, size = scaled(x)
        if abs(g) <= 1e-13 * size:
            break
        if (g > 0) == (f_lo > 0):
            lo, f_lo = x, g
        else:
            hi = x
        step = x - g / slope if slope != 0.0 else np.nan
        x = step if np.isfinite(step) and lo < step < hi else (lo + hi) / 2.0
        if hi - lo <= 1e-16 * max(1.0, abs(x)):
            break
    return float(np.expm1(x) * 100.0)
