"""Public claims about a deal, checked against what the model computes from its terms.

Claims are data (``workbooks/claims/<deal>.toml``): the claim's words, its
source, the quantity it is about and a test (``approx`` within a tolerance,
``at_least``, ``at_most``, ``between``). This module knows how to compute each
quantity and how to say its arithmetic in words; the verdict is
*consistent* or *inconsistent*.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from addin.workbook.dealfile import DealFileError, read_text_file
from addin.workbook.fmt import human
from engine.catalogue import market_history
from engine.sizing import HOURS_PER_AVERAGE_MONTH, gpus_for_budget, gpus_from_mw
from engine.summary import Summary

CLAIMS_DIR = Path(__file__).resolve().parents[2] / "workbooks" / "claims"
TESTS = ("approx", "at_least", "at_most", "between")


@dataclass(frozen=True)
class Claim:
    claim: str
    source: str
    quantity: str
    test: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    tolerance_pct: float = 0.0


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    model_value: float
    unit: str
    consistent: bool
    arithmetic: str

    @property
    def verdict(self) -> str:
        return "consistent" if self.consistent else "inconsistent"


def _f(summary: Summary, name: str) -> float:
    return float(summary[name][0])


def _terms_value(summary: Summary, name: str) -> float:
    return float(np.asarray(getattr(summary.schedule.terms, name))[0])


def _annual(s: Summary) -> tuple[float, str]:
    fee = _terms_value(s, "monthly_fee_usd")
    v = _f(s, "annual_run_rate_usd")
    return v, f"full-rate fee {human(fee, 'USD')} a month x 12 = {human(v, 'USD')} a year"


def _net(s: Summary) -> tuple[float, str]:
    n = _f(s, "months_billed")
    head = _f(s, "headline_tcv_usd")
    net = _f(s, "net_tcv_usd")
    cut = head - net
    terms = s.schedule.terms
    text = (f"{n:.0f} months billed ({np.asarray(terms.start_month)[0]} to {np.asarray(terms.end_month)[0]}) x "
            f"{human(_terms_value(s, 'monthly_fee_usd'), 'USD')} = {human(head, 'USD')} headline")  # fmt: skip
    text += (
        f", less {human(cut, 'USD')} of ramp and other reductions = {human(net, 'USD')} net"
        if cut > 0.5
        else f" = {human(net, 'USD')} net"
    )
    return net, text


def _firm(s: Summary) -> tuple[float, str]:
    v = _f(s, "firm_commitment_usd")
    rec = s.record(0)
    if rec["exit_date"] is None:
        return v, f"no termination right: the whole term is firm, {human(v, 'USD')}"
    return v, (f"fees before the earliest exit on {rec['exit_date']} ({rec['firm_months']:.1f} months of "
               f"{rec['months_billed']}) = {human(v, 'USD')}, {rec['firm_share_pct']:.1f}% of net TCV")  # fmt: skip


def _per_kw(s: Summary) -> tuple[float, str]:
    fee, mw = _terms_value(s, "monthly_fee_usd"), _terms_value(s, "facility_mw")
    v = _f(s, "usd_per_kw_month")
    return v, f"{human(fee, 'USD')} a month / ({mw:,.0f} MW x 1000) = ${v:,.0f} per kW-month of facility power"


def _per_it_kw(s: Summary) -> tuple[float, str]:
    fee, mw, pue = (_terms_value(s, k) for k in ("monthly_fee_usd", "facility_mw", "pue"))
    it_kw = mw / pue * 1000.0
    v = fee / it_kw
    return (
        v,
        f"{human(fee, 'USD')} a month / ({mw:,.0f} MW / PUE {pue:g} = {it_kw:,.0f} kW of IT load) = ${v:,.0f} per IT kW-month",
    )


def _per_gpu_hour(s: Summary) -> tuple[float, str]:
    net, hours, v = _f(s, "net_tcv_usd"), _f(s, "delivered_gpu_hours"), _f(s, "usd_per_gpu_hour")
    return v, (f"net TCV {human(net, 'USD')} / {hours / 1e9:,.3f}B delivered GPU-hours ({_f(s, 'gpus'):,.0f} GPUs, "
               f"calendar hours, ramp included) = ${v:.2f}")  # fmt: skip


def _required_mw(s: Summary) -> tuple[float, str]:
    g, kw, v, mw = _f(s, "gpus"), _f(s, "kw_per_gpu"), _f(s, "required_facility_mw"), _terms_value(s, "facility_mw")
    pue = _terms_value(s, "pue")
    return v, f"{g:,.0f} GPUs x {kw:.3f} kW all-in (PUE {pue:g}) = {v:,.1f} MW, against {mw:,.0f} MW of facility power"


def _fed(s: Summary) -> tuple[float, str]:
    mw, kw = _terms_value(s, "facility_mw"), _f(s, "kw_per_gpu")
    v = float(gpus_from_mw(mw, kw))
    return v, f"{mw:,.0f} MW x 1000 / {kw:.3f} kW all-in per GPU (the deal's fleet mix) = {v:,.0f} GPUs"


def _bought(s: Summary) -> tuple[float, str]:
    fee, price = _terms_value(s, "monthly_fee_usd"), _terms_value(s, "market_usd_per_gpu_hour")
    v = float(gpus_for_budget(fee, price))
    return v, (f"{human(fee, 'USD')} a month / (${price:.2f} per GPU-hour market rate x {HOURS_PER_AVERAGE_MONTH:.0f} h) "
               f"= {v:,.0f} GPUs")  # fmt: skip


def _spot_change(_: Summary) -> tuple[float, str]:
    hist = [p for p in market_history() if p.gpu_sku == "H100-SXM"]
    spot = [p for p in hist if p.kind == "spot"]
    reserved = [p for p in hist if p.kind == "reserved_1yr"]
    peak = max(spot, key=lambda p: p.usd_per_gpu_hour)
    last = spot[-1]
    v = (last.usd_per_gpu_hour / peak.usd_per_gpu_hour - 1.0) * 100.0
    r0, r1 = reserved[0], reserved[1]
    r_change = (r1.usd_per_gpu_hour / r0.usd_per_gpu_hour - 1.0) * 100.0
    return v, (f"H100 spot went from ${peak.usd_per_gpu_hour:.2f} ({peak.month} peak) to ${last.usd_per_gpu_hour:.2f} "
               f"({last.month}): {v:+.0f}%; the rise was in the 1-year reserved rate, ${r0.usd_per_gpu_hour:.2f} ({r0.month}) "
               f"to ${r1.usd_per_gpu_hour:.2f} ({r1.month}): {r_change:+.0f}%")  # fmt: skip


QUANTITIES: dict[str, tuple[str, str, Callable[[Summary], tuple[float, str]]]] = {
    "annual_run_rate_usd": ("Annual run rate", "USD", _annual),
    "net_tcv_usd": ("Net TCV", "USD", _net),
    "firm_commitment_usd": ("Firm commitment", "USD", _firm),
    "usd_per_kw_month": ("$ per kW-month of facility power", "USD/kW-month", _per_kw),
    "usd_per_it_kw_month": ("$ per kW-month of IT load", "USD/kW-month", _per_it_kw),
    "usd_per_gpu_hour": ("$ per delivered GPU-hour", "USD/GPU-hour", _per_gpu_hour),
    "required_facility_mw": ("Facility MW the GPUs need", "MW", _required_mw),
    "gpus_fed_by_facility": ("GPUs the facility's power feeds", "GPUs", _fed),
    "gpus_bought_at_market": ("GPUs the fee rents at the market rate", "GPUs", _bought),
    "h100_spot_change_pct": ("H100 spot price change from its peak", "%", _spot_change),
}
"""Quantity name -> (label, unit, function returning the value and its arithmetic in words)."""


def load_claims(path: Path) -> list[Claim]:
    """Read a claims file; every problem is a DealFileError naming the file and the claim."""
    try:
        data = tomllib.loads(read_text_file(path))
    except tomllib.TOMLDecodeError as exc:
        raise DealFileError(path, f"cannot be read as a claims file: {exc}") from None
    out = []
    for i, row in enumerate(data.get("claims", []), start=1):
        where = f"claim {i}"
        if not isinstance(row, dict):
            raise DealFileError(path, f"{where} must be a table")
        unknown = set(row) - set(Claim.__dataclass_fields__)
        if unknown:
            raise DealFileError(path, f"{where} has unknown keys: {', '.join(sorted(unknown))}")
        if row.get("quantity") not in QUANTITIES:
            raise DealFileError(path, f"{where}: quantity must be one of {', '.join(QUANTITIES)}, got {row.get('quantity')!r}")
        if row.get("test") not in TESTS:
            raise DealFileError(path, f"{where}: test must be one of {', '.join(TESTS)}, got {row.get('test')!r}")
        need = ("low", "high") if row["test"] == "between" else ("value",)
        for key in need:
            if not isinstance(row.get(key), (int, float)) or isinstance(row.get(key), bool):
                raise DealFileError(path, f"{where}: {key} must be a number for test {row['test']!r}")
        if not isinstance(row.get("claim"), str) or not row["claim"].strip():
            raise DealFileError(path, f"{where}: claim (the words of the claim) is required")
        out.append(Claim(**{k: row[k] for k in row}))
    return out


def claims_for(deal_path: Path) -> Path:
    """The claims file of a deal file or deal workbook (by stem)."""
    return CLAIMS_DIR / f"{deal_path.stem}.toml"


def check_claim(claim: Claim, summary: Summary) -> Verdict:
    _, unit, fn = QUANTITIES[claim.quantity]
    value, words = fn(summary)
    if claim.test == "approx":
        target = float(claim.value or 0.0)
        gap = (value / target - 1.0) * 100.0 if target else float("inf")
        ok = abs(gap) <= claim.tolerance_pct
        said = f"the claim says about {human(target, unit)} (within {claim.tolerance_pct:g}%)"
        said += "; the model's figure moves the opposite way" if value * target < 0 else f"; the model is {gap:+.1f}% from it"
    elif claim.test == "at_least":
        ok = value >= float(claim.value or 0.0)
        said = f"the claim says at least {human(claim.value, unit)}"
    elif claim.test == "at_most":
        ok = value <= float(claim.value or 0.0)
        said = f"the claim says at most {human(claim.value, unit)}"
    else:
        ok = float(claim.low or 0.0) <= value <= float(claim.high or 0.0)
        said = f"the claim says {human(claim.low, unit)} to {human(claim.high, unit)}"
    return Verdict(claim, value, unit, ok, f"{words}; {said}.")


def check_claims(claims: list[Claim], summary: Summary) -> list[Verdict]:
    return [check_claim(c, summary) for c in claims]
