"""Refresh: what the ribbon's **Refresh model** button does, live in Excel or headless.

It reads the deal through defined names, evaluates every scenario, and
rewrites only the refresh-only outputs: the engine's messages on the Checks
sheet (``cdm_messages``), the scenario comparison (``cdm_scenario_results``),
the simulation summary on the Risk sheet (``cdm_risk_results``) and the run
stamp on the Cover (``cdm_run_stamp``). It never writes an input
cell; refreshing twice gives the same workbook as refreshing once, apart
from the time in the stamp.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from addin.version import package_version
from addin.workbook.book import Book
from addin.workbook.cells import is_empty_cell, pairs_to_raw
from addin.workbook.dealbook import read_cells
from engine import InputError, build_schedule, build_terms, summarize
from engine.errors import CdmError, Issue
from engine.fields import FIELDS, TABLES
from engine.summary import METRIC_BY_NAME

COMPARE_FIGURES = (
    "months_billed", "headline_tcv_usd", "net_tcv_usd", "firm_commitment_usd", "firm_share_pct", "npv_usd", "gpus",
    "kw_per_gpu", "required_facility_mw", "usd_per_gpu_hour", "usd_per_used_gpu_hour", "usd_per_kw_month",
    "premium_to_market_pct", "breakeven_utilization_pct",
)  # fmt: skip


@dataclass
class RefreshResult:
    """What a refresh found: per-scenario errors and warnings, and the stamp it wrote."""

    scenario: str
    messages: list[tuple[str, str, str]]  # (severity, where, message)
    stamp: str
    errors: int
    warnings: int


def _inputs_digest(raw_by_scenario: dict[str, dict[str, object]]) -> str:
    text = json.dumps(raw_by_scenario, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def refresh(book: Book, now: dt.datetime | None = None) -> RefreshResult:
    """Recompute and rewrite the refresh-only outputs of ``book``; return what was found.

    Raises CdmError, before writing anything, when an output's sheet is
    protected or a defined name the model needs is missing.
    """
    if book.has_name("cdm_contracts"):
        return refresh_portfolio(book, now)
    check_outputs(book, DEAL_OUTPUTS)
    protected = getattr(book, "protected_sheet", None)
    if protected is not None:
        for name in ("cdm_messages", "cdm_scenario_results", "cdm_run_stamp"):
            sheet = protected(name)
            if sheet:
                raise CdmError(f"the {sheet} sheet is protected: unprotect it (Review > Unprotect Sheet) so Refresh can write "
                               f"its outputs ({name}); nothing was written")  # fmt: skip
    names = [str(v).strip() for v in book.read("cdm_scenario_names")[0] if not is_empty_cell(v)]
    active_raw = book.read("scenario")[0][0]
    active = str(active_raw).strip() if not is_empty_cell(active_raw) else names[0]
    messages: list[tuple[str, str, str]] = []
    columns: list[list[Any]] = []
    raws: dict[str, dict[str, object]] = {}
    n_errors = n_warnings = 0
    for scenario in names:
        label = f"[{scenario}] " if scenario != active else ""
        column: list[Any] = [scenario]
        values, where, _ = read_cells(book, scenario)
        try:
            raw = pairs_to_raw(values.items())
            raws[scenario] = raw
            summary = summarize(build_schedule(build_terms(raw)))
        except InputError as exc:
            for issue in exc.issues:
                messages.append(("error", _where(issue, where), label + issue.message))
            n_errors += len(exc.issues) if scenario == active else 0
            columns.append(column + [f"CDM error: {exc.issues[0].message}"] + [""] * (len(COMPARE_FIGURES) - 1))
            continue
        for w in summary.warnings:
            messages.append(("warning", _where(Issue(w.field, w.rule, w.message), where), label + w.message))
            n_warnings += 1 if scenario == active else 0
        if scenario == active and book.has_name("cdm_risk"):  # the Risk block, by the rules cdm check applies
            from addin.workbook.dealbook import read_risk
            from engine.risk import build_risk

            risk, risk_where = read_risk(book)
            try:
                build_risk(risk, summary.schedule.terms)
            except InputError as exc:
                for issue in exc.issues:
                    messages.append(("error", _where(issue, risk_where), issue.message))
                n_errors += len(exc.issues)
        rec = summary.record(0)
        column += [rec[name] for name in COMPARE_FIGURES]
        columns.append(column)
    if not messages:
        messages.append(("ok", "", "No input errors or warnings in any scenario."))
    now = now or dt.datetime.now(dt.UTC)
    digest = _inputs_digest(raws)
    stamp = (f"Refreshed {now:%Y-%m-%d %H:%M} UTC by Compute Deal Model {package_version()}; scenario in use: {active}; "
             f"{n_errors} errors, {n_warnings} warnings; inputs SHA-256 {digest[:16]}")  # fmt: skip
    rows_needed = len(book.read("cdm_messages"))
    shown = messages[:rows_needed]
    if len(messages) > rows_needed:
        shown[-1] = ("note", "", f"{len(messages) - rows_needed + 1} more messages: run cdm check for the full list")
    book.write("cdm_messages", [[sev, place, "", text] for sev, place, text in shown])
    table = [["Scenario", *[c[0] for c in columns]]]
    for i, name in enumerate(COMPARE_FIGURES, start=1):
        table.append([METRIC_BY_NAME[name].label, *[c[i] for c in columns]])
    book.write("cdm_scenario_results", [[row[0], name, *row[1:]] for row, name in zip(table, ("scenario", *COMPARE_FIGURES))])
    book.write("cdm_run_stamp", [[stamp]])
    if book.has_name("cdm_risk_results") and active in raws:
        for name, rows in _risk_blocks(book, raws[active]).items():
            if book.has_name(name):  # workbooks made before a block existed simply lack it
                book.write(name, _fit(book, name, rows))
    return RefreshResult(active, messages, stamp, n_errors, n_warnings)


def _fit(book: Any, name: str, rows: list[list[Any]]) -> list[list[Any]]:
    """``rows`` cut to the block a workbook holds, the last row saying what was cut (a workbook made before the
    simulation had more outputs keeps its smaller results block)."""
    from openpyxl.utils.cell import range_boundaries

    _, rng = book.address(name)
    _, min_row, _, max_row = range_boundaries(rng)
    room = max_row - min_row + 1
    if len(rows) <= room or name != "cdm_risk_results":
        return rows
    return [*rows[: room - 1], [f"{len(rows) - room + 1} more rows: cdm simulate (or make a new workbook) shows them",
                                "", "", "", ""]]  # fmt: skip


RISK_BLOCKS = ("cdm_risk_histogram", "cdm_risk_fan", "cdm_risk_tornado", "cdm_risk_correlation")
DEAL_OUTPUTS = ("cdm_messages", "cdm_scenario_results", "cdm_run_stamp", "cdm_risk_results", *RISK_BLOCKS)
PORTFOLIO_OUTPUTS = ("cdm_messages", "cdm_portfolio_results", "cdm_run_stamp", "cdm_risk_results", *RISK_BLOCKS)
INPUT_NAMES = (
    *(f.name for f in FIELDS),
    *(t.name for t in TABLES),
    "scenario",
    "cdm_scenario_names",
    "cdm_scenario_alternatives",
    "cdm_risk",
    "cdm_input_sources",
    "cdm_deal",
    "cdm_portfolio",
    "cdm_contracts",
)
"""Defined names over what a user types (and the deal block built from it): no output may point into them."""


def check_outputs(book: Book, outputs: tuple[str, ...]) -> None:
    """CdmError, before anything is written, when an output name points at an input cell: a cell a defined
    input name covers, or a cell styled as an input (blue on yellow). Refresh never overwrites what a user typed."""
    inputs: dict[tuple[str, int, int], str] = {}
    for name in INPUT_NAMES:
        if book.has_name(name):
            sheet, rng = book.address(name)
            for r, c in _cells(rng):
                inputs.setdefault((sheet, r, c), name)
    styled = getattr(book, "styled_as_input", None)
    for out in outputs:
        if not book.has_name(out):
            continue
        sheet, rng = book.address(out)
        cells = _cells(rng)
        hit = next(((r, c) for r, c in cells if (sheet, r, c) in inputs), None)
        what = f"the input {inputs[(sheet, *hit)]}" if hit is not None else ""
        if hit is None and styled is not None:
            hit = styled(sheet, cells)
            what = "a cell styled as an input (blue on yellow)"
        if hit is not None:
            from openpyxl.utils import get_column_letter

            cell = f"{sheet}!{get_column_letter(hit[1])}{hit[0]}"
            raise CdmError(f"the output name {out} points at {cell}, {what}: refresh would overwrite what you typed, so "
                           f"nothing was written; point {out} back at its own range (Formulas > Name Manager)")  # fmt: skip


def _cells(rng: str) -> list[tuple[int, int]]:
    from openpyxl.utils.cell import range_boundaries

    min_col, min_row, max_col, max_row = range_boundaries(rng)
    return [(r, c) for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)]


def _risk_blocks(book: Book, raw: dict[str, object]) -> dict[str, list[list[Any]]]:
    """The Risk sheet's refreshed tables (10,000 paths, the report's seed): the summary, the NPV histogram, the
    monthly-cost fan, the tornado and the rank correlations; on a bad Risk block, its error and empty tables."""
    from addin.workbook.dealbook import read_risk
    from engine.risk import OUTPUTS, build_risk, simulate, tornado

    try:
        terms = build_terms(raw)
        model = build_risk(read_risk(book)[0], terms)
        sim = simulate(terms, 10_000, 20260506, model)
    except InputError as exc:
        return {"cdm_risk_results": [["CDM error: " + exc.issues[0].message, "", "", "", ""]]} | {key: [] for key in RISK_BLOCKS}
    stats = sim.stats()
    table: list[list[Any]] = [["Output", "P5", "P50", "P95", "Mean"]]
    table += [[name, stats[name]["p5"], stats[name]["p50"], stats[name]["p95"], stats[name]["mean"]] for name in OUTPUTS]
    table.append(["10,000 paths, seed 20260506", "", "", "", ""])
    hist = sim.histogram("npv_usd")
    fan = sim.fan()
    first = dt.date.fromisoformat(f"{terms.start_month[0]}-01")
    months = [
        dt.date(first.year + (first.month - 1 + k) // 12, (first.month - 1 + k) % 12 + 1, 1) for k in range(len(fan["p50"]))
    ]
    corr = sim.rank_correlation()
    return {
        "cdm_risk_results": table,
        "cdm_risk_histogram": [["NPV from", "to", "Paths"]]
        + [[hist["edges"][k], hist["edges"][k + 1], c] for k, c in enumerate(hist["counts"])],
        "cdm_risk_fan": [["Month", "Monthly cost P5", "P50", "P95"]]
        + [[m, fan["p5"][k], fan["p50"][k], fan["p95"][k]] for k, m in enumerate(months)],
        "cdm_risk_tornado": [["Driver", "Low input", "High input", "NPV at low", "NPV at high", "NPV swing"]]
        + [[r["driver"], r["low_input"], r["high_input"], r["npv_usd_at_low"], r["npv_usd_at_high"], r["npv_usd_swing"]]
           for r in tornado(terms, model)],
        "cdm_risk_correlation": [["Driver", "With NPV", "With $/used GPU-hour"]]
        + [[r["driver"], *(_correlation(r[o]) for o in ("npv_usd", "usd_per_used_gpu_hour"))]
           for r in corr],
    }  # fmt: skip


def _portfolio_risk_blocks(book: Book, valid: bool) -> dict[str, list[list[Any]]]:
    """The portfolio's Risk sheet tables (10,000 paths, the report's seed): the summary, the $/used GPU-hour
    histogram, the demand fan against contracted supply and the rank correlations; or why there are none."""
    from addin.workbook.dealbook import read_risk
    from addin.workbook.portfolio_book import portfolio_from_blocks
    from engine.portfolio import PortfolioResult
    from engine.risk import build_portfolio_risk, summarise_portfolio

    def failed(message: str) -> dict[str, list[list[Any]]]:
        return {"cdm_risk_results": [["CDM error: " + message, "", "", "", ""]]} | {key: [] for key in RISK_BLOCKS}

    if not valid:
        return failed("the portfolio has errors (see Checks); no simulation was run")
    try:
        p = portfolio_from_blocks(book.read("cdm_portfolio"), book.read("cdm_contracts"))
        sim = summarise_portfolio(PortfolioResult(p), 10_000, 20260506, build_portfolio_risk(read_risk(book)[0]))
    except InputError as exc:
        return failed(exc.issues[0].message)
    table: list[list[Any]] = [["Output", "P5", "P50", "P95", "Mean"]]
    for name, st in sim.summary.stats.items():
        q: list[Any] = [st["p5"], st["p50"], st["p95"]]
        if name == "first_shortfall_month":  # months from the start -> the month itself, or none within the horizon
            table.append(["first_shortfall_month (mean in months from start)", *map(p.month_label, q), st["mean"]])
        else:
            table.append([name, *q, st["mean"]])
    table.append(["10,000 paths, seed 20260506", "", "", "", ""])
    hist = sim.summary.histograms["usd_per_used_gpu_hour"]
    first = dt.date.fromisoformat(f"{p.start_month}-01")
    months = [dt.date(first.year + (first.month - 1 + k) // 12, (first.month - 1 + k) % 12 + 1, 1) for k in range(p.n_months)]
    fan = sim.demand_fan
    return {
        "cdm_risk_results": table,
        "cdm_risk_histogram": [["$/used GPU-hour from", "to", "Paths"]]
        + [[hist["edges"][k], hist["edges"][k + 1], c] for k, c in enumerate(hist["counts"])],
        "cdm_risk_fan": [["Month", "Demand P5", "P50", "P95", "Contracted supply"]]
        + [[m, fan["p5"][k], fan["p50"][k], fan["p95"][k], sim.supply[k]] for k, m in enumerate(months)],
        "cdm_risk_correlation": [["Driver", "With first shortfall month", "With $/used GPU-hour"]]
        + [[r["driver"], *(_correlation(r[o]) for o in ("first_shortfall_month", "usd_per_used_gpu_hour"))]
           for r in sim.rank_correlation()],
    }  # fmt: skip


def _correlation(value: object) -> object:
    return value if isinstance(value, float) else "n/a"


def _where(issue: Issue, where: dict[str, str]) -> str:
    key = issue.field
    base = key.split("[", 1)[0].split(".", 1)[0]
    return where.get(key) or where.get(base) or ""


def refresh_file(path: Path, now: dt.datetime | None = None) -> RefreshResult:
    """Refresh a workbook file in place, atomically (a complete new file or the old one)."""
    from addin.workbook.atomic import atomic_write, resolve_output
    from addin.workbook.book import NameError_, OpenpyxlBook
    from addin.workbook.dealbook import open_workbook
    from addin.workbook.dealfile import DealFileError
    from addin.workbook.safety import lost_parts

    target = resolve_output(path)  # a symlink is refreshed in its target; a device or folder is refused
    refuse_if_open(target)
    wb = open_workbook(target, keep=True)
    try:
        result = refresh(OpenpyxlBook(wb), now)
    except InputError:
        raise
    except (NameError_, CdmError) as exc:
        raise DealFileError(path, str(exc)) from None
    with atomic_write(target, guard=lambda: refuse_if_open(target)) as tmp:
        wb.save(tmp)
        lost = lost_parts(target, tmp)
        if lost:  # never exit 0 with less than the user had
            raise DealFileError(path, f"refresh would drop {', '.join(lost)}, which it cannot carry over: nothing was written; "
                                      "refresh it in Excel with the ribbon's Refresh model button instead")  # fmt: skip
        from addin.excel.cached import cache_values

        with contextlib.suppress(CdmError):  # a formula the headless engine cannot read: Excel computes it on load
            cache_values(tmp, target.suffix)
    return result


def refuse_if_open(path: Path) -> None:
    """CdmError while Excel has the workbook open (its ``~$`` lock file exists): a save would fight Excel's."""
    lock = path.with_name("~$" + path.name)
    if lock.exists():
        raise CdmError(f"{path} is open in Excel ({lock.name} exists): close it first, or press Refresh model in Excel; "
                       "nothing was written")  # fmt: skip


def refresh_portfolio(book: Book, now: dt.datetime | None = None) -> RefreshResult:
    """Refresh a portfolio workbook: vendors, outages and structure on the Vendors sheet, messages, stamp."""
    from addin.workbook.portfolio_book import portfolio_from_blocks
    from addin.workbook.portfolio_file import portfolio_record
    from engine.portfolio import PortfolioResult

    check_outputs(book, PORTFOLIO_OUTPUTS)
    messages: list[tuple[str, str, str]] = []
    table: list[list[Any]] = []
    try:
        rec = portfolio_record(PortfolioResult(portfolio_from_blocks(book.read("cdm_portfolio"), book.read("cdm_contracts"))))
    except InputError as exc:
        messages = [("error", i.field, i.message) for i in exc.issues]
        rec = None
    if rec is not None:
        table.append(["Vendor", "Capacity share (avg %)", "Spend share (avg %)", "Capacity lost if down (worst %)", "", "", ""])
        for v in rec["vendors"]:
            table.append([v, rec["capacity_share_avg_pct"][v], rec["spend_share_avg_pct"][v],
                          rec["capacity_lost_if_vendor_down_max_pct"][v], "", "", ""])  # fmt: skip
        table.append([""] * 7)
        table.append(
            ["Outage", "Days", "Lost GPU-hours", "SLA credits (USD)", "Replacement at spot (USD)", "Net cost (USD)", "Contracts"]
        )
        for o in rec["outages"]:
            table.append([f"{o['site'] or o['vendor']} from {o['start']}", o["days"], o["lost_gpu_hours"], o["sla_credits_usd"],
                          o["replacement_cost_usd"], o["net_cost_usd"], ", ".join(o["contracts"])])  # fmt: skip
        table.append([""] * 7)
        table.append(["Contract", "Cash (USD)", "Equity (USD)", "Revenue share (USD)", "Warrants (USD)", "Ownership (%)",
                      "Stake at later valuations (USD)"])  # fmt: skip
        for s in rec["structure"]:
            table.append([s["deal_name"], s["cash_usd"], s["equity_usd"], s["revenue_share_usd"], s["warrant_value_usd"],
                          s["ownership_pct"], ", ".join(f"{x:,.0f}" for x in s["stake_at_later_valuations_usd"])])  # fmt: skip
        if not messages:
            messages.append(("ok", "", "Every contract and input is valid."))
    if book.has_name("cdm_risk_results"):
        for name, rows in _portfolio_risk_blocks(book, rec is not None).items():
            if book.has_name(name):  # workbooks made before a table existed simply lack it
                book.write(name, rows)
    rows = len(book.read("cdm_portfolio_results"))
    book.write("cdm_portfolio_results", table[:rows])
    book.write("cdm_messages", [[sev, where, "", text] for sev, where, text in messages[: len(book.read("cdm_messages"))]])
    now = now or dt.datetime.now(dt.UTC)
    errors = sum(1 for m in messages if m[0] == "error")
    stamp = f"Refreshed {now:%Y-%m-%d %H:%M} UTC by Compute Deal Model {package_version()}; {errors} errors"
    book.write("cdm_run_stamp", [[stamp]])
    return RefreshResult("portfolio", messages, stamp, errors, 0)
