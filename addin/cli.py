"""``cdm``: the command line. Tables for people, ``--json`` for programs.

Every command exits 0 on success, 2 with messages naming the place, the rule
and the value on bad input, and 1 with a one-line message (no traceback; set
``CDM_DEBUG=1`` to see one) on an internal error.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from addin.cells import serial_to_date
from addin.dealfile import DealFileError, DealSource, load_deal, located_messages
from addin.fmt import human
from engine import COLUMNS, METRICS, build_schedule, summarize
from engine.errors import CdmError, InputError, Issue
from engine.fields import FIELD_BY_NAME
from engine.risk import DEFAULT_CHUNK_PATHS
from engine.sizing import gpus_for_budget, size_facility, training_days
from engine.terms import _Collector, parse_value

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """User text as a terminal should show it: a control character (escape, bell, carriage return) is written out as
    ``\\x1b``, never obeyed, so a deal name cannot retitle the window or clear the screen."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class SafeConsole(Console):
    """A Rich console that reads no markup in what it prints (a deal called "[/bold] deal" prints as typed) and shows
    control characters visibly; styled labels are asked for explicitly (``_say``)."""

    def render_str(self, text: str, **kwargs: Any) -> Any:
        return super().render_str(visible(text), **kwargs)


app = typer.Typer(add_completion=False, no_args_is_help=True, help="Compute Deal Model: price and compare GPU compute contracts.")
out = SafeConsole(soft_wrap=True, markup=False)
err = SafeConsole(stderr=True, soft_wrap=True, markup=False)

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1
MIN_TABLE_WIDTH = 120

F = TypeVar("F", bound=Callable[..., Any])


def guarded(fn: F) -> F:
    """Turn engine and file errors into located messages and exit codes; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except InputError as exc:
            source = getattr(exc, "source", None)
            for line in located_messages(exc, source):
                _say("red", "error", f"{line}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except CdmError as exc:
            _say("red", "error", f"{exc}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:
            if os.environ.get("CDM_DEBUG"):
                raise
            _say("red", "internal error", f"{type(exc).__name__}: {exc} (set CDM_DEBUG=1 for details)")
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


def _evaluate(path: Path, scenario: str | None) -> tuple[DealSource, Any]:
    src = load_deal(path, scenario)
    terms = src.terms()
    try:
        summary = summarize(build_schedule(terms))
    except InputError as exc:
        exc.source = src  # type: ignore[attr-defined]
        raise
    return src, summary


def _warn(src: DealSource, summary: Any) -> None:
    for w in summary.warnings:
        loc = src.locate(Issue(w.field, w.rule, w.message))
        _say("yellow", "warning", f"{loc}: {w.message}")


def _say(style: str, label: str, text: str) -> None:
    """One styled line on stderr; the text is escaped, so [deal.xlsx] or a bracket in a path stays visible."""
    err.print(f"[{style}]{label}[/{style}] {escape(text)}", markup=True, highlight=False)


def _figure_table(title: str, with_names: bool = False) -> Table:
    """The table every command shows figures in: figure, value (right-aligned), and the name for programs."""
    t = Table(title=title)
    t.add_column("figure")
    t.add_column("value", justify="right")
    if with_names:
        t.add_column("name", style="dim")
    return t


def _show(table: Table) -> None:
    """Print a table never narrower than its content: a cut-off figure is worse than a wrapped line."""
    out.width = max(out.width, MIN_TABLE_WIDTH)
    out.print(table)


def _dump(obj: Any) -> None:
    """JSON for programs: a figure with no value (a ratio over no hours) is null, never NaN, which JSON cannot hold."""
    sys.stdout.write(json.dumps(_json_safe(obj), indent=2, allow_nan=False) + "\n")


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, np.generic):
        return _json_safe(obj.item())
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


DealArg = Annotated[Path, typer.Argument(help="A deal file: TOML (workbooks/deals/*.toml) or a deal workbook.")]
ScenarioOpt = Annotated[
    str | None, typer.Option("--scenario", help="Scenario name in a deal workbook (default: the workbook's switch).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for programs instead of a table.")]


@app.command()
@guarded
def summary(
    deal: DealArg,
    scenario: ScenarioOpt = None,
    as_json: JsonOpt = False,
    side: Annotated[
        str, typer.Option("--side", help="buyer (the contract) or seller (its economics, and build vs buy).")
    ] = "buyer",
) -> None:
    """Key figures of a deal: contract values, NPV, GPUs, unit prices, break-even; --side seller for the seller."""
    if side not in ("buyer", "seller"):
        raise CdmError(f"--side must be buyer or seller, got {side!r}")
    src, s = _evaluate(deal, scenario)
    if side == "seller":
        _seller_summary(src, s, as_json)
        return
    rec = s.record(0)
    if as_json:
        _dump(rec)
        return
    _warn(src, s)
    t = _figure_table(f"{rec['deal_name']}  ({rec['start_month']} to {rec['end_month']})", with_names=True)
    for m in METRICS:
        t.add_row(f"{m.label} [{m.unit}]", human(rec[m.name], m.unit), m.name)
    t.add_row("IRR vs market [%/year]", human(rec["irr_vs_market_pct"], "%"), "irr_vs_market_pct")
    t.add_row("Earliest exit date", rec["exit_date"] or "no termination right", "exit_date")
    _show(t)


def _seller_summary(src: DealSource, s: Any, as_json: bool) -> None:
    from engine.seller import SELLER_FIGURES, seller_summary

    rec = seller_summary(s.schedule).record(0)
    if as_json:
        _dump(rec)
        return
    t = _figure_table(f"{rec['deal_name']}: the seller's economics and build vs buy", with_names=True)
    for name, unit, label in SELLER_FIGURES:
        value = rec[name]
        shown = "none" if value is None else (f"{value:,.0f}" if unit == "months" else human(value, unit))
        t.add_row(f"{label} [{unit}]", shown, name)
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
    t = Table(title=f"{s.schedule.terms.deal_name}: monthly schedule (USD millions)", pad_edge=False, padding=(0, 1))
    for _, header, _ in SCHEDULE_TABLE_COLUMNS:
        t.add_column(header, justify="right", no_wrap=True)
    for k in range(row["month"].size):
        t.add_row(*(_cell(row[name][k], kind) for name, _, kind in SCHEDULE_TABLE_COLUMNS))
    summed = {"delivered_gpu_hours", "list_fee_usd", "reductions_usd", "net_fee_usd", "present_value_usd"}
    t.add_row(
        *(
            "total" if name == "month" else _cell(row[name].sum(), kind) if name in summed else ""
            for name, _, kind in SCHEDULE_TABLE_COLUMNS
        ),
        style="bold",
    )
    _show(t)


def _checked(name: str, value: object) -> Any:
    c = _Collector()
    v = parse_value(c, FIELD_BY_NAME[name], value, name)
    if c.issues:
        raise InputError(c.issues)
    return v


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


def _number(label: str, text: str) -> float:
    try:
        return float(text.replace("_", ""))
    except ValueError:
        raise InputError(Issue(label, "type", f"{label} must be a number, got {text!r}", text)) from None


@app.command()
@guarded
def size(  # noqa: PLR0917 (typer options are parameters)
    facility_mw: Annotated[float, typer.Option("--facility-mw", help="Facility power, MW.")],
    sku: Annotated[str, typer.Option("--sku", help="Catalogue SKU (ignored when --fleet is given).")] = "H100-SXM",
    pue: Annotated[float, typer.Option("--pue", help="Power usage effectiveness.")] = 1.2,
    network_overhead_pct: Annotated[
        float, typer.Option("--network-overhead-pct", help="Network and storage share of IT load, %.")
    ] = 10.0,
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
    if fleet:
        mix = _parse_fleet(fleet)
    else:
        mix = [(_checked("gpu_sku", sku), None if gpus is None else float(_checked("gpu_count", gpus)[0]))]
    r = size_facility(mw, mix, pue=pue_v, network_overhead_pct=ovh, mfu_pct=mfu)
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
        ("All-in kW per GPU = server kW x (1 + network) x PUE", human(r.kw_per_gpu, "kW")),
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
        terms = src.validate()
        result = summarize(build_schedule(terms))
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


@app.command()
@guarded
def new(
    output: Annotated[Path, typer.Option("-o", "--output", help="The new deal workbook to write (.xlsx).")],
    from_deal: Annotated[Path | None, typer.Option("--from", help="Fill it from a TOML deal file (with its scenarios).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a new deal workbook from the template (blank, or filled from a TOML deal file)."""
    from addin.atomic import refuse_input_as_output, resolve_output
    from addin.template import build_deal_workbook, build_template, refuse_lost_scenarios, save_workbook

    if output.suffix.lower() != ".xlsx":
        raise CdmError(f"{output}: a deal workbook must end in .xlsx")
    if output.exists() and not force:
        raise CdmError(f"{output} exists; pass --force to replace it (nothing was written)")
    if from_deal is not None:
        refuse_input_as_output(output, from_deal)
    resolve_output(output)
    if from_deal is not None:
        src = load_deal(from_deal)
        src.validate()
        refuse_lost_scenarios(src)
        wb, _ = build_deal_workbook(src.raw, src.scenarios, risk=src.risk)
    else:
        wb, _ = build_template()
    save_workbook(wb, output)
    out.print(f"wrote {output}", highlight=False)


@app.command()
@guarded
def refresh(
    workbook: Annotated[Path, typer.Argument(help="A deal workbook made from the template.")], as_json: JsonOpt = False
) -> None:
    """Do what the ribbon's Refresh model button does: rewrite checks, scenario comparison and run stamp."""
    from addin.refresh import refresh_file

    if workbook.suffix.lower() not in (".xlsx", ".xlsm"):
        raise CdmError(f"{workbook}: refresh works on deal workbooks (.xlsx)")
    result = refresh_file(workbook)
    if as_json:
        _dump({"scenario": result.scenario, "errors": result.errors, "warnings": result.warnings, "stamp": result.stamp,
               "messages": [{"severity": s, "where": w, "message": m} for s, w, m in result.messages]})  # fmt: skip
        if any(sev == "error" for sev, _, _ in result.messages):
            raise typer.Exit(EXIT_BAD_INPUT)
        return
    for sev, where, message in result.messages:
        style = {"error": "red", "warning": "yellow"}.get(sev, "green")
        _say(style, sev, f"{where + ': ' if where else ''}{message}")
    out.print(result.stamp, highlight=False)
    if any(sev == "error" for sev, _, _ in result.messages):  # its messages are written; the exit code says the inputs are bad
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
@guarded
def recalc(
    workbook: Annotated[Path, typer.Argument(help="A workbook to evaluate (formulas and CDM_ calls).")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write a values-only copy (formulas replaced by values).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate every formula without Excel; show the key figures and any error cell (exit 2 if there is one)."""
    from addin.recalc import recalculate, write_values
    from addin.workbook import open_workbook

    open_workbook(workbook)  # clear messages for files that are not workbooks
    if output is not None:
        from addin.atomic import refuse_input_as_output, resolve_output

        if output.resolve() == workbook.resolve():
            raise CdmError(f"{output}: the values-only copy must not replace the workbook itself")
        refuse_input_as_output(output, workbook)
        resolve_output(output)  # a folder or a device is refused before the work, not after
    result = recalculate(workbook)
    if output is not None:
        write_values(workbook, result, output)
    figures = {name: result.get("Summary", f"D{row}") for name, row in _summary_rows(workbook).items()}
    if as_json:
        _dump({"formula_cells": len(result.values), "errors": [{"sheet": s, "cell": c, "value": v} for s, c, v in result.errors],
               "summary": {k: v for k, v in figures.items() if isinstance(v, (int, float, str)) or v is None}})  # fmt: skip
    else:
        t = _figure_table(f"{workbook.name}: {len(result.values):,} formula cells evaluated")
        for name, value in figures.items():
            unit = METRIC_UNITS.get(name, "")
            if name == "exit_date" and isinstance(value, (int, float)):
                shown = serial_to_date(value).isoformat()
            elif isinstance(value, (int, float)) and unit:
                shown = human(value, unit)
            else:
                shown = "" if value is None else str(value)
            t.add_row(name, shown)
        _show(t)
        for sheet, cell, value in result.errors:
            _say("red", "error cell", f"{sheet}!{cell}: {value}")
        if output is not None:
            out.print(f"wrote {output}", highlight=False)
    if result.errors:
        raise typer.Exit(EXIT_BAD_INPUT)


METRIC_UNITS = {m.name: m.unit for m in METRICS}


REPORT_SUFFIXES = (".xlsx", ".xlsm", ".toml")


@app.command()
@guarded
def report(
    deal: Annotated[Path | None, typer.Argument(help="A deal file or workbook (or give --all FOLDER).")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Report workbook (.xlsx); with --all, a folder.")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write a PDF beside it (needs LibreOffice).")] = False,
    scenario: ScenarioOpt = None,
    all_in: Annotated[Path | None, typer.Option("--all", help="Report every deal workbook and TOML file in this folder.")] = None,
) -> None:
    """Build the review report of a deal: summary, schedule, charts, sensitivity, claims, assumptions."""
    if all_in is not None:
        if deal is not None:
            raise CdmError("give either a deal file or --all FOLDER, not both")
        _report_all(all_in, output or all_in / "reports", pdf)
        return
    if deal is None or output is None:
        raise CdmError("give a deal file and -o REPORT.xlsx (or --all FOLDER -o OUTPUT_FOLDER)")
    built = _report_one(deal, output, pdf, scenario)
    out.print(f"wrote {output}  ({built['claims']} claims checked, {built['inconsistent']} inconsistent)", highlight=False)
    for line in built["notes"]:
        out.print(line, highlight=False)


def _report_one(deal: Path, output: Path, pdf: bool, scenario: str | None = None, quiet: bool = False) -> dict[str, Any]:
    from addin.libreoffice import LibreOfficeError
    from addin.portfolio_report import build_portfolio_report, is_portfolio_file
    from addin.report import build_report, check_output, export_pdf, save_report

    check_output(deal, output)
    if is_portfolio_file(deal):
        if scenario is not None:
            raise CdmError("--scenario applies to deals, not portfolios")
        wb, rec = build_portfolio_report(deal, command_line=_command_line())
        save_report(wb, output)
        notes = []
        if pdf:
            try:
                notes.append(f"wrote {export_pdf(output, output.with_suffix('.pdf'))}")
            except LibreOfficeError as exc:
                _say("yellow", "no PDF", str(exc))
        return {"claims": 0, "inconsistent": 0, "notes": notes, "warnings": 0, "portfolio": rec["portfolio_name"]}
    src = load_deal(deal, scenario)
    src.validate()
    wb, ctx = build_report(src, command_line=_command_line())
    save_report(wb, output)
    if not quiet:
        _warn(src, ctx.summary)
    notes = []
    if pdf:
        try:
            notes.append(f"wrote {export_pdf(output, output.with_suffix('.pdf'))}")
        except LibreOfficeError as exc:
            _say("yellow", "no PDF", str(exc))
    return {"claims": len(ctx.verdicts), "inconsistent": sum(not v.consistent for v in ctx.verdicts), "notes": notes,
            "warnings": len(ctx.summary.warnings)}  # fmt: skip


def _report_all(folder: Path, out_dir: Path, pdf: bool) -> None:
    """Report every deal in ``folder``; a bad file is listed and skipped, never the end of the run."""
    if not folder.is_dir():
        raise CdmError(f"{folder} is not a folder")
    if out_dir.exists() and not out_dir.is_dir():
        raise CdmError(f"{out_dir} exists and is not a folder")

    def is_deal(p: Path) -> bool:
        hidden_or_lock = p.name.startswith(("~$", "."))
        return p.suffix.lower() in REPORT_SUFFIXES and not hidden_or_lock and not p.stem.endswith("-report")

    deals = sorted(p for p in folder.iterdir() if is_deal(p))
    if not deals:
        raise CdmError(f"{folder} holds no deal workbooks (.xlsx, .xlsm) or deal files (.toml)")
    out_dir.mkdir(parents=True, exist_ok=True)
    failed: list[tuple[Path, str]] = []
    stems = [d.stem.lower() for d in deals]
    for deal in deals:
        # deal.toml and deal.xlsx side by side must not write over each other's report
        tag = f"-{deal.suffix.lstrip('.').lower()}" if stems.count(deal.stem.lower()) > 1 else ""
        target = out_dir / f"{deal.stem}{tag}-report.xlsx"
        try:
            built = _report_one(deal, target, pdf, quiet=True)
        except InputError as exc:
            source = getattr(exc, "source", None)
            first = located_messages(exc, source)[0]
            more = f" (and {len(exc.issues) - 1} more)" if len(exc.issues) > 1 else ""
            failed.append((deal, first + more))
            _say("red", "FAIL", f"{deal.name}: {first}{more}")
            continue
        except CdmError as exc:
            failed.append((deal, str(exc)))
            _say("red", "FAIL", f"{deal.name}: {exc}")
            continue
        except Exception as exc:  # one broken file must not stop the other 199
            failed.append((deal, f"internal error {type(exc).__name__}: {exc}"))
            _say("red", "FAIL", f"{deal.name}: internal error {type(exc).__name__}: {exc}")
            continue
        claims = f"{built['inconsistent']}/{built['claims']} claims inconsistent"
        out.print(f"ok    {deal.name} -> {target.name} ({built['warnings']} warnings, {claims})", highlight=False)
    out.print(f"{len(deals) - len(failed)} of {len(deals)} reports written to {out_dir}", highlight=False)
    if failed:
        out.print(f"{len(failed)} failed:", highlight=False)
        for deal, why in failed:
            out.print(f"  {deal.name}: {why}", highlight=False, markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
@guarded
def compare(
    deals: Annotated[list[Path], typer.Argument(help="Deal files or workbooks to put side by side.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The comparison workbook to write (.xlsx).")],
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write a PDF beside it (needs LibreOffice).")] = False,
) -> None:
    """Put several deals side by side: $/GPU-hour, $/kW-month, firm share, NPV per GW, premium to market."""
    from addin.compare import build_comparison, evaluate_sources
    from addin.libreoffice import LibreOfficeError
    from addin.report import check_output, export_pdf, save_report

    for deal in deals:
        check_output(deal, output)
    compared = evaluate_sources([load_deal(deal) for deal in deals])
    save_report(build_comparison(compared, _command_line()), output)
    out.print(f"wrote {output}  ({len(compared)} deals)", highlight=False)
    if pdf:
        try:
            out.print(f"wrote {export_pdf(output, output.with_suffix('.pdf'))}", highlight=False)
        except LibreOfficeError as exc:
            _say("yellow", "no PDF", f"{exc}")


@app.command()
@guarded
def portfolio(
    file: Annotated[Path, typer.Argument(help="A portfolio file (workbooks/portfolios/*.toml).")],
    as_json: JsonOpt = False,
) -> None:
    """A portfolio of contracts: combined commitments, reliance, concentration, outages, demand coverage, structure."""
    from addin.portfolio_file import load_portfolio, portfolio_record
    from engine.portfolio import evaluate_portfolio

    if file.suffix.lower() in (".xlsx", ".xlsm"):
        from addin.dealfile import DealSource
        from addin.portfolio_book import read_portfolio_workbook

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


@app.command()
@guarded
def simulate(  # noqa: PLR0917 (typer options are parameters)
    deal: DealArg,
    paths: Annotated[int, typer.Option("--paths", help="Number of Monte Carlo paths.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random numbers (echoed in every output).")] = 20260506,
    chunk_paths: Annotated[
        int, typer.Option("--chunk-paths", help="Paths per chunk: bounds memory, never changes results.")
    ] = DEFAULT_CHUNK_PATHS,
    scenario: ScenarioOpt = None,
    as_json: JsonOpt = False,
    dask: Annotated[str | None, typer.Option("--dask", help="Run the chunks on a Dask cluster (scheduler address).")] = None,
) -> None:
    """Monte Carlo risk of a deal: P5/P50/P95 and mean of $/used GPU-hour, NPV, premium, SLA credits; tornado."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from addin.portfolio_report import is_portfolio_file
    from engine.risk import SPOT_TO_RESERVED, build_risk, memory_bound_bytes, tornado
    from engine.risk import simulate as run_simulation

    if is_portfolio_file(deal):
        _simulate_portfolio(deal, paths, seed, as_json, dask)
        return
    src = load_deal(deal, scenario)
    terms = src.terms()
    try:
        model = build_risk(src.risk, terms)
    except InputError as exc:
        exc.source = src  # type: ignore[attr-defined]
        raise
    if dask is not None:
        from engine.risk import dask_chunk_runner

        with _dask_client(dask) as client:
            sim = run_simulation(terms, paths, seed, model, chunk_paths=chunk_paths, map_chunks=dask_chunk_runner(client))
    elif as_json or not err.is_terminal:
        sim = run_simulation(terms, paths, seed, model, chunk_paths=chunk_paths)
    else:
        with Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} paths"),
                      TimeRemainingColumn(), console=err, transient=True) as bar:  # fmt: skip
            task = bar.add_task("paths", total=paths)
            sim = run_simulation(
                terms, paths, seed, model, chunk_paths, progress=lambda done, _: bar.update(task, completed=done)
            )
    months = int(np.asarray(terms.months_billed)[0])
    model_echo = {
        "reserved_vol_pct": model.reserved_vol_pct,
        "spot_vol_pct": model.spot_vol_pct,
        "price_correlation": model.price_correlation,
        "outages_per_year": model.outages_per_year,
        "spot_start_usd_per_gpu_hour": model.spot_start_usd_per_gpu_hour
        or float(np.asarray(terms.market_usd_per_gpu_hour)[0]) * SPOT_TO_RESERVED,
    }
    rec = {
        "deal_name": terms.deal_name,
        "paths": paths,
        "seed": seed,
        "memory_bound_bytes": memory_bound_bytes(min(chunk_paths, paths), months, paths),
        "model": model_echo,
        "stats": sim.stats(),
        "npv_histogram": sim.histogram("npv_usd"),
        "monthly_cost_fan": sim.fan(),
        "tornado": tornado(terms, model),
        "rank_correlation": sim.rank_correlation(),
    }
    if as_json:
        _dump(rec)
        return
    t = _percentile_table(f"{terms.deal_name}: {paths:,} paths, seed {seed}")
    units = {"usd_per_used_gpu_hour": "USD/GPU-hour", "premium_to_market_pct": "%"}
    for name, st in rec["stats"].items():
        unit = units.get(name, "USD")
        t.add_row(name, *(human(st[q], unit) if np.isfinite(st[q]) else "n/a" for q in ("p5", "p50", "p95", "mean")))
    _show(t)
    for name, st in rec["stats"].items():
        if st.get("undefined_paths"):
            _say("yellow", "note", f"{name} has no value on {st['undefined_paths']:,.0f} of {paths:,} paths (no GPU-hours "
                                   "delivered or used: a delay past the term or outages every day); its statistics "
                                   "cover the other paths")  # fmt: skip
    tt = Table(title="Tornado: each driver alone at its P5 and P95")
    for col in ("driver", "low", "high", "NPV at low", "NPV at high", "NPV swing"):
        tt.add_column(col, justify="right" if col != "driver" else "left")
    for r in rec["tornado"]:
        tt.add_row(str(r["driver"]), f"{r['low_input']:,.2f}", f"{r['high_input']:,.2f}", human(r["npv_usd_at_low"], "USD"),
                   human(r["npv_usd_at_high"], "USD"), human(r["npv_usd_swing"], "USD"))  # fmt: skip
    _show(tt)
    _correlation_table(rec["rank_correlation"], {"npv_usd": "with NPV", "usd_per_used_gpu_hour": "with $/used GPU-hour"}, paths)


def _dask_client(address: str) -> Any:
    """A client of the Dask scheduler at ``address``, or a CdmError saying what is missing."""
    try:
        from distributed import Client
    except ImportError:
        raise CdmError("--dask needs the dask[distributed] package: pip install 'compute-deal-model[dask]'") from None
    try:
        return Client(address, timeout="20s")
    except OSError as exc:
        raise CdmError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def _simulate_portfolio(path: Path, paths: int, seed: int, as_json: bool, dask: str | None = None) -> None:
    from addin.portfolio_report import load_any_portfolio, load_portfolio_risk
    from engine.portfolio import PortfolioResult
    from engine.risk import build_portfolio_risk, check_run, summarise_portfolio

    check_run(paths, seed, DEFAULT_CHUNK_PATHS, 1, max_paths=10_000_000)  # before the portfolio is read

    p = load_any_portfolio(path)
    risk_raw, source = load_portfolio_risk(path)
    try:  # a bad driver, or a vendor the portfolio does not have, is located in the file
        risk = build_portfolio_risk(risk_raw)
        if dask is None:
            sim = summarise_portfolio(PortfolioResult(p), paths, seed, risk)
        else:
            from engine.risk import dask_chunk_runner

            with _dask_client(dask) as client:
                sim = summarise_portfolio(PortfolioResult(p), paths, seed, risk, map_chunks=dask_chunk_runner(client))
    except InputError as exc:
        exc.source = source  # type: ignore[attr-defined]
        raise
    stats = sim.summary.stats
    rec = {
        "portfolio_name": p.name,
        "paths": paths,
        "seed": seed,
        "stats": stats,
        "paths_with_no_shortfall_pct": sim.never_short_pct,
        "usd_per_used_gpu_hour_histogram": sim.summary.histograms["usd_per_used_gpu_hour"],
        "demand_fan_gpu_hours": sim.demand_fan,
        "contracted_supply_gpu_hours": sim.supply,
        "rank_correlation": sim.rank_correlation(),
    }
    if as_json:
        _dump(rec)
        return
    t = _percentile_table(f"{p.name}: {paths:,} paths, seed {seed}")
    for name, st in stats.items():
        if name == "first_shortfall_month":
            cells = [p.month_label(st[q]) for q in ("p5", "p50", "p95")]
            t.add_row(name, *cells, f"{st['mean']:.1f} months")
        else:
            unit = _portfolio_unit(name)
            t.add_row(name, *(human(st[q], unit) for q in ("p5", "p50", "p95", "mean")))
    _show(t)
    outputs = {"first_shortfall_month": "with first shortfall month", "usd_per_used_gpu_hour": "with $/used GPU-hour"}
    _correlation_table(rec["rank_correlation"], outputs, paths)


def _percentile_table(title: str) -> Table:
    t = Table(title=title)
    for col in ("output", "P5", "P50", "P95", "mean"):
        t.add_column(col, justify="right" if col != "output" else "left")
    return t


def _correlation_table(rows: list[dict[str, Any]], outputs: dict[str, str], paths: int) -> None:
    """The drivers' rank correlations with ``outputs`` (name: column heading), n/a where one does not vary."""
    from engine.risk import CORRELATION_PATHS

    tc = Table(title=f"Rank correlation of each driver's draws with the outputs ({min(paths, CORRELATION_PATHS):,} paths)")
    tc.add_column("driver", justify="left")
    for heading in outputs.values():
        tc.add_column(heading, justify="right")
    for r in rows:
        tc.add_row(str(r["driver"]), *(f"{r[o]:+.2f}" if isinstance(r[o], float) else "n/a" for o in outputs))
    _show(tc)


def _portfolio_unit(name: str) -> str:
    """The unit of a portfolio simulation output, from its name."""
    if name.startswith("usd_per_"):
        return "USD/GPU-hour"
    for suffix, unit in (("_pct", "%"), ("_usd", "USD"), ("_gpu_hours", "GPU-hours")):
        if name.endswith(suffix):
            return unit
    return "GPUs"


@app.command()
@guarded
def table(
    deal: DealArg,
    output: Annotated[str, typer.Option("--output", help="The figure to tabulate, e.g. npv_usd, usd_per_used_gpu_hour.")],
    rows: Annotated[str, typer.Option("--rows", help="FIELD=v1,v2,... down the rows, e.g. utilization_pct=60,80,100.")],
    cols: Annotated[str, typer.Option("--cols", help="FIELD=v1,v2,... across the columns, e.g. discount_rate_pct=6,9,12.")],
    as_json: JsonOpt = False,
) -> None:
    """A two-way data table of any output over any two inputs, computed in one vectorised engine call."""
    from engine.risk import data_table

    src = load_deal(deal)
    terms = src.terms()
    (rf, rv), (cf, cv) = _axis(rows, "--rows"), _axis(cols, "--cols")
    try:
        grid = data_table(terms, output, row_field=rf, row_values=rv, col_field=cf, col_values=cv)
    except InputError as exc:
        exc.source = src  # type: ignore[attr-defined]
        raise
    if as_json:
        _dump({"output": output, "rows": {rf: rv.tolist()}, "cols": {cf: cv.tolist()}, "values": grid.tolist()})
        return
    t = Table(title=f"{terms.deal_name}: {output}")
    t.add_column(f"{rf} \\ {cf}")
    for v in cv:
        t.add_column(f"{v:g}", justify="right")
    for i, v in enumerate(rv):
        t.add_row(f"{v:g}", *(f"{x:,.4g}" for x in grid[i]))
    _show(t)


def _axis(spec: str, option: str) -> tuple[str, np.ndarray]:
    name, _, values = spec.partition("=")
    name = name.strip()
    field_spec = FIELD_BY_NAME.get(name)
    if field_spec is None or field_spec.kind not in ("number", "integer"):
        raise CdmError(f"{option}: {name!r} is not a numeric input (give FIELD=v1,v2,...)")
    parts = [p for p in values.split(",") if p.strip()]
    if not parts:
        raise CdmError(f"{option}: give values after {name}=, e.g. {name}=1,2,3")
    return name, np.array([_number(f"{option} {name}", p.strip()) for p in parts])


def _command_line() -> str:
    import shlex

    return "cdm " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _summary_rows(path: Path) -> dict[str, int]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    if "Summary" not in wb.sheetnames:
        return {}
    rows = {}
    for i, row in enumerate(wb["Summary"].iter_rows(min_col=3, max_col=3, values_only=True), start=1):
        if isinstance(row[0], str) and row[0] and i >= 5 and not row[0].startswith("sizing_") and row[0] != "Name":
            rows[row[0]] = i
    return rows


def main() -> None:
    """Console-script entry point."""
    if not os.environ.get("CDM_DEBUG"):
        # a library's generator finalised after an error we already reported (openpyxl's sheet writer on a full
        # disk) would print "Exception ignored ... Traceback" at exit: the user has the one-line message already
        sys.unraisablehook = lambda unraisable: None
    for stream in (sys.stdout, sys.stderr):  # a name the terminal's encoding cannot show is escaped, never an exit 1
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        app()
    except DealFileError as exc:  # pragma: no cover - guarded() catches these inside commands
        err.print(str(exc))
        sys.exit(EXIT_BAD_INPUT)
