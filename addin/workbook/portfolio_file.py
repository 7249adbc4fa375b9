"""Read a portfolio (TOML) and turn its results into JSON and tables.

A portfolio file holds its own inputs (``engine.portfolio.PORTFOLIO_FIELDS``) at
the top level and one ``[[contracts]]`` table per contract: either the deal
vocabulary inline, or ``deal_file = "deals/x.toml"`` (a TOML deal or a deal
workbook, relative to the portfolio file) with an optional ``scenario`` and any inputs to change on top
of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from addin.workbook.dealfile import DealSource, read_toml
from addin.workbook.load import load_deal
from engine import InputError, build_terms
from engine.errors import Issue
from engine.portfolio import BUCKETS, MAX_PORTFOLIO_CONTRACTS, Portfolio, PortfolioResult, build_portfolio
from engine.terms import DealTerms


def load_portfolio(path: Path) -> tuple[Portfolio, DealSource]:
    """Validated portfolio and a DealSource that locates its messages; InputError lists every problem."""
    raw, locations = read_toml(path)
    source = DealSource(path=path, raw=raw, locations=locations)
    issues: list[Issue] = []
    contracts: list[DealTerms] = []
    rows = raw.get("contracts", [])
    if not isinstance(rows, list):
        rows = []
        issues.append(Issue("contracts", "type", "contracts must be [[contracts]] tables", None))
    if len(rows) > MAX_PORTFOLIO_CONTRACTS:  # refused before thousands of contracts are built one by one
        error = InputError(Issue("contracts", "max", f"contracts must be <= {MAX_PORTFOLIO_CONTRACTS:,} contracts, got "
                                 f"{len(rows):,} contracts", len(rows)))  # fmt: skip
        error.source = source  # type: ignore[attr-defined]
        raise error
    for i, row in enumerate(rows, start=1):
        prefix = f"contracts[{i}]"
        if not isinstance(row, dict):
            issues.append(Issue(prefix, "type", f"{prefix} must be a table", row))
            continue
        try:
            contracts.append(_contract(path, row, prefix, source))
        except InputError as exc:
            for issue in exc.issues:
                where = getattr(exc, "source", None)
                place = where.locate(issue) if where is not None and where.path != path else ""
                message = f"{prefix}: {issue.message}" + (f" (in {place})" if place else "")
                issues.append(Issue(f"{prefix}.{issue.field}", issue.rule, message, issue.value))
    own = {k: v for k, v in raw.items() if k != "contracts"}
    try:
        portfolio = build_portfolio(own, contracts) if not issues else None
    except InputError as exc:
        issues.extend(exc.issues)
        portfolio = None
    if issues or portfolio is None:
        error = InputError(issues)
        error.source = source  # type: ignore[attr-defined]
        raise error
    return portfolio, source


def _contract(path: Path, row: dict[str, Any], prefix: str, source: DealSource) -> DealTerms:
    if "deal_file" in row:
        # a linked deal, with any inputs given beside it applied on top (e.g. the portfolio's deal structure)
        overrides = {k: v for k, v in row.items() if k not in ("deal_file", "scenario")}
        target = (path.parent / str(row["deal_file"])).resolve()
        src = load_deal(target, row.get("scenario"))
        if not overrides:
            return src.terms()
        try:
            return build_terms({**src.raw, **overrides})
        except InputError as exc:
            exc.source = source  # type: ignore[attr-defined]
            raise
    return build_terms(row)


# ------------------------------------------------------------------ results


def portfolio_record(r: PortfolioResult) -> dict[str, Any]:
    """Everything a program needs, JSON-ready (monthly arrays as lists; demand scenario 0 when there are several)."""
    p = r.portfolio
    shares = r.capacity_share()
    spend = r.spend_share()
    hhi = r.hhi()
    has = r.total_gpu_hours > 0
    cov = r.coverage(slice(0, 1))  # scenario 0: the one shown
    first = int(cov["first_shortfall_month"][0])
    rec: dict[str, Any] = {
        "portfolio_name": p.name,
        "start_month": str(p.start_month),
        "months": p.n_months,
        "contracts": [
            {"deal_name": t.deal_name, "vendor": t.vendor, "site": t.site, "start_month": str(np.asarray(t.start_month)[0]),
             "end_month": str(np.asarray(t.end_month)[0]), "net_tcv_usd": float(s["net_tcv_usd"][0]),
             "firm_commitment_usd": float(s["firm_commitment_usd"][0]), "gpus": float(s["gpus"][0]),
             "usd_per_gpu_hour": float(s["usd_per_gpu_hour"][0])}
            for t, s in zip(p.contracts, r.summaries)
        ],
        "valuation_date": str(p.valuation_day),
        "npv_usd": r.npv_usd(),
        "total_fees_usd": float(r.total_fee.sum()),
        "firm_commitment_usd": float(r.firm.sum()),
        "commitments_by_period_usd": r.commitment_buckets(),
        "firm_commitments_by_period_usd": r.commitment_buckets(firm=True),
        "vendors": list(r.vendors),
        "capacity_share_avg_pct": {v: float(shares[i][has].mean() * 100) if has.any() else 0.0 for i, v in enumerate(r.vendors)},
        "spend_share_avg_pct": {v: float(spend[i][r.total_fee > 0].mean() * 100) if (r.total_fee > 0).any() else 0.0
                                for i, v in enumerate(r.vendors)},
        "capacity_lost_if_vendor_down_max_pct": {v: float(shares[i].max() * 100) for i, v in enumerate(r.vendors)},
        "hhi_avg": float(hhi[has].mean()) if has.any() else 0.0,
        "hhi_max": float(hhi.max()),
        "burn_to_revenue_multiple": float(cov["burn_to_revenue_multiple"][0]),
        "first_shortfall_month": None if first < 0 else str(p.start_month + np.timedelta64(first, "M")),
        "gpus_to_sign_per_quarter": [float(x) for x in cov["gpus_to_sign_per_quarter"][0]],
        "demand_scenarios": r.n_demand_scenarios,
        "structure": r.structure(),
        "outages": [{"vendor": o.vendor, "site": o.site, "start": o.start.isoformat(), "days": o.days, **r.outage(o)}
                    for o in p.outages],
        "monthly": {
            "month": [str(m) for m in r.months],
            "net_fee_usd": r.total_fee.tolist(),
            "firm_fee_usd": r.firm.sum(axis=0).tolist(),
            "delivered_gpus": r.gpus.sum(axis=0).tolist(),
            "delivered_gpu_hours": r.total_gpu_hours.tolist(),
            "flops": r.flops.sum(axis=0).tolist(),
            "hhi": hhi.tolist(),
            "demand_gpu_hours": cov["demand_gpu_hours"][0].tolist(),
            "fees_by_vendor_usd": {v: r.vendor_fee[i].tolist() for i, v in enumerate(r.vendors)},
            "gpu_hours_by_vendor": {v: r.vendor_gpu_hours[i].tolist() for i, v in enumerate(r.vendors)},
        },
    }  # fmt: skip
    if p.reliance is not None:
        ratio = r.reliance_ratio(*p.reliance)
        both = (r.vendor_gpu_hours[r.vendors.index(p.reliance[0])] > 0) & (r.vendor_gpu_hours[r.vendors.index(p.reliance[1])] > 0)
        rec["reliance"] = {"vendors": list(p.reliance), "ratio_avg": float(ratio[both].mean()) if both.any() else 0.0,
                           "months_both_deliver": int(both.sum()), "ratio_by_month": ratio.tolist()}  # fmt: skip
    if r.n_demand_scenarios > 1:  # the figures above are scenario 0's; across every scenario, in bounded memory
        stats = r.coverage_stats().stats
        rec["demand_scenario_stats"] = {k: {q: stats[k][q] for q in ("p5", "p50", "p95", "mean", "undefined_paths")}
                                        for k in stats}  # fmt: skip
    assert set(rec["commitments_by_period_usd"]) == {b[0] for b in BUCKETS}
    return rec
