"""The risk drivers and their distributions: the defaults, and the Risk block a user writes (``[risk]``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from engine.errors import InputError, Issue
from engine.terms import DealTerms

BLOCK_PATHS = 256
MAX_CHUNK_PATHS = 65_536
"""A chunk's arrays are (chunk paths x months); beyond this they defeat the memory bound the chunks exist for."""
MAX_SEED = 2**64 - 1
MAX_TABLE_CELLS = 10_000
"""A data table is one engine call over rows x columns deals: 10,000 (100 x 100) stays within a few hundred MB."""
DEFAULT_CHUNK_PATHS = 4096  # fastest measured (arrays of 4,096 x 60 float64, 2 MB, stay in cache); 8,192 was ~8% slower
FAN_SAMPLE_PATHS = 4096  # paths whose monthly cost is kept for the fan chart
SPOT_TO_RESERVED = 2.42 / 2.65
DISTRIBUTIONS = ("fixed", "normal", "lognormal", "triangular", "uniform", "discrete")


@dataclass(frozen=True)
class Dist:
    """A distribution: ``kind`` and its parameters (see :data:`DISTRIBUTIONS`).

    normal(mean, sd), lognormal(mean, sd of the log), triangular(low, mode, high), uniform(low, high),
    discrete(values, probabilities), fixed(value).
    """

    kind: str
    a: float = 0.0
    b: float = 0.0
    c: float = 0.0
    values: tuple[float, ...] = ()
    probabilities: tuple[float, ...] = ()

    def draw(self, rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
        if self.kind == "fixed":
            return np.full(size, self.a)
        if self.kind == "normal":
            return rng.normal(self.a, self.b, size)
        if self.kind == "lognormal":
            return rng.lognormal(np.log(self.a) - self.b**2 / 2, self.b, size)  # mean a
        if self.kind == "triangular":
            if self.a == self.c:
                return np.full(size, self.a)
            return rng.triangular(self.a, self.b, self.c, size)
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b, size)
        return rng.choice(np.asarray(self.values, float), size=size, p=np.asarray(self.probabilities, float))


@dataclass(frozen=True)
class RiskModel:
    """The drivers of one deal's simulation (defaults from :func:`default_risk`)."""

    reserved_vol_pct: float = 40.0
    spot_vol_pct: float = 40.0
    reserved_drift_pct: float = 0.0
    spot_drift_pct: float = 0.0
    spot_start_usd_per_gpu_hour: float | None = None  # None: the deal's market price x SPOT_TO_RESERVED
    price_correlation: float = -0.3
    utilization: Dist | None = None
    delivery_delay_months: Dist = field(default_factory=lambda: Dist("discrete", values=(0, 1, 3), probabilities=(0.7, 0.2, 0.1)))
    outages_per_year: float = 1.0
    outage_days: Dist = field(default_factory=lambda: Dist("uniform", 1, 8))  # whole days 1-7: floor of uniform(1, 8)
    discount_rate_pct: Dist | None = None


DELAY_BY_STATUS = {
    "delivered": Dist("fixed", 0.0),
    "under_construction": Dist("discrete", values=(0, 1, 3), probabilities=(0.7, 0.2, 0.1)),
    "planned": Dist("discrete", values=(0, 3, 6), probabilities=(0.5, 0.3, 0.2)),
}
"""The default delivery delay by ``delivery_status`` (ASSUMED; docs/how-to/monte-carlo.md)."""


def default_delay(terms: DealTerms) -> Dist:
    """No delay for capacity already delivered, or due before the valuation date (what happened then is known);
    otherwise the status's default."""
    due = np.asarray(terms.delivery_due_month, "datetime64[M]").reshape(-1)[0]
    valued = np.asarray(terms.valuation_date, "datetime64[D]").reshape(-1)[0].astype("datetime64[M]")
    return DELAY_BY_STATUS["delivered"] if due < valued else DELAY_BY_STATUS[terms.delivery_status]


def default_risk(terms: DealTerms) -> RiskModel:
    u = float(np.asarray(terms.utilization_pct)[0])
    r = float(np.asarray(terms.discount_rate_pct)[0])
    # the discount rate is the analyst's valuation choice, not a risk: fixed unless the Risk block gives a distribution
    return RiskModel(utilization=Dist("triangular", max(u - 20.0, 0.01), u, min(u + 5.0, 100.0)),
                     delivery_delay_months=default_delay(terms), discount_rate_pct=Dist("fixed", r))  # fmt: skip


def fixed_risk(terms: DealTerms) -> RiskModel:
    """No uncertainty at all: the simulation must reproduce the deterministic schedule."""
    u = float(np.asarray(terms.utilization_pct)[0])
    r = float(np.asarray(terms.discount_rate_pct)[0])
    return RiskModel(reserved_vol_pct=0.0, spot_vol_pct=0.0, utilization=Dist("fixed", u), delivery_delay_months=Dist("fixed", 0),
                     outages_per_year=0.0, discount_rate_pct=Dist("fixed", r))  # fmt: skip


# ---------------------------------------------------------------- the Risk block (user distributions)

DIST_PARAMS = {
    "fixed": ("value",),
    "normal": ("mean", "sd"),
    "lognormal": ("mean", "sd_log"),
    "triangular": ("low", "mode", "high"),
    "uniform": ("low", "high"),
    "discrete": ("values", "probabilities"),
}
RISK_SCALARS = (
    "reserved_vol_pct",
    "spot_vol_pct",
    "reserved_drift_pct",
    "spot_drift_pct",
    "price_correlation",
    "outages_per_year",
    "spot_start_usd_per_gpu_hour",
)
RISK_DISTS = ("utilization_pct", "delivery_delay_months", "outage_days", "discount_rate_pct")
MODEL_FIELD = {"utilization_pct": "utilization"}  # vocabulary name -> RiskModel field


def _number(value: object) -> bool:
    """A finite int or float (not a bool; an int too large for a float is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def parse_dist(name: str, spec: object) -> Dist:
    """One distribution from ``{dist = "triangular", low = .., mode = .., high = ..}``; InputError naming the rule."""
    issues: list[Issue] = []

    def bad(message: str, value: object = None) -> None:
        issues.append(Issue(f"risk.{name}", "distribution", f"risk.{name}: {message}", value))

    if _number(spec):
        return Dist("fixed", float(spec))  # type: ignore[arg-type]
    if not isinstance(spec, dict):
        raise InputError(
            Issue(f"risk.{name}", "type", f"risk.{name} must be a number or a distribution table, got {spec!r}", spec)
        )
    kind = spec.get("dist")
    if kind not in DIST_PARAMS:
        raise InputError(
            Issue(f"risk.{name}.dist", "choice", f"risk.{name}.dist must be one of {', '.join(DIST_PARAMS)}, got {kind!r}", kind)
        )
    params = DIST_PARAMS[str(kind)]
    unknown = set(spec) - {"dist", *params}
    if unknown:
        bad(f"{', '.join(sorted(unknown))} is not a parameter of {kind} (its parameters: {', '.join(params)})")
    if kind == "discrete":
        values, probs = spec.get("values"), spec.get("probabilities")
        if not (isinstance(values, list) and isinstance(probs, list) and values and len(values) == len(probs)):
            bad("discrete needs values and probabilities, two lists of the same length", spec)
        elif not all(_number(v) for v in values) or not all(_number(p) and p >= 0 for p in probs):
            bad("values must be numbers and probabilities numbers >= 0", spec)
        elif abs(sum(probs) - 1.0) > 1e-9:
            bad(f"probabilities must add up to 1, got {sum(probs):g}", probs)
        if issues:
            raise InputError(issues)
        return Dist("discrete", values=tuple(float(v) for v in values), probabilities=tuple(float(p) for p in probs))  # type: ignore[union-attr]
    got = [spec.get(p) for p in params]
    for p, v in zip(params, got):
        if not _number(v):
            bad(f"{p} must be a number, got {v!r}", v)
    if issues:
        raise InputError(issues)
    a = [float(v) + 0.0 for v in got]  # type: ignore[arg-type]  # + 0.0: numpy refuses a negative-zero scale
    if kind in ("normal", "lognormal") and a[1] < 0:
        bad(f"{params[1]} must be >= 0, got {a[1]:g}", a[1])
    if kind == "lognormal" and a[0] <= 0:
        bad(f"mean must be > 0, got {a[0]:g}", a[0])
    if kind == "triangular" and not a[0] <= a[1] <= a[2]:
        bad(f"low <= mode <= high is required, got {a[0]:g}, {a[1]:g}, {a[2]:g}", a)
    if kind == "uniform" and not a[0] <= a[1]:
        bad(f"low <= high is required, got {a[0]:g}, {a[1]:g}", a)
    if issues:
        raise InputError(issues)
    return Dist(str(kind), *a[:3])  # type: ignore[arg-type]


def _collect(items: Iterable[tuple[str, object]], parse: Callable[[str, object], tuple[str, object]]) -> dict[str, object]:
    """``parse`` each (key, value) into (field, parsed value); every problem of every item is listed together."""
    issues: list[Issue] = []
    out: dict[str, object] = {}
    for key, value in items:
        try:
            field_name, parsed = parse(key, value)
            out[field_name] = parsed
        except InputError as exc:
            issues.extend(exc.issues)
    if issues:
        raise InputError(issues)
    return out


def build_risk(raw: dict[str, object] | None, terms: DealTerms) -> RiskModel:
    """The user's Risk block over the documented defaults; every problem listed, naming the driver and rule."""

    def parse(key: str, value: object) -> tuple[str, object]:
        if key in RISK_SCALARS:
            return key, scalar_driver(key, key, value)
        if key in RISK_DISTS:
            return MODEL_FIELD.get(key, key), parse_dist(key, value)
        known = ", ".join(RISK_SCALARS + RISK_DISTS)
        raise InputError(Issue(f"risk.{key}", "unknown", f"risk.{key} is not a risk driver; the drivers are: {known}", None))

    return replace(default_risk(terms), **_collect((raw or {}).items(), parse))  # type: ignore[arg-type]


def _unwrap_fixed(value: object) -> object:
    """A Risk sheet row "fixed, 1" (``{"dist": "fixed", "value": 1}``) is the scalar 1; anything else as given."""
    if isinstance(value, dict) and value.get("dist") == "fixed" and set(value) <= {"dist", "value"}:
        return value.get("value")
    return value


SCALAR_RANGES = {
    "reserved_vol_pct": (0.0, 500.0),
    "spot_vol_pct": (0.0, 500.0),
    "reserved_drift_pct": (-100.0, 100.0),  # beyond, prices overflow within a term
    "spot_drift_pct": (-100.0, 100.0),
    "price_correlation": (-1.0, 1.0),
    "outages_per_year": (0.0, 500.0),
    "revenue_sd_log": (0.0, 5.0),  # a spread of e^5 = 148x a standard deviation is already extreme
    "spot_start_usd_per_gpu_hour": (0.01, 1000.0),  # the same bounds as a deal's market price
}


def scalar_driver(name: str, key: str, value: object) -> float:
    """A scalar driver's value (``fixed, v`` on a Risk sheet is v), or an InputError naming it, its range and the value."""
    value = _unwrap_fixed(value)
    lo, hi = SCALAR_RANGES[key]
    if not _number(value) or not lo <= float(value) <= hi:  # type: ignore[arg-type]
        shown = f"{float(value):g}" if _number(value) else repr(value)  # type: ignore[arg-type]
        raise InputError(
            Issue(f"risk.{name}", "range", f"risk.{name} must be a number from {lo:g} to {hi:g}, got {shown}", value)
        )
    return float(value) + 0.0  # type: ignore[arg-type]  # -0.0 becomes 0.0: numpy refuses a negative-zero sigma
