"""``cdm portfolio``: a portfolio of contracts, its commitments, reliance, outages, demand coverage and structure."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from addin.cli.app import JsonOpt, _dump, _figure_table, _show, app, guarded
from addin.workbook.fmt import human
from engine.errors import InputError


@app.command()
@guarded
def portfolio(
    file: Annotated[Path, typer.Argument(help="A portfolio file (workbooks/portfolios/*.toml).")],
    as_json: JsonOpt = False,
) -> None:
    """A portfolio of contracts: combined commitments, reliance, concentration, outages, demand coverage, structure."""
    from addin.workbook.portfolio_file import load_portfolio, portfolio_record
    from engine.portfolio import evaluate_portfolio

    if file.suffix.lower() in (".xlsx", ".xlsm"):
        from addin.workbook.dealfile import DealSource
        from addin.workbook.portfolio_book import read_portfolio_workbook

        p, where = read_portfolio_workbook(file)
        source = DealSource(path=file, raw={}, locations=where, kind="xlsx")
    else:
        p, source = load_portfolio(file)
    try:
        rec = portfolio_record(evaluate_portfolio(p))
    except InputError as exc:
        exc.source = source  # type: ignore[attr-defined]
        raise
    if as_json:
        _dump(rec)
        return
    _show_portfolio(rec)


def _show_portfolio(rec: dict[str, Any]) -> None:
    from rich.table import Table

    t = Table(title=f"{rec['portfolio_name']}: {rec['months']} months from {rec['start_month']}")
    for col in ("contract", "vendor", "term", "net TCV", "firm", "GPUs", "$/GPU-h"):
        t.add_column(col, justify="right" if col not in ("contract", "vendor") else "left")
    for c in rec["contracts"]:
        t.add_row(
            c["deal_name"],
            c["vendor"],
            f"{c['start_month']} to {c['end_month']}",
            human(c["net_tcv_usd"], "USD"),
            human(c["firm_commitment_usd"], "USD"),
            human(c["gpus"], "GPUs"),
            human(c["usd_per_gpu_hour"], "USD/GPU-hour"),
        )
    _show(t)
    f = _figure_table("Portfolio figures")
    rows = [
        (f"NPV of every contract's payments on {rec['valuation_date']}", human(rec["npv_usd"], "USD")),
        ("Fees in the view", human(rec["total_fees_usd"], "USD")),
        ("Firm commitments", human(rec["firm_commitment_usd"], "USD")),
    ]
    rows += [(f"Commitments, {k.replace('_', ' ')}", human(v, "USD")) for k, v in rec["commitments_by_period_usd"].items()]
    rows += [(f"Capacity share, {v} (average)", human(x, "%")) for v, x in rec["capacity_share_avg_pct"].items()]
    rows += [
        (f"Capacity lost if {v} goes down (worst month)", human(x, "%"))
        for v, x in rec["capacity_lost_if_vendor_down_max_pct"].items()
    ]
    rows.append(("Herfindahl index of capacity (average, 0-10,000)", f"{rec['hhi_avg']:,.0f}"))
    if "reliance" in rec:
        a, b = rec["reliance"]["vendors"]
        rows.append((f"Reliance ratio {a} : {b} (average)", f"{rec['reliance']['ratio_avg']:.2f}"))
    rows.append(("Burn-to-revenue multiple (fees / annualised revenue)", f"{rec['burn_to_revenue_multiple']:.1f}x"))
    rows.append(("First month demand exceeds contracted capacity", rec["first_shortfall_month"] or "none in the view"))
    quarters = rec["gpus_to_sign_per_quarter"][:8]
    rows.append(("GPUs to sign per quarter (first 8 quarters)", ", ".join(f"{q:,.0f}" for q in quarters)))
    for s in rec["structure"]:
        if s["warrant_value_usd"] > 0:
            worth = ", ".join(human(x, "USD") for x in s["stake_at_later_valuations_usd"])
            rows.append(
                (f"{s['vendor']}: warrants {human(s['warrant_value_usd'], 'USD')}", f"{s['ownership_pct']:.1f}% (worth {worth})")
            )
    for o in rec["outages"]:
        what = o["site"] or o["vendor"]
        rows.append((f"Outage {what}, {o['days']} days from {o['start']}: lost GPU-hours", f"{o['lost_gpu_hours'] / 1e6:,.1f}M"))
        rows.append(
            (
                "   SLA credits back / replacement at spot",
                f"{human(o['sla_credits_usd'], 'USD')} / {human(o['replacement_cost_usd'], 'USD')}",
            )
        )
    for label, value in rows:
        f.add_row(label, value)
    _show(f)
