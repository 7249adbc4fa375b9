"""The CDM_ worksheet functions, as plain Python: convert cells, call the engine, return cells.

These functions know nothing of xlwings: ``computedeal.py`` wraps each one
with ``@xw.func`` for Excel, and :mod:`addin.recalc` registers the same
functions with the ``formulas`` package for headless recalculation, so a
template computes the same numbers with and without Excel.

No exception leaves a function here: a bad input returns a short text the
cell shows (``CDM error: pue must be >= 1.0, got 0.8``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import numpy as np

from addin.version import package_version
from addin.workbook.cells import block_to_raw, cell_to_raw, date_to_serial, is_empty_cell, scalar
from addin.workbook.styles import SCHEDULE_ROWS
from engine import METRICS, CdmError, InputError, build_schedule, build_terms, summarize
from engine.catalogue import GPU_SPEC_FIELDS, gpu_catalogue
from engine.errors import Issue
from engine.fields import FIELD_BY_NAME, MAX_MONTHS
from engine.obligations import OBLIGATION_FIGURES, split_obligation_name
from engine.sizing import gpus_from_mw, kw_per_gpu, mw_from_gpus
from engine.summary import Summary
from engine.terms import _Collector, parse_value

ERROR_PREFIX = "CDM error: "
TEXT_FIGURES = ("deal_name", "buyer", "vendor", "start_month", "end_month", "exit_date", "valuation_date")
DATE_FIGURES = ("start_month", "end_month", "exit_date", "valuation_date")
OTHER_FIGURES = ("irr_vs_market_pct", *OBLIGATION_FIGURES)
FIGURES = tuple(m.name for m in METRICS) + OTHER_FIGURES + TEXT_FIGURES

P = ParamSpec("P")
R = TypeVar("R")


def error_text(exc: BaseException) -> str:
    """What a cell shows for an error: the first problem, and how many more there are."""
    if isinstance(exc, InputError):
        first = exc.issues[0].message
        more = len(exc.issues) - 1
        return _capped(ERROR_PREFIX + first, f" (and {more} more: run cdm check)" if more else "")
    if isinstance(exc, CdmError):
        return _capped(ERROR_PREFIX + str(exc))
    return _capped(f"{ERROR_PREFIX}internal error {type(exc).__name__}: {exc}")


MAX_CELL_MESSAGE = 1_000
"""A cell's error text is at most this long (Excel holds 32,767 characters; a message should be read at a glance)."""


def _capped(text: str, tail: str = "") -> str:
    if len(text) + len(tail) <= MAX_CELL_MESSAGE:
        return text + tail
    cut = MAX_CELL_MESSAGE - len(tail) - 60  # room for the note below
    return f"{text[:cut]}... ({len(text) - cut:,} more characters: run cdm check){tail}"


def cell_safe(fn: Callable[P, R]) -> Callable[P, R | str]:
    """Never let an exception reach a cell: return its error text instead."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | str:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # a cell must show text, never a traceback
            return error_text(exc)

    return wrapper


class _Cache:
    """The last few evaluated deals, keyed by a digest of their cells, with what the cells ask of them.

    A deal workbook has dozens of CDM_ cells over one deal range; each recalculation reads the range's cells
    once (the digest of the cells is checked first, so an unchanged range is not parsed again), evaluates the
    deal once, and builds its record (the figures by name) and the seller's figures once. Errors are cached too.
    """

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self.items: OrderedDict[str, Summary | CdmError] = OrderedDict()
        self.cells: OrderedDict[object, str] = OrderedDict()  # the cells (or their digest) -> digest of the inputs
        self.recent: list[tuple[list[list[object]], str, list[tuple[int, int, type]]]] = []  # the last ranges seen
        self.derived: dict[tuple[str, str], Any] = {}  # (inputs digest, what) -> the record or the seller record
        self.hits = self.misses = 0

    @staticmethod
    def _digest(obj: object) -> str:
        return hashlib.sha256(repr(obj).encode()).hexdigest()

    def key_of_block(self, deal: Any) -> str:
        """The inputs digest of a (name, value) block; the block is parsed only the first time its cells are seen.

        Excel hands each CDM_ cell its own copy of the range, so a sheet of 60 cells asks this 60 times of the same
        cells: they are compared with the last few ranges seen (a list comparison, in C), and their types checked
        where equal values can mean different inputs (TRUE equals 1, and the ``formulas`` package's blank equals the
        text "empty"). Other ranges are looked up by their cells and the type of every cell.
        """
        rows = np.asarray(deal, dtype=object).tolist() if isinstance(deal, np.ndarray) else deal
        try:
            for seen, key, typed in self.recent:
                if rows == seen and all(type(rows[i][j]) is t for i, j, t in typed):
                    return key
        except (TypeError, ValueError):  # a cell no comparison can answer (an array in a cell): looked up below
            pass
        listed = False  # Excel's range: a list a row
        try:  # the cells and their types are the key (a dict compares them exactly); unhashable cells: their text
            listed = set(map(type, rows)) == {list}
            if listed:  # tuple(map(...)) runs in C, 2x faster
                cells: object = tuple(map(tuple, rows))
            else:
                cells = tuple(tuple(row) if isinstance(row, (list, tuple)) else (row,) for row in rows)
            cells = (cells, tuple(map(type, itertools.chain.from_iterable(cells))))  # type: ignore[call-overload]
            key = self.cells.get(cells)
        except TypeError:
            cells = self._digest(rows)  # repr tells TRUE from 1
            key = self.cells.get(cells)
        if key is None:
            key = self.key(block_to_raw(deal))
            self.cells[cells] = key
            if len(self.cells) > self.size:
                self.cells.popitem(last=False)
        if listed:  # remembered for the next cells: a copy, as the caller may change its own
            seen = [list(row) for row in rows]
            typed = [(i, j, type(v)) for i, row in enumerate(seen) for j, v in enumerate(row) if _ambiguous(v)]
            self.recent = [(seen, key, typed), *self.recent[: RECENT_RANGES - 1]]
        return key

    def key(self, raw: dict[str, object]) -> str:
        key = self._digest(sorted(raw.items(), key=lambda kv: kv[0]))
        self.derived.setdefault((key, "raw"), raw)
        return key

    def get(self, raw: dict[str, object]) -> Summary:
        return self.by_key(self.key(raw))

    def by_key(self, key: str) -> Summary:
        found = self.items.get(key)
        if found is None:
            self.misses += 1
            try:
                found = summarize(build_schedule(build_terms(self.derived[(key, "raw")])))
            except CdmError as exc:
                found = exc
            self.items[key] = found
            if len(self.items) > self.size:
                old, _ = self.items.popitem(last=False)
                self.derived = {k: v for k, v in self.derived.items() if k[0] != old}
        else:
            self.hits += 1
            self.items.move_to_end(key)
        if isinstance(found, CdmError):
            raise found
        return found

    def record(self, key: str) -> dict[str, Any]:
        """The deal's figures by name (``Summary.record(0)``), built once per deal."""
        if (key, "record") not in self.derived:
            self.derived[(key, "record")] = self.by_key(key).record(0, warnings=False)  # the cells show no warning
        else:
            self.by_key(key)  # counts the hit, raises a cached error
        return self.derived[(key, "record")]  # type: ignore[no-any-return]

    def seller(self, key: str) -> Any:
        """The seller's figures (a :class:`engine.seller.SellerSummary`), built once per deal; each figure is
        computed the first time a cell asks for it (the break-even is a search, each IRR a root)."""
        from engine.seller import seller_summary

        found = self.derived.get((key, "seller"))
        if found is None:
            found = self.derived[(key, "seller")] = seller_summary(self.by_key(key).schedule)
        return found

    def clear(self) -> None:
        self.items.clear()
        self.cells.clear()
        self.recent.clear()
        self.derived.clear()
        self.hits = self.misses = 0


RECENT_RANGES = 4
"""Ranges compared cell by cell before the lookup by digest: a workbook comparing four deals keeps each one's."""

_PLAIN = frozenset({str, float, int, type(None), dt.datetime, dt.date})


def _ambiguous(value: object) -> bool:
    """A cell another cell of a different type can equal: a bool, 0 or 1 (TRUE == 1), the text "empty" (the
    ``formulas`` package's blank is a str equal to it), anything not a plain cell value."""
    t = type(value)
    if t is str:
        return value == "empty"
    if t is float:
        return value in (0.0, 1.0)
    return t not in _PLAIN or value in (0, 1)


CACHE = _Cache()


def evaluate_block(deal: Any) -> Summary:
    """The summary of the deal in a (name, value) block; raises CdmError on bad input."""
    return CACHE.by_key(CACHE.key_of_block(deal))


def _arg(name: str, value: object, default: object = None) -> Any:
    """Validate one scalar argument of a sizing function with the vocabulary's rule for ``name``."""
    v = cell_to_raw(name, value)
    if v is None:
        if default is None:
            raise InputError(Issue(name, "required", f"{name} is required and is blank", None))
        v = default
    c = _Collector()
    out = parse_value(c, FIELD_BY_NAME[name], v, name)
    if c.issues:
        raise InputError(c.issues)
    return float(out[0]) if isinstance(out, np.ndarray) else out


# ------------------------------------------------------------------ deal functions


def schedule_array(summary: Summary, months: int = MAX_MONTHS) -> np.ndarray:
    """The schedule as a (rows, months) float array: time across, zeros past the term, dates as serials."""
    sch = summary.schedule
    out = np.zeros((len(SCHEDULE_ROWS), months))
    n = min(sch.n_months, months)
    active = sch.active[0, :n]
    for r, name in enumerate(SCHEDULE_ROWS):
        values = getattr(sch, name)[0, :n]
        if values.dtype.kind == "M":
            serial = (values.astype("datetime64[D]") - np.datetime64("1899-12-30")).astype(np.int64).astype(float)
            out[r, :n] = np.where(active, serial, 0.0)
        else:
            out[r, :n] = np.where(active, values, 0.0)
    return out


@cell_safe
def cdm_schedule(deal: Any) -> np.ndarray | list[list[object]]:
    """The monthly schedule: one row per line item (see SCHEDULE_ROWS), 120 months across."""
    try:
        return schedule_array(evaluate_block(deal))
    except CdmError as exc:
        grid: list[list[object]] = [[""] * MAX_MONTHS for _ in SCHEDULE_ROWS]
        grid[0][0] = error_text(exc)
        return grid


@cell_safe
def cdm_summary(deal: Any, figure: Any) -> float | str:
    """One key figure of the deal by its name (``net_tcv_usd``, ``npv_usd``...)."""
    name = str(scalar(figure)).strip()
    if name not in FIGURES:
        raise CdmError(f"unknown figure {name!r}; known figures: {', '.join(FIGURES)}")
    record = CACHE.record(CACHE.key_of_block(deal))
    if name in OBLIGATION_FIGURES:  # obligations_within_1_year_usd -> record["obligations_by_period_usd"]["within_1_year"]
        key, period = split_obligation_name(name)
        value = record[key][period]
    else:
        value = record[name]
    if value is None:
        return "n/a"
    if name in DATE_FIGURES:
        return date_to_serial(np.datetime64(value, "D"))
    return value if isinstance(value, str) else float(value)


def _figure(deal: Any, name: str) -> float:
    return float(evaluate_block(deal)[name][0])


@cell_safe
def cdm_npv(deal: Any, discount_rate_pct: Any = None) -> float:
    """NPV of the payments (XNPV convention); a rate given here overrides the deal's."""
    if is_blank_arg(discount_rate_pct):
        return _figure(deal, "npv_usd")
    rate = _arg("discount_rate_pct", discount_rate_pct)
    raw = block_to_raw(deal)
    return float(summarize(build_schedule(build_terms(raw, discount_rate_pct=rate)))["npv_usd"][0])


def is_blank_arg(value: object) -> bool:
    return is_empty_cell(scalar(value))


@cell_safe
def cdm_input(deal: Any, name: Any) -> float | str:
    """The value in use for input ``name`` after defaults (what a blank cell means)."""
    key = str(scalar(name)).strip()
    field = FIELD_BY_NAME.get(key)
    if field is None:
        raise CdmError(f"unknown input {key!r}; the inputs are listed on the Inputs sheet")
    terms = evaluate_block(deal).schedule.terms
    value = getattr(terms, key)
    if value is None:
        return ""
    if isinstance(value, np.ndarray):
        v = value[0]
        return date_to_serial(v) if value.dtype.kind == "M" else float(v)
    return str(value)


@functools.cache
def _seller_names() -> dict[str, None]:
    """The seller figures' names, in their order (imported on the first CDM_SELLER cell: engine.seller is not
    needed before)."""
    from engine.seller import SELLER_FIGURES

    return dict.fromkeys((*(name for name, _, _ in SELLER_FIGURES), "ebitda_margin_check"))


@cell_safe
def cdm_seller(deal: Any, figure: Any) -> float | str:
    """A seller or build-vs-buy figure by name (``project_irr_pct``, ``payback_month``, ``build_saving_npv_usd``...)."""
    name = str(scalar(figure)).strip()
    if name not in _seller_names():
        raise CdmError(f"unknown seller figure {name!r}; known figures: {', '.join(_seller_names())}")
    value = CACHE.seller(CACHE.key_of_block(deal)).figure(name)
    return "none" if value is None else value if isinstance(value, str) else float(value)


_PORTFOLIO_CACHE: OrderedDict[str, Any] = OrderedDict()


def _portfolio(inputs: Any, contracts: Any) -> Any:
    """The evaluated portfolio of two ranges, cached by their digest (one evaluation per recalculation)."""
    from addin.workbook.portfolio_book import portfolio_from_blocks
    from engine.portfolio import PortfolioResult

    key = hashlib.sha256(
        repr((np.asarray(inputs, dtype=object).tolist(), np.asarray(contracts, dtype=object).tolist())).encode()
    ).hexdigest()
    found = _PORTFOLIO_CACHE.get(key)
    if found is None:
        try:
            found = PortfolioResult(portfolio_from_blocks(inputs, contracts))
        except CdmError as exc:
            found = exc
        _PORTFOLIO_CACHE[key] = found
        if len(_PORTFOLIO_CACHE) > 8:
            _PORTFOLIO_CACHE.popitem(last=False)
    if isinstance(found, CdmError):
        raise found
    return found


@cell_safe
def cdm_portfolio(inputs: Any, contracts: Any, figure: Any) -> float | str:
    """A portfolio figure by name (``total_fees_usd``, ``hhi_avg``, ``burn_to_revenue_multiple``...)."""
    from addin.workbook.portfolio_book import FIGURES, flat_figures

    name = str(scalar(figure)).strip()
    if name not in FIGURES:
        raise CdmError(f"unknown portfolio figure {name!r}; known figures: {', '.join(FIGURES)}")
    value = flat_figures(_portfolio(inputs, contracts))[name]
    return value if isinstance(value, str) else float(value)


@cell_safe
def cdm_portfolio_schedule(inputs: Any, contracts: Any) -> np.ndarray | list[list[object]]:
    """The portfolio by month: one row per figure (see addin.workbook.portfolio_book.SCHEDULE_ROWS), 120 months across."""
    from addin.workbook.portfolio_book import SCHEDULE_ROWS, schedule_array

    try:
        return schedule_array(_portfolio(inputs, contracts))
    except CdmError as exc:
        grid: list[list[object]] = [[""] * MAX_MONTHS for _ in SCHEDULE_ROWS]
        grid[0][0] = error_text(exc)
        return grid


_SIMULATION_CACHE: OrderedDict[str, list[list[object]]] = OrderedDict()


def _paths_and_seed(paths: Any, seed: Any) -> tuple[int, int]:
    """A cell's path count (1 to 1,000,000; blank 10,000) and seed (whole, >= 0; blank 20260506)."""
    n = 10_000 if is_blank_arg(paths) else scalar(paths)
    s = 20260506 if is_blank_arg(seed) else scalar(seed)
    if not isinstance(n, (int, float)) or isinstance(n, bool) or not float(n).is_integer() or not 1 <= n <= 1_000_000:
        raise CdmError(f"paths must be a whole number from 1 to 1,000,000 in a cell (use cdm simulate for more), got {n!r}")
    if not isinstance(s, (int, float)) or isinstance(s, bool) or not float(s).is_integer() or s < 0:
        raise CdmError(f"seed must be a whole number >= 0, got {s!r}")
    return int(n), int(s)


def _risk_rows(risk: Any) -> list[list[object]]:
    return [] if risk is None or is_blank_arg(risk) else np.atleast_2d(np.asarray(risk, dtype=object)).tolist()


@cell_safe
def cdm_simulate(deal: Any, paths: Any = None, seed: Any = None, risk: Any = None) -> list[list[object]]:
    """Monte Carlo summary table: a header row, then per output P5, P50, P95 and mean; cached by inputs, paths, seed
    and the Risk rows (name, distribution, parameters: the Risk sheet's ``cdm_risk``; blank = the defaults)."""
    from addin.workbook.dealbook import risk_from_rows
    from engine.risk import OUTPUTS, build_risk, simulate

    n, s = _paths_and_seed(paths, seed)
    raw = block_to_raw(deal)
    rows = _risk_rows(risk)
    key = hashlib.sha256(repr((sorted(raw.items(), key=lambda kv: kv[0]), int(n), int(s), rows)).encode()).hexdigest()
    if key not in _SIMULATION_CACHE:
        terms = evaluate_block(deal).schedule.terms
        model = build_risk(risk_from_rows(rows)[0], terms)
        stats = simulate(terms, int(n), int(s), model).stats()
        table: list[list[object]] = [["output", "P5", "P50", "P95", "mean"]]
        table += [[name, stats[name]["p5"], stats[name]["p50"], stats[name]["p95"], stats[name]["mean"]] for name in OUTPUTS]
        table.append([f"paths {int(n)}, seed {int(s)}", "", "", "", ""])
        _SIMULATION_CACHE[key] = table
        if len(_SIMULATION_CACHE) > 8:
            _SIMULATION_CACHE.popitem(last=False)
    return _SIMULATION_CACHE[key]


_TABLE_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()
MAX_TABLE_CELLS = 100_000


def _table_axis(what: str, name: Any, values: Any) -> tuple[str, np.ndarray]:
    """One axis of CDM_TABLE: a numeric input's name and the values in a row or column of cells."""
    key = str(scalar(name)).strip()
    spec = FIELD_BY_NAME.get(key)
    if spec is None or spec.kind not in ("number", "integer"):
        raise CdmError(f"{what}: {key!r} is not a numeric input (the inputs are listed on the Inputs sheet)")
    cells = [v for v in np.asarray(values, dtype=object).ravel() if not is_empty_cell(v)]
    if not cells:
        raise CdmError(f"{what}: give the values of {key} in a row or column of cells")
    numbers = [cell_to_raw(key, v) for v in cells]
    for v in numbers:
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not np.isfinite(v):
            raise CdmError(f"{what}: every value of {key} must be a number, got {v!r}")
    return key, np.array(numbers, dtype=float)


@cell_safe
def cdm_table(deal: Any, output: Any, row_input: Any, row_values: Any, col_input: Any, col_values: Any) -> np.ndarray:  # noqa: PLR0917 (a worksheet function: positional)
    """Any output over any two inputs (rows x columns), one vectorised engine call; cached by inputs and axes."""
    from engine.risk import data_table

    out = str(scalar(output)).strip()
    rf, rv = _table_axis("row_input", row_input, row_values)
    cf, cv = _table_axis("col_input", col_input, col_values)
    if rv.size * cv.size > MAX_TABLE_CELLS:
        raise CdmError(f"a table is at most {MAX_TABLE_CELLS:,} cells, got {rv.size:,} x {cv.size:,}")
    raw = block_to_raw(deal)
    key = hashlib.sha256(repr((sorted(raw.items(), key=lambda kv: kv[0]), out, rf, rv.tolist(), cf, cv.tolist())).encode())
    digest = key.hexdigest()
    if digest not in _TABLE_CACHE:
        _TABLE_CACHE[digest] = data_table(evaluate_block(deal).schedule.terms, out, row_field=rf, row_values=rv, col_field=cf,
                                          col_values=cv)  # fmt: skip
        if len(_TABLE_CACHE) > 16:
            _TABLE_CACHE.popitem(last=False)
    return _TABLE_CACHE[digest]


@cell_safe
def cdm_portfolio_simulate(
    inputs: Any, contracts: Any, paths: Any = None, seed: Any = None, risk: Any = None
) -> list[list[object]]:
    """A portfolio's Monte Carlo summary: a header row, then per output P5, P50, P95 and mean (the first shortfall
    month as months from the start); cached by the ranges, paths, seed and the Risk rows (``cdm_risk``)."""
    from addin.workbook.dealbook import risk_from_rows
    from engine.risk import PORTFOLIO_OUTPUTS, build_portfolio_risk, summarise_portfolio

    n, s = _paths_and_seed(paths, seed)
    rows = _risk_rows(risk)
    ranges = (np.asarray(inputs, dtype=object).tolist(), np.asarray(contracts, dtype=object).tolist())
    key = hashlib.sha256(repr(("portfolio", ranges, n, s, rows)).encode()).hexdigest()
    if key not in _SIMULATION_CACHE:
        stats = summarise_portfolio(
            _portfolio(inputs, contracts), n, s, build_portfolio_risk(risk_from_rows(rows)[0])
        ).summary.stats
        table: list[list[object]] = [["output", "P5", "P50", "P95", "mean"]]
        table += [[name, *(stats[name][q] for q in ("p5", "p50", "p95", "mean"))] for name in PORTFOLIO_OUTPUTS]
        table.append([f"paths {n}, seed {s}", "", "", "", ""])
        _SIMULATION_CACHE[key] = table
        if len(_SIMULATION_CACHE) > 8:
            _SIMULATION_CACHE.popitem(last=False)
    return _SIMULATION_CACHE[key]


@cell_safe
def cdm_usd_per_gpu_hour(deal: Any) -> float:
    """Net TCV / delivered GPU-hours."""
    return _figure(deal, "usd_per_gpu_hour")


@cell_safe
def cdm_firm_commitment(deal: Any) -> float:
    """Fees accrued before the earliest exit date (the whole term without a termination right)."""
    return _figure(deal, "firm_commitment_usd")


@cell_safe
def cdm_breakeven_utilization(deal: Any) -> float:
    """$/GPU-hour / market price, in %: the utilisation at which the deal matches the market."""
    return _figure(deal, "breakeven_utilization_pct")


@cell_safe
def cdm_check(deal: Any) -> str:
    """OK, or the first input error; warnings are counted ("OK, 1 warning: ...")."""
    s = evaluate_block(deal)
    warnings = s.warnings
    if not warnings:
        return "OK"
    word = "warning" if len(warnings) == 1 else "warnings"
    return f"OK, {len(warnings)} {word}: {warnings[0].message}"


@cell_safe
def cdm_warning_count(deal: Any) -> float:
    """How many legal-but-inconsistent inputs the deal has (0 when none)."""
    return float(len(evaluate_block(deal).warnings))


# ------------------------------------------------------------------ sizing functions


def _kw(gpu_sku: Any, pue: Any, network_overhead_pct: Any) -> float:
    sku = _arg("gpu_sku", gpu_sku)
    p = _arg("pue", pue, 1.2)
    ovh = _arg("network_overhead_pct", network_overhead_pct, 10.0)
    return float(kw_per_gpu(gpu_catalogue()[sku].draw_kw_per_gpu, ovh, p))


@cell_safe
def cdm_kw_per_gpu(gpu_sku: Any, pue: Any = None, network_overhead_pct: Any = None) -> float:
    """All-in facility kW per GPU = server kW x (1 + network overhead) x PUE."""
    return _kw(gpu_sku, pue, network_overhead_pct)


@cell_safe
def cdm_gpus_from_mw(facility_mw: Any, gpu_sku: Any, pue: Any = None, network_overhead_pct: Any = None) -> float:
    """GPUs a facility can feed: floor(MW x 1000 / all-in kW per GPU)."""
    mw = _arg("facility_mw", facility_mw)
    return float(gpus_from_mw(mw, _kw(gpu_sku, pue, network_overhead_pct)))


@cell_safe
def cdm_mw_from_gpus(gpus: Any, gpu_sku: Any, pue: Any = None, network_overhead_pct: Any = None) -> float:
    """Facility MW the GPUs need: GPUs x all-in kW per GPU / 1000."""
    n = _arg("gpu_count", gpus)
    kw = _kw(gpu_sku, pue, network_overhead_pct)
    mw = float(mw_from_gpus(n, kw))
    limit = FIELD_BY_NAME["facility_mw"].maximum
    if limit is not None and mw > limit:  # the answer must be a facility CDM_GPUS_FROM_MW (and a deal) accepts
        raise InputError(Issue("gpus", "max", f"gpus {n:,.0f} need {mw:,.0f} MW at {kw:.3f} kW each, more than the "
                                              f"{limit:,.0f} MW a facility_mw may be", n))  # fmt: skip
    return mw


@cell_safe
def cdm_gpu_spec(gpu_sku: Any, field: Any) -> float | str:
    """A GPU catalogue value: CDM_GPU_SPEC("H100-SXM", "tdp_w") = 700."""
    sku = _arg("gpu_sku", gpu_sku)
    name = str(scalar(field)).strip()
    if name not in GPU_SPEC_FIELDS:
        raise CdmError(f"unknown GPU field {name!r}; known fields: {', '.join(GPU_SPEC_FIELDS)}")
    value: float | str = getattr(gpu_catalogue()[sku], name)
    return value


@cell_safe
def cdm_version() -> str:
    """The Compute Deal Model version that computed this workbook."""
    return package_version()


UDFS: dict[str, Callable[..., Any]] = {
    "CDM_SCHEDULE": cdm_schedule,
    "CDM_SUMMARY": cdm_summary,
    "CDM_INPUT": cdm_input,
    "CDM_NPV": cdm_npv,
    "CDM_SELLER": cdm_seller,
    "CDM_SIMULATE": cdm_simulate,
    "CDM_TABLE": cdm_table,
    "CDM_PORTFOLIO": cdm_portfolio,
    "CDM_PORTFOLIO_SCHEDULE": cdm_portfolio_schedule,
    "CDM_PORTFOLIO_SIMULATE": cdm_portfolio_simulate,
    "CDM_USD_PER_GPU_HOUR": cdm_usd_per_gpu_hour,
    "CDM_FIRM_COMMITMENT": cdm_firm_commitment,
    "CDM_BREAKEVEN_UTILIZATION": cdm_breakeven_utilization,
    "CDM_CHECK": cdm_check,
    "CDM_WARNING_COUNT": cdm_warning_count,
    "CDM_KW_PER_GPU": cdm_kw_per_gpu,
    "CDM_GPUS_FROM_MW": cdm_gpus_from_mw,
    "CDM_MW_FROM_GPUS": cdm_mw_from_gpus,
    "CDM_GPU_SPEC": cdm_gpu_spec,
    "CDM_VERSION": cdm_version,
}
"""Excel name -> implementation: the one list both Excel and the headless recalculation use."""
