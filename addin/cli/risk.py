"""``cdm simulate`` and ``table``: the Monte Carlo of a deal or portfolio, and two-way data tables."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer

from addin.cli.app import DealArg, JsonOpt, ScenarioOpt, _dump, _number, _say, _show, app, err, guarded
from addin.workbook.fmt import human
from addin.workbook.load import load_deal
from engine.errors import CdmError, InputError
from engine.fields import FIELD_BY_NAME

if TYPE_CHECKING:
    from rich.table import Table

    from engine.risk import ChunkRunner

CHUNK_HELP = "Paths per chunk (default 4,096, the engine's DEFAULT_CHUNK_PATHS): bounds memory, never changes results."
WORKERS_HELP = "Processes to run the chunks on, on this machine (default 1; 2 uses two cores); never changes results."


@app.command()
@guarded
def simulate(  # noqa: PLR0917 (typer options are parameters)
    deal: DealArg,
    paths: Annotated[int, typer.Option("--paths", help="Number of Monte Carlo paths.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random numbers (echoed in every output).")] = 20260506,
    chunk_paths: Annotated[int | None, typer.Option("--chunk-paths", help=CHUNK_HELP)] = None,
    scenario: ScenarioOpt = None,
    as_json: JsonOpt = False,
    dask: Annotated[str | None, typer.Option("--dask", help="Run the chunks on a Dask cluster (scheduler address).")] = None,
    workers: Annotated[int, typer.Option("--workers", help=WORKERS_HELP)] = 1,
) -> None:
    """Monte Carlo risk of a deal: P5/P50/P95 and mean of $/used GPU-hour, NPV, premium, SLA credits; tornado."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from addin.report.portfolio import is_portfolio_file
    from engine.risk import DEFAULT_CHUNK_PATHS, SPOT_TO_RESERVED, build_risk, memory_bound_bytes, tornado
    from engine.risk import simulate as run_simulation
    from engine.risk.parallel import check_workers, tune_allocator

    chunk_paths = DEFAULT_CHUNK_PATHS if chunk_paths is None else chunk_paths
    check_workers(workers)
    if dask is not None and workers != 1:
        raise CdmError("--workers runs the chunks on this machine and --dask on a cluster: give one of them")
    tune_allocator()

    if is_portfolio_file(deal):
        _simulate_portfolio(deal, paths, seed, as_json, dask=dask, workers=workers)
        return
    src = load_deal(deal, scenario)
    terms = src.terms()
    try:
        model = build_risk(src.risk, terms)
    except InputError as exc:
        exc.source = src  # type: ignore[attr-defined]
        raise
    with _chunk_runner(dask, workers) as runner:  # the worker processes start before the progress bar's thread
        if as_json or not err.is_terminal:
            sim = run_simulation(terms, paths, seed, model, chunk_paths=chunk_paths, map_chunks=runner)
        else:
            with Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} paths"),
                          TimeRemainingColumn(), console=err, transient=True) as bar:  # fmt: skip
                task = bar.add_task("paths", total=paths)
                sim = run_simulation(terms, paths, seed, model, chunk_paths, map_chunks=runner,
                                     progress=lambda done, _: bar.update(task, completed=done))  # fmt: skip
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
    from rich.table import Table

    tt = Table(title="Tornado: each driver alone at its P5 and P95 (swings; the discount rate, a valuation choice, apart)")
    for col in ("driver", "low", "high", "NPV", "all-in NPV", "$/used GPU-h", "premium", "NPV over market"):
        tt.add_column(col, justify="right" if col != "driver" else "left")
    for r in rec["tornado"]:
        if r["group"] == "valuation":
            tt.add_section()
        name = f"{r['driver']} (valuation)" if r["group"] == "valuation" else str(r["driver"])
        tt.add_row(name, f"{r['low_input']:,.2f}", f"{r['high_input']:,.2f}", human(r["npv_usd_swing"], "USD"),
                   human(r["all_in_cost_npv_usd_swing"], "USD"), human(r["usd_per_used_gpu_hour_swing"], "USD/GPU-hour"),
                   f"{r['premium_to_market_pct_swing']:,.1f} pts", human(r["npv_over_market_usd_swing"], "USD"))  # fmt: skip
    _show(tt)
    _correlation_table(rec["rank_correlation"], {"npv_usd": "with NPV", "usd_per_used_gpu_hour": "with $/used GPU-hour"}, paths)


@contextlib.contextmanager
def _chunk_runner(dask: str | None, workers: int) -> Iterator[ChunkRunner]:
    """Where the chunks run: a Dask cluster, or ``workers`` processes here (one: this process, no pool)."""
    if dask is not None:
        from engine.risk import dask_chunk_runner

        with _dask_client(dask) as client:
            yield dask_chunk_runner(client)
    else:
        from engine.risk.parallel import local_chunk_runner

        with local_chunk_runner(workers) as runner:
            yield runner


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


def _simulate_portfolio(path: Path, paths: int, seed: int, as_json: bool, *, dask: str | None = None, workers: int = 1) -> None:
    from addin.report.portfolio import load_any_portfolio, load_portfolio_risk
    from engine.portfolio import PortfolioResult
    from engine.risk import DEFAULT_CHUNK_PATHS, build_portfolio_risk, check_run, summarise_portfolio

    check_run(paths, seed, DEFAULT_CHUNK_PATHS, 1, max_paths=10_000_000)  # before the portfolio is read

    p = load_any_portfolio(path)
    risk_raw, source = load_portfolio_risk(path)
    try:  # a bad driver, or a vendor the portfolio does not have, is located in the file
        risk = build_portfolio_risk(risk_raw)
        with _chunk_runner(dask, workers) as runner:
            sim = summarise_portfolio(PortfolioResult(p), paths, seed, risk, map_chunks=runner)
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
    from rich.table import Table

    t = Table(title=title)
    for col in ("output", "P5", "P50", "P95", "mean"):
        t.add_column(col, justify="right" if col != "output" else "left")
    return t


def _correlation_table(rows: list[dict[str, Any]], outputs: dict[str, str], paths: int) -> None:
    """The drivers' rank correlations with ``outputs`` (name: column heading), n/a where one does not vary."""
    from rich.table import Table

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
    from rich.table import Table

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
