"""The monthly payment and capacity schedule of a deal, for many scenarios at once.

Every array of a :class:`Schedule` has shape ``(n_scenarios, n_months)``:
time runs along axis 1 from each scenario's ``start_month``; columns past a
scenario's term are zero (``active`` is False there). Computation broadcasts:
an input that is the same in every scenario is computed once as a
``(1, n_months)`` row, and only the results are broadcast to the full shape.

The definitions (README, "Methodology") in the order they are applied::

    list fee      = full-rate fee (after step-ups) x (1 + escalator)^floor(month index / 12)
    ramp          = list fee x (1 - fee fraction)
    late delivery = (list fee - ramp) x (1 - delivered share), after the grace period
    usage         = billable x (1 - max(utilisation, take-or-pay minimum))
    SLA credit    = billed x credit % of the tier the expected uptime falls in
    net fee       = list fee - ramp - late delivery - usage - SLA credit
"""

from __future__ import annotations

from dataclasses import dataclass, fields

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
    Column("payment_date", "date", "Payment date"),
    Column("year_fraction", "years", "Years from the first day of start_month (actual/365)"),
    Column("discount_factor", "x", "Discount factor"),
    Column("present_value_usd", "USD", "Present value of the payments"),
    Column("firm_fraction", "fraction", "Share of the month inside the firm period"),
    Column("firm_fee_usd", "USD", "Firm (non-cancellable) fee"),
)


@dataclass(frozen=True, eq=False)
class Schedule:
    """A deal's monthly schedule: every array has shape ``(n_scenarios, n_months)``.

    Money in USD, capacity in GPUs and MW, time in GPU-hours. Months past a
    scenario's term are zero and ``active`` is False there. ``month`` is
    ``datetime64[M]`` and ``payment_date`` ``datetime64[D]``.
    """

    terms: DealTerms
    capacity: DealCapacity
    active: np.ndarray
    month_index: np.ndarray
    month: np.ndarray
    days: np.ndarray
    hours: np.ndarray
    fee_fraction: np.ndarray
    capacity_fraction: np.ndarray
    contracted_gpus: np.ndarray
    delivered_gpus: np.ndarray
    delivered_mw: np.ndarray
    delivered_gpu_hours: np.ndarray
    used_gpu_hours: np.ndarray
    escalator_factor: np.ndarray
    list_fee_usd: np.ndarray
    ramp_reduction_usd: np.ndarray
    late_delivery_reduction_usd: np.ndarray
    usage_reduction_usd: np.ndarray
    sla_credit_usd: np.ndarray
    net_fee_usd: np.ndarray
    cumulative_fee_usd: np.ndarray
    prepayment_usd: np.ndarray
    cash_payment_usd: np.ndarray
    equity_payment_usd: np.ndarray
    payment_date: np.ndarray
    year_fraction: np.ndarray
    discount_factor: np.ndarray
    present_value_usd: np.ndarray
    firm_fraction: np.ndarray
    firm_fee_usd: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.net_fee_usd.shape  # type: ignore[return-value]

    def row(self, i: int) -> dict[str, np.ndarray]:
        """Scenario ``i``'s columns over its own term (inactive months dropped)."""
        keep = self.active[i]
        return {c.name: getattr(self, c.name)[i][keep] for c in COLUMNS}


def _col(a: np.ndarray) -> np.ndarray:
    """A per-scenario vector (k,) as a column (k, 1) that broadcasts along time."""
    return a.reshape(-1, 1)


def credit_pct_for_uptime(uptime_pct: np.ndarray, tiers: tuple[object, ...]) -> np.ndarray:
    """Credit % of the lowest tier threshold that the uptime is below (0 when above all)."""
    credit = np.zeros_like(uptime_pct, dtype=float)
    for t in tiers:  # tiers come sorted by descending threshold: later ones are deeper
        credit = np.where(uptime_pct < t.below_uptime_pct, np.maximum(credit, t.credit_pct), credit)  # type: ignore[attr-defined]
    return credit


def build_schedule(terms: DealTerms) -> Schedule:
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

    # Calendar: computed per distinct start month only (one row when start is shared).
    month = _col(terms.start_month) + j.astype("timedelta64[M]")
    day0 = month.astype("datetime64[D]")
    days = ((month + 1).astype("datetime64[D]") - day0).astype(np.int64).astype(float)
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
    due = _col(terms.delivery_due_month)
    late_until = due + _col(terms.delivery_delay_months).astype(np.int64).astype("timedelta64[M]")
    late = (month >= due) & (month < late_until)
    delivered_share = 1.0 - (_col(terms.late_capacity_pct) / 100.0) * late
    grace_end = due + _col(terms.delivery_grace_months).astype(np.int64).astype("timedelta64[M]")
    cut = late & (month >= grace_end)
    late_fee_factor = np.where(cut, delivered_share, 1.0)

    uptime = _col(terms.expected_uptime_pct) / 100.0
    capacity_fraction = cap_frac * delivered_share * active

    cap = deal_capacity(terms)
    gpus = _col(cap.gpus)
    contracted_gpus = gpus * active
    delivered_gpus = gpus * capacity_fraction
    delivered_mw = delivered_gpus * _col(cap.kw_per_gpu) / 1000.0
    delivered_gpu_hours = delivered_gpus * hours * uptime
    used_gpu_hours = delivered_gpu_hours * (_col(terms.utilization_pct) / 100.0)

    _require_delivery(terms, delivered_gpu_hours, n)

    # Fees.
    base_fee = np.broadcast_to(_col(terms.monthly_fee_usd), (terms.monthly_fee_usd.size, n_months))
    for step in terms.step_ups:
        base_fee = np.where(month >= step.from_month, step.monthly_fee_usd, base_fee)
    escalator = (1.0 + _col(terms.escalator_pct_per_year) / 100.0) ** (j // 12)
    list_fee = base_fee * escalator * active
    ramp_reduction = list_fee * (1.0 - fee_frac)
    after_ramp = list_fee - ramp_reduction
    late_reduction = after_ramp * (1.0 - late_fee_factor)
    billable = after_ramp - late_reduction
    usage_factor = np.minimum(np.maximum(_col(terms.utilization_pct), _col(terms.take_or_pay_min_pct)) / 100.0, 1.0)
    usage_reduction = billable * (1.0 - usage_factor)
    billed = billable - usage_reduction
    credit_pct = credit_pct_for_uptime(terms.expected_uptime_pct, terms.sla_tiers)
    sla_credit = billed * (_col(credit_pct) / 100.0)
    net_fee = billed - sla_credit

    shape = np.broadcast_shapes(net_fee.shape, (n, n_months))
    net_fee = np.broadcast_to(net_fee, shape)
    cumulative = np.cumsum(net_fee, axis=1)

    # Payments: a prepayment share of net TCV on the first day; the rest monthly.
    prepay_share = _col(terms.prepayment_pct) / 100.0
    prepayment = np.zeros(shape)
    prepayment[:, 0] = (prepay_share * cumulative[:, -1:])[:, 0]
    monthly_paid = net_fee * (1.0 - prepay_share)
    total_paid = monthly_paid + prepayment
    equity_share = _col(terms.equity_pct) / 100.0
    equity_payment = total_paid * equity_share
    cash_payment = total_paid - equity_payment

    # Dates and discounting (XNPV convention: actual/365 from the first day of start_month).
    if terms.payment_timing == "arrears":
        pay_date = (month + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    else:
        pay_date = day0
    year_frac = (pay_date - day0[:, :1]).astype(np.int64) / 365.0
    rate = _col(terms.discount_rate_pct) / 100.0
    disc = (1.0 + rate) ** (-year_frac)
    present_value = monthly_paid * disc + prepayment  # the prepayment is paid at t = 0

    # Firm period: fees accrued before the earliest exit date, pro rata by day.
    if terms.notice_days is None or terms.lockin_months is None:
        firm_fraction = np.broadcast_to(active.astype(float), shape)
    else:
        lock_end = (_col(terms.start_month) + _col(terms.lockin_months).astype(np.int64).astype("timedelta64[M]")).astype(
            "datetime64[D]"
        )
        exit_day = lock_end + _col(terms.notice_days).astype(np.int64).astype("timedelta64[D]")
        firm_fraction = np.clip((exit_day - day0).astype(np.int64) / days, 0.0, 1.0) * active
    firm_fee = net_fee * firm_fraction

    def full(a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(a, shape)

    return Schedule(
        terms=terms,
        capacity=cap,
        active=full(active),
        month_index=full((j + 1) * active),
        month=full(month),
        days=full(days * active),
        hours=full(hours),
        fee_fraction=full(fee_frac * active),
        capacity_fraction=full(capacity_fraction),
        contracted_gpus=full(contracted_gpus),
        delivered_gpus=full(delivered_gpus),
        delivered_mw=full(delivered_mw),
        delivered_gpu_hours=full(delivered_gpu_hours),
        used_gpu_hours=full(used_gpu_hours),
        escalator_factor=full(escalator * active),
        list_fee_usd=full(list_fee),
        ramp_reduction_usd=full(ramp_reduction),
        late_delivery_reduction_usd=full(late_reduction),
        usage_reduction_usd=full(usage_reduction),
        sla_credit_usd=full(sla_credit),
        net_fee_usd=net_fee,
        cumulative_fee_usd=cumulative,
        prepayment_usd=prepayment,
        cash_payment_usd=full(cash_payment),
        equity_payment_usd=full(equity_payment),
        payment_date=full(pay_date),
        year_fraction=full(year_frac * active),
        discount_factor=full(disc * active),
        present_value_usd=full(present_value),
        firm_fraction=full(firm_fraction),
        firm_fee_usd=full(firm_fee),
    )


def _require_delivery(terms: DealTerms, delivered_gpu_hours: np.ndarray, n: int) -> None:
    total = np.broadcast_to(delivered_gpu_hours.sum(axis=1), (n,))
    none = total <= 0
    if none.any():
        i = int(np.flatnonzero(none)[0])
        detail = "ramp and late delivery leave nothing delivered"
        if n > 1:
            detail += f"; scenario {i}"
        raise InputError(Issue("ramp_capacity_fraction", "no_delivery", E.MSG_NO_DELIVERY.format(detail=detail), 0.0))


SCHEDULE_FIELDS = tuple(f.name for f in fields(Schedule) if f.name not in ("terms", "capacity", "active"))
