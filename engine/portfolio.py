"""Portfolios of compute contracts: combined schedule, reliance, outages, demand coverage, deal structure.

Shapes: contract arrays are ``(n_contracts, n_months)`` on the portfolio's own
timeline (month 0 = ``start_month``), computed once from each contract's
validated terms; demand arrays are ``(n_scenarios, n_months)`` and broadcast
against the contracts' total supply, so thousands of demand scenarios cost
little more than one. Vendor arrays are ``(n_vendors, n_months)``.

Definitions (docs/how-to/portfolios.md):

* capacity share of vendor v in month m = its delivered GPU-hours / all delivered GPU-hours;
  spend share likewise with net fees; HHI = 10,000 x sum of squared capacity shares;
* reliance ratio A:B = delivered GPU-hours of A / those of B;
* commitments by bucket: fees due in months [0, 12), [12, 36), [36, 60) and 60 on, from ``start_month``;
* demand GPU-hours(m) = annualised revenue(m) / 12 x ``gpu_hours_per_usd``, revenue doubling every
  ``revenue_doubling_months`` at the start, the doubling time lengthening by ``doubling_slowdown_pct_per_year``
  a year (:func:`doublings`; growth saturates); shortfall = demand - supply where positive; GPUs to sign in a quarter =
  the rise in the largest shortfall so far (in GPUs of 730 hours) over that quarter (quarters of three
  months from the first; a last partial quarter, 14 months giving 4 quarters and 2 months, is a fifth);
* portfolio NPV = the sum of each contract's NPV (all its payments, at its own discount rate) on the portfolio's
  ``valuation_date`` (blank: the first day of ``start_month``);
* burn-to-revenue multiple = all contracted fees from ``start_month`` / annualised revenue at ``start_month``;
* warrant ownership = ``warrant_value_usd`` / ``post_money_valuation_usd``; its worth at a later valuation
  = ownership x that valuation;
* an outage of N days from a date removes those days' GPU-hours from the affected contracts, lowers
  each affected month's uptime to 1 - days out / days in the month (credit from the contract's SLA
  tiers applied to that month's billed fee), and is replaced at ``spot_usd_per_gpu_hour``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine import errors as E
from engine.errors import InputError, Issue
from engine.fields import Field
from engine.schedule import build_schedule, credit_pct_for_uptime
from engine.sizing import HOURS_PER_AVERAGE_MONTH
from engine.summary import Summary, summarize
from engine.terms import DealTerms, _Collector, build_terms, is_blank, parse_value

COVERAGE_STATS = ("first_shortfall_month", "gpus_to_sign_next_4_quarters", "burn_to_revenue_multiple", "min_coverage_pct")
"""What :meth:`PortfolioResult.coverage_stats` summarises over the demand scenarios (months from ``start_month``)."""
COVERAGE_CHUNK = 4096
"""Demand scenarios evaluated at once: arrays of 4,096 x the months (4 MB at 120 months), whatever their number."""
BUCKETS = (("next_12_months", 0, 12), ("years_1_to_3", 12, 36), ("years_3_to_5", 36, 60), ("beyond_5_years", 60, 10**6))


@dataclass(frozen=True)
class Demand:
    """Demand outlook; each field a 1-D array of scenarios (or one value).

    ``table_gpu_hours`` (months,) replaces the doubling model when given.
    """

    revenue_usd_per_year: np.ndarray
    revenue_doubling_months: np.ndarray
    gpu_hours_per_usd: np.ndarray
    table_gpu_hours: np.ndarray | None = None
    doubling_slowdown_pct_per_year: np.ndarray = field(default_factory=lambda: np.array([0.0]))


def doublings(months: np.ndarray, doubling_months: np.ndarray, slowdown_pct_per_year: np.ndarray) -> np.ndarray:
    """How many times demand has doubled after ``months``, when the doubling time starts at ``doubling_months`` and
    lengthens by ``slowdown_pct_per_year`` a year: D(u) = D0 (1 + s)^(u / 12), so the count is the integral of 1 / D,
    12 (1 - (1 + s)^(-t / 12)) / (D0 ln(1 + s)), and t / D0 when s = 0. With s > 0 it never exceeds
    12 / (D0 ln(1 + s)): growth saturates. Shapes broadcast: months (1, m), the others (n, 1).

    >>> float(doublings(np.array(12.0), np.array(4.5), np.array(0.0)))  # 12 / 4.5
    2.6666666666666665
    >>> round(float(doublings(np.array(12.0), np.array(4.5), np.array(100.0))), 6)  # 12 (1 - 1/2) / (4.5 ln 2)
    1.923593
    """
    log_growth = np.log1p(np.asarray(slowdown_pct_per_year, float) / 100.0)
    t = np.asarray(months, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        slowed = 12.0 * -np.expm1(-log_growth * t / 12.0) / (doubling_months * log_growth)
    return np.where(log_growth > 0, slowed, t / doubling_months)


@dataclass(frozen=True)
class Outage:
    """``days`` days out from ``start`` for one vendor's contracts, or every contract at one site."""

    start: dt.date
    days: int
    vendor: str = ""
    site: str = ""


@dataclass(frozen=True, eq=False)
class Portfolio:
    """Validated contracts on a common timeline, with a demand outlook."""

    name: str
    start_month: np.datetime64
    n_months: int
    contracts: tuple[DealTerms, ...]
    demand: Demand
    spot_usd_per_gpu_hour: float
    post_money_valuation_usd: float = 0.0
    later_valuations_usd: tuple[float, ...] = ()
    reliance: tuple[str, str] | None = None
    outages: tuple[Outage, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    valuation_date: np.datetime64 | None = None

    @property
    def valuation_day(self) -> np.datetime64:
        """The portfolio NPV's date: ``valuation_date``, else the first day of ``start_month``."""
        return self.valuation_date if self.valuation_date is not None else self.start_month.astype("datetime64[D]")

    def month_label(self, months_from_start: float) -> str:
        """``2026-04`` for a month index on the timeline; ``none`` past its end (no shortfall within it)."""
        if months_from_start >= self.n_months:
            return "none"
        return str(self.start_month + np.timedelta64(int(months_from_start), "M"))


def _place(values: np.ndarray, offset: int, n_months: int) -> np.ndarray:
    """A contract's (k,) monthly values placed on the portfolio timeline from ``offset``, clipped to it."""
    out = np.zeros(n_months)
    lo, hi = max(offset, 0), min(offset + values.size, n_months)
    if hi > lo:
        out[lo:hi] = values[lo - offset : hi - offset]
    return out


class PortfolioResult:
    """Every portfolio figure; monthly arrays keyed by name (see ``engine.portfolio`` docstring)."""

    def __init__(self, p: Portfolio):
        self.portfolio = p
        m = p.n_months
        self.months = p.start_month + np.arange(m).astype("timedelta64[M]")
        day0 = self.months.astype("datetime64[D]")
        self.days = ((self.months + np.timedelta64(1, "M")).astype("datetime64[D]") - day0).astype(np.int64).astype(float)
        self.summaries: list[Summary] = []
        rows: dict[str, list[np.ndarray]] = {k: [] for k in ("fee", "firm", "gpus", "hours", "flops", "list", "cash", "equity",
                                                              "revenue_share", "billed", "credit_pct")}  # fmt: skip
        for terms in p.contracts:
            s = summarize(build_schedule(terms))
            self.summaries.append(s)
            sch = s.schedule
            keep = sch.active[0]
            offset = int((np.asarray(terms.start_month)[0] - p.start_month).astype(int))
            tflops = sch.capacity.dense_bf16_tflops * float(np.asarray(terms.mfu_pct)[0]) / 100.0
            rows["fee"].append(_place(sch.net_fee_usd[0][keep], offset, m))
            rows["firm"].append(_place(sch.firm_fee_usd[0][keep], offset, m))
            rows["gpus"].append(_place(sch.delivered_gpus[0][keep], offset, m))
            rows["hours"].append(_place(sch.delivered_gpu_hours[0][keep], offset, m))
            rows["flops"].append(_place(sch.delivered_gpu_hours[0][keep] * tflops * 1e12 * 3600.0, offset, m))
            rows["cash"].append(_place(sch.cash_payment_usd[0][keep], offset, m))
            rows["equity"].append(_place(sch.equity_payment_usd[0][keep], offset, m))
            rows["revenue_share"].append(_place(sch.revenue_share_payment_usd[0][keep], offset, m))
            billed = sch.list_fee_usd - sch.ramp_reduction_usd - sch.late_delivery_reduction_usd - sch.usage_reduction_usd
            rows["billed"].append(_place(billed[0][keep], offset, m))
        arr = {k: np.array(v) if v else np.zeros((0, m)) for k, v in rows.items()}
        self.fee, self.firm, self.gpus, self.gpu_hours, self.flops = (
            arr["fee"],
            arr["firm"],
            arr["gpus"],
            arr["hours"],
            arr["flops"],
        )
        self.cash, self.equity, self.revenue_share, self.billed = arr["cash"], arr["equity"], arr["revenue_share"], arr["billed"]
        self.vendors = tuple(dict.fromkeys(t.vendor or t.deal_name for t in p.contracts))
        member = np.array([[(t.vendor or t.deal_name) == v for t in p.contracts] for v in self.vendors], dtype=float)
        self.vendor_fee = member @ self.fee
        self.vendor_gpu_hours = member @ self.gpu_hours
        self.total_fee = self.fee.sum(axis=0)
        self.total_gpu_hours = self.gpu_hours.sum(axis=0)

    # ---------------------------------------------------------------- value
    def npv_usd(self) -> float:
        """Every payment of every contract (its whole term, not only the months shown) discounted at the contract's own
        rate to the portfolio's valuation date, summed."""
        on = str(self.portfolio.valuation_day)
        return float(sum(summarize(build_schedule(build_terms({**t.raw, "valuation_date": on})))["npv_usd"][0]
                         for t in self.portfolio.contracts))  # fmt: skip

    # ---------------------------------------------------------------- concentration
    @staticmethod
    def _share(part: np.ndarray, total: np.ndarray) -> np.ndarray:
        return np.divide(part, total, out=np.zeros_like(part), where=total > 0)

    def capacity_share(self) -> np.ndarray:
        """(n_vendors, n_months): each vendor's share of delivered GPU-hours (0 in months with none)."""
        return self._share(self.vendor_gpu_hours, self.total_gpu_hours)

    def spend_share(self) -> np.ndarray:
        return self._share(self.vendor_fee, self.total_fee)

    def hhi(self) -> np.ndarray:
        """(n_months,): Herfindahl index of capacity, 0-10,000 (10,000 = one vendor)."""
        return (self.capacity_share() ** 2).sum(axis=0) * 10_000.0

    def reliance_ratio(self, a: str, b: str) -> np.ndarray:
        """(n_months,): GPU-hours from vendor a per GPU-hour from vendor b (0 where b delivers nothing)."""
        for v in (a, b):
            if v not in self.vendors:
                known = ", ".join(self.vendors)
                message = f"reliance_vendors names {v!r}, which is not a vendor of the portfolio: {known}"
                raise InputError(Issue("reliance_vendors", "vendor", message, v))
        ia, ib = self.vendors.index(a), self.vendors.index(b)
        return self._share(self.vendor_gpu_hours[ia], self.vendor_gpu_hours[ib])

    # ---------------------------------------------------------------- commitments
    def commitment_buckets(self, firm: bool = False) -> dict[str, float]:
        fees = (self.firm if firm else self.fee).sum(axis=0)
        j = np.arange(self.portfolio.n_months)
        return {name: float(fees[(j >= lo) & (j < hi)].sum()) for name, lo, hi in BUCKETS}

    # ---------------------------------------------------------------- outages
    def outage(self, o: Outage) -> dict[str, Any]:
        """Lost GPU-hours, SLA credits given back and replacement cost at spot for one outage."""
        hit = [i for i, t in enumerate(self.portfolio.contracts) if (o.vendor and (t.vendor or t.deal_name) == o.vendor)
               or (o.site and t.site == o.site)]  # fmt: skip
        if not hit:
            what = f"vendor {o.vendor!r}" if o.vendor else f"site {o.site!r}"
            raise InputError(
                Issue("outage", "target", f"the outage's {what} matches no contract of the portfolio", o.vendor or o.site)
            )
        first = np.datetime64(o.start, "D")
        last = first + np.timedelta64(o.days, "D")
        day0 = self.months.astype("datetime64[D]")
        day1 = (self.months + np.timedelta64(1, "M")).astype("datetime64[D]")
        days_in = (np.minimum(day1, last) - np.maximum(day0, first)).astype(np.int64)  # whole days, as integers
        overlap = np.clip(days_in, 0, None).astype(float)
        out_share = overlap / self.days  # share of each month lost
        lost = np.zeros(self.portfolio.n_months)
        credits = 0.0
        for i in hit:
            lost += self.gpu_hours[i] * out_share
            t = self.portfolio.contracts[i]
            uptime = float(np.asarray(t.expected_uptime_pct)[0]) / 100.0 * (1.0 - out_share)
            base_credit = credit_pct_for_uptime(np.asarray(t.expected_uptime_pct, float)[:1], t.sla_tiers)[0]
            credit_pct = credit_pct_for_uptime(uptime * 100.0, t.sla_tiers)
            # only the extra credit the outage causes, in the months it touches
            credits += float((self.billed[i] * np.maximum(credit_pct - base_credit, 0.0) / 100.0 * (overlap > 0)).sum())
        spot = self.portfolio.spot_usd_per_gpu_hour
        total = float(lost.sum())
        return {"contracts": [self.portfolio.contracts[i].deal_name for i in hit], "lost_gpu_hours": total,
                "share_of_capacity_lost_pct": float(lost.sum() / max(self.total_gpu_hours[overlap > 0].sum(), 1e-300) * 100.0),
                "sla_credits_usd": credits, "replacement_cost_usd": total * spot,
                "net_cost_usd": total * spot - credits}  # fmt: skip

    # ---------------------------------------------------------------- demand
    @property
    def n_demand_scenarios(self) -> int:
        """How many demand scenarios the demand inputs give (their common length; 1 for a demand table)."""
        d = self.portfolio.demand
        if d.table_gpu_hours is not None:
            return 1
        arrays = (d.revenue_usd_per_year, d.revenue_doubling_months, d.gpu_hours_per_usd, d.doubling_slowdown_pct_per_year)
        return int(np.broadcast_shapes(*(np.atleast_1d(a).shape for a in arrays))[0])

    def _demand_column(self, values: np.ndarray, rows: slice) -> np.ndarray:
        return np.broadcast_to(np.atleast_1d(np.asarray(values, float)), (self.n_demand_scenarios,))[rows][:, None]

    def demand_gpu_hours(self, rows: slice | None = None) -> np.ndarray:
        """(n_scenarios, n_months) of demanded GPU-hours; ``rows`` picks scenarios (all by default)."""
        d = self.portfolio.demand
        m = self.portfolio.n_months
        if d.table_gpu_hours is not None:
            return np.asarray(d.table_gpu_hours, float)[None, :m]
        rows = slice(None) if rows is None else rows
        j = np.arange(m)[None, :]
        doubling = self._demand_column(d.revenue_doubling_months, rows)
        growth = doublings(j, doubling, self._demand_column(d.doubling_slowdown_pct_per_year, rows))
        revenue_year = self._demand_column(d.revenue_usd_per_year, rows) * 2.0**growth
        return revenue_year / 12.0 * self._demand_column(d.gpu_hours_per_usd, rows)

    def coverage_stats(self, chunk_scenarios: int = COVERAGE_CHUNK) -> Any:
        """P5/P50/P95 and mean over every demand scenario of :data:`COVERAGE_STATS`, in memory bounded whatever their
        number: the scenarios are evaluated ``chunk_scenarios`` at a time (``engine.quantiles.summarise``, exact).
        A scenario with no shortfall has no first-shortfall month, and one with no demand no coverage (undefined)."""
        from engine.quantiles import summarise

        n = self.n_demand_scenarios

        def run() -> Any:
            for lo in range(0, n, chunk_scenarios):
                cov = self.coverage(slice(lo, min(lo + chunk_scenarios, n)))
                first = cov["first_shortfall_month"].astype(float)
                coverage = cov["coverage_pct"].min(axis=1)
                yield {
                    "first_shortfall_month": np.where(first >= 0, first, np.nan),
                    "gpus_to_sign_next_4_quarters": cov["gpus_to_sign_per_quarter"][:, :4].sum(axis=1),
                    "burn_to_revenue_multiple": cov["burn_to_revenue_multiple"],
                    "min_coverage_pct": np.where(np.isfinite(coverage), coverage, np.nan),
                }

        return summarise(run, n, COVERAGE_STATS)

    def coverage(self, rows: slice | None = None) -> dict[str, np.ndarray]:
        """Demand against contracted supply for every demand scenario (``rows``: those scenarios only)."""
        demand = self.demand_gpu_hours(rows)
        supply = self.total_gpu_hours[None, :]
        shortfall = np.maximum(demand - supply, 0.0)
        short = shortfall > 0
        first = np.where(short.any(axis=1), np.argmax(short, axis=1), -1)
        gpus_short = shortfall / HOURS_PER_AVERAGE_MONTH
        need = np.maximum.accumulate(gpus_short, axis=1)
        m = self.portfolio.n_months
        quarter_ends = np.unique(np.append(np.arange(2, m, 3), m - 1))  # the last quarter may be partial: kept
        at_quarter = need[:, quarter_ends]
        per_quarter = np.diff(np.concatenate([np.zeros((need.shape[0], 1)), at_quarter], axis=1), axis=1)
        d = self.portfolio.demand
        if d.table_gpu_hours is not None:
            revenue0 = np.broadcast_to(d.revenue_usd_per_year, (demand.shape[0],))
        else:
            revenue0 = self._demand_column(d.revenue_usd_per_year, slice(None) if rows is None else rows)[:, 0]
        commitments = float(self.total_fee.sum())
        return {
            "demand_gpu_hours": demand,
            "coverage_pct": np.divide(supply, demand, out=np.full(demand.shape, np.inf), where=demand > 0) * 100.0,
            "shortfall_gpu_hours": shortfall,
            "first_shortfall_month": first,
            "gpus_to_sign_per_quarter": per_quarter,
            "burn_to_revenue_multiple": commitments / revenue0,
        }

    # ---------------------------------------------------------------- deal structure
    def structure(self) -> list[dict[str, Any]]:
        p = self.portfolio
        out = []
        for i, t in enumerate(p.contracts):
            warrant = float(np.asarray(t.warrant_value_usd)[0])
            ownership = warrant / p.post_money_valuation_usd * 100.0 if p.post_money_valuation_usd > 0 else 0.0
            out.append({
                "deal_name": t.deal_name, "vendor": t.vendor, "cash_usd": float(self.cash[i].sum()),
                "equity_usd": float(self.equity[i].sum()), "revenue_share_usd": float(self.revenue_share[i].sum()),
                "warrant_value_usd": warrant, "ownership_pct": ownership,
                "stake_at_later_valuations_usd": [ownership / 100.0 * v for v in p.later_valuations_usd],
            })  # fmt: skip
        return out


def warrant_ownership_pct(value_usd: float | np.ndarray, post_money_usd: float | np.ndarray) -> np.ndarray:
    """Ownership % = value / post-money valuation x 100 (broadcasts)."""
    return np.asarray(value_usd, float) / np.asarray(post_money_usd, float) * 100.0


def evaluate_portfolio(p: Portfolio) -> PortfolioResult:
    return PortfolioResult(p)


PORTFOLIO_FIELDS: tuple[Field, ...] = (
    Field("portfolio_name", "text", "Portfolio name", "text", required=True, batch=False, section="Portfolio"),
    Field("start_month", "month", "First month of the portfolio view", "month", required=True, batch=False, section="Portfolio"),
    Field("months", "integer", "Months shown", "months", default=60, minimum=1, maximum=120, batch=False, section="Portfolio"),
    Field("valuation_date", "date", "Valuation date of the portfolio NPV", "date", batch=False, section="Portfolio",
          blank_means="the first day of start_month"),
    Field("revenue_usd_per_year", "number", "Annualised revenue at the start", "USD/year", required=True, minimum=0,
          min_exclusive=True, maximum=1e14, section="Demand"),
    Field("revenue_doubling_months", "number", "Revenue (and compute demand) doubling time", "months", default=12.0,
          minimum=0.5, maximum=1200, section="Demand"),
    Field("doubling_slowdown_pct_per_year", "number", "Doubling time lengthens by this much a year (100: it doubles each "
          "year; 0: constant)", "% per year", default=100.0, minimum=0, maximum=10_000, section="Demand",
          default_source="calibrated: from 4.5 months, demand reaches about 3.9 GW (2.6M H100-equivalents at 1.5 kW) by "
          "Dec 2030, within the 'multiple gigawatts' Anthropic announced with Google (6 Apr 2026) and Epoch AI projects "
          "for frontier training by 2030 (epoch.ai/topics/scaling); a constant 4.5 months asks for 8,800x the start"),
    Field("gpu_hours_per_usd", "number", "GPU-hours of compute each $ of revenue needs", "GPU-hours/USD", required=True,
          minimum=0, min_exclusive=True, maximum=1000, section="Demand"),
    Field("spot_usd_per_gpu_hour", "number", "Spot price to replace lost capacity", "USD/GPU-hour", default=2.42, minimum=0.01,
          maximum=1000, batch=False, section="Demand", default_source="H100 spot, late June 2026 (theinformationmachine.fyi)"),
    Field("post_money_valuation_usd", "number", "Buyer's post-money valuation (for warrants)", "USD", default=0.0, minimum=0,
          maximum=1e15, batch=False, section="Structure"),
)  # fmt: skip
PORTFOLIO_FIELD_BY_NAME = {f.name: f for f in PORTFOLIO_FIELDS}
PORTFOLIO_LISTS = (
    "contracts",
    "reliance_vendors",
    "later_valuations_usd",
    "outages",
    "demand_table_gpu_hours",
    "sources",
    "risk",
)


MAX_PORTFOLIO_CONTRACTS = 1_000
"""The most contracts a portfolio holds: every sheet of its report (two columns a vendor) then fits Excel's 16,384 columns."""


def build_portfolio(raw: dict[str, Any], contracts: Sequence[DealTerms]) -> Portfolio:
    """Validate a portfolio's own inputs (the contracts come validated); every issue names its field."""
    c = _Collector()
    for k in raw:
        if k not in PORTFOLIO_FIELD_BY_NAME and k not in PORTFOLIO_LISTS:
            c.add(k, "unknown", E.MSG_UNKNOWN_KEY)
    v: dict[str, Any] = {}
    for f in PORTFOLIO_FIELDS:
        value = raw.get(f.name)
        if is_blank(value):
            if f.required:
                c.add(f.name, "required", E.MSG_REQUIRED)
            v[f.name] = None if f.default is None else (np.array([float(f.default)]) if f.batch else f.default)  # type: ignore[arg-type]
            continue
        v[f.name] = parse_value(c, f, value)
    if not contracts:
        c.add("contracts", "required", "contracts must list at least one contract")
    if len(contracts) > MAX_PORTFOLIO_CONTRACTS:  # the report gives each vendor columns; Excel has 16,384
        c.add("contracts", "max", E.MSG_MAX, f"{len(contracts):,} contracts", bound=f"{MAX_PORTFOLIO_CONTRACTS:,} contracts")
    reliance = raw.get("reliance_vendors")
    pair: tuple[str, str] | None = None
    if not is_blank(reliance):
        if not (isinstance(reliance, (list, tuple)) and len(reliance) == 2 and all(isinstance(x, str) for x in reliance)):
            c.add("reliance_vendors", "type", "{field} must name two vendors, got {value}", reliance)
        else:
            pair = (reliance[0], reliance[1])
    later = raw.get("later_valuations_usd") or []
    if not isinstance(later, (list, tuple)) or not all(
        isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0 for x in later
    ):
        c.add("later_valuations_usd", "type", "{field} must be a list of valuations in USD (numbers >= 0), got {value}", later)
        later = []
    outages = []
    for i, o in enumerate(raw.get("outages") or [], start=1):
        name = f"outages[{i}]"
        if not isinstance(o, dict):
            c.add(name, "type", E.MSG_NOT_TABLE, o)
            continue
        start = (
            parse_value(c, Field("start", "month", "", "", batch=False), o.get("start"), f"{name}.start")
            if not isinstance(o.get("start"), dt.date)
            else o.get("start")
        )
        days = o.get("days")
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 366:
            c.add(f"{name}.days", "range", "{field} must be a whole number of days from 1 to 366, got {value}", days)
            continue
        vendor, site = str(o.get("vendor", "") or ""), str(o.get("site", "") or "")
        if bool(vendor) == bool(site):
            c.add(name, "target", "{field} must name either a vendor or a site", o)
            continue
        if start is not None:
            day = start if isinstance(start, dt.date) else dt.date.fromisoformat(str(np.datetime64(start, "D")))
            outages.append(Outage(day, days, vendor, site))
    table = raw.get("demand_table_gpu_hours")
    table_arr = None
    if not is_blank(table):
        arr = np.asarray(table, dtype=object)
        if arr.ndim != 1 or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0 for x in arr):
            c.add("demand_table_gpu_hours", "type", "{field} must be a list of GPU-hours (numbers >= 0), one per month", None)
        else:
            table_arr = arr.astype(float)
    if c.issues:
        raise InputError(c.issues)
    demand_arrays = np.broadcast_arrays(v["revenue_usd_per_year"], v["revenue_doubling_months"], v["gpu_hours_per_usd"],
                                        v["doubling_slowdown_pct_per_year"])  # fmt: skip
    months = int(v["months"])
    if table_arr is not None and table_arr.size < months:
        raise InputError(
            Issue(
                "demand_table_gpu_hours",
                "length",
                f"demand_table_gpu_hours has {table_arr.size} months; the portfolio shows {months}",
                table_arr.size,
            )
        )
    return Portfolio(
        name=v["portfolio_name"],
        start_month=np.datetime64(v["start_month"], "M"),
        valuation_date=None if v["valuation_date"] is None else np.datetime64(v["valuation_date"], "D"),
        n_months=months,
        contracts=tuple(contracts),
        demand=Demand(
            revenue_usd_per_year=np.asarray(demand_arrays[0], float),
            revenue_doubling_months=np.asarray(demand_arrays[1], float),
            gpu_hours_per_usd=np.asarray(demand_arrays[2], float),
            table_gpu_hours=table_arr,
            doubling_slowdown_pct_per_year=np.asarray(demand_arrays[3], float),
        ),
        spot_usd_per_gpu_hour=float(v["spot_usd_per_gpu_hour"]),
        post_money_valuation_usd=float(v["post_money_valuation_usd"]),
        later_valuations_usd=tuple(float(x) for x in later),
        reliance=pair,
        outages=tuple(outages),
        sources={str(k): str(x) for k, x in (raw.get("sources") or {}).items()},
    )
