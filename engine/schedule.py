"""The monthly payment and capacity schedule of a deal, for many scenarios at once.

Every array of a :class:`Schedule` has shape ``(n_scenarios, n_months)``:
time runs along axis 1 from each scenario's ``start_month``; columns past a
scenario's term are zero (``active`` is False there). Computation broadcasts:
an input that is the same in every scenario is computed once as a
``(1, n_months)`` row, and only the results are broadcast to the full shape.

The definitions (docs/explanation/methodology.md) in the order they are applied::

    list fee      = full-rate fee (after step-ups) x (1 + escalator)^floor(month index / 12)
    ramp          = list fee x (1 - fee fraction)
    late delivery = (list fee - ramp) x (1 - delivered share), after the grace period
    usage         = billable x (1 - max(utilisation, take-or-pay minimum))
    SLA credit    = billed x credit % of the tier the expected uptime falls in
    net fee       = list fee - ramp - late delivery - usage - SLA credit
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cached_property
from typing import Any

import numpy as np

from engine import errors as E
from engine.capacity import DealCapacity, deal_capacity
from engine.errors import InputError, Issue
from engine.terms import DealTerms


@dataclass(frozen=True)
class Column:
    """A schedule column: its name (also a field of :class:`Schedule`), unit and meaning."""

    name: str
    unit: str
    label: str


COLUMNS: tuple[Column, ...] = (
    Column("month_index", "#", "Month number (1 = start_month)"),
    Column("month", "month", "Service month"),
    Column("days", "days", "Days in the month"),
    Column("hours", "hours", "Hours in the month (days x 24)"),
    Column("fee_fraction", "fraction", "Fee fraction (ramp)"),
    Column("capacity_fraction", "fraction", "Capacity fraction (ramp x delivery)"),
    Column("contracted_gpus", "GPUs", "Contracted GPUs"),
    Column("delivered_gpus", "GPUs", "Delivered GPUs"),
    Column("delivered_mw", "MW", "Delivered facility power"),
    Column("mw_over_facility", "MW", "Delivered MW above the facility's power (a flag: the power cannot feed it)"),
    Column("delivered_gpu_hours", "GPU-hours", "Delivered GPU-hours"),
    Column("used_gpu_hours", "GPU-hours", "Used GPU-hours"),
    Column("escalator_factor", "x", "Escalator factor"),
    Column("list_fee_usd", "USD", "List fee (full rate, escalated)"),
    Column("ramp_reduction_usd", "USD", "Ramp reduction"),
    Column("late_delivery_reduction_usd", "USD", "Late-delivery fee cut"),
    Column("usage_reduction_usd", "USD", "Usage reduction above take-or-pay minimum"),
    Column("sla_credit_usd", "USD", "SLA credit"),
    Column("net_fee_usd", "USD", "Net fee"),
    Column("cumulative_fee_usd", "USD", "Cumulative net fee"),
    Column("prepayment_usd", "USD", "Prepayment paid at the start"),
    Column("cash_payment_usd", "USD", "Cash payment"),
    Column("equity_payment_usd", "USD", "Equity payment"),
    Column("revenue_share_payment_usd", "USD", "Revenue-share payment"),
    Column("payment_date", "date", "Payment date"),
    Column("year_fraction", "years", "Years from the valuation date to the payment (actual/365)"),
    Column("discount_factor", "x", "Discount factor"),
    Column("present_value_usd", "USD", "Present value of the payments"),
    Column("firm_fraction", "fraction", "Share of the month inside the firm period"),
    Column("firm_fee_usd", "USD", "Firm (non-cancellable) fee"),
)


def _multiply(factors: list[np.ndarray]) -> np.ndarray:
    """Left-to-right product; after the first multiplication, into the array it made whenever the shape allows."""
    out = factors[0]
    fresh = False  # out is an array this function made (never multiply a caller's array in place)
    for f in factors[1:]:
        if fresh and np.broadcast_shapes(out.shape, f.shape) == out.shape and out.dtype == np.result_type(out, f):
            np.multiply(out, f, out=out)
        else:
            out = out * f
            fresh = True
    return out


def product(*factors: np.ndarray) -> np.ndarray:
    """Multiply broadcastable factors: per-scenario columns ``(k, 1)`` first, then time rows.

    Only the last multiplication is full size. The order depends on each
    factor's kind, never on ``k``, so row ``i`` of a batch is bit-identical
    to the single run with scenario ``i``'s values.
    """
    per_scenario = [f for f in factors if f.shape[1] == 1]
    over_time = [f for f in factors if f.shape[1] != 1]
    if not over_time:
        return _multiply(per_scenario)
    if not per_scenario:
        return _multiply(over_time)
    return _multiply(per_scenario) * _multiply(over_time)


def sum_months(n: int, *factors: np.ndarray) -> np.ndarray:
    """Sum over months of the product of ``factors``, shape (n,), without building it in full.

    Per-scenario factors ``(k, 1)`` are pulled out of the sum; time rows
    ``(k, n_months)`` are multiplied and summed. Equals
    ``product(*factors).sum(axis=1)`` up to rounding.
    """
    per_scenario = [f for f in factors if f.shape[1] == 1]
    over_time = [f for f in factors if f.shape[1] != 1]
    # the same multiplications in the same order whatever k is, then each row summed alone: a scenario's
    # total does not depend on the batch it is in (Monte Carlo chunks rely on it)
    total = _multiply(over_time).sum(axis=1, keepdims=True) if over_time else np.ones((1, 1))
    if per_scenario:
        total = _multiply(per_scenario) * total
    return np.broadcast_to(total[:, 0], (n,))


@dataclass(frozen=True, eq=False)
class Schedule:
    """A deal's monthly schedule for every scenario.

    Each column named in :data:`COLUMNS` is an attribute of shape
    ``(n_scenarios, n_months)``: money in USD, capacity in GPUs and MW, time
    in GPU-hours; ``month`` is ``datetime64[M]`` and ``payment_date``
    ``datetime64[D]``. Months past a scenario's term are zero and ``active``
    is False there.

    Internally the schedule is kept in factored form: per-scenario columns
    ``(k, 1)`` and time rows ``(k, n_months)`` with ``k`` 1 or n. A monthly
    column is built in full the first time it is read; totals (``total_*``)
    are summed from the factors, which is what makes 10,000 scenarios cheap.
    """

    terms: DealTerms
    capacity: DealCapacity
    n_scenarios: int
    n_months: int
    f_active: np.ndarray
    f_month: np.ndarray
    f_days: np.ndarray
    f_hours: np.ndarray
    f_fee_fraction: np.ndarray
    f_capacity_fraction: np.ndarray
    f_gpus: np.ndarray
    f_kw_per_gpu: np.ndarray
    f_uptime: np.ndarray
    f_utilization: np.ndarray
    f_base_fee: np.ndarray
    f_escalator: np.ndarray
    f_late_fee_factor: np.ndarray
    f_usage_factor: np.ndarray
    f_credit_share: np.ndarray
    f_prepay_share: np.ndarray
    f_equity_share: np.ndarray
    f_revenue_share: np.ndarray
    f_payment_date: np.ndarray
    f_year_fraction: np.ndarray
    f_discount_factor: np.ndarray
    f_start_discount: np.ndarray
    f_firm_fraction: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_scenarios, self.n_months)

    def _full(self, a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(a, self.shape)

    # -- factors of the fee chain: list fee -> ramp -> late delivery -> usage -> SLA credit
    def _list_factors(self) -> tuple[np.ndarray, ...]:
        return (self.f_base_fee, self.f_escalator, self.f_active)

    def _net_factors(self) -> tuple[np.ndarray, ...]:
        return (
            *self._list_factors(),
            self.f_fee_fraction,
            self.f_late_fee_factor,
            self.f_usage_factor,
            1.0 - self.f_credit_share,
        )

    def _delivered_factors(self) -> tuple[np.ndarray, ...]:
        return (self.f_gpus, self.f_hours, self.f_capacity_fraction, self.f_uptime)

    # -- totals over the term, shape (n_scenarios,)
    @cached_property
    def _net_split(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The net fee's per-scenario factors, and the product of its time rows (none in a one-month
        schedule), shared by three totals. Passing the product where its factors stood gives the same
        multiplications in the same order."""
        factors = self._net_factors()
        over_time = [f for f in factors if f.shape[1] != 1]
        return [f for f in factors if f.shape[1] == 1], [_multiply(over_time)] if over_time else []

    @cached_property
    def total_net_fee_usd(self) -> np.ndarray:
        per_scenario, over_time = self._net_split
        return sum_months(self.n_scenarios, *per_scenario, *over_time)

    @cached_property
    def total_firm_fee_usd(self) -> np.ndarray:
        per_scenario, over_time = self._net_split
        return sum_months(self.n_scenarios, *per_scenario, *over_time, self.f_firm_fraction)

    @cached_property
    def total_present_value_usd(self) -> np.ndarray:
        per_scenario, over_time = self._net_split
        monthly = sum_months(self.n_scenarios, *per_scenario, *over_time, self.f_discount_factor, 1.0 - self.f_prepay_share)
        return monthly + self.total_prepayment_usd * self.start_discount_factor  # the prepayment is paid on day one

    @cached_property
    def total_prepayment_usd(self) -> np.ndarray:
        return np.broadcast_to(self.f_prepay_share[:, 0], (self.n_scenarios,)) * self.total_net_fee_usd

    @cached_property
    def total_used_value_present_usd(self) -> np.ndarray:
        """(n,): each month's used GPU-hours at the market price, discounted on that month's payment date."""
        used = sum_months(self.n_scenarios, *self._delivered_factors(), self.f_discount_factor)
        market = np.asarray(self.terms.market_usd_per_gpu_hour, float)
        return used * np.broadcast_to(self.f_utilization[:, 0], (self.n_scenarios,)) * market

    @cached_property
    def start_day(self) -> np.ndarray:
        """(n,) datetime64[D]: the first day of each scenario's start_month (when capex and any prepayment are paid)."""
        return np.broadcast_to(np.asarray(self.terms.start_month, "datetime64[M]").astype("datetime64[D]"), (self.n_scenarios,))

    @cached_property
    def start_discount_factor(self) -> np.ndarray:
        """(n,): the discount factor of the first day of start_month (when the prepayment is paid) at the valuation date."""
        return np.broadcast_to(self.f_start_discount[:, 0], (self.n_scenarios,))

    @cached_property
    def total_delivered_gpu_hours(self) -> np.ndarray:
        return sum_months(self.n_scenarios, *self._delivered_factors())

    @cached_property
    def total_used_gpu_hours(self) -> np.ndarray:
        return self.total_delivered_gpu_hours * np.broadcast_to(self.f_utilization[:, 0], (self.n_scenarios,))

    @cached_property
    def total_equity_paid_usd(self) -> np.ndarray:
        # every payment (monthly and prepaid) is split the same way, and payments add up to net TCV
        return self.total_net_fee_usd * np.broadcast_to(self.f_equity_share[:, 0], (self.n_scenarios,))

    @cached_property
    def total_revenue_share_paid_usd(self) -> np.ndarray:
        return self.total_net_fee_usd * np.broadcast_to(self.f_revenue_share[:, 0], (self.n_scenarios,))

    @cached_property
    def total_cash_paid_usd(self) -> np.ndarray:
        return self.total_net_fee_usd - self.total_equity_paid_usd - self.total_revenue_share_paid_usd

    @cached_property
    def total_firm_months(self) -> np.ndarray:
        return sum_months(self.n_scenarios, self.f_firm_fraction)

    # -- monthly columns, built on first read
    @cached_property
    def active(self) -> np.ndarray:
        return self._full(self.f_active)

    @cached_property
    def month_index(self) -> np.ndarray:
        return self._full((np.arange(1, self.n_months + 1)[None, :]) * self.f_active)

    @cached_property
    def month(self) -> np.ndarray:
        return self._full(self.f_month)

    @cached_property
    def days(self) -> np.ndarray:
        return self._full(self.f_days * self.f_active)

    @cached_property
    def hours(self) -> np.ndarray:
        return self._full(self.f_hours)

    @cached_property
    def fee_fraction(self) -> np.ndarray:
        return self._full(self.f_fee_fraction * self.f_active)

    @cached_property
    def capacity_fraction(self) -> np.ndarray:
        return self._full(self.f_capacity_fraction)

    @cached_property
    def contracted_gpus(self) -> np.ndarray:
        return self._full(product(self.f_gpus, self.f_active))

    @cached_property
    def delivered_gpus(self) -> np.ndarray:
        return self._full(product(self.f_gpus, self.f_capacity_fraction))

    @cached_property
    def delivered_mw(self) -> np.ndarray:
        return self._full(product(self.f_gpus, self.f_capacity_fraction, self.f_kw_per_gpu / 1000.0))

    @cached_property
    def mw_over_facility(self) -> np.ndarray:
        over = self.delivered_mw - _col(np.asarray(self.terms.facility_mw, float))
        return self._full(np.maximum(over, 0.0) * self.f_active)

    @cached_property
    def delivered_gpu_hours(self) -> np.ndarray:
        return self._full(product(*self._delivered_factors()))

    @cached_property
    def used_gpu_hours(self) -> np.ndarray:
        return self._full(product(*self._delivered_factors(), self.f_utilization))

    @cached_property
    def escalator_factor(self) -> np.ndarray:
        return self._full(self.f_escalator * self.f_active)

    @cached_property
    def list_fee_usd(self) -> np.ndarray:
        return self._full(product(*self._list_factors()))

    @cached_property
    def ramp_reduction_usd(self) -> np.ndarray:
        return self._full(product(*self._list_factors(), 1.0 - self.f_fee_fraction))

    @cached_property
    def late_delivery_reduction_usd(self) -> np.ndarray:
        return self._full(product(*self._list_factors(), self.f_fee_fraction, 1.0 - self.f_late_fee_factor))

    @cached_property
    def usage_reduction_usd(self) -> np.ndarray:
        return self._full(product(*self._list_factors(), self.f_fee_fraction, self.f_late_fee_factor, 1.0 - self.f_usage_factor))

    @cached_property
    def sla_credit_usd(self) -> np.ndarray:
        return self._full(
            product(*self._list_factors(), self.f_fee_fraction, self.f_late_fee_factor, self.f_usage_factor, self.f_credit_share)
        )

    @cached_property
    def net_fee_usd(self) -> np.ndarray:
        return self._full(product(*self._net_factors()))

    @cached_property
    def cumulative_fee_usd(self) -> np.ndarray:
        return np.cumsum(self.net_fee_usd, axis=1)

    @cached_property
    def prepayment_usd(self) -> np.ndarray:
        out = np.zeros(self.shape)
        out[:, 0] = self.total_prepayment_usd
        return out

    @cached_property
    def _monthly_paid_usd(self) -> np.ndarray:
        return product(self.net_fee_usd, 1.0 - self.f_prepay_share) + self.prepayment_usd

    @cached_property
    def cash_payment_usd(self) -> np.ndarray:
        return self._full(product(self._monthly_paid_usd, 1.0 - self.f_equity_share - self.f_revenue_share))

    @cached_property
    def revenue_share_payment_usd(self) -> np.ndarray:
        return self._full(product(self._monthly_paid_usd, self.f_revenue_share))

    @cached_property
    def equity_payment_usd(self) -> np.ndarray:
        return self._full(product(self._monthly_paid_usd, self.f_equity_share))

    @cached_property
    def payment_date(self) -> np.ndarray:
        return self._full(self.f_payment_date)

    @cached_property
    def year_fraction(self) -> np.ndarray:
        return self._full(self.f_year_fraction * self.f_active)

    @cached_property
    def discount_factor(self) -> np.ndarray:
        return self._full(self.f_discount_factor * self.f_active)

    @cached_property
    def present_value_usd(self) -> np.ndarray:
        return self._full(product(self.net_fee_usd, 1.0 - self.f_prepay_share, self.f_discount_factor)
                          + self.prepayment_usd * self.f_start_discount)  # fmt: skip

    @cached_property
    def firm_fraction(self) -> np.ndarray:
        return self._full(self.f_firm_fraction)

    @cached_property
    def firm_fee_usd(self) -> np.ndarray:
        return self._full(product(self.net_fee_usd, self.f_firm_fraction))

    def materialise(self) -> Schedule:
        """Build every monthly column now (for display or export of whole schedules)."""
        for c in COLUMNS:
            getattr(self, c.name)
        return self

    def at(self, rows: np.ndarray, cols: np.ndarray, *columns: str) -> list[np.ndarray]:
        """``column[rows, cols]`` of each column at scattered points, from the factors at those points only.

        ``rows`` and ``cols`` are 1-D index arrays of equal length; only the factors the columns use are
        gathered, and no column is built in full. Only columns whose value at a month depends on that
        month alone can be read this way (:data:`POINTWISE`: not the cumulative fee, the month number or
        the payment columns, which carry the prepayment in the first month). Equal to the full column up
        to rounding: the factors may be multiplied in another order.
        """
        for column in columns:
            if column not in POINTWISE:
                raise ValueError(f"{column} depends on other months; read it in full")
        view = _Points(self, np.asarray(rows, np.intp).reshape(-1), np.asarray(cols, np.intp).reshape(-1))
        return [np.asarray(getattr(view, c))[:, 0] for c in columns]

    def head(self, k: int) -> Schedule:
        """The schedule of the first ``k`` scenarios (every column, built from the factors on first read)."""
        k = min(k, self.n_scenarios)
        sliced = {f.name: getattr(self, f.name)[:k] for f in fields(self) if f.name.startswith("f_")}
        return replace(self, n_scenarios=k, **sliced)

    def row(self, i: int) -> dict[str, np.ndarray]:
        """Scenario ``i``'s columns over its own term (inactive months dropped)."""
        keep = self.active[i]
        return {c.name: getattr(self, c.name)[i][keep] for c in COLUMNS}

    def to_frame(self, i: int = 0) -> Any:
        """Scenario ``i``'s schedule as a pandas DataFrame for notebooks: one row per billed month (indexed by the
        month), one column per line item. pandas is imported here, on first use, so the engine stays numpy."""
        import pandas as pd

        row = self.row(i)
        frame = pd.DataFrame({k: v for k, v in row.items() if k != "month"})
        frame.index = pd.PeriodIndex(row["month"].astype("datetime64[M]").astype(str), freq="M", name="month")
        return frame


class _Points(Schedule):
    """A schedule of scattered points of another, one point per row: each factor is gathered on first read."""

    _parent: Schedule
    _rows: np.ndarray
    _cols: np.ndarray

    def __init__(self, parent: Schedule, rows: np.ndarray, cols: np.ndarray) -> None:
        for k, v in {"terms": parent.terms, "capacity": parent.capacity, "n_scenarios": rows.size, "n_months": 1,
                     "_parent": parent, "_rows": rows, "_cols": cols}.items():  # fmt: skip
            object.__setattr__(self, k, v)

    def __getattr__(self, name: str) -> np.ndarray:
        if not name.startswith("f_"):
            raise AttributeError(name)
        f = getattr(self._parent, name)
        if f.shape == (1, 1):
            v = f
        elif f.shape[0] == 1:
            v = f[0].take(self._cols)[:, None]
        elif f.shape[1] == 1:
            v = f[:, 0].take(self._rows)[:, None]
        else:
            v = f.reshape(-1).take(self._rows * f.shape[1] + self._cols)[:, None]
        object.__setattr__(self, name, v)
        return v


# columns whose value at a month is a product of that month's factors alone (readable with Schedule.at)
POINTWISE = (frozenset(c.name for c in COLUMNS) | {"active"}) - {
    "month_index", "mw_over_facility", "cumulative_fee_usd", "prepayment_usd", "cash_payment_usd", "equity_payment_usd",
    "revenue_share_payment_usd", "present_value_usd",
}  # fmt: skip


def _col(a: np.ndarray) -> np.ndarray:
    """A per-scenario vector (k,) as a column (k, 1) that broadcasts along time."""
    return a.reshape(-1, 1)


def credit_pct_for_uptime(uptime_pct: np.ndarray, tiers: tuple[object, ...]) -> np.ndarray:
    """Credit % of the deepest tier (lowest threshold) that the uptime is below (0 when above all).

    Tiers come sorted by descending threshold, so a later tier crossed replaces an earlier one; build_terms
    refuses tables whose credits fall as the threshold falls, so the deepest tier is also the largest credit.
    """
    credit = np.zeros_like(uptime_pct, dtype=float)
    for t in tiers:
        credit = np.where(uptime_pct < t.below_uptime_pct, t.credit_pct, credit)  # type: ignore[attr-defined]
    return credit


def build_schedule(terms: DealTerms, *, require_delivery: bool = True) -> Schedule:
    """Compute the monthly schedule of every scenario in ``terms``.

    Returns
    -------
    Schedule
        Arrays of shape ``(terms.n_scenarios, max months billed)``.

    Raises
    ------
    InputError
        When a scenario delivers no GPU-hours at all (its unit prices would
        be infinite).

    Examples
    --------
    >>> from engine.terms import build_terms
    >>> t = build_terms({"deal_name": "x", "start_month": "2026-05", "end_month": "2026-07",
    ...                  "monthly_fee_usd": 100.0, "facility_mw": 1, "ramp_months": 1,
    ...                  "ramp_fee_fraction": 0.5})
    >>> build_schedule(t).net_fee_usd.tolist()
    [[50.0, 100.0, 100.0]]
    """
    n = terms.n_scenarios
    months_billed = terms.months_billed
    n_months = int(months_billed.max())
    j = np.arange(n_months)[None, :]
    active = j < _col(months_billed)

    # Calendar as integers: a small table of first days covering every month touched,
    # then one gather per array (datetime64 conversions on (n, M) arrays are slow).
    start_idx = _col(terms.start_month).astype(np.int64)  # months since 1970-01
    lo = int(start_idx.min())
    first_days = (
        np.arange(lo, int(start_idx.max()) + n_months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    )
    rel = start_idx - lo + j
    day0_int = first_days[rel]  # days since 1970-01-01 of each month's first day
    next_day0_int = first_days[rel + 1]
    days = (next_day0_int - day0_int).astype(float)
    month = (start_idx + j).astype("datetime64[M]")
    hours = days * 24.0 * active

    # Ramp fractions.
    if terms.ramp_table:
        table_fee = np.array([s.fee_fraction for s in terms.ramp_table])
        table_cap = np.array([s.capacity_fraction for s in terms.ramp_table])
        fee_frac = np.ones((1, n_months))
        cap_frac = np.ones((1, n_months))
        fee_frac[0, : table_fee.size] = table_fee
        cap_frac[0, : table_cap.size] = table_cap
    else:
        in_ramp = j < _col(terms.ramp_months)
        fee_frac = np.where(in_ramp, _col(terms.ramp_fee_fraction), 1.0)
        cap_frac = np.where(in_ramp, _col(terms.ramp_capacity_fraction), 1.0)

    # Late delivery: a share of capacity arrives delivery_delay_months after the
    # due month; after the grace period the fee is cut pro rata to what is missing.
    if (terms.delivery_delay_months > 0).any() and (terms.late_capacity_pct > 0).any():
        month_idx = start_idx + j
        due = _col(terms.delivery_due_month).astype(np.int64)
        late = (month_idx >= due) & (month_idx < due + _col(terms.delivery_delay_months).astype(np.int64))
        share_when_late = 1.0 - _col(terms.late_capacity_pct) / 100.0
        delivered_share = np.where(late, share_when_late, 1.0)
        if (terms.delivery_grace_months > 0).any():
            cut = late & (month_idx >= due + _col(terms.delivery_grace_months).astype(np.int64))
            late_fee_factor = np.where(cut, share_when_late, 1.0)
        else:  # no grace: the fee is cut exactly where capacity is missing
            late_fee_factor = delivered_share
    else:
        delivered_share = late_fee_factor = np.ones((1, 1))

    uptime = _col(terms.expected_uptime_pct) / 100.0
    capacity_fraction = (cap_frac * active) * delivered_share

    cap = deal_capacity(terms)
    gpus = _col(cap.gpus)
    total_delivered = sum_months(n, gpus, hours, capacity_fraction, uptime)  # = Schedule.total_delivered_gpu_hours
    if require_delivery:  # the simulation keeps paths a delay leaves empty: their unit prices have no value
        _require_delivery(terms, total_delivered, n)

    # Fees: the full-rate fee, replaced from each step-up month, escalated on each anniversary.
    base_fee = _col(terms.monthly_fee_usd)
    for step in terms.step_ups:
        base_fee = np.where(month >= step.from_month, step.monthly_fee_usd, base_fee)
    escalator = (1.0 + _col(terms.escalator_pct_per_year) / 100.0) ** (j // 12)
    usage_factor = np.minimum(np.maximum(_col(terms.utilization_pct), _col(terms.take_or_pay_min_pct)) / 100.0, 1.0)
    credit_share = _col(credit_pct_for_uptime(terms.expected_uptime_pct, terms.sla_tiers)) / 100.0

    # Dates and discounting (XNPV convention: actual/365 from the valuation date, by default the first day of
    # start_month; a payment before the valuation date is carried forward at the same rate, as XNPV does).
    pay_day_int = next_day0_int - 1 if terms.payment_timing == "arrears" else day0_int
    valuation_day = _col(terms.valuation_date).astype(np.int64)
    year_frac = (pay_day_int - valuation_day) / 365.0
    log_rate = np.log1p(_col(terms.discount_rate_pct) / 100.0)
    disc = np.multiply(log_rate, -year_frac)  # (1 + r)^-t as exp(-t ln(1 + r))
    np.exp(disc, out=disc)
    start_disc = np.exp(-log_rate * (day0_int[:, :1] - valuation_day) / 365.0)  # the prepayment's, paid on day one

    # Firm period: fees accrued before the earliest exit date, pro rata by day.
    if terms.notice_days is None or terms.lockin_months is None:
        firm_fraction = active.astype(float)
    else:
        lock_end = first_days[start_idx - lo + _col(terms.lockin_months).astype(np.int64)]
        exit_day_int = lock_end + _col(terms.notice_days).astype(np.int64)
        firm_fraction = np.clip((exit_day_int - day0_int) / days, 0.0, 1.0) * active

    schedule = Schedule(
        terms=terms,
        capacity=cap,
        n_scenarios=n,
        n_months=n_months,
        f_active=active,
        f_month=month,
        f_days=days,
        f_hours=hours,
        f_fee_fraction=fee_frac,
        f_capacity_fraction=capacity_fraction,
        f_gpus=gpus,
        f_kw_per_gpu=_col(cap.kw_per_gpu),
        f_uptime=uptime,
        f_utilization=_col(terms.utilization_pct) / 100.0,
        f_base_fee=base_fee,
        f_escalator=escalator,
        f_late_fee_factor=late_fee_factor,
        f_usage_factor=usage_factor,
        f_credit_share=credit_share,
        f_prepay_share=_col(terms.prepayment_pct) / 100.0,
        f_equity_share=_col(terms.equity_pct) / 100.0,
        f_revenue_share=_col(terms.revenue_share_pct) / 100.0,
        f_payment_date=pay_day_int.astype("datetime64[D]"),
        f_year_fraction=year_frac,
        f_discount_factor=disc,
        f_start_discount=start_disc,
        f_firm_fraction=firm_fraction,
    )
    schedule.__dict__["total_delivered_gpu_hours"] = total_delivered  # already summed from the same factors
    return schedule


def _require_delivery(terms: DealTerms, total_delivered_gpu_hours: np.ndarray, n: int) -> None:
    none = total_delivered_gpu_hours <= 0
    if none.any():
        detail = "ramp and late delivery leave nothing delivered"
        if n > 1:  # never an internal index: how many of the cases computed together
            detail += f" in {int(none.sum()):,} of {none.size:,} cases"
        raise InputError(Issue("ramp_capacity_fraction", "no_delivery", E.MSG_NO_DELIVERY.format(detail=detail), 0.0))
