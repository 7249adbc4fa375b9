"""Monte Carlo risk: closed forms with tolerances derived from n, determinism, and the deterministic limit."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from addin.cli import app
from addin.workbook.load import load_deal
from engine import InputError, build_terms, evaluate
from engine.risk import (
    BLOCK_PATHS,
    SPOT_TO_RESERVED,
    Dist,
    RiskModel,
    build_risk,
    data_table,
    default_risk,
    draw_block,
    draw_blocks,
    fixed_risk,
    simulate,
)  # fmt: skip

ROOT = Path(__file__).resolve().parents[2]
DEAL = ROOT / "workbooks" / "deals" / "anthropic_xai_colossus1.toml"
runner = CliRunner()


@pytest.fixture(scope="module")
def terms():  # type: ignore[no-untyped-def]
    return load_deal(DEAL).terms()


def test_reserved_price_average_matches_the_lognormal_walk(terms) -> None:  # type: ignore[no-untyped-def]
    # E[price(j)] = start x exp(drift x j / 12) for a geometric walk, so the expected average over the term is
    # start x mean_j exp(drift x j / 12); tolerance 5 standard errors of the sample mean
    model = replace(fixed_risk(terms), reserved_drift_pct=10.0, reserved_vol_pct=40.0)
    months = 24
    d = draw_blocks(model, terms, 2, range(100), months)
    start = float(np.asarray(terms.market_usd_per_gpu_hour)[0])
    expected = start * np.exp(0.10 * np.arange(months) / 12).mean()
    sample = d.reserved_mean
    assert abs(sample.mean() - expected) < 5 * sample.std() / np.sqrt(sample.size)
    # no volatility: the average is exactly the drift curve's
    flat = draw_blocks(replace(model, reserved_vol_pct=0.0), terms, 2, range(1), months).reserved_mean
    np.testing.assert_allclose(flat, expected, rtol=1e-14)


def test_probability_of_an_outage_matches_poisson(terms) -> None:  # type: ignore[no-untyped-def]
    # P(at least one outage in T months) = 1 - exp(-lambda x T / 12); tolerance 5 binomial standard errors
    model = replace(default_risk(terms), outages_per_year=1.5)
    months, blocks = 12, 40
    draws = draw_blocks(model, terms, 3, range(blocks), months)
    hit = np.zeros(draws.n_paths, bool)
    hit[draws.outage_path[draws.outage_days > 0]] = True
    p = 1 - np.exp(-1.5 * months / 12)
    n = blocks * BLOCK_PATHS
    assert abs(hit.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)


def test_spot_price_at_outage_months_is_the_correlated_lognormal_walk(terms) -> None:  # type: ignore[no-untyped-def]
    # the spot walk is drawn only at outage months; at month j it must still be start x exp(drift x j / 12) on
    # average and lognormal with variance s^2 j / 12 of the log, whatever the gaps between a path's outages
    # 3 outages a year: most paths' outage months are months apart, so the increments span gaps of many months
    model = replace(default_risk(terms), outages_per_year=3.0, spot_drift_pct=12.0, spot_vol_pct=50.0, price_correlation=-0.6)
    months, blocks = 24, 100
    d = draw_blocks(model, terms, 5, range(blocks), months)
    start = float(np.asarray(terms.market_usd_per_gpu_hour)[0]) * SPOT_TO_RESERVED
    at = d.outage_month == 18
    spot = d.outage_spot[at]
    n = spot.size
    assert n > 4000  # 1 - exp(-3 / 12) = 22% of the 25,600 paths have an outage in a given month
    expected = start * np.exp(0.12 * 18 / 12)
    assert abs(spot.mean() - expected) < 5 * spot.std() / np.sqrt(n)
    # each path-month appears once, sorted by path then month
    key = d.outage_path * months + d.outage_month
    assert (np.diff(key) > 0).all()
    # log S_t = log start + (mu - s^2 / 2) t + s sqrt(t) (rho Zr + sqrt(1 - rho^2) Zs) with Zr, Zs independent
    # standard normals: the standardised log spot has mean 0 and variance 1 (tolerances 5 standard errors)
    sigma, t = 0.5, 18 / 12
    x = (np.log(spot / start) - (0.12 - sigma**2 / 2) * t) / (sigma * np.sqrt(t))
    assert abs(x.mean()) < 5 / np.sqrt(n) and abs(x.var() - 1.0) < 5 * np.sqrt(2.0 / n)


def test_spot_start_can_be_given(terms) -> None:  # type: ignore[no-untyped-def]
    # an outage in the first month is bought at the start price exactly (no step yet); later ones around it
    model = replace(fixed_risk(terms), spot_start_usd_per_gpu_hour=1.5, spot_vol_pct=30.0, outages_per_year=24.0)
    d = draw_blocks(model, terms, 3, range(4), 12)
    assert (d.outage_spot[d.outage_month == 0] == 1.5).all() and (d.outage_month == 0).any()
    default = draw_blocks(replace(model, spot_start_usd_per_gpu_hour=None), terms, 3, range(4), 12)
    np.testing.assert_allclose(
        d.outage_spot, default.outage_spot * 1.5 / (float(terms.market_usd_per_gpu_hour[0]) * SPOT_TO_RESERVED)
    )
    assert build_risk({"spot_start_usd_per_gpu_hour": 2.1}, terms).spot_start_usd_per_gpu_hour == 2.1


def test_spot_and_reserved_walks_are_correlated(terms) -> None:  # type: ignore[no-untyped-def]
    # with no other uncertainty, the premium to market moves against the reserved walk's average and the
    # replacement cost with the spot walk: corr(term-average reserved, spot at outages) takes rho's sign
    for rho in (-0.9, 0.9):
        model = replace(fixed_risk(terms), reserved_vol_pct=60.0, spot_vol_pct=60.0, price_correlation=rho, outages_per_year=12.0)
        d = draw_blocks(model, terms, 8, range(20), 24)
        last = d.outage_month == 23
        r = np.corrcoef(np.log(d.reserved_mean[d.outage_path[last]]), np.log(d.outage_spot[last]))[0, 1]
        assert np.sign(r) == np.sign(rho) and abs(r) > 0.5


def test_paths_equal_a_plain_python_month_loop() -> None:
    # every output of every path against bench/pyloop.py's month-by-month model on the same draws: a deal with a
    # ramp, an escalator, late delivery with grace, take-or-pay below 100%, prepayment, a termination right and
    # AWS tiers, with 6 outages a year so that credits and spot replacement happen
    from bench.pyloop import LoopDeal, loop_risk_path
    from engine.risk import simulate_block

    raw = {"deal_name": "loop", "start_month": "2027-03", "end_month": "2030-02", "monthly_fee_usd": 4e8, "facility_mw": 100,
           "gpu_count": 60_000, "ramp_months": 3, "ramp_fee_fraction": 0.5, "ramp_capacity_fraction": 0.6,
           "escalator_pct_per_year": 3, "take_or_pay_min_pct": 80, "prepayment_pct": 10, "notice_days": 90,
           "lockin_months": 12, "delivery_due_month": "2027-05", "delivery_grace_months": 1, "late_capacity_pct": 40,
           "sla_policy": "aws-ec2-region"}  # fmt: skip
    t = build_terms(raw)
    model = replace(default_risk(t), outages_per_year=6.0)
    m = int(t.months_billed[0])
    d = draw_blocks(model, t, 11, range(1), m).take(0, 60)
    engine = simulate_block(t, d).values
    tiers = tuple((x.below_uptime_pct, x.credit_pct) for x in t.sla_tiers)
    assert any(credit > 0 for _, credit in tiers) and (engine["sla_credits_usd"] > 0).any()
    for i in range(d.n_paths):
        at = d.outage_path == i
        outages = {
            int(k): (float(o), float(sp))
            for k, o, sp in zip(d.outage_month[at], d.outage_days[at], d.outage_spot[at], strict=True)
        }
        deal = LoopDeal(start_year=2027, start_month=3, months=m, monthly_fee_usd=4e8, gpus=60_000.0, ramp_months=3,
                        ramp_fee_fraction=0.5, ramp_capacity_fraction=0.6, escalator_pct_per_year=3.0,
                        utilization_pct=float(d.utilization[i]), take_or_pay_min_pct=80.0, sla_tiers=tiers,
                        discount_rate_pct=float(d.discount[i]), lockin_months=12, notice_days=90, prepayment_pct=10.0,
                        delivery_due=(2027, 5), delivery_grace_months=1, delivery_delay_months=int(d.delay[i]),
                        late_capacity_pct=40.0)  # fmt: skip
        loop = loop_risk_path(deal, float(d.reserved_mean[i]), outages)
        for name, value in loop.items():
            assert engine[name][i] == pytest.approx(value, rel=1e-9, abs=1e-6), (i, name)


def test_outage_lengths_below_zero_are_held_at_zero(terms) -> None:  # type: ignore[no-untyped-def]
    # a normal outage length around 0 draws negative days half the time: they must not give hours back
    model = replace(default_risk(terms), outages_per_year=12.0, outage_days=Dist("normal", 0.0, 5.0))
    sim = simulate(terms, 4096, seed=5, model=model)
    assert (sim.values["replacement_cost_usd"] >= 0).all() and (sim.values["replacement_cost_usd"] > 0).any()
    assert (sim.values["sla_credits_usd"] >= 0).all()
    base = evaluate(terms.raw)
    assert (sim.values["net_tcv_usd"] <= float(base["net_tcv_usd"][0]) * (1 + 1e-12)).all()


def test_rank_correlations_match_pandas_spearman(terms) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    from engine.risk import _average_ranks, rank_correlations

    assert _average_ranks(np.array([10.0, 20.0, 20.0, 30.0, 20.0])).tolist() == [1.0, 3.0, 3.0, 5.0, 3.0]  # ties: (2+3+4)/3
    sim = simulate(terms, 3000, seed=4)
    assert {r["driver"] for r in sim.rank_correlation()} == {
        "utilization_pct", "delivery_delay_months", "discount_rate_pct", "market_reserved_avg_usd_per_gpu_hour",
        "outage_days_in_term",
    }  # fmt: skip
    # the same numbers from pandas (average ranks, Pearson on them) on the drivers and outputs of the same paths
    rng = np.random.default_rng(0)
    drivers = {"a": rng.integers(0, 4, 500).astype(float), "b": rng.normal(size=500)}
    outputs = {"y": drivers["a"] * 2 + rng.normal(size=500), "z": -drivers["b"] + 0.1 * rng.normal(size=500)}
    frame = pd.DataFrame({**drivers, **outputs})
    for row in rank_correlations(drivers, outputs):
        for out in ("y", "z"):
            assert row[out] == pytest.approx(frame[row["driver"]].corr(frame[out], method="spearman"), abs=1e-12)
    # only utilisation varies and fees are take-or-pay: $/used GPU-hour falls strictly as utilisation rises
    model = replace(fixed_risk(terms), utilization=Dist("uniform", 60, 100))
    rows = {r["driver"]: r for r in simulate(terms, 2000, seed=4, model=model).rank_correlation()}
    assert rows["utilization_pct"]["usd_per_used_gpu_hour"] == pytest.approx(-1.0, abs=1e-12)
    assert rows["utilization_pct"]["npv_usd"] is None and rows["discount_rate_pct"]["usd_per_used_gpu_hour"] is None


def test_percentiles_of_a_known_distribution(terms) -> None:  # type: ignore[no-untyped-def]
    # utilisation uniform on [60, 100] (no other uncertainty): take-or-pay fixes net fees, so $/used GPU-hour =
    # (net / delivered) / (u / 100) and its P5 sits at u = P95 = 98, its P95 at u = P5 = 62
    model = replace(fixed_risk(terms), utilization=Dist("uniform", 60, 100))
    sim = simulate(terms, 40_000, seed=11, model=model)
    per_delivered = float(evaluate(terms.raw)["usd_per_gpu_hour"][0])
    stats = sim.stats()["usd_per_used_gpu_hour"]
    n = 40_000
    # standard error of a sample quantile: sqrt(p (1 - p) / n) / density; density of U[60, 100] = 1/40 per point
    se = np.sqrt(0.05 * 0.95 / n) * 40  # = 0.044 utilisation points
    assert stats["p5"] == pytest.approx(per_delivered / 0.98, rel=5 * se / 98)
    assert stats["p95"] == pytest.approx(per_delivered / 0.62, rel=5 * se / 62)


def test_constant_inputs_reproduce_the_deterministic_schedule(terms) -> None:  # type: ignore[no-untyped-def]
    sim = simulate(terms, 300, seed=9, model=fixed_risk(terms))
    rec = evaluate(terms.raw).record(0)
    np.testing.assert_allclose(sim.values["npv_usd"], rec["npv_usd"], rtol=1e-12)
    np.testing.assert_allclose(sim.values["usd_per_used_gpu_hour"], rec["usd_per_used_gpu_hour"], rtol=1e-12)
    np.testing.assert_allclose(sim.values["net_tcv_usd"], rec["net_tcv_usd"], rtol=1e-12)
    assert (sim.values["sla_credits_usd"] == 0).all() and (sim.values["replacement_cost_usd"] == 0).all()


def test_same_seed_same_numbers_whatever_the_chunk(terms) -> None:  # type: ignore[no-untyped-def]
    a = simulate(terms, 2000, seed=5, chunk_paths=256)
    b = simulate(terms, 2000, seed=5, chunk_paths=100_000)
    c = simulate(terms, 2000, seed=6, chunk_paths=256)
    for k in a.values:
        np.testing.assert_array_equal(a.values[k], b.values[k])
    # another seed, other paths (the seed deal's fee NPV does not vary: delivered capacity, a fixed discount rate)
    assert not np.array_equal(a.values["usd_per_used_gpu_hour"], c.values["usd_per_used_gpu_hour"])


def test_outages_give_sla_credits_where_the_contract_has_tiers() -> None:
    raw = {"deal_name": "sla", "start_month": "2026-01", "end_month": "2027-12", "monthly_fee_usd": 1e8, "facility_mw": 100,
           "gpu_count": 50_000, "sla_policy": "aws-ec2-region"}  # fmt: skip
    t = build_terms(raw)
    model = replace(fixed_risk(t), outages_per_year=6.0, outage_days=Dist("uniform", 3, 4))  # every outage 3 days
    sim = simulate(t, 512, seed=2, model=model)
    # 3 days of a 30/31-day month: uptime 90% < 95% -> 100% of that month's fee credited back
    assert sim.values["sla_credits_usd"].mean() > 0
    assert (sim.values["net_tcv_usd"] <= 24 * 1e8 + 1e-3).all()


def test_json_is_the_same_bytes_for_the_same_seed() -> None:
    args = ["simulate", str(DEAL), "--paths", "1000", "--seed", "42", "--json"]
    a, b = runner.invoke(app, args), runner.invoke(app, args)
    assert a.exit_code == 0 and a.stdout == b.stdout
    rec = json.loads(a.stdout)
    assert rec["seed"] == 42 and rec["paths"] == 1000 and len(rec["monthly_cost_fan"]["p50"]) == 37
    risks = [r for r in rec["tornado"] if r["group"] == "risk"]  # largest first; the valuation row comes after them
    assert risks[0]["npv_usd_swing"] >= risks[-1]["npv_usd_swing"] and rec["tornado"][-1]["group"] == "valuation"


def test_data_table_equals_single_runs(terms) -> None:  # type: ignore[no-untyped-def]
    rows, cols = np.array([60.0, 90.0]), np.array([6.0, 12.0])
    grid = data_table(terms, "usd_per_used_gpu_hour", row_field="utilization_pct", row_values=rows, col_field="discount_rate_pct",
                      col_values=cols)  # fmt: skip
    for i, u in enumerate(rows):
        for j, r in enumerate(cols):
            single = float(evaluate(terms.raw, utilization_pct=u, discount_rate_pct=r)["usd_per_used_gpu_hour"][0])
            assert grid[i, j] == pytest.approx(single, rel=1e-12)
    res = runner.invoke(app, ["table", str(DEAL), "--output", "npv_usd", "--rows", "pue=1.1,1.3", "--cols", "nope=1", "--json"])
    assert res.exit_code == 2 and "'nope' is not a numeric input" in res.stderr


def test_bad_simulation_arguments(terms) -> None:  # type: ignore[no-untyped-def]
    res = runner.invoke(app, ["simulate", str(DEAL), "--paths", "0"])
    assert res.exit_code == 2 and "paths must be from 1 to 100,000,000, got 0" in res.stderr


def test_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    # a test worker may run with SIGINT ignored, which a child inherits: start the child as a terminal would
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "addin", "simulate", str(DEAL), "--paths", "5000000", "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    finally:
        signal.signal(signal.SIGINT, previous)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, errtext = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in errtext and "Traceback" not in errtext and out == ""
    assert not list(tmp_path.iterdir())


def test_risk_model_defaults_are_documented(terms) -> None:  # type: ignore[no-untyped-def]
    m = default_risk(terms)
    assert isinstance(m, RiskModel) and m.reserved_vol_pct == 40.0 and m.price_correlation == -0.3
    assert m.utilization is not None and m.utilization.kind == "triangular"


def test_cdm_simulate_udf_is_cached(terms) -> None:  # type: ignore[no-untyped-def]
    from addin.excel import udfs

    raw = load_deal(DEAL).raw
    block = [[k, v] for k, v in raw.items() if k not in ("sources", "fleet")]
    block += [[f"fleet[{i}].{k}", v] for i, row in enumerate(raw["fleet"], 1) for k, v in row.items()]
    udfs._SIMULATION_CACHE.clear()
    t0 = time.perf_counter()
    first = udfs.cdm_simulate(block, 2000, 7)
    cold = time.perf_counter() - t0
    assert first[0] == ["output", "P5", "P50", "P95", "mean"] and first[-1][0] == "paths 2000, seed 7"
    stats = simulate(terms, 2000, 7).stats()
    assert first[2][1:] == [stats["npv_usd"][q] for q in ("p5", "p50", "p95", "mean")]
    assert udfs.cdm_simulate(block, 2000, 7) is first and len(udfs._SIMULATION_CACHE) == 1  # recalculation does not rerun
    assert cold > 0
    assert udfs.cdm_simulate(block, 0, 7).startswith("CDM error: paths must be a whole number from 1 to 1,000,000")
    # the Risk sheet's rows as a fourth argument: the same numbers as the [risk] table they stand for
    rows = [["utilization_pct", "uniform", 60, 100, None], ["reserved_vol_pct", "fixed", 25, None, None],
            [None, None, None, None, None]]  # fmt: skip
    own = udfs.cdm_simulate(block, 2000, 7, rows)
    model = build_risk({"utilization_pct": {"dist": "uniform", "low": 60, "high": 100}, "reserved_vol_pct": 25}, terms)
    stats = simulate(terms, 2000, 7, model).stats()
    assert own[1][1:] == [stats["usd_per_used_gpu_hour"][q] for q in ("p5", "p50", "p95", "mean")] and own != first
    assert udfs.cdm_simulate(block, 2000, 7, [[None] * 5]) == first  # blank rows: the defaults
    bad = udfs.cdm_simulate(block, 2000, 7, [["utilization_pct", "triangular", 90, 80, 95]])
    assert bad == "CDM error: risk.utilization_pct: low <= mode <= high is required, got 90, 80, 95"


def test_dask_cluster_gives_the_single_machine_numbers(terms) -> None:  # type: ignore[no-untyped-def]
    from distributed import Client, LocalCluster

    from engine.risk import dask_chunk_runner

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        distributed = simulate(terms, 3000, seed=21, chunk_paths=512, map_chunks=dask_chunk_runner(client))
        address = cluster.scheduler_address
        res = runner.invoke(app, ["simulate", str(DEAL), "--paths", "600", "--seed", "3", "--json", "--dask", address])
    local = simulate(terms, 3000, seed=21, chunk_paths=4096)
    for k in local.values:
        np.testing.assert_array_equal(distributed.values[k], local.values[k])
    assert res.exit_code == 0, res.output
    alone = runner.invoke(app, ["simulate", str(DEAL), "--paths", "600", "--seed", "3", "--json"])
    assert json.loads(res.stdout)["stats"] == json.loads(alone.stdout)["stats"]


def test_dask_cluster_gives_the_single_machine_portfolio_numbers() -> None:
    from distributed import Client, LocalCluster

    toml = ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml"
    args = ["simulate", str(toml), "--paths", "9000", "--seed", "5", "--json"]
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster),
    ):
        distributed = runner.invoke(app, [*args, "--dask", cluster.scheduler_address])
    alone = runner.invoke(app, args)
    assert distributed.exit_code == 0, distributed.output
    assert distributed.stdout == alone.stdout  # the same bytes: chunks come back in order


def test_report_risk_sheet(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from addin.report.common import REPORT_PATHS, REPORT_SEED

    out = tmp_path / "r.xlsx"
    assert runner.invoke(app, ["report", str(DEAL), "-o", str(out)]).exit_code == 0
    wb = load_workbook(out)
    assert len(wb["Risk"]._charts) == 3
    sheet, ref = wb.defined_names["risk_npv_usd_p50"].attr_text.split("!")
    value = wb[sheet.strip("'")][ref.replace("$", "")].value
    sim = simulate(load_deal(DEAL).terms(), REPORT_PATHS, REPORT_SEED)
    assert value == pytest.approx(sim.stats()["npv_usd"]["p50"], rel=1e-12)
    # the rank correlations of every driver, outages too, below the tornado
    ws = wb["Risk"]
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Driver" and ws.cell(r, 2).value == "With NPV")
    shown = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(header + 1, header + 6)}
    expected = {r["driver"]: "n/a" if r["npv_usd"] is None else r["npv_usd"] for r in sim.rank_correlation()}
    # the seed's fee NPV does not vary (delivered capacity, the discount rate a fixed valuation choice): no driver
    # correlates with it, and every cell says n/a
    assert shown == {k: v for k, v in expected.items() if k in shown} and "outage_days_in_term" in shown
    assert set(shown.values()) == {"n/a"}


@pytest.mark.parametrize(
    ("risk", "expected"),
    [
        (
            'utilization_pct = { dist = "triangular", low = 90, mode = 80, high = 95 }',
            "risk.utilization_pct: low <= mode <= high is required, got 90, 80, 95",
        ),
        (
            'delivery_delay_months = { dist = "discrete", values = [0, 1], probabilities = [0.5, 0.6] }',
            "probabilities must add up to 1, got 1.1",
        ),
        (
            'discount_rate_pct = { dist = "gaussian", mean = 9 }',
            "risk.discount_rate_pct.dist must be one of fixed, normal, lognormal",
        ),
        ('discount_rate_pct = { dist = "normal", mean = 9, sd = -1 }', "risk.discount_rate_pct: sd must be >= 0, got -1"),
        ("price_correlation = 2", "risk.price_correlation must be a number from -1 to 1, got 2"),
        ("volatility = 40", "risk.volatility is not a risk driver"),
    ],
)
def test_bad_risk_block_is_located(risk: str, expected: str, tmp_path: Path) -> None:
    toml = tmp_path / "deal.toml"
    text = DEAL.read_text().split("[scenarios.")[0] + "\n[risk]\n" + risk + "\n"
    toml.write_text(text)
    res = runner.invoke(app, ["simulate", str(toml), "--paths", "100"])
    assert res.exit_code == 2
    stderr = " ".join(res.stderr.split())
    assert expected in stderr, stderr
    line = len(text.splitlines())
    assert f"deal.toml:{line}:" in stderr


def test_workbook_risk_block_equals_the_toml() -> None:
    a = runner.invoke(app, ["simulate", str(ROOT / "workbooks" / "deals" / "google_spacex.toml"), "--paths", "2000", "--json"])
    b = runner.invoke(app, ["simulate", str(ROOT / "workbooks" / "google_spacex.xlsx"), "--paths", "2000", "--json"])
    assert a.exit_code == 0 and a.stdout == b.stdout
    assert json.loads(a.stdout)["tornado"][0]["high_input"] == 4.0  # the deal's own delay distribution: P95 = 4 months


def test_scalar_drivers_round_trip_through_the_risk_sheet() -> None:
    """A TOML scalar (reserved_vol_pct = 55) is written as "fixed, 55" on the Risk sheet and read back as 55."""
    from addin.workbook.book import OpenpyxlBook
    from addin.workbook.dealbook import read_risk
    from addin.workbook.template import build_deal_workbook
    from engine.risk import build_risk

    raw = {"deal_name": "x", "start_month": "2026-01", "end_month": "2026-12", "monthly_fee_usd": 1e6, "facility_mw": 1,
           "gpu_count": 500}  # fmt: skip
    wb, _ = build_deal_workbook(raw, risk={"reserved_vol_pct": 55, "price_correlation": -0.5})
    risk, where = read_risk(OpenpyxlBook(wb))
    assert risk["reserved_vol_pct"] == {"dist": "fixed", "value": 55} and where["risk.reserved_vol_pct"] == "Risk!D5"
    model = build_risk(risk, build_terms(raw))
    assert model.reserved_vol_pct == 55 and model.price_correlation == -0.5
    with pytest.raises(InputError, match="reserved_vol_pct must be a number"):
        build_risk({"reserved_vol_pct": {"dist": "uniform", "low": 1, "high": 2}}, build_terms(raw))


def test_portfolio_simulation() -> None:
    from addin.workbook.portfolio_file import load_portfolio
    from engine.portfolio import PortfolioResult
    from engine.risk import PortfolioRisk, simulate_portfolio

    p, _ = load_portfolio(ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml")
    r = PortfolioResult(p)
    a = simulate_portfolio(r, 3000, seed=4)
    assert set(a) == {
        "first_shortfall_month",
        "gpus_to_sign_next_4_quarters",
        "usd_per_used_gpu_hour",
        "unused_contracted_pct",
        "outage_lost_gpu_hours",
        "outage_sla_credits_usd",
        "outage_replacement_cost_usd",
    }
    np.testing.assert_array_equal(a["first_shortfall_month"], simulate_portfolio(r, 3000, seed=4)["first_shortfall_month"])
    # no uncertainty: the deterministic first shortfall month and no outages
    fixed = PortfolioRisk(revenue_doubling_months=Dist("fixed", 4.5), revenue_sd_log=0.0, outages_per_year=0.0)
    f = simulate_portfolio(r, 256, seed=1, risk=fixed)
    assert (f["first_shortfall_month"] == r.coverage()["first_shortfall_month"][0]).all()
    assert (f["outage_lost_gpu_hours"] == 0).all() and (f["outage_sla_credits_usd"] == 0).all()
    # ... and, by hand from the deterministic demand: used = sum of min(demand, supply); $/used = fees / used
    demand = r.demand_gpu_hours()[0]
    used = np.minimum(demand, r.total_gpu_hours).sum()
    np.testing.assert_allclose(f["usd_per_used_gpu_hour"], r.total_fee.sum() / used, rtol=1e-12)
    np.testing.assert_allclose(f["unused_contracted_pct"], (1 - used / r.total_gpu_hours.sum()) * 100, rtol=1e-9)
    # outages: expected lost hours = sum over vendors of lambda x E[days] / days-in-month x GPU-hours, within 5 SE
    one = PortfolioRisk(revenue_doubling_months=Dist("fixed", 4.5), revenue_sd_log=0.0, outages_per_year=2.0,
                        outage_days=Dist("uniform", 3, 4))  # fmt: skip
    lost = simulate_portfolio(r, 20_000, seed=2, risk=one)["outage_lost_gpu_hours"]
    expected = float(sum((r.vendor_gpu_hours[v] * (2.0 / 12.0) * 3.0 / r.days).sum() for v in range(len(r.vendors))))
    assert abs(lost.mean() - expected) < 5 * lost.std() / np.sqrt(lost.size)


def test_portfolio_outages_per_vendor(tmp_path: Path) -> None:
    from addin.workbook.portfolio_file import load_portfolio
    from engine.portfolio import PortfolioResult
    from engine.risk import PortfolioRisk, VendorOutages, build_portfolio_risk, simulate_portfolio

    p, _ = load_portfolio(ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml")
    r = PortfolioResult(p)
    # only the first vendor has outages (2 a year, 3 whole days): expected lost hours are its GPU-hours x 2/12 x 3/days
    own = VendorOutages(r.vendors[0], outages_per_year=2.0, outage_days=Dist("uniform", 3, 4))
    risk = PortfolioRisk(revenue_doubling_months=Dist("fixed", 4.5), revenue_sd_log=0.0, outages_per_year=0.0, vendors=(own,))
    lost = simulate_portfolio(r, 20_000, seed=2, risk=risk)["outage_lost_gpu_hours"]
    expected = float((r.vendor_gpu_hours[0] * (2.0 / 12.0) * 3.0 / r.days).sum())
    assert abs(lost.mean() - expected) < 5 * lost.std() / np.sqrt(lost.size)
    # a vendor's own length with the all-vendor rate
    assert PortfolioRisk(vendors=(VendorOutages("x", outage_days=Dist("fixed", 2)),)).outages_for("x") == (1.0, Dist("fixed", 2))
    with pytest.raises(InputError, match=r"risk\.vendors names 'Nobody', which is not a vendor of the portfolio: "):
        simulate_portfolio(r, 256, seed=1, risk=PortfolioRisk(vendors=(VendorOutages("Nobody", 2.0),)))
    # the [risk.vendors."Name"] tables, every problem listed
    parsed = build_portfolio_risk(
        {"vendors": {"CoreWeave": {"outages_per_year": 3, "outage_days": {"dist": "fixed", "value": 2}}}}
    )
    assert parsed.outages_for("CoreWeave") == (3.0, Dist("fixed", 2)) and parsed.outages_for("xAI") == (
        1.0,
        Dist("uniform", 1, 8),
    )
    with pytest.raises(InputError) as exc:
        build_portfolio_risk({"vendors": {"CoreWeave": {"outages_per_year": -2, "uptime": 99}}})
    assert [i.message for i in exc.value.issues] == [
        "risk.vendors.CoreWeave.outages_per_year must be a number from 0 to 500, got -2",
        "risk.vendors.CoreWeave.uptime is not a vendor outage driver; the drivers are: outages_per_year, outage_days",
    ]
    with pytest.raises(InputError, match=r"risk\.vendors must hold a table per vendor"):
        build_portfolio_risk({"vendors": 3})
    # on the command line, a bad vendor value is located to its line in the TOML
    src = (ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml").read_text()
    bad = tmp_path / "p.toml"
    bad.write_text(
        src.replace("../deals/", str(ROOT / "workbooks" / "deals") + "/")
        + f'\n[risk.vendors."{r.vendors[1]}"]\noutage_days = {{ dist = "uniform", low = 5, high = 2 }}\n'
    )
    res = runner.invoke(app, ["simulate", str(bad), "--paths", "100"])
    line = len(bad.read_text().splitlines())
    assert res.exit_code == 2 and f"p.toml:{line}: risk.vendors.{r.vendors[1]}.outage_days:" in " ".join(res.stderr.split())


def test_portfolio_simulation_follows_a_demand_table() -> None:
    from dataclasses import replace as dc_replace

    from addin.workbook.portfolio_file import load_portfolio
    from engine.portfolio import PortfolioResult
    from engine.risk import PortfolioRisk, simulate_portfolio

    p, _ = load_portfolio(ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml")
    supply = PortfolioResult(p).total_gpu_hours
    # half the supply for six months, then twice it: the first shortfall is month 6 (July 2026), whatever the doubling
    table = np.where(np.arange(p.n_months) < 6, 0.5, 2.0) * np.maximum(supply, 1.0)
    r = PortfolioResult(dc_replace(p, demand=dc_replace(p.demand, table_gpu_hours=table)))
    assert r.coverage()["first_shortfall_month"][0] == 6
    fixed = PortfolioRisk(revenue_doubling_months=Dist("uniform", 1, 30), revenue_sd_log=0.0, outages_per_year=0.0)
    f = simulate_portfolio(r, 512, seed=1, risk=fixed)
    assert (f["first_shortfall_month"] == 6).all()
    # the table's level as uncertain as starting revenue: where it more than doubles the shortfall comes at once,
    # where it more than halves there is none (the view's length); lognormal, sd of the log 0.5: P(level > 2) and
    # P(level < 0.5) are each about 6-8%
    spread = simulate_portfolio(r, 4096, seed=1, risk=dc_replace(fixed, revenue_sd_log=0.5))["first_shortfall_month"]
    assert set(np.unique(spread)) <= {0.0, 6.0, float(p.n_months)}
    assert 0.02 < (spread == 0).mean() < 0.15 and 0.02 < (spread == p.n_months).mean() < 0.15


def test_portfolio_outage_sla_credits_match_the_poisson_expectation() -> None:
    # one vendor's outages, 3 days each, Poisson(lambda / 12) a month: a month with k outages is out 3k days, so
    # E[credits] = sum over its contracts and months of sum_k P(k) x billed x extra credit % at uptime x (1 - 3k / days)
    import dataclasses
    from math import exp, factorial

    from addin.workbook.portfolio_file import load_portfolio
    from engine import build_terms
    from engine.portfolio import PortfolioResult
    from engine.risk import PortfolioRisk, VendorOutages, simulate_portfolio
    from engine.schedule import credit_pct_for_uptime

    p, _ = load_portfolio(ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml")
    # the shipped contracts' SLAs are not public (no credits): give the AWS contract AWS's retail EC2 tiers
    retail = tuple(build_terms({**t.raw, "sla_policy": "aws-ec2-region"}) if t.vendor == "AWS" else t for t in p.contracts)
    p = dataclasses.replace(p, contracts=retail)
    r = PortfolioResult(p)
    v = r.vendors.index("AWS")
    lam = 2.0
    own = VendorOutages("AWS", outages_per_year=lam, outage_days=Dist("fixed", 3))
    risk = PortfolioRisk(revenue_doubling_months=Dist("fixed", 4.5), revenue_sd_log=0.0, outages_per_year=0.0, vendors=(own,))
    credits = simulate_portfolio(r, 20_000, seed=3, risk=risk)["outage_sla_credits_usd"]
    expected = 0.0
    for i, t in enumerate(p.contracts):
        if (t.vendor or t.deal_name) != r.vendors[v]:
            continue
        up = float(t.expected_uptime_pct[0])
        base = credit_pct_for_uptime(np.array([up]), t.sla_tiers)[0]
        for k in range(1, 15):
            share = np.minimum(3.0 * k, r.days) / r.days
            extra = np.maximum(credit_pct_for_uptime(up * (1 - share), t.sla_tiers) - base, 0.0)
            expected += exp(-lam / 12) * (lam / 12) ** k / factorial(k) * float((r.billed[i] * extra / 100).sum())
    assert expected > 0 and abs(credits.mean() - expected) < 5 * credits.std() / np.sqrt(credits.size)


def test_cdm_simulate_on_a_portfolio() -> None:
    args = [
        "simulate",
        str(ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml"),
        "--paths",
        "1000",
        "--seed",
        "8",
        "--json",
    ]
    a, b = runner.invoke(app, args), runner.invoke(app, args)
    assert a.exit_code == 0 and a.stdout == b.stdout
    rec = json.loads(a.stdout)
    assert rec["seed"] == 8 and rec["stats"]["first_shortfall_month"]["p5"] <= rec["stats"]["first_shortfall_month"]["p95"]
    assert 0.0 <= rec["paths_with_no_shortfall_pct"] <= 100.0


def test_portfolio_risk_block(tmp_path: Path) -> None:
    from engine.risk import build_portfolio_risk

    r = build_portfolio_risk(
        {"revenue_doubling_months": {"dist": "triangular", "low": 4, "mode": 4.5, "high": 5}, "outages_per_year": 2}
    )
    assert r.revenue_doubling_months == Dist("triangular", 4, 4.5, 5) and r.outages_per_year == 2
    assert build_portfolio_risk({"outages_per_year": {"dist": "fixed", "value": 3}}).outages_per_year == 3  # a Risk sheet row
    with pytest.raises(InputError, match="outages_per_year must be a number"):
        build_portfolio_risk({"outages_per_year": {"dist": "normal", "mean": 1, "sd": 1}})
    src = (ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml").read_text()
    bad = tmp_path / "p.toml"
    bad.write_text(
        src.replace("../deals/", str(ROOT / "workbooks" / "deals") + "/").replace(
            "outages_per_year = 1 ", "outages_per_year = -1 "
        )
    )
    res = runner.invoke(app, ["simulate", str(bad), "--paths", "100"])
    line = next(i for i, s in enumerate(bad.read_text().splitlines(), 1) if s.startswith("outages_per_year = -1"))
    assert res.exit_code == 2 and f"p.toml:{line}: risk.outages_per_year must be a number from 0 to 500, got -1" in " ".join(
        res.stderr.split()
    )


@pytest.mark.libreoffice
def test_risk_engine_equals_native_formulas_in_libreoffice(tmp_path: Path) -> None:
    """100 paths as native spreadsheet formulas (bench/risk_sheet.py), recalculated by LibreOffice, on the same draws."""
    from addin.report.libreoffice import computed_first_sheet, find_soffice
    from bench.risk_sheet import build_sheet, values_at
    from engine import build_schedule
    from engine.risk import simulate_block

    if find_soffice() is None:
        pytest.skip("LibreOffice not installed; .ci/run installs it")
    t = build_terms({"deal_name": "r", "start_month": "2027-01", "end_month": "2031-12", "monthly_fee_usd": 1.25e9, "facility_mw": 300,
                     "gpu_count": 200_000, "sla_policy": "aws-ec2-region"})  # fmt: skip
    model = replace(default_risk(t), delivery_delay_months=Dist("fixed", 0), outages_per_year=6.0)
    d = draw_block(model, t, 1, 0, 60)
    d100 = d.take(0, 100)
    engine_values = simulate_block(t, d100).values
    starts = build_sheet(build_schedule(t), d100, 100, tmp_path / "risk.xlsx")
    cells = computed_first_sheet(tmp_path / "risk.xlsx")
    for name, start in starts.items():
        np.testing.assert_allclose(values_at(cells, start, 100), engine_values[name], rtol=1e-12, err_msg=name)
    assert engine_values["replacement_cost_usd"].max() > 0  # outages happened, so credits and spot were exercised


def test_the_default_simulation_has_no_discount_rate_driver() -> None:
    from engine.risk import default_risk, tornado

    terms = load_deal(DEAL).terms()
    model = default_risk(terms)
    assert model.discount_rate_pct is not None and model.discount_rate_pct.kind == "fixed"
    sim = simulate(terms, 2_000, 7)
    correlations = {r["driver"]: r for r in sim.rank_correlation()}
    assert correlations["discount_rate_pct"]["npv_usd"] is None  # every path is valued at the deal's 9%
    # the tornado ranks the risks, then shows the discount rate apart at 9% -/+ 1 point, against every output
    rows = tornado(terms, model)
    assert [r["group"] for r in rows] == ["risk", "risk", "risk", "valuation"]
    valuation = rows[-1]
    assert (valuation["driver"], valuation["low_input"], valuation["high_input"]) == ("discount_rate_pct", 8.0, 10.0)
    at_8 = evaluate({**terms.raw, "discount_rate_pct": 8.0}).record(0)["npv_usd"]
    assert valuation["npv_usd_at_low"] == pytest.approx(at_8, rel=1e-12)
    market = next(r for r in rows if r["driver"] == "market_usd_per_gpu_hour")
    # the market price moves no fee, so the NPV bar is zero, but it drives the premium and the NPV over market
    assert market["npv_usd_swing"] == 0 and market["premium_to_market_pct_swing"] > 0 and market["npv_over_market_usd_swing"] > 0


def test_a_delay_costs_the_buyer_the_replacement() -> None:
    # 1,000 GPUs Jan-Dec 2026 at $1M a month, all capacity two months late (no grace: January and February cost no
    # fee), market $2.00 with no price moves, no outages: the buyer rents 1,000 x (744 + 672) = 1,416,000 GPU-hours
    # elsewhere at $2.00 = $2,832,000; paid in advance, on 1 Jan (day 0) and 1 Feb (31 days) at 9%
    raw = {"deal_name": "late", "start_month": "2026-01", "end_month": "2026-12", "monthly_fee_usd": 1e6,
           "facility_mw": 2, "gpu_count": 1000, "market_usd_per_gpu_hour": 2.0, "discount_rate_pct": 9}  # fmt: skip
    terms = build_terms(raw)
    model = replace(fixed_risk(terms), delivery_delay_months=Dist("fixed", 2))
    stats = simulate(terms, 256, 1, model).stats()
    assert stats["delay_replacement_usd"]["p50"] == pytest.approx(1000 * (744 + 672) * 2.0, rel=1e-12)
    assert stats["net_tcv_usd"]["p50"] == pytest.approx(10e6, rel=1e-12)  # ten months billed
    assert stats["all_in_cost_usd"]["p50"] == pytest.approx(10e6 + 2_832_000, rel=1e-12)
    fees_pv = sum(1e6 / 1.09 ** (d / 365) for d in (59, 90, 120, 151, 181, 212, 243, 273, 304, 334))  # Mar-Dec
    replaced_pv = 1000 * 744 * 2.0 + 1000 * 672 * 2.0 / 1.09 ** (31 / 365)
    assert stats["npv_usd"]["p50"] == pytest.approx(fees_pv, rel=1e-12)
    assert stats["all_in_cost_npv_usd"]["p50"] == pytest.approx(fees_pv + replaced_pv, rel=1e-12)


def test_the_tornado_reads_the_all_in_cost_npv_by_hand() -> None:
    # the late deal of the test above, its delay 0 or 2 months (P5 0, P95 2) and the market fixed at $2.00: at the
    # high end January and February cost no fee but are rented, 1,000 x 744 h x $2 on 1 Jan and 1,000 x 672 h x $2
    # on 1 Feb at 9%; the all-in NPV moves by the fees saved less that rent
    from engine.risk import tornado

    raw = {"deal_name": "late", "start_month": "2026-01", "end_month": "2026-12", "monthly_fee_usd": 1e6,
           "facility_mw": 2, "gpu_count": 1000, "market_usd_per_gpu_hour": 2.0, "discount_rate_pct": 9}  # fmt: skip
    terms = build_terms(raw)
    model = replace(fixed_risk(terms), delivery_delay_months=Dist("discrete", values=(0, 2), probabilities=(0.5, 0.5)))
    row = next(r for r in tornado(terms, model) if r["driver"] == "delivery_delay_months")
    assert (row["low_input"], row["high_input"]) == (0.0, 2.0)
    rent = 1000 * 744 * 2.0 + 1000 * 672 * 2.0 / 1.09 ** (31 / 365)
    fees_saved = 1e6 + 1e6 / 1.09 ** (31 / 365)
    assert row["all_in_cost_npv_usd_at_low"] == pytest.approx(row["npv_usd_at_low"], rel=1e-12)  # on time: no rent
    assert row["all_in_cost_npv_usd_at_high"] == pytest.approx(row["npv_usd_at_low"] - fees_saved + rent, rel=1e-12)
    assert row["npv_usd_swing"] == pytest.approx(fees_saved, rel=1e-12)
    assert row["all_in_cost_npv_usd_swing"] == pytest.approx(abs(rent - fees_saved), rel=1e-12)


def test_a_delay_is_replaced_at_each_month_s_simulated_price() -> None:
    # the same late deal with the reserved price drifting up 12% a year and no volatility: the walk is
    # $2.00 x exp(0.12 / 12 x j) at month j, so January is replaced at $2.00 and February at $2.00 x e^0.01 =
    # $2.0201 (not at the term's average price)
    raw = {"deal_name": "late", "start_month": "2026-01", "end_month": "2026-12", "monthly_fee_usd": 1e6,
           "facility_mw": 2, "gpu_count": 1000, "market_usd_per_gpu_hour": 2.0, "discount_rate_pct": 9}  # fmt: skip
    terms = build_terms(raw)
    model = replace(fixed_risk(terms), delivery_delay_months=Dist("fixed", 2), reserved_drift_pct=12.0, reserved_vol_pct=0.0)
    stats = simulate(terms, 256, 1, model).stats()
    expected = 1000 * 744 * 2.0 + 1000 * 672 * 2.0 * np.exp(0.01)
    assert stats["delay_replacement_usd"]["p50"] == pytest.approx(expected, rel=1e-12)
    assert stats["delay_replacement_usd"]["p5"] == pytest.approx(expected, rel=1e-12)  # every path alike


def test_the_default_delay_follows_the_delivery_status() -> None:
    from engine.risk import default_risk

    base = {"deal_name": "s", "start_month": "2027-01", "end_month": "2029-12", "monthly_fee_usd": 1e6,
            "facility_mw": 2, "gpu_count": 1000}  # fmt: skip
    delay = {status: default_risk(build_terms({**base, "delivery_status": status})).delivery_delay_months
             for status in ("delivered", "under_construction", "planned")}  # fmt: skip
    assert delay["delivered"] == Dist("fixed", 0.0)
    assert (delay["under_construction"].values, delay["under_construction"].probabilities) == ((0, 1, 3), (0.7, 0.2, 0.1))
    assert (delay["planned"].values, delay["planned"].probabilities) == ((0, 3, 6), (0.5, 0.3, 0.2))
    assert build_terms(base).delivery_status == "under_construction"  # the default
    # capacity due before the valuation date has arrived or not: what happened is known, so nothing is drawn
    valued_later = default_risk(build_terms({**base, "delivery_status": "planned", "valuation_date": "2027-03-01"}))
    assert valued_later.delivery_delay_months == Dist("fixed", 0.0)
    # the seed deal: Colossus 1 is built and running (Anthropic, 6 May 2026), so its delay is zero on every path
    seed = load_deal(DEAL).terms()
    assert seed.delivery_status == "delivered" and default_risk(seed).delivery_delay_months == Dist("fixed", 0.0)


def test_the_exit_right_saving_by_hand() -> None:
    # 1,000 GPUs Jan-Dec 2026 at $2M a month, 3-month lock-in and no notice: the buyer may leave on 1 Apr 2026 and
    # rent the hours it uses (all of them) at $1.00: it saves, each month Apr-Dec, $2M - 1,000 x hours x $1.00,
    # discounted at 9% from 1 Jan (advance payments on each month's first day)
    raw = {"deal_name": "exit", "start_month": "2026-01", "end_month": "2026-12", "monthly_fee_usd": 2e6,
           "facility_mw": 2, "gpu_count": 1000, "market_usd_per_gpu_hour": 1.0, "utilization_pct": 100,
           "lockin_months": 3, "notice_days": 0, "discount_rate_pct": 9}  # fmt: skip
    terms = build_terms(raw)
    stats = simulate(terms, 256, 1, fixed_risk(terms)).stats()
    first_days = [dt.date(2026, k, 1) for k in range(4, 13)]
    hours = [((dt.date(2026, k + 1, 1) if k < 12 else dt.date(2027, 1, 1)) - dt.date(2026, k, 1)).days * 24 for k in range(4, 13)]
    saving = sum(
        (2e6 - 1000 * h * 1.0) / 1.09 ** ((d - dt.date(2026, 1, 1)).days / 365) for d, h in zip(first_days, hours, strict=True)
    )
    assert stats["exit_saving_npv_usd"]["mean"] == pytest.approx(saving, rel=1e-12)
    # no exit right, no saving
    locked = build_terms({k: v for k, v in raw.items() if k not in ("lockin_months", "notice_days")})
    assert simulate(locked, 256, 1, fixed_risk(locked)).stats()["exit_saving_npv_usd"]["p95"] == 0.0
