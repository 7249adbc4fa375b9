"""Key figures of a deal: contract values, NPV, unit prices, break-even.

Each metric is an array of shape ``(n_scenarios,)``. :data:`METRICS` names
them once, with unit and label, for the CLI, the templates and the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from engine.checks import consistency_warnings, result_warnings
from engine.errors import InputError, InputWarning, Issue
from engine.finance import xirr
from engine.obligations import obligations_by_period
from engine.schedule import Schedule
from engine.sizing import flops_per_month


@dataclass(frozen=True)
class Metric:
    """A summary figure: ``name`` (the JSON key and Excel name), unit and label."""

    name: str
    unit: str
    label: str


METRICS: tuple[Metric, ...] = (
    Metric("months_billed", "months", "Months billed"),
    Metric("headline_tcv_usd", "USD", "Headline TCV (full-rate fee x months)"),
    Metric("net_tcv_usd", "USD", "Net TCV (after ramp, escalator, cuts and credits)"),
    Metric("firm_commitment_usd", "USD", "Firm commitment (before the earliest exit)"),
    Metric("firm_share_pct", "%", "Firm share of net TCV"),
    Metric("firm_months", "months", "Firm period"),
    Metric("npv_usd", "USD", "NPV of payments (XNPV convention)"),
    Metric("market_npv_usd", "USD", "NPV of the used GPU-hours at the market price, on the same payment dates"),
    Metric("npv_over_market_usd", "USD", "NPV of payments less the market NPV (above 0: the deal costs more than renting)"),
    Metric("annual_run_rate_usd", "USD/year", "Annual run rate (full-rate fee x 12)"),
    Metric("gpus", "GPUs", "GPUs"),
    Metric("powered_gpus", "GPUs", "GPUs the facility's power feeds (at most the contracted GPUs)"),
    Metric("kw_per_gpu", "kW", "All-in facility kW per GPU"),
    Metric("required_facility_mw", "MW", "Facility power the GPUs need"),
    Metric("facility_mw", "MW", "Facility power"),
    Metric("dense_bf16_pflops", "PFLOPS", "Dense BF16 peak of the fleet"),
    Metric("flops_per_month", "FLOPs", "Useful FLOPs per 730-hour month at the MFU"),
    Metric("delivered_gpu_hours", "GPU-hours", "Delivered GPU-hours"),
    Metric("used_gpu_hours", "GPU-hours", "Used GPU-hours"),
    Metric("usd_per_gpu_hour", "USD/GPU-hour", "Price per delivered GPU-hour"),
    Metric("usd_per_used_gpu_hour", "USD/GPU-hour", "Price per used GPU-hour"),
    Metric("usd_per_powered_gpu_hour", "USD/GPU-hour", "Price per delivered GPU-hour of the GPUs the power feeds"),
    Metric("usd_per_kw_month", "USD/kW-month", "Price per kW-month of facility power"),
    Metric("usd_per_mw_month", "USD/MW-month", "Price per MW-month of facility power"),
    Metric("usd_per_pflop_hour", "USD/PFLOP-hour", "Price per dense BF16 PFLOP-hour delivered"),
    Metric("market_usd_per_gpu_hour", "USD/GPU-hour", "Market reference price"),
    Metric("premium_to_market_pct", "%", "Premium to market"),
    Metric("breakeven_utilization_pct", "%", "Break-even utilisation against market"),
    Metric("market_value_used_usd", "USD", "Used GPU-hours at the market price"),
    Metric("cash_paid_usd", "USD", "Paid in cash"),
    Metric("equity_paid_usd", "USD", "Paid in equity"),
    Metric("revenue_share_paid_usd", "USD", "Paid as revenue share"),
)

METRIC_BY_NAME = {m.name: m for m in METRICS}


class Summary:
    """The metrics of every scenario: ``summary["npv_usd"]`` has shape (n_scenarios,)."""

    def __init__(self, schedule: Schedule, values: dict[str, np.ndarray]):
        self.schedule = schedule
        self.values = values

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    @property
    def warnings(self) -> list[InputWarning]:
        """Every warning, as data the summary carries: what parsing noticed (the terms), inputs inconsistent with
        each other (power, prices) and results far from the market."""
        terms = self.schedule.terms
        return list(terms.warnings) + consistency_warnings(terms) + result_warnings(terms, self.values)

    def to_series(self, i: int = 0) -> Any:
        """Scenario ``i``'s figures as a pandas Series (the keys of ``cdm summary --json``; warnings left out), for
        notebooks. pandas is imported here, on first use, so the engine stays numpy."""
        import pandas as pd

        rec = {k: v for k, v in self.record(i).items() if k != "warnings"}
        return pd.Series(rec, name=rec.get("deal_name"), dtype=object)

    @cached_property
    def obligations(self) -> dict[str, np.ndarray]:
        """Payments due by period from the valuation date (``engine.obligations``): key -> (n_scenarios,)."""
        return obligations_by_period(self.schedule)

    @cached_property
    def firm_obligations(self) -> dict[str, np.ndarray]:
        """Firm payments (before the earliest exit) due by period from the valuation date."""
        return obligations_by_period(self.schedule, firm=True)

    def record(self, i: int = 0, *, warnings: bool = True) -> dict[str, Any]:
        """Scenario ``i`` as a JSON-ready dict: the DESIGN keys plus dates, SKUs and IRR (and the warnings, unless
        ``warnings`` is False: a worksheet's figures do not need them).

        ``irr_vs_market_pct`` is the annual XIRR of (used GPU-hours at market
        price - payments) on the payment dates the NPV uses (the prepayment on
        day one); ``None`` when those flows never change sign.
        """
        t = self.schedule.terms
        s = self.schedule
        keep = s.active[i]
        out: dict[str, Any] = {"deal_name": t.deal_name, "buyer": t.buyer, "vendor": t.vendor}
        out["start_month"] = str(np.broadcast_to(t.start_month, (t.n_scenarios,))[i])
        out["end_month"] = str(np.broadcast_to(t.end_month, (t.n_scenarios,))[i])
        out["gpu_skus"] = list(t.skus)
        for m in METRICS:
            v = float(self.values[m.name][i])
            out[m.name] = int(v) if m.unit in ("months", "GPUs") and v.is_integer() else v
        benefit = (
            s.used_gpu_hours[i] * np.broadcast_to(t.market_usd_per_gpu_hour, (t.n_scenarios,))[i]
            - s.cash_payment_usd[i]
            - s.equity_payment_usd[i]
        )[keep]
        # dated as the NPV dates them: each month on its payment date, the prepaid part (in month 1's payments) on day one
        prepaid = float(s.prepayment_usd[i][0]) * (1.0 - float(np.broadcast_to(s.f_revenue_share[:, 0], (t.n_scenarios,))[i]))
        benefit[0] += prepaid
        days = (s.payment_date[i][keep] - s.start_day[i]).astype(np.int64).astype(float)
        out["irr_vs_market_pct"] = xirr(np.concatenate([[-prepaid], benefit]), np.concatenate([[0.0], days]))
        out["exit_date"] = _exit_date(s, i)
        out["valuation_date"] = str(np.broadcast_to(t.valuation_date, (t.n_scenarios,))[i])
        for prefix, periods in (("", self.obligations), ("firm_", self.firm_obligations)):
            out[f"{prefix}obligations_by_period_usd"] = {k: float(v[i]) for k, v in periods.items()}
        if warnings:
            out["warnings"] = [w.message for w in self.warnings]
        return out


def _exit_date(s: Schedule, i: int) -> str | None:
    t = s.terms
    if t.notice_days is None or t.lockin_months is None:
        return None
    start = np.broadcast_to(t.start_month, (t.n_scenarios,))[i]
    lock = int(np.broadcast_to(t.lockin_months, (t.n_scenarios,))[i])
    notice = int(np.broadcast_to(t.notice_days, (t.n_scenarios,))[i])
    return str((start + np.timedelta64(lock, "M")).astype("datetime64[D]") + np.timedelta64(notice, "D"))


@np.errstate(over="ignore", divide="ignore", invalid="ignore")  # a non-finite figure is refused by _require_finite
def summarize(schedule: Schedule, *, require_finite: bool = True) -> Summary:
    """Key figures of every scenario in ``schedule``; arrays of shape (n_scenarios,).

    Examples
    --------
    >>> from engine.terms import build_terms
    >>> from engine.schedule import build_schedule
    >>> t = build_terms({"deal_name": "x", "start_month": "2026-01", "end_month": "2026-12",
    ...                  "monthly_fee_usd": 1e6, "facility_mw": 1, "gpu_count": 500})
    >>> s = summarize(build_schedule(t))
    >>> float(s["net_tcv_usd"][0]), round(float(s["usd_per_gpu_hour"][0]), 4)
    (12000000.0, 2.7397)
    """
    t = schedule.terms
    n = t.n_scenarios
    cap = schedule.capacity

    def vec(a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(np.asarray(a, float), (n,)).copy()

    net = schedule.total_net_fee_usd
    delivered = schedule.total_delivered_gpu_hours
    used = schedule.total_used_gpu_hours
    months = vec(t.months_billed)
    fee = vec(t.monthly_fee_usd)
    mw = vec(t.facility_mw)
    gpus = vec(cap.gpus)
    kw = vec(cap.kw_per_gpu)
    market = vec(t.market_usd_per_gpu_hour)
    firm = schedule.total_firm_fee_usd
    per_hour = net / delivered
    values = {
        "months_billed": months,
        "headline_tcv_usd": fee * months,
        "net_tcv_usd": net,
        "firm_commitment_usd": firm,
        "firm_share_pct": np.divide(firm, net, out=np.zeros(n), where=net != 0) * 100.0,
        "firm_months": schedule.total_firm_months,
        "npv_usd": schedule.total_present_value_usd,
        "market_npv_usd": schedule.total_used_value_present_usd,
        "npv_over_market_usd": schedule.total_present_value_usd - schedule.total_used_value_present_usd,
        "annual_run_rate_usd": fee * 12.0,
        "gpus": gpus,
        "powered_gpus": vec(cap.powered_gpus),
        "kw_per_gpu": kw,
        "required_facility_mw": gpus * kw / 1000.0,
        "facility_mw": mw,
        "dense_bf16_pflops": gpus * cap.dense_bf16_tflops / 1000.0,
        "flops_per_month": vec(flops_per_month(gpus, cap.dense_bf16_tflops, vec(t.mfu_pct))),
        "delivered_gpu_hours": delivered,
        "used_gpu_hours": used,
        "usd_per_gpu_hour": per_hour,
        "usd_per_used_gpu_hour": net / used,
        "usd_per_powered_gpu_hour": net / (delivered * vec(cap.powered_gpus) / gpus),
        "usd_per_kw_month": fee / (mw * 1000.0),
        "usd_per_mw_month": fee / mw,
        "usd_per_pflop_hour": net / (delivered * cap.dense_bf16_tflops / 1000.0),
        "market_usd_per_gpu_hour": market,
        "premium_to_market_pct": (per_hour / market - 1.0) * 100.0,
        "breakeven_utilization_pct": per_hour / market * 100.0,
        "market_value_used_usd": used * market,
        "cash_paid_usd": schedule.total_cash_paid_usd,
        "equity_paid_usd": schedule.total_equity_paid_usd,
        "revenue_share_paid_usd": schedule.total_revenue_share_paid_usd,
    }
    if require_finite:  # a simulation path with no hours keeps NaN ratios, counted and left out of its statistics
        _require_finite(values)
    return Summary(schedule, values)


def _require_finite(values: dict[str, np.ndarray]) -> None:
    """A figure is finite or the inputs are refused: never a silent NaN or inf."""
    for name, v in values.items():
        bad = ~np.isfinite(v)
        if bad.any():
            where = f" (in {int(bad.sum()):,} of {bad.size:,} cases)" if v.size > 1 else ""
            message = f"the inputs give a non-finite {name}{where}: check the sizes of the fee, power, GPUs and prices"
            raise InputError(Issue(name, "finite", message, None))
