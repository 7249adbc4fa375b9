"""Public claims about a deal, checked against what the model computes from its terms.

Claims are data (``workbooks/claims/*.toml``, found by the ``deal_name`` or ``portfolio_name`` inside the file,
so a renamed copy of a deal keeps its claims): the claim's words, its public source, the quantity it is about
and a test (``approx`` within a tolerance, ``at_least`` for a floor such as "north of" or ">",
``at_most``, ``between``). This module knows how to compute each quantity and how to say its arithmetic in
words. The verdict is *consistent* or *inconsistent*; a claim that only restates an input of the deal
(``restates_input``) is labelled *input (restated)* and is not counted as a finding; a claim the data cannot
test (no figures a year apart for a year-on-year claim) is *not testable*, with the reason.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from openpyxl import Workbook
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter

from addin.report.common import BAD_FILL, BOLD, FORMATS, GOOD_FILL, HEADER_FILL, SUBTITLE, TITLE, WRAP, _print_setup, put
from addin.workbook.dealfile import DealFileError, read_text_file
from addin.workbook.fmt import human
from engine.catalogue import market_history
from engine.errors import CdmError
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
    restates_input: str = ""
    contract: str = ""


NEUTRAL_FILL = PatternFill("solid", fgColor="EDEDED")
RESTATED = "input (restated)"
UNTESTABLE = "not testable"


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    model_value: float
    unit: str
    consistent: bool
    arithmetic: str

    @property
    def verdict(self) -> str:
        """consistent, inconsistent, input (restated) or not testable."""
        if self.claim.restates_input:
            return RESTATED
        if not np.isfinite(self.model_value):
            return UNTESTABLE
        return "consistent" if self.consistent else "inconsistent"

    @property
    def inconsistent(self) -> bool:
        """A finding against the terms (restated inputs and untestable claims are not findings)."""
        return self.verdict == "inconsistent"

    @property
    def tested(self) -> bool:
        return self.verdict in ("consistent", "inconsistent")


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


def _spot_change_yoy(_: Summary) -> tuple[float, str]:
    """H100 spot a year apart (11 to 13 months), else NaN with what the record does show."""
    hist = [p for p in market_history() if p.gpu_sku == "H100-SXM"]
    spot = sorted((p for p in hist if p.kind == "spot"), key=lambda p: p.month)
    reserved = sorted((p for p in hist if p.kind == "reserved_1yr"), key=lambda p: p.month)
    last = spot[-1]

    def months_between(a: str, b: str) -> int:
        return (int(b[:4]) - int(a[:4])) * 12 + int(b[5:7]) - int(a[5:7])

    before = [p for p in spot if 11 <= months_between(p.month, last.month) <= 13]
    if before:
        v = (last.usd_per_gpu_hour / before[-1].usd_per_gpu_hour - 1.0) * 100.0
        return v, (f"H100 spot ${before[-1].usd_per_gpu_hour:.2f} ({before[-1].month}) to ${last.usd_per_gpu_hour:.2f} "
                   f"({last.month}): {v:+.0f}% year on year")  # fmt: skip
    peak = max(spot, key=lambda p: p.usd_per_gpu_hour)
    r0, r1 = reserved[0], reserved[1]
    return float("nan"), (
        f"the record has H100 spot prices for {', '.join(p.month for p in spot)} only, none a year before {last.month}; "
        f"what it does show: spot fell {(1 - last.usd_per_gpu_hour / peak.usd_per_gpu_hour) * 100:.0f}% from its "
        f"{peak.month} peak (${peak.usd_per_gpu_hour:.2f}) to ${last.usd_per_gpu_hour:.2f}, and the 1-year reserved rate "
        f"rose {(r1.usd_per_gpu_hour / r0.usd_per_gpu_hour - 1) * 100:+.0f}% from ${r0.usd_per_gpu_hour:.2f} ({r0.month}) "
        f"to ${r1.usd_per_gpu_hour:.2f} ({r1.month}), over {months_between(r0.month, r1.month)} months"
    )


QUANTITIES: dict[str, tuple[str, str, Callable[[Any], tuple[float, str]]]] = {
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
    "h100_spot_change_yoy_pct": ("H100 spot price change, year on year", "%", _spot_change_yoy),
}
"""Quantity name -> (label, unit, function returning the value and its arithmetic in words)."""


def _contract_index(r: Any, claim: Claim) -> int:
    names = [t.deal_name for t in r.portfolio.contracts]
    if claim.contract not in names:
        raise CdmError(f"claim {claim.claim!r} names contract {claim.contract!r}, which is not in the portfolio: "
                       f"{', '.join(names)}")  # fmt: skip
    return names.index(claim.contract)


def _burn(r: Any, _: Claim) -> tuple[float, str]:
    fees = float(r.total_fee.sum())
    revenue = float(np.asarray(r.portfolio.demand.revenue_usd_per_year).reshape(-1)[0])
    v = fees / revenue
    return v, (f"fees contracted in the {r.portfolio.n_months}-month view {human(fees, 'USD')} / annualised revenue "
               f"{human(revenue, 'USD')} at {r.portfolio.start_month} = {v:.1f}x")  # fmt: skip


def _contract_tcv(r: Any, claim: Claim) -> tuple[float, str]:
    i = _contract_index(r, claim)
    t = r.portfolio.contracts[i]
    v = float(r.summaries[i]["net_tcv_usd"][0])
    months = int(np.asarray(t.months_billed).reshape(-1)[0])
    fee = float(np.asarray(t.monthly_fee_usd).reshape(-1)[0])
    return v, f"{claim.contract}: {months} months x {human(fee, 'USD')} a month, net of its cuts = {human(v, 'USD')}"


def _warrant(r: Any, claim: Claim) -> tuple[float, str]:
    i = _contract_index(r, claim)
    value = float(np.asarray(r.portfolio.contracts[i].warrant_value_usd).reshape(-1)[0])
    post = r.portfolio.post_money_valuation_usd
    v = value / post * 100.0 if post > 0 else float("nan")
    return v, f"{claim.contract}: warrants {human(value, 'USD')} / post-money {human(post, 'USD')} = {v:.1f}%"


def _doubling(r: Any, _: Claim) -> tuple[float, str]:
    v = float(np.asarray(r.portfolio.demand.revenue_doubling_months).reshape(-1)[0])
    return v, f"revenue_doubling_months = {v:g} months (the demand input)"


PORTFOLIO_QUANTITIES: dict[str, tuple[str, str, Callable[[Any, Claim], tuple[float, str]]]] = {
    "burn_to_revenue_multiple": ("Burn-to-revenue multiple", "multiple", _burn),
    "contract_net_tcv_usd": ("A contract's net TCV", "USD", _contract_tcv),
    "warrant_ownership_pct": ("A contract's warrants as a share of the post-money valuation", "%", _warrant),
    "revenue_doubling_months": ("Revenue doubling time", "months", _doubling),
}
"""Portfolio claims: quantity -> (label, unit, function of the PortfolioResult and the claim)."""


def quantity_label(name: str) -> str:
    return (QUANTITIES.get(name) or PORTFOLIO_QUANTITIES[name])[0]


def load_claims(path: Path) -> list[Claim]:
    """Read a claims file; every problem is a DealFileError naming the file and the claim."""
    try:
        data = tomllib.loads(read_text_file(path))
    except tomllib.TOMLDecodeError as exc:
        raise DealFileError(path, f"cannot be read as a claims file: {exc}") from None
    known = PORTFOLIO_QUANTITIES if "portfolio_name" in data else QUANTITIES
    out = []
    for i, row in enumerate(data.get("claims", []), start=1):
        where = f"claim {i}"
        if not isinstance(row, dict):
            raise DealFileError(path, f"{where} must be a table")
        unknown = set(row) - set(Claim.__dataclass_fields__)
        if unknown:
            raise DealFileError(path, f"{where} has unknown keys: {', '.join(sorted(unknown))}")
        if row.get("quantity") not in known:
            raise DealFileError(path, f"{where}: quantity must be one of {', '.join(known)}, got {row.get('quantity')!r}")
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


def claims_for(name: str, folder: Path = CLAIMS_DIR) -> Path | None:
    """The claims file whose ``deal_name`` (or ``portfolio_name``) is ``name`` (case and spaces aside), if any."""
    wanted = " ".join(name.split()).lower()
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(read_text_file(path))
        except (tomllib.TOMLDecodeError, DealFileError):
            continue
        key = data.get("deal_name", data.get("portfolio_name"))
        if isinstance(key, str) and " ".join(key.split()).lower() == wanted:
            return path
    return None


def check_claim(claim: Claim, subject: Any) -> Verdict:
    """The verdict on one claim; ``subject`` is a deal's Summary or, for a portfolio claim, its PortfolioResult."""
    if claim.quantity in PORTFOLIO_QUANTITIES:
        _, unit, portfolio_fn = PORTFOLIO_QUANTITIES[claim.quantity]
        value, words = portfolio_fn(subject, claim)
    else:
        _, unit, fn = QUANTITIES[claim.quantity]
        value, words = fn(subject)
    if not np.isfinite(value):
        return Verdict(claim, value, unit, False, f"{words}; so the claim cannot be tested against the record.")
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
    if claim.restates_input:
        said += f" (it restates the input {claim.restates_input}, so it is no finding)"
    return Verdict(claim, value, unit, ok, f"{words}; {said}.")


def check_claims(claims: list[Claim], subject: Any) -> list[Verdict]:
    return [check_claim(c, subject) for c in claims]


def claims_sheet(wb: Workbook, verdicts: list[Verdict], claims_file: Path | None, what: str = "deal") -> None:
    """The Claims sheet of a deal or portfolio report: each claim, its source, the model's figure and the verdict."""
    ws = wb.create_sheet("Claims")
    put(ws, 1, 1, f"Public claims against what the model computes from the {what}'s terms", font=TITLE)
    tested = [v for v in verdicts if v.tested]
    put(ws, 2, 1, f"Claims from {claims_file.name if claims_file else 'no claims file'} (workbooks/claims/, found by the "
                  f"{what}'s name); each names the filing or publication it comes from. {sum(v.inconsistent for v in tested)}"
                  f" of {len(tested)} tested claims are inconsistent; restated inputs and untestable claims are no findings.",
        font=SUBTITLE)  # fmt: skip
    headers = ("#", "Claim", "Source", "Model figure", "Model value", "Verdict", "Arithmetic")
    widths = (4, 46, 30, 22, 16, 14, 90)
    for j, (h, w) in enumerate(zip(headers, widths), start=1):
        c = put(ws, 4, j, h, font=BOLD)
        c.fill = HEADER_FILL
        ws.column_dimensions[get_column_letter(j)].width = w
    if not verdicts:
        put(ws, 5, 2, f"No claims recorded for this {what}.")
    for i, v in enumerate(verdicts, start=1):
        r = 4 + i
        put(ws, r, 1, i)
        put(ws, r, 2, v.claim.claim)
        put(ws, r, 3, v.claim.source)
        put(ws, r, 4, quantity_label(v.claim.quantity))
        put(ws, r, 5, v.model_value if np.isfinite(v.model_value) else "n/a", FORMATS.get(v.unit, "#,##0.0"))
        c = put(ws, r, 6, v.verdict, font=BOLD)
        c.fill = BAD_FILL if v.inconsistent else (GOOD_FILL if v.verdict == "consistent" else NEUTRAL_FILL)
        put(ws, r, 7, v.arithmetic)
        for col in range(1, 8):
            ws.cell(r, col).alignment = WRAP
        ws.row_dimensions[r].height = 60
    ws.freeze_panes = "B5"
    _print_setup(ws, "4:4")
