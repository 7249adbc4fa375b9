"""``cdm summary``, ``schedule``, ``size`` and ``check``: one deal's figures, its months, sizing a site, and its inputs."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import numpy as np
import typer

from addin.cli.app import (
    EXIT_BAD_INPUT,
    DealArg,
    JsonOpt,
    ScenarioOpt,
    _checked,
    _dump,
    _evaluate,
    _figure_table,
    _number,
    _say,
    _show,
    _warn,
    app,
    err,
    guarded,
    out,
)
from addin.cli.fast import summary_record
from addin.workbook.dealfile import DealSource, located_messages
from addin.workbook.fmt import human
from addin.workbook.load import load_deal
from engine import COLUMNS, METRICS, summarize
from engine.errors import CdmError, InputError, Issue
from engine.sizing import gpus_for_budget, size_facility, training_days


class Side(StrEnum):
    """Whose figures ``cdm summary`` shows."""

    buyer = "buyer"
    seller = "seller"


@app.command()
@guarded
def summary(
    deal: DealArg,
    scenario: ScenarioOpt = None,
    as_json: JsonOpt = False,
    side: Annotated[
        Side, typer.Option("--side", help="buyer (the contract) or seller (its economics, and build vs buy).")
    ] = Side.buyer,
) -> None:
    """Key figures of a deal: contract values, NPV, GPUs, unit prices, break-even; --side seller for the seller."""
    if as_json:  # the figures the fast path prints (addin.cli.fast), by the same function
        _dump(summary_record(deal, scenario, side.value))
        return
    src, s = _evaluate(deal, scenario)
    if side is Side.seller:
        _seller_summary(s)
        return
    rec = s.record(0)
    _warn(src, s)
    t = _figure_table(f"{rec['deal_name']}  ({rec['start_month']} to {rec['end_month']})", with_names=True)
    for m in METRICS:
        t.add_row(f"{m.label} [{m.unit}]", human(rec[m.name], m.unit), m.name)
    t.add_row("IRR vs market [%/year]", human(rec["irr_vs_market_pct"], "%"), "irr_vs_market_pct")
    t.add_row("Earliest exit date", rec["exit_date"] or "no termination right", "exit_date")
    _show(t)


def _seller_summary(s: Any) -> None:
    from engine.seller import SELLER_FIGURES, seller_summary

    rec = seller_summary(s.schedule).record(0)
    t = _figure_table(f"{rec['deal_name']}: the seller's economics and build vs buy", with_names=True)
    for name, unit, label in SELLER_FIGURES:
        value = rec[name]
        shown = "none" if value is None else (f"{value:,.0f}" if unit == "months" else human(value, unit))
        t.add_row(f"{label} [{unit}]", shown, name)
        if name == "ebitda_margin_pct":
            t.add_row("EBITDA margin against the neocloud range", rec["ebitda_margin_check"], "ebitda_margin_check")
    _show(t)


SCHEDULE_TABLE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (column, header, format): fees in $M so a month fits an 80-column terminal without truncation
    ("month", "Month", "month"),
    ("capacity_fraction", "Cap.", "fraction"),
    ("delivered_gpus", "GPUs", "GPUs"),
    ("delivered_gpu_hours", "GPU-h (M)", "millions"),
    ("list_fee_usd", "List $M", "millions"),
    ("reductions_usd", "Cuts $M", "millions"),
    ("net_fee_usd", "Net $M", "millions"),
    ("cumulative_fee_usd", "Cum. $M", "millions"),
    ("present_value_usd", "PV $M", "millions"),
    ("firm_fraction", "Firm", "fraction"),
)


def _cell(value: object, kind: str) -> str:
    if kind == "month":
        return str(value)
    v = float(value)  # type: ignore[arg-type]
    if kind == "millions":
        return f"{v / 1e6:,.1f}"
    if kind == "fraction":
        return f"{v:.2f}"
    return f"{v:,.0f}"


@app.command()
@guarded
def schedule(deal: DealArg, scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """The month-by-month payment and capacity schedule (all columns with --json)."""
    src, s = _evaluate(deal, scenario)
    row = s.schedule.row(0)
    if as_json:
        records = []
        for k in range(row["month"].size):
            rec: dict[str, Any] = {}
            for c in COLUMNS:
                v = row[c.name][k]
                rec[c.name] = str(v) if c.unit in ("month", "date") else float(v)
            records.append(rec)
        _dump({"deal_name": s.schedule.terms.deal_name, "months": records})
        return
    _warn(src, s)
    row["reductions_usd"] = (
        row["ramp_reduction_usd"] + row["late_delivery_reduction_usd"] + row["usage_reduction_usd"] + row["sla_credit_usd"]
    )
    from rich.table import Table

    t = Table(title=f"{s.schedule.terms.deal_name}: monthly schedule (USD millions)", pad_edge=False, padding=(0, 1))
    for _, header, _ in SCHEDULE_TABLE_COLUMNS:
        t.add_column(header, justify="right", no_wrap=True)
    over = row["mw_over_facility"] > 0
    for k in range(row["month"].size):
        cells = [_cell(row[name][k], kind) for name, _, kind in SCHEDULE_TABLE_COLUMNS]
        cells[0] += " *" if over[k] else ""
        t.add_row(*cells)
    summed = {"delivered_gpu_hours", "list_fee_usd", "reductions_usd", "net_fee_usd", "present_value_usd"}
    t.add_row(
        *(
            "total" if name == "month" else _cell(row[name].sum(), kind) if name in summed else ""
            for name, _, kind in SCHEDULE_TABLE_COLUMNS
        ),
        style="bold",
    )
    _show(t)
    if over.any():
        worst = float(row["mw_over_facility"].max())
        out.print(f"* {int(over.sum())} months deliver more MW than the facility has (up to {worst:,.1f} MW over): the power "
                  "cannot feed every contracted GPU (see powered_gpus)", highlight=False)  # fmt: skip


def _parse_fleet(text: str) -> list[tuple[str, float | None]]:
    fleet: list[tuple[str, float | None]] = []
    for i, part in enumerate(p.strip() for p in text.split(",") if p.strip()):
        sku, _, count = part.partition("=")
        sku_ok = _checked("gpu_sku", sku)
        n = None if not count.strip() else float(_checked("gpu_count", _number(f"--fleet item {i + 1} count", count))[0])
        fleet.append((sku_ok, n))
    if sum(1 for _, n in fleet if n is None) > 1:
        raise CdmError("--fleet: at most one SKU may have no count (it fills the remaining power)")
    if not fleet:
        raise CdmError("--fleet: give SKU=COUNT items separated by commas, e.g. H100-SXM=150000,GB200")
    return fleet


@app.command()
@guarded
def size(  # noqa: PLR0917 (typer options are parameters)
    facility_mw: Annotated[float, typer.Option("--facility-mw", help="Facility power, MW.")],
    sku: Annotated[str, typer.Option("--sku", help="Catalogue SKU (ignored when --fleet is given).")] = "H100-SXM",
    pue: Annotated[float, typer.Option("--pue", help="Power usage effectiveness.")] = 1.2,
    network_overhead_pct: Annotated[
        float, typer.Option("--network-overhead-pct", help="Network and storage share of IT load, %.")
    ] = 10.0,
    kw_per_gpu: Annotated[
        float | None,
        typer.Option("--kw-per-gpu", help="Facility kW per GPU, all-in (replaces the catalogue, PUE and network overhead)."),
    ] = None,
    gpus: Annotated[
        int | None, typer.Option("--gpus", help="GPU count to check against the power (default: sized from power).")
    ] = None,
    fleet: Annotated[
        str | None, typer.Option("--fleet", help="Mixed fleet: SKU=COUNT,... ; one SKU without a count fills the rest.")
    ] = None,
    mfu_pct: Annotated[float, typer.Option("--mfu-pct", help="Model FLOPs utilisation, %.")] = 40.0,
    training_flops: Annotated[
        float | None, typer.Option("--training-flops", help="A training run's FLOPs: how many days it takes.")
    ] = None,
    budget_usd_per_month: Annotated[
        float | None, typer.Option("--budget-usd-per-month", help="Monthly budget: how many GPUs it rents.")
    ] = None,
    usd_per_gpu_hour: Annotated[
        float | None, typer.Option("--usd-per-gpu-hour", help="Price for --budget-usd-per-month (default: catalogue rent).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """GPUs a facility can feed, power per GPU, throughput and FLOPs per month."""
    mw = float(_checked("facility_mw", facility_mw)[0])
    pue_v = float(_checked("pue", pue)[0])
    ovh = float(_checked("network_overhead_pct", network_overhead_pct)[0])
    mfu = float(_checked("mfu_pct", mfu_pct)[0])
    kw_given = None if kw_per_gpu is None else float(_checked("kw_per_gpu", kw_per_gpu)[0])
    if fleet:
        mix = _parse_fleet(fleet)
    else:
        mix = [(_checked("gpu_sku", sku), None if gpus is None else float(_checked("gpu_count", gpus)[0]))]
    r = size_facility(mw, mix, pue=pue_v, network_overhead_pct=ovh, mfu_pct=mfu, kw_per_gpu_all_in=kw_given)
    result: dict[str, Any] = {
        "facility_mw": r.facility_mw,
        "pue": r.pue,
        "network_overhead_pct": r.network_overhead_pct,
        "it_mw": r.it_mw,
        "gpu_server_mw": r.gpu_server_mw,
        "network_mw": r.network_mw,
        "kw_per_gpu": r.kw_per_gpu,
        "gpus_by_sku": r.gpus_by_sku,
        "gpus": r.gpus,
        "required_facility_mw": r.required_facility_mw,
        "power_headroom_mw": r.power_headroom_mw,
        "dense_bf16_pflops": r.dense_bf16_pflops,
        "dense_fp8_pflops": r.dense_fp8_pflops,
        "mfu_pct": r.mfu_pct,
        "flops_per_month": r.flops_per_month,
    }
    if training_flops is not None:
        tf = _number("--training-flops", str(training_flops))
        if not tf > 0 or not np.isfinite(tf):
            raise InputError(Issue("training_flops", "min", f"--training-flops must be > 0, got {tf:g}", tf))
        prof_tflops = r.dense_bf16_pflops * 1000.0 / r.gpus if r.gpus else 0.0
        result["training_flops"] = tf
        result["training_days"] = float(training_days(tf, r.gpus, prof_tflops, mfu)) if r.gpus else None
    if budget_usd_per_month is not None:
        from engine.catalogue import market_prices

        budget = float(_checked("monthly_fee_usd", budget_usd_per_month)[0])
        if usd_per_gpu_hour is not None:
            price = float(_checked("market_usd_per_gpu_hour", usd_per_gpu_hour)[0])
        else:  # the count-weighted catalogue rent of the fleet, as a deal prices its fleet (never the first SKU typed)
            prices = market_prices()
            counts = {k: float(v) for k, v in r.gpus_by_sku.items()}
            total = sum(counts.values())
            price = (sum(prices[k].reference_usd_per_gpu_hour * n for k, n in counts.items()) / total if total > 0
                     else sum(prices[k].reference_usd_per_gpu_hour for k, _ in mix) / len(mix))  # fmt: skip
        result["budget_usd_per_month"] = budget
        result["budget_usd_per_gpu_hour"] = price
        result["gpus_for_budget"] = float(gpus_for_budget(budget, price))
    if r.power_headroom_mw < -1e-9:
        _say(
            "yellow",
            "warning",
            f"the GPUs need {r.required_facility_mw:,.1f} MW, "
            f"{-r.power_headroom_mw:,.1f} MW more than the facility's {r.facility_mw:,.1f} MW",
        )
    if as_json:
        _dump(result)
        return
    t = _figure_table(f"Sizing {r.facility_mw:,.0f} MW at PUE {r.pue:g}")
    rows: list[tuple[str, str]] = [
        ("IT load [MW] = facility / PUE", human(r.it_mw, "MW")),
        (
            "All-in kW per GPU = typical server draw x (1 + network) x PUE"
            if kw_given is None
            else "All-in kW per GPU (--kw-per-gpu)",
            human(r.kw_per_gpu, "kW"),
        ),
    ]
    rows += [(f"{k} [GPUs]", human(v, "GPUs")) for k, v in r.gpus_by_sku.items()]
    rows += [
        ("GPUs [total]", human(r.gpus, "GPUs")),
        ("Facility power the GPUs need [MW]", human(r.required_facility_mw, "MW")),
        ("Power headroom [MW]", human(r.power_headroom_mw, "MW")),
        ("Dense BF16 [PFLOPS]", human(r.dense_bf16_pflops, "PFLOPS")),
        ("Dense FP8 [PFLOPS]", human(r.dense_fp8_pflops, "PFLOPS")),
        (f"Useful FLOPs per 730-hour month at {mfu:g}% MFU", human(r.flops_per_month, "FLOPs")),
    ]
    if "training_days" in result:
        rows.append((f"Days to train {result['training_flops']:.2e} FLOPs", human(result["training_days"], "months")))
    if "gpus_for_budget" in result:
        rows.append(
            (
                f"GPUs rented by ${budget_usd_per_month:,.0f}/month at ${result['budget_usd_per_gpu_hour']:.2f}/GPU-hour",
                human(result["gpus_for_budget"], "GPUs"),
            )
        )
    for label, value in rows:
        t.add_row(label, value)
    _show(t)


@app.command()
@guarded
def check(deal: DealArg, scenario: ScenarioOpt = None, as_json: JsonOpt = False) -> None:
    """List every bad input (by cell or line, rule and value) and every warning; exit 2 if any input is bad."""
    src: DealSource | None = None
    try:
        src = load_deal(deal, scenario)
        result = summarize(src.validate())  # the schedule validate built: not a second one
    except InputError as exc:
        source = getattr(exc, "source", None) or src
        lines = located_messages(exc, source)
        if as_json:
            _dump({"ok": False, "errors": [_issue_json(i, source) for i in exc.issues], "warnings": []})
        else:
            for line in lines:
                _say("red", "error", f"{line}")
            err.print(f"{len(lines)} input error{'s' if len(lines) != 1 else ''}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    assert src is not None
    warnings = [(src.locate(Issue(w.field, w.rule, w.message)), w) for w in result.warnings]
    if as_json:
        _dump({"ok": True, "errors": [], "warnings": [{"where": loc, "field": w.field, "rule": w.rule, "message": w.message}
                                                       for loc, w in warnings]})  # fmt: skip
        return
    for loc, w in warnings:
        _say("yellow", "warning", f"{loc}: {w.message}")
    out.print(f"OK: no input errors ({len(warnings)} warning{'s' if len(warnings) != 1 else ''})", highlight=False)


def _issue_json(issue: Issue, source: DealSource | None) -> dict[str, Any]:
    value = issue.value if isinstance(issue.value, (int, float, str, type(None))) else str(issue.value)
    where = source.locate(issue) if source is not None else ""
    return {"where": where, "field": issue.field, "rule": issue.rule, "value": value, "message": issue.message}
