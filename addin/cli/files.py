"""``cdm new``, ``refresh`` and ``recalc``: writing a deal workbook, refreshing one as the ribbon does, evaluating one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from addin.cli.app import EXIT_BAD_INPUT, JsonOpt, _dump, _figure_table, _say, _show, app, guarded, out
from addin.workbook.cells import serial_to_date
from addin.workbook.fmt import human
from addin.workbook.load import load_deal
from engine import METRICS
from engine.errors import CdmError


@app.command()
@guarded
def new(
    output: Annotated[Path, typer.Option("-o", "--output", help="The new deal workbook to write (.xlsx).")],
    from_deal: Annotated[Path | None, typer.Option("--from", help="Fill it from a TOML deal file (with its scenarios).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write a new deal workbook from the template (blank, or filled from a TOML deal file)."""
    from addin.excel.build_workbooks import save_workbook
    from addin.workbook.atomic import refuse_input_as_output, resolve_output
    from addin.workbook.template import build_deal_workbook, build_template, refuse_lost_scenarios

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
    import datetime as dt

    save_workbook(wb, output, refreshed=dt.datetime.now(dt.UTC))
    if as_json:
        _dump({"written": [str(output)], "from": str(from_deal) if from_deal is not None else None})
        return
    out.print(f"wrote {output}", highlight=False)


@app.command()
@guarded
def refresh(
    workbook: Annotated[Path, typer.Argument(help="A deal workbook made from the template.")], as_json: JsonOpt = False
) -> None:
    """Do what the ribbon's Refresh model button does: rewrite checks, scenario comparison and run stamp."""
    from addin.excel.refresh import refresh_file

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
    from addin.excel.recalc import paused_gc, recalculate, write_values
    from addin.workbook.dealbook import open_workbook

    with paused_gc(freeze=True):  # a short-lived command: the collector would only walk the workbook's objects
        book = open_workbook(workbook)  # clear messages for files that are not workbooks; read once, used below
        if output is not None:
            from addin.workbook.atomic import refuse_input_as_output, resolve_output

            if output.resolve() == workbook.resolve():
                raise CdmError(f"{output}: the values-only copy must not replace the workbook itself")
            refuse_input_as_output(output, workbook)
            resolve_output(output)  # a folder or a device is refused before the work, not after
        rows = _summary_rows(book)
        result = recalculate(workbook, book=book)
        if output is not None:
            write_values(workbook, result, output)
    figures = {name: result.get("Summary", f"D{row}") for name, row in rows.items()}
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


def _summary_rows(wb: Any) -> dict[str, int]:
    """The rows of the Summary sheet's figures, by name (column C)."""
    if "Summary" not in wb.sheetnames:
        return {}
    rows = {}
    for i, row in enumerate(wb["Summary"].iter_rows(min_col=3, max_col=3, values_only=True), start=1):
        if isinstance(row[0], str) and row[0] and i >= 5 and not row[0].startswith("sizing_") and row[0] != "Name":
            rows[row[0]] = i
    return rows
