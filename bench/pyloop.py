"""A plain-Python, month-by-month model of the README's definitions.

Written independently of ``engine.schedule`` (datetime and calendar, no
numpy), it is both the baseline loop of the benchmark and a reference the
tests compare the vectorised engine with.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class LoopDeal:
    """One scenario's inputs as plain Python values (percentages in percent)."""

    start_year: int
    start_month: int
    months: int
    monthly_fee_usd: float
    gpus: float
    ramp_months: int = 0
    ramp_fee_fraction: float = 1.0
    ramp_capacity_fraction: float = 1.0
    escalator_pct_per_year: float = 0.0
    utilization_pct: float = 100.0
    take_or_pay_min_pct: float = 100.0
    expected_uptime_pct: float = 100.0
    sla_tiers: tuple[tuple[float, float], ...] = ()
    discount_rate_pct: float = 9.0
    arrears: bool = False
    lockin_months: int | None = None
    notice_days: int | None = None
    prepayment_pct: float = 0.0
    step_ups: tuple[tuple[int, int, float], ...] = ()  # (year, month, new fee)
    delivery_due: tuple[int, int] | None = None
    delivery_grace_months: int = 0
    delivery_delay_months: int = 0
    late_capacity_pct: float = 100.0


def _add_months(year: int, month: int, k: int) -> tuple[int, int]:
    idx = year * 12 + (month - 1) + k
    return idx // 12, idx % 12 + 1


def _credit_pct(tiers: tuple[tuple[float, float], ...], uptime_pct: float) -> float:
    """Credit % of the deepest tier whose threshold the uptime is below."""
    credit = 0.0
    for below, pct in tiers:
        if uptime_pct < below:
            credit = max(credit, pct)
    return credit


def _months(d: LoopDeal) -> Iterator[dict[str, float]]:
    """Each month of the term: days, billed fee (before the SLA credit), net fee, delivered GPU-hours, discount factor
    of its payment and firm share."""
    first_day = dt.date(d.start_year, d.start_month, 1)
    credit = _credit_pct(d.sla_tiers, d.expected_uptime_pct)
    exit_day = None
    if d.notice_days is not None:
        ly, lm = _add_months(d.start_year, d.start_month, d.lockin_months or 0)
        exit_day = dt.date(ly, lm, 1) + dt.timedelta(days=d.notice_days)
    due = d.delivery_due or (d.start_year, d.start_month)
    due_idx = due[0] * 12 + due[1] - 1
    for k in range(d.months):
        y, m = _add_months(d.start_year, d.start_month, k)
        days = calendar.monthrange(y, m)[1]
        hours = days * 24
        fee = d.monthly_fee_usd
        for sy, sm, new_fee in d.step_ups:
            if (y, m) >= (sy, sm):
                fee = new_fee
        fee *= (1 + d.escalator_pct_per_year / 100) ** (k // 12)
        in_ramp = k < d.ramp_months
        fee_frac = d.ramp_fee_fraction if in_ramp else 1.0
        cap_frac = d.ramp_capacity_fraction if in_ramp else 1.0
        idx = y * 12 + m - 1
        late = due_idx <= idx < due_idx + d.delivery_delay_months
        share = 1 - d.late_capacity_pct / 100 if late else 1.0
        after_ramp = fee * fee_frac
        if late and idx >= due_idx + d.delivery_grace_months:
            after_ramp *= share
        usage = min(max(d.utilization_pct, d.take_or_pay_min_pct) / 100, 1.0)
        billed = after_ramp * usage
        month_day = dt.date(y, m, 1)
        pay = dt.date(y, m, days) if d.arrears else month_day
        t = (pay - first_day).days / 365
        firm = 1.0 if exit_day is None else min(max((exit_day - month_day).days / days, 0.0), 1.0)
        yield {"days": days, "billed": billed, "net": billed * (1 - credit / 100),
               "gpu_hours": d.gpus * hours * cap_frac * share * d.expected_uptime_pct / 100,
               "discount": (1 + d.discount_rate_pct / 100) ** (-t), "firm": firm}  # fmt: skip


def loop_schedule(d: LoopDeal) -> dict[str, float]:
    """Totals of one deal computed month by month: net TCV, firm, NPV, GPU-hours."""
    net_tcv = firm = pv = delivered = used = 0.0
    for mo in _months(d):
        net_tcv += mo["net"]
        delivered += mo["gpu_hours"]
        used += mo["gpu_hours"] * d.utilization_pct / 100
        pv += mo["net"] * (1 - d.prepayment_pct / 100) * mo["discount"]
        firm += mo["net"] * mo["firm"]
    pv += d.prepayment_pct / 100 * net_tcv
    return {
        "net_tcv_usd": net_tcv,
        "firm_commitment_usd": firm,
        "npv_usd": pv,
        "delivered_gpu_hours": delivered,
        "used_gpu_hours": used,
        "usd_per_gpu_hour": net_tcv / delivered if delivered else math.inf,
    }


def loop_risk_path(d: LoopDeal, reserved_mean: float, outages: dict[int, tuple[float, float]]) -> dict[str, float]:
    """One Monte Carlo path month by month: ``d`` holds the path's utilisation, delay and discount rate, and
    ``outages`` maps a month index (0 = start) to (days out, spot price). The six outputs of ``cdm simulate``."""
    base_credit = _credit_pct(d.sla_tiers, d.expected_uptime_pct)
    net_tcv = pv = delivered = credits = replacement = 0.0
    for k, mo in enumerate(_months(d)):
        net, hours = mo["net"], mo["gpu_hours"]
        pv += net * (1 - d.prepayment_pct / 100) * mo["discount"]
        net_tcv += net
        out, spot = outages.get(k, (0.0, 0.0))
        if out:
            share_out = min(out, mo["days"]) / mo["days"]
            lost = hours * share_out
            extra = max(_credit_pct(d.sla_tiers, d.expected_uptime_pct * (1 - share_out)) - base_credit, 0.0)
            credit = mo["billed"] * extra / 100  # deducted from that month's payment
            credits += credit
            pv -= credit * mo["discount"]
            hours -= lost
            replacement += lost * spot
        delivered += hours
    pv += d.prepayment_pct / 100 * net_tcv  # the prepayment is on the fees before any outage
    net_tcv -= credits
    return {
        "usd_per_used_gpu_hour": net_tcv / (delivered * d.utilization_pct / 100),
        "npv_usd": pv,
        "premium_to_market_pct": (net_tcv / delivered / reserved_mean - 1) * 100,
        "sla_credits_usd": credits,
        "replacement_cost_usd": replacement,
        "net_tcv_usd": net_tcv,
    }
