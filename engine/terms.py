"""Validated deal terms: the one entry point from raw values to the engine.

``build_terms(raw)`` takes a mapping of vocabulary names to raw values (from a
TOML file, Excel cells or a Python caller), applies every rule in
``engine.fields`` and returns a frozen :class:`DealTerms`, or raises
:class:`engine.errors.InputError` listing every broken rule. Blank values
(``None``, empty or whitespace text) mean "use the default", here and nowhere
else (:func:`resolve_blank`).

Numeric and month inputs may be 1-D arrays: each element is one scenario,
scalars broadcast, and row ``i`` of every result equals the single run with
value ``i``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine import errors as E
from engine.catalogue import SlaTier, capex_per_gpu, gpu_catalogue, market_prices, sla_policies
from engine.errors import InputError, InputWarning, Issue, fmt_value
from engine.fields import FIELD_BY_NAME, FIELDS, MAX_MONTHS, META_KEYS, TABLE_BY_NAME, Field

BLANK: Any = object()
"""Sentinel for "not supplied", distinct from every value a user can type."""


def is_blank(value: object) -> bool:
    """True for a value that means "use the default": absent, None, or empty text."""
    if value is BLANK or value is None:
        return True
    return isinstance(value, str) and value.strip() == ""


def resolve_blank(value: object, default: object) -> object:
    """The single place where a blank input becomes its default."""
    return default if is_blank(value) else value


@dataclass(frozen=True)
class FleetEntry:
    """``gpu_count`` GPUs of catalogue SKU ``gpu_sku``."""

    gpu_sku: str
    gpu_count: int


@dataclass(frozen=True)
class RampStep:
    """Month ``i`` of a month-by-month ramp table (from ``start_month``)."""

    fee_fraction: float
    capacity_fraction: float


@dataclass(frozen=True)
class StepUp:
    """A new full-rate monthly fee from ``from_month`` (inclusive)."""

    from_month: np.datetime64
    monthly_fee_usd: float


FloatArray = np.ndarray
MonthArray = np.ndarray
DayArray = np.ndarray


@dataclass(frozen=True, eq=False)
class DealTerms:
    """A validated deal, ready for the engine.

    Batch fields are 1-D arrays of length 1 or ``n_scenarios`` (float64 for
    numbers, ``datetime64[M]`` for months); they broadcast against each
    other. ``gpu_count``, ``kw_per_gpu``, ``notice_days`` and ``lockin_months``
    are ``None`` when blank (sized from power; power per GPU from the catalogue;
    no termination right). ``fleet`` is empty
    for a single-SKU deal, else it replaces ``gpu_sku``/``gpu_count``.
    """

    deal_name: str
    buyer: str
    vendor: str
    notes: str
    start_month: MonthArray
    end_month: MonthArray
    monthly_fee_usd: FloatArray
    ramp_months: FloatArray
    ramp_fee_fraction: FloatArray
    ramp_capacity_fraction: FloatArray
    escalator_pct_per_year: FloatArray
    take_or_pay_min_pct: FloatArray
    prepayment_pct: FloatArray
    equity_pct: FloatArray
    facility_mw: FloatArray
    pue: FloatArray
    network_overhead_pct: FloatArray
    kw_per_gpu: FloatArray | None
    gpu_sku: str
    gpu_count: FloatArray | None
    mfu_pct: FloatArray
    utilization_pct: FloatArray
    expected_uptime_pct: FloatArray
    sla_policy: str
    sla_credit_cap_pct: FloatArray
    market_usd_per_gpu_hour: FloatArray
    discount_rate_pct: FloatArray
    valuation_date: DayArray
    fiscal_year_end_month: float
    payment_timing: str
    notice_days: FloatArray | None
    lockin_months: FloatArray | None
    delivery_due_month: MonthArray
    delivery_status: str
    delivery_grace_months: FloatArray
    delivery_delay_months: FloatArray
    late_capacity_pct: FloatArray
    seller_capex_usd_per_gpu: FloatArray
    seller_facility: str
    seller_dc_capex_usd_per_mw: FloatArray
    seller_colocation_usd_per_kw_month: FloatArray
    seller_power_usd_per_kwh: FloatArray
    seller_other_opex_usd_per_gpu_hour: FloatArray
    seller_depreciation_years: FloatArray
    seller_depreciation_method: str
    seller_dc_depreciation_years: FloatArray
    seller_debt_pct: FloatArray
    seller_interest_rate_pct: FloatArray
    seller_loan_tenor_months: FloatArray
    seller_tax_rate_pct: FloatArray
    seller_residual_value_pct: FloatArray
    seller_vacancy_months: FloatArray
    seller_release_usd_per_gpu_hour: FloatArray
    seller_maintenance_pct_per_year: FloatArray
    seller_staff_usd_per_gpu_year: FloatArray
    seller_insurance_pct_per_year: FloatArray
    seller_asset_vintage: MonthArray
    seller_build_lead_months: FloatArray
    site: str
    revenue_share_pct: FloatArray
    warrant_value_usd: FloatArray
    fleet: tuple[FleetEntry, ...] = ()
    ramp_table: tuple[RampStep, ...] = ()
    step_ups: tuple[StepUp, ...] = ()
    sla_tiers: tuple[SlaTier, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)
    raw: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[InputWarning, ...] = ()
    n_scenarios: int = 1

    @property
    def months_billed(self) -> np.ndarray:
        """Whole months from start_month to end_month inclusive, shape (n,) or (1,)."""
        return (self.end_month - self.start_month).astype(np.int64) + 1

    @property
    def skus(self) -> tuple[str, ...]:
        """The catalogue SKUs in the deal."""
        return tuple(e.gpu_sku for e in self.fleet) if self.fleet else (self.gpu_sku,)

    def scenario(self, i: int) -> DealTerms:
        """The single deal of scenario ``i`` (batch fields as length-1 arrays)."""
        raw = dict(self.raw)
        for f in FIELDS:
            if f.batch and f.name in raw:
                v = raw[f.name]
                if isinstance(v, np.ndarray) and v.ndim == 1 and v.size > 1:
                    raw[f.name] = v[i]
        return build_terms(raw)


# ---------------------------------------------------------------- parsing


class _Collector:
    """Gathers every issue so ``cdm check`` can list them all at once."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.warnings: list[InputWarning] = []

    def add(self, fld: str, rule: str, template: str, value: object = None, **kw: object) -> None:
        msg = template.format(field=fld, value=fmt_value(value), **kw)
        self.issues.append(Issue(fld, rule, msg, value))

    def warn(self, fld: str, rule: str, message: str) -> None:
        self.warnings.append(InputWarning(fld, rule, message))


def _day_from_scalar(v: object) -> np.datetime64 | None:
    """A date from a date, a datetime64 or text (2026-05-01; a month alone, 2026-05, is its first day)."""
    if isinstance(v, np.datetime64):
        return v.astype("datetime64[D]")
    if isinstance(v, (dt.date, dt.datetime)):
        return np.datetime64(f"{v.year:04d}-{v.month:02d}-{v.day:02d}", "D")
    if isinstance(v, str) and len(v.strip()) <= 32:  # no date is written longer; strptime need not see a page of text
        for fmt in ("%Y-%m-%d", "%Y-%m"):
            try:
                d = dt.datetime.strptime(v.strip(), fmt)
            except ValueError:
                continue
            return np.datetime64(f"{d.year:04d}-{d.month:02d}-{d.day:02d}", "D")
    return None


def _parse_dates(c: _Collector, f: Field, v: object, name: str) -> np.ndarray | None:
    """A month (``datetime64[M]``) or date (``datetime64[D]``) array of shape (k,), checked for type and range."""
    unit, message = ("M", E.MSG_NOT_MONTH) if f.kind == "month" else ("D", E.MSG_NOT_DATE)
    if isinstance(v, np.ndarray) and (v.ndim != 1 or not f.batch):
        c.add(name, "shape", E.MSG_NOT_1D, shape=v.shape)
        return None
    if isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.datetime64):
        out = v.astype(f"datetime64[{unit}]")
    else:
        given = list(v) if isinstance(v, np.ndarray) else [v]
        parsed = [_day_from_scalar(x) for x in given]
        bad = [x for x, d in zip(given, parsed, strict=True) if d is None]
        if bad:
            c.add(name, "type", message, bad[0])
            return None
        out = np.array(parsed, dtype="datetime64[D]").astype(f"datetime64[{unit}]")
    return out if _months_in_range(c, name, out.astype("datetime64[M]")) is not None else None


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


FIRST_MONTH = np.datetime64("1900-03", "M")
"""Excel's serial dates are exact from 1 March 1900 (before it, its fictitious 29 Feb 1900 shifts them)."""
LAST_MONTH = np.datetime64("9979-12", "M")
"""Excel's dates end on 31 Dec 9999; the workbook's timeline and a simulated delay run up to 20 years past a month."""


def _months_in_range(c: _Collector, name: str, months: np.ndarray) -> np.ndarray | None:
    bad = (months < FIRST_MONTH) | (months > LAST_MONTH)
    if bad.any():
        c.add(name, "range", E.MSG_MONTH_RANGE, str(months[bad][0]), first=str(FIRST_MONTH), last=str(LAST_MONTH))
        return None
    return months


def _parse_number(c: _Collector, f: Field, v: object, name: str) -> np.ndarray | None:
    """A float64 array of shape (k,), checked for type, finiteness, wholeness and range."""
    if isinstance(v, (list, tuple)) and f.batch:
        v = np.asarray(v, dtype=object)
    if isinstance(v, np.ndarray):
        if v.ndim > 1 or not f.batch:
            c.add(name, "shape", E.MSG_NOT_1D, shape=v.shape)
            return None
        if v.ndim == 0:
            v = v.item()
    if isinstance(v, np.ndarray):
        if v.dtype == object or v.dtype.kind not in "iuf":
            bad = next((x for x in v.tolist() if not _is_number(x)), None)
            if bad is not None or v.size == 0:
                c.add(name, "type", E.MSG_NOT_NUMBER, bad if v.size else "an empty array")
                return None
        arr = np.asarray(v, dtype=np.float64).ravel()
    elif isinstance(v, int) and not isinstance(v, bool) and abs(v) > 10**300:
        c.add(name, "finite", E.MSG_NOT_FINITE, v)
        c.issues[-1] = Issue(name, "finite", c.issues[-1].message, fmt_value(v))  # JSON cannot print the integer itself
        return None
    elif _is_number(v):
        arr = np.array([float(v)])  # type: ignore[arg-type]
    else:
        c.add(name, "type", E.MSG_NOT_NUMBER, v)
        return None
    finite = np.isfinite(arr)
    if not finite.all():
        c.add(name, "finite", E.MSG_NOT_FINITE, _first(arr, ~finite))
        return None
    if f.kind == "integer":
        whole = arr == np.round(arr)
        if not whole.all():
            c.add(name, "whole", E.MSG_NOT_WHOLE, _first(arr, ~whole))
            return None
    if f.minimum is not None:
        low = arr <= f.minimum if f.min_exclusive else arr < f.minimum
        if low.any():
            tpl = E.MSG_MIN_EXCLUSIVE if f.min_exclusive else E.MSG_MIN
            c.add(name, "min", tpl, _first(arr, low), bound=_num(f.minimum))
            return None
    if f.maximum is not None:
        high = arr > f.maximum
        if high.any():
            c.add(name, "max", E.MSG_MAX, _first(arr, high), bound=_num(f.maximum))
            return None
    return arr


def _first(arr: np.ndarray, mask: np.ndarray) -> object:
    i = int(np.flatnonzero(mask)[0])
    x = float(arr[i])
    v: object = int(x) if math.isfinite(x) and x.is_integer() else x
    if arr.size > 1:
        return _Scen(v, i, arr.size)
    return v


class _Scen:
    """A value from an array of ``n`` values (a table axis, simulated paths), shown as ``0.8 (one of 4,096 values)``.

    The position inside the array is kept for programs but never shown: it is an internal index, not a place a user typed.
    """

    def __init__(self, value: object, index: int, n: int = 0) -> None:
        self.value, self.index, self.n = value, index, n

    def __str__(self) -> str:
        return f"{fmt_value(self.value)} (one of {self.n:,} values)"


def _num(x: float) -> str:
    """A rule's bound as written in the field table (``1.0`` stays ``1.0``, ``0`` stays ``0``; 1e13 reads 10,000,000,000,000)."""
    if float(x).is_integer() and abs(x) >= 1000:
        return f"{x:,.0f}"
    return str(x)


def _parse_text(c: _Collector, f: Field, v: object, name: str) -> str | None:
    if isinstance(v, str):
        return check_text(c, name, v)
    if _is_number(v):
        # A number typed into a text cell (a deal called 2026) is still a name.
        return fmt_value(float(v))  # type: ignore[arg-type]
    c.add(name, "type", E.MSG_NOT_TEXT, v)
    return None


MAX_TEXT_CHARS = 32_767
"""The most characters an Excel cell holds."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Characters a workbook cannot store (XML 1.0) or a terminal would obey (escape, bell): tab and newlines are fine."""


def check_text(c: _Collector, name: str, v: str) -> str | None:
    """A text input stripped, or None after recording why a workbook or terminal could not hold it."""
    bad = _CONTROL.search(v)
    if bad:
        c.add(name, "text", E.MSG_CONTROL_CHAR, v, code=f"U+{ord(bad.group()):04X}", at=bad.start() + 1)
        return None
    if len(v) > MAX_TEXT_CHARS:
        c.add(name, "max", E.MSG_MAX, f"{len(v):,} characters", bound=f"{MAX_TEXT_CHARS:,} characters (an Excel cell)")
        return None
    return v.strip()


def _parse_choice(c: _Collector, f: Field, v: object, name: str) -> str | None:
    if not isinstance(v, str):
        c.add(name, "type", E.MSG_NOT_TEXT, v)
        return None
    s = v.strip()
    if f.kind == "sku":
        cat = gpu_catalogue()
        match = next((k for k in cat if k.lower() == s.lower()), None)
        if match is None:
            c.add(name, "sku", E.MSG_UNKNOWN_SKU, s, choices=", ".join(cat))
        return match
    match = next((k for k in f.choices if k.lower() == s.lower()), None)
    if match is None:
        c.add(name, "choice", E.MSG_CHOICE, s, choices=", ".join(f.choices))
    return match


def parse_value(c: _Collector, f: Field, v: object, name: str | None = None) -> Any:
    """Parse one non-blank raw value of field ``f``; ``None`` after recording an issue."""
    name = name or f.name
    if f.kind in ("month", "date"):
        m = _parse_dates(c, f, v, name)
        return m if f.batch or m is None else m[0]
    if f.kind in ("number", "integer"):
        arr = _parse_number(c, f, v, name)
        return arr if f.batch or arr is None else float(arr[0])
    if f.kind == "text":
        return _parse_text(c, f, v, name)
    return _parse_choice(c, f, v, name)


def _parse_table(c: _Collector, name: str, rows: object) -> list[dict[str, Any]] | None:
    spec = TABLE_BY_NAME[name]
    if isinstance(rows, Mapping) or not isinstance(rows, Sequence) or isinstance(rows, str):
        c.add(name, "type", E.MSG_NOT_TABLE, rows)
        return None
    if len(rows) > spec.max_rows:
        c.add(name, "max", E.MSG_MAX, f"{len(rows)} rows", bound=f"{spec.max_rows} rows")
        return None
    out: list[dict[str, Any]] = []
    ok = True
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            c.add(f"{name}[{i}]", "type", E.MSG_NOT_TABLE, row)
            ok = False
            continue
        known = {col.name for col in spec.columns}
        for k in row:
            if k not in known:
                c.add(f"{name}[{i}].{k}", "unknown", E.MSG_UNKNOWN_KEY)
                ok = False
        parsed: dict[str, Any] = {}
        for col in spec.columns:
            label = f"{name}[{i}].{col.name}"
            v = row.get(col.name)
            if is_blank(v):
                c.add(label, "required", E.MSG_REQUIRED)
                ok = False
                continue
            p = parse_value(c, col, v, label)
            if p is None:
                ok = False
            parsed[col.name] = p
        out.append(parsed)
    return out if ok else None


def _check_sla_tiers(c: _Collector, rows: list[dict[str, Any]]) -> None:
    """The deepest tier crossed applies, so a deeper tier (a lower threshold) must credit at least as much as
    every tier above it, and no two tiers share a threshold: otherwise "deepest" and "largest" disagree."""
    order = sorted(range(len(rows)), key=lambda i: -float(rows[i]["below_uptime_pct"]))
    for above, below in itertools.pairwise(order):
        hi, lo = rows[above], rows[below]
        label = f"sla_tiers[{below + 1}]"
        if float(lo["below_uptime_pct"]) == float(hi["below_uptime_pct"]):
            c.add(f"{label}.below_uptime_pct", "order", E.MSG_SLA_SAME, lo["below_uptime_pct"], other=above + 1)
        elif float(lo["credit_pct"]) < float(hi["credit_pct"]):
            shown = {k: fmt_value(float(v)) for k, v in (("below", lo["below_uptime_pct"]), ("above", hi["below_uptime_pct"]),
                                                          ("credit", hi["credit_pct"]))}  # fmt: skip
            c.add(f"{label}.credit_pct", "order", E.MSG_SLA_ORDER, lo["credit_pct"], other=above + 1, **shown)


# ------------------------------------------------------------ entry point


def build_terms(raw: Mapping[str, object], **overrides: object) -> DealTerms:
    """Validate raw inputs into :class:`DealTerms`.

    Parameters
    ----------
    raw : mapping
        Vocabulary name -> raw value (see ``engine.fields.FIELDS``); tables
        (``fleet``, ``ramp_table``, ``step_ups``, ``sla_tiers``) as lists of
        mappings; ``sources`` as a mapping of input name -> source text.
    **overrides
        Replace raw values, typically with 1-D arrays of scenario values.

    Returns
    -------
    DealTerms
        Batch fields have shape ``(1,)`` or ``(n_scenarios,)``.

    Raises
    ------
    InputError
        Listing every rule broken, each naming the field, rule and value.

    Examples
    --------
    >>> t = build_terms({"deal_name": "x", "start_month": "2026-05",
    ...                  "end_month": "2029-05", "monthly_fee_usd": 1.25e9,
    ...                  "facility_mw": 300})
    >>> int(t.months_billed[0]), t.gpu_sku, float(t.pue[0])
    (37, 'H100-SXM', 1.2)
    >>> build_terms({**t.raw, "pue": 0.8})
    Traceback (most recent call last):
    ...
    engine.errors.InputError: pue must be >= 1.0, got 0.8
    """
    raw = {**raw, **overrides}
    c = _Collector()
    for k in raw:
        if k not in FIELD_BY_NAME and k not in TABLE_BY_NAME and k not in META_KEYS:
            c.add(k, "unknown", E.MSG_UNKNOWN_KEY)

    values: dict[str, Any] = {}
    for f in FIELDS:
        v = raw.get(f.name, BLANK)
        if is_blank(v):
            if f.required:
                c.add(f.name, "required", E.MSG_REQUIRED)
            values[f.name] = None
            continue
        values[f.name] = parse_value(c, f, v)

    tables: dict[str, list[dict[str, Any]]] = {}
    for name in TABLE_BY_NAME:
        rows = raw.get(name, BLANK)
        if is_blank(rows) or (isinstance(rows, Sequence) and not isinstance(rows, str) and len(rows) == 0):
            tables[name] = []
            continue
        parsed = _parse_table(c, name, rows)
        tables[name] = parsed or []

    sources_raw = raw.get("sources", {})
    sources: dict[str, str] = {}
    if isinstance(sources_raw, Mapping):
        for k, s in sources_raw.items():
            if k not in FIELD_BY_NAME and k not in TABLE_BY_NAME:
                c.add(f"sources.{k}", "unknown", E.MSG_UNKNOWN_KEY)
            elif not isinstance(s, str):  # a source is a citation typed as text, never a table or a list
                c.add(f"sources.{k}", "type", E.MSG_NOT_TEXT, s)
            else:
                text = check_text(c, f"sources.{k}", s)
                if text is not None:
                    sources[str(k)] = text
    elif not is_blank(sources_raw):
        c.add("sources", "type", E.MSG_NOT_TABLE, sources_raw)
    _check_sla_tiers(c, tables["sla_tiers"])

    if c.issues:
        raise InputError(c.issues)

    if tables["fleet"]:
        for name in ("gpu_sku", "gpu_count"):
            given = values[name]
            if given is not None:
                shown = given if isinstance(given, str) else _first(given, np.ones(given.shape, bool))
                c.add(name, "fleet", E.MSG_FLEET_AND_SKU, shown, n=len(tables["fleet"]))
        if c.issues:
            raise InputError(c.issues)
    _defaults(values, tables)
    n = _broadcast_length(c, values)
    _consistency(c, values, tables)
    if c.issues:
        raise InputError(c.issues)

    terms = DealTerms(
        **{f.name: values[f.name] for f in FIELDS},
        fleet=tuple(FleetEntry(r["gpu_sku"], int(r["gpu_count"])) for r in tables["fleet"]),
        ramp_table=tuple(RampStep(r["fee_fraction"], r["capacity_fraction"]) for r in tables["ramp_table"]),
        step_ups=tuple(StepUp(r["from_month"], r["monthly_fee_usd"]) for r in tables["step_ups"]),
        sla_tiers=values.pop("_sla_tiers"),
        sources=sources,
        raw=raw,
        n_scenarios=n,
    )
    # the warnings of parsing only; those that need the deal's capacity or results are the summary's
    return _with_warnings(terms, c.warnings)


def _with_warnings(terms: DealTerms, warnings: list[InputWarning]) -> DealTerms:
    object.__setattr__(terms, "warnings", tuple(warnings))
    return terms


BESPOKE_SLA_CREDIT_CAP_PCT = 50.0
"""A bespoke contract's cap on a month's SLA credits when it gives none: Colohouse's colocation SLA caps credits at 50%
of the monthly recurring charge (colohouse.com/legal/sla), the one capped bespoke-style term in our sources."""


def _defaults(values: dict[str, Any], tables: dict[str, list[dict[str, Any]]]) -> None:
    """Fill every blank optional input with its default (the one place that does)."""
    fleet = tables["fleet"]
    for f in FIELDS:
        if f.name == "gpu_sku" and fleet:
            values[f.name] = ""  # a fleet deal names its SKUs in the fleet table
            continue
        if values[f.name] is None and f.default is not None:
            d = f.default
            values[f.name] = np.array([float(d)]) if isinstance(d, (int, float)) else d
    if values["delivery_due_month"] is None:
        values["delivery_due_month"] = values["start_month"]
    if values["seller_asset_vintage"] is None:
        values["seller_asset_vintage"] = values["start_month"]
    if values["valuation_date"] is None:
        values["valuation_date"] = values["start_month"].astype("datetime64[D]")
    if values["notice_days"] is not None and values["lockin_months"] is None:
        values["lockin_months"] = np.array([0.0])
    counts = [(r["gpu_sku"], r["gpu_count"]) for r in fleet] or [(values["gpu_sku"], 1.0)]

    def weighted(by_sku: dict[str, float]) -> np.ndarray:  # a catalogue figure, weighted by GPU count
        return np.array([sum(by_sku[sku] * n for sku, n in counts) / sum(n for _, n in counts)])

    if values["market_usd_per_gpu_hour"] is None:
        values["market_usd_per_gpu_hour"] = weighted({k: p.reference_usd_per_gpu_hour for k, p in market_prices().items()})
    if values["seller_capex_usd_per_gpu"] is None:
        values["seller_capex_usd_per_gpu"] = weighted({k: c[0] for k, c in capex_per_gpu().items()})
    if values["seller_release_usd_per_gpu_hour"] is None:
        values["seller_release_usd_per_gpu_hour"] = values["market_usd_per_gpu_hour"]
    if tables["sla_tiers"]:
        tiers = tuple(SlaTier(r["below_uptime_pct"], r["credit_pct"]) for r in tables["sla_tiers"])
        tiers = tuple(sorted(tiers, key=lambda t: -t.below_uptime_pct))
        cap_default = BESPOKE_SLA_CREDIT_CAP_PCT
    else:
        tiers = sla_policies().get(values["sla_policy"], ())
        cap_default = 100.0
    cap = values["sla_credit_cap_pct"]
    values["_sla_cap_given"] = cap is not None
    cap = cap_default if cap is None else float(np.asarray(cap).reshape(-1)[0])
    values["sla_credit_cap_pct"] = np.array([cap])
    values["_sla_tiers"] = tuple(SlaTier(t.below_uptime_pct, min(t.credit_pct, cap)) for t in tiers)


def _broadcast_length(c: _Collector, values: dict[str, Any]) -> int:
    n = 1
    owner = ""
    for f in FIELDS:
        v = values.get(f.name)
        if f.batch and isinstance(v, np.ndarray) and v.size != 1:
            if n == 1:
                n, owner = v.size, f.name
            elif v.size != n:
                c.add(f.name, "shape", E.MSG_SHAPES, n=v.size, m=f"{n} ({owner})")
    return n


def _consistency(c: _Collector, v: dict[str, Any], tables: dict[str, list[dict[str, Any]]]) -> None:
    """Rules that involve more than one input: impossible combinations are errors."""
    start, end = v["start_month"], v["end_month"]
    start_b, end_b = np.broadcast_arrays(start, end)
    before = end_b < start_b
    if before.any():
        i = int(np.flatnonzero(before)[0])
        c.issues.append(Issue("end_month", "order", E.MSG_END_BEFORE_START.format(end=end_b[i], start=start_b[i]), str(end_b[i])))
        return
    months = (end_b - start_b).astype(np.int64) + 1
    if (months > MAX_MONTHS).any():
        i = int(np.argmax(months))
        c.issues.append(
            Issue(
                "end_month",
                "max_term",
                E.MSG_TERM_TOO_LONG.format(start=start_b[i], end=end_b[i], months=months[i], limit=MAX_MONTHS),
                str(end_b[i]),
            )
        )
        return
    shortest = int(months.min())

    def longer(name: str, arr: np.ndarray | None) -> None:
        if arr is not None and (arr > shortest).any():
            c.add(name, "term", E.MSG_LONGER_THAN_TERM, _first(arr, arr > shortest), months=shortest)

    longer("ramp_months", v["ramp_months"])
    longer("lockin_months", v["lockin_months"])
    if tables["ramp_table"] and len(tables["ramp_table"]) > shortest:
        c.add("ramp_table", "term", E.MSG_LONGER_THAN_TERM, f"of {len(tables['ramp_table'])} rows", months=shortest)
    if v["notice_days"] is not None:
        term_days = ((end_b + np.timedelta64(1, "M")).astype("datetime64[D]") - start_b.astype("datetime64[D]")).astype(np.int64)
        notice, days = np.broadcast_arrays(v["notice_days"], term_days)  # either may be the table's axis
        too_long = notice > days
        if too_long.any():
            c.add(
                "notice_days",
                "term",
                E.MSG_NOTICE_TOO_LONG,
                _first(notice, too_long),
                days=int(days.min()),
                months=shortest,
            )

    def inside(name: str, month: np.ndarray) -> None:
        m_b, s_b, e_b = np.broadcast_arrays(month, start, end)
        out = (m_b < s_b) | (m_b > e_b)
        if out.any():
            i = int(np.flatnonzero(out)[0])
            c.add(name, "term", E.MSG_DATE_OUTSIDE_TERM, m_b[i], start=s_b[i], end=e_b[i])

    inside("delivery_due_month", v["delivery_due_month"])
    vintage, first = np.broadcast_arrays(v["seller_asset_vintage"], start)
    late = vintage > first
    if late.any():
        i = int(np.flatnonzero(late)[0])
        c.add("seller_asset_vintage", "order", E.MSG_VINTAGE_AFTER_START, vintage[i], start=first[i])
    if v["lockin_months"] is not None and v["notice_days"] is None:
        lock = v["lockin_months"]
        c.warn("lockin_months", "no_notice",
               f"lockin_months {fmt_value(float(np.max(lock)))} has no effect: a lock-in ends where a termination right "
               f"begins, and notice_days is blank (no termination right), so all {shortest} months are firm "
               "(firm commitment = net TCV); give notice_days (0 for none) to model the exit")  # fmt: skip
    previous: np.datetime64 | None = None
    for i, row in enumerate(tables["step_ups"], start=1):
        inside(f"step_ups[{i}].from_month", np.array([row["from_month"]]))
        if previous is not None and row["from_month"] <= previous:
            c.add(f"step_ups[{i}].from_month", "order", E.MSG_STEP_ORDER, row["from_month"], previous=previous)
        previous = row["from_month"]

    share = np.broadcast_arrays(v["equity_pct"], v["revenue_share_pct"])
    over = share[0] + share[1] > 100
    if over.any():
        i = int(np.flatnonzero(over)[0])
        c.issues.append(Issue("revenue_share_pct", "sum", E.MSG_SHARES.format(equity=fmt_value(float(share[0][i])),
                              share=fmt_value(float(share[1][i]))), float(share[1][i])))  # fmt: skip
    if v["sla_policy"] != "none" and tables["sla_tiers"]:
        c.warn("sla_tiers", "override", f"sla_tiers table overrides sla_policy {v['sla_policy']!r}")
    cap = float(v["sla_credit_cap_pct"][0])
    clipped = [r["credit_pct"] for r in tables["sla_tiers"] if r["credit_pct"] > cap]
    if clipped and not v["_sla_cap_given"]:
        c.warn("sla_credit_cap_pct", "cap",
               f"sla_tiers credits above {fmt_value(cap)}% ({', '.join(fmt_value(x) + '%' for x in clipped)}) are capped at "
               f"{fmt_value(cap)}% of the month's fee, the default for bespoke terms; give sla_credit_cap_pct 100 to "
               "keep them")  # fmt: skip
