"""Payments by period, as a lessee's contractual-obligations note shows them, and fiscal-year subtotals.

Periods count from the valuation date ``V`` on each payment's date: within one year is ``V <= date < V + 1 year``,
then years 1 to 3, 3 to 5 and after 5 (a year later is the same day of the month, the month's last day where that
day does not exist). A payment is the net fee on its payment date, except its prepaid share
(``prepayment_pct``), which is due on the first day of ``start_month``. Payments dated before the valuation date are
in no period: with the default valuation date (the first day of ``start_month``) the periods add up to net TCV, and
the firm periods to the firm commitment.

Fiscal year ``FYyyyy`` ends with month ``fiscal_year_end_month`` of year ``yyyy`` (12: the calendar year); a service
month belongs to the fiscal year it falls in.
"""

from __future__ import annotations

import numpy as np

from engine.schedule import Schedule

PERIODS: tuple[tuple[str, int, int | None], ...] = (
    ("within_1_year", 0, 1),
    ("years_1_to_3", 1, 3),
    ("years_3_to_5", 3, 5),
    ("after_5_years", 5, None),
)
"""(key, from year, to year) of each period, counted from the valuation date."""

OBLIGATION_FIGURES: tuple[str, ...] = tuple(f"{prefix}obligations_{key}_usd" for prefix in ("", "firm_") for key, _, _ in PERIODS)
"""The periods as flat figure names (the Summary sheet's defined names and ``CDM_SUMMARY``)."""

PERIOD_LABELS = {"within_1_year": "within 1 year", "years_1_to_3": "in years 1-3", "years_3_to_5": "in years 3-5",
                 "after_5_years": "after 5 years"}  # fmt: skip


def split_obligation_name(name: str) -> tuple[str, str]:
    """``firm_obligations_years_1_to_3_usd`` -> (``firm_obligations_by_period_usd``, ``years_1_to_3``): the record's
    key and the period of a flat figure name."""
    group, _, period = name.removesuffix("_usd").partition("obligations_")
    return f"{group}obligations_by_period_usd", period


def obligation_label(name: str) -> str:
    """``firm_obligations_years_1_to_3_usd`` -> "Firm payments due in years 1-3 (from the valuation date)"."""
    key, period = split_obligation_name(name)
    return f"{'Firm payments' if key.startswith('firm_') else 'Payments'} due {PERIOD_LABELS[period]} (from the valuation date)"


def years_later(days: np.ndarray, years: int) -> np.ndarray:
    """The same day of the month ``years`` later (the month's last day where it has no such day), as datetime64[D]."""
    month = days.astype("datetime64[M]")
    offset = days - month.astype("datetime64[D]")
    later = month + np.timedelta64(12 * years, "M")
    last = (later + np.timedelta64(1, "M")).astype("datetime64[D]") - np.timedelta64(1, "D")
    return np.minimum(later.astype("datetime64[D]") + offset, last)


def obligations_by_period(schedule: Schedule, *, firm: bool = False) -> dict[str, np.ndarray]:
    """Payments (or firm payments) due in each period from the valuation date: key -> (n_scenarios,) USD.

    Examples
    --------
    >>> from engine.terms import build_terms
    >>> from engine.schedule import build_schedule
    >>> t = build_terms({"deal_name": "x", "start_month": "2026-01", "end_month": "2028-12",
    ...                  "monthly_fee_usd": 1.0, "facility_mw": 1, "gpu_count": 10})
    >>> {k: float(v[0]) for k, v in obligations_by_period(build_schedule(t)).items()}
    {'within_1_year': 12.0, 'years_1_to_3': 24.0, 'years_3_to_5': 0.0, 'after_5_years': 0.0}
    """
    s = schedule
    n = s.n_scenarios
    fee = s.firm_fee_usd if firm else s.net_fee_usd
    prepaid_share = s.f_prepay_share[:, :1]
    monthly = fee * (1.0 - prepaid_share)
    prepaid = (fee * prepaid_share * s.active).sum(axis=1)  # (n,) due on the first day of start_month
    valuation = np.broadcast_to(np.asarray(s.terms.valuation_date, "datetime64[D]"), (n,))
    start_day = s.start_day
    pay = np.broadcast_to(s.payment_date, s.shape)
    out: dict[str, np.ndarray] = {}
    bounds = {y: years_later(valuation, y) for _, lo, hi in PERIODS for y in (lo, hi) if y is not None}
    for key, lo, hi in PERIODS:
        begin = bounds[lo]
        end = bounds[hi] if hi is not None else None
        inside = (pay >= begin[:, None]) & s.active
        first = start_day >= begin
        if end is not None:
            inside &= pay < end[:, None]
            first &= start_day < end
        out[key] = (monthly * inside).sum(axis=1) + np.where(first, prepaid, 0.0)
    return out


def fiscal_year_of(months: np.ndarray, fiscal_year_end_month: int) -> np.ndarray:
    """The fiscal year (the calendar year it ends in) of each datetime64[M] month.

    >>> fiscal_year_of(np.array(["2026-03", "2026-04"], "datetime64[M]"), 3).tolist()
    [2026, 2027]
    """
    m = months.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    year, month = 1970 + m // 12, m % 12 + 1
    return year + (month > fiscal_year_end_month).astype(np.int64)


def fiscal_year_totals(schedule: Schedule, columns: tuple[str, ...], i: int = 0) -> dict[int, dict[str, float]]:
    """Scenario ``i``'s ``columns`` summed by fiscal year: fiscal year -> column -> total (in order of years)."""
    t = schedule.terms
    end_month = int(np.asarray(t.fiscal_year_end_month).reshape(-1)[0])
    keep = schedule.active[i]
    years = fiscal_year_of(schedule.month[i][keep], end_month)
    out: dict[int, dict[str, float]] = {}
    for y in np.unique(years):
        mask = years == y
        out[int(y)] = {c: float(getattr(schedule, c)[i][keep][mask].sum()) for c in columns}
    return out
