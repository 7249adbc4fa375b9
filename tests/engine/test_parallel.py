"""Chunks on worker processes (``--workers``): the numbers of one process, to the bit, whatever the chunking."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from addin.cli import app
from engine import InputError, build_terms
from engine.portfolio import PortfolioResult
from engine.risk import default_risk, simulate, summarise_portfolio
from engine.risk.parallel import MAX_WORKERS, check_workers, local_chunk_runner, tune_allocator

ROOT = Path(__file__).resolve().parents[2]
DEAL = ROOT / "workbooks" / "deals" / "anthropic_xai_colossus1.toml"
PORTFOLIO = ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml"
runner = CliRunner()


@pytest.fixture(scope="module")
def terms():  # type: ignore[no-untyped-def]
    # outages with SLA tiers, a delay and an exit right: every output has work to do
    raw = {"deal_name": "w", "start_month": "2027-01", "end_month": "2029-12", "monthly_fee_usd": 4e8, "facility_mw": 100,
           "gpu_count": 60_000, "sla_policy": "aws-ec2-region", "notice_days": 90, "lockin_months": 12}  # fmt: skip
    return build_terms(raw)


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    assert a.stats() == b.stats()  # exact: every statistic to the bit (NaN never appears in these stats)
    assert a.histogram() == b.histogram()
    np.testing.assert_array_equal(a.fan_sample, b.fan_sample)
    assert a.rank_correlation() == b.rank_correlation()


def test_two_workers_give_one_process_numbers_whatever_the_chunk(terms) -> None:  # type: ignore[no-untyped-def]
    alone = simulate(terms, 5000, seed=11, chunk_paths=4096)
    with local_chunk_runner(2) as run:
        small = simulate(terms, 5000, seed=11, chunk_paths=256, map_chunks=run)  # 20 chunks over two processes
        large = simulate(terms, 5000, seed=11, chunk_paths=1024, map_chunks=run)
    for other in (small, large):
        assert alone.values is not None and other.values is not None
        for k in alone.values:
            np.testing.assert_array_equal(alone.values[k], other.values[k])
        _same(alone, other)
    assert (alone.values["sla_credits_usd"] > 0).any()  # the outages did something  # type: ignore[index]


def test_workers_in_the_streamed_summary_give_the_same_numbers(terms) -> None:  # type: ignore[no-untyped-def]
    # above keep_paths the summary streams the chunks twice: both passes through the pool, in order
    alone = simulate(terms, 3000, seed=4, keep_paths=1000)
    with local_chunk_runner(2) as run:
        split = simulate(terms, 3000, seed=4, keep_paths=1000, chunk_paths=512, map_chunks=run)
    assert alone.values is None and split.values is None
    _same(alone, split)


def test_portfolio_on_two_workers_gives_the_same_numbers() -> None:
    from addin.report.portfolio import load_any_portfolio

    result = PortfolioResult(load_any_portfolio(PORTFOLIO))
    alone = summarise_portfolio(result, 3000, 8)
    with local_chunk_runner(2) as run:
        split = summarise_portfolio(result, 3000, 8, map_chunks=run, chunk_paths=512)
    assert alone.summary.stats == split.summary.stats
    assert alone.summary.histograms == split.summary.histograms
    assert alone.never_short_pct == split.never_short_pct and alone.demand_fan == split.demand_fan


def test_a_chunk_that_fails_in_a_worker_raises_here(terms) -> None:  # type: ignore[no-untyped-def]
    with local_chunk_runner(2) as run:
        results = run(_fails_on_third, [range(k, k + 1) for k in range(8)])
        assert next(results) == 0 and next(results) == 1
        with pytest.raises(ZeroDivisionError):
            list(results)


def _fails_on_third(blocks: range) -> int:
    return blocks.start if blocks.start != 2 else blocks.start // 0


def test_one_worker_runs_here_without_a_pool() -> None:
    with local_chunk_runner(1) as run:
        assert list(run(lambda r: r.start * 10, [range(k, k + 1) for k in range(3)])) == [0, 10, 20]


@pytest.mark.parametrize("workers", [0, -1, MAX_WORKERS + 1])
def test_workers_out_of_range_are_refused_naming_the_option(workers: int) -> None:
    with pytest.raises(InputError) as exc:
        check_workers(workers)
    assert exc.value.issues[0].field == "workers" and f"got {workers}" in str(exc.value)


def test_cli_workers_prints_the_same_bytes() -> None:
    args = ["simulate", str(DEAL), "--paths", "3000", "--seed", "2", "--json", "--chunk-paths", "512"]
    alone, split = runner.invoke(app, args), runner.invoke(app, [*args, "--workers", "2"])
    assert alone.exit_code == 0 and split.exit_code == 0, split.output
    assert alone.stdout == split.stdout
    assert json.loads(split.stdout)["paths"] == 3000


def test_cli_portfolio_workers_prints_the_same_bytes() -> None:
    args = ["simulate", str(PORTFOLIO), "--paths", "2000", "--seed", "3", "--json"]
    alone, split = runner.invoke(app, args), runner.invoke(app, [*args, "--workers", "2"])
    assert alone.exit_code == 0 and split.exit_code == 0, split.output
    assert alone.stdout == split.stdout


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--workers", "0"], "workers must be a whole number from 1 to 256"),
        (["--workers", "2", "--dask", "tcp://127.0.0.1:1"], "give one of them"),
    ],
)
def test_cli_bad_workers_exit_2_with_a_message(extra: list[str], said: str) -> None:
    res = runner.invoke(app, ["simulate", str(DEAL), "--paths", "100", *extra])
    assert res.exit_code == 2 and said in res.output and "Traceback" not in res.output


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_allocator_tuned_once_on_glibc(terms) -> None:  # type: ignore[no-untyped-def]
    assert tune_allocator() is True and tune_allocator() is True  # applied, then left as it is
    # the numbers do not depend on where the memory comes from
    a = simulate(terms, 600, seed=1, model=default_risk(terms))
    b = simulate(terms, 600, seed=1, model=default_risk(terms))
    _same(a, b)


def test_workers_started_fresh_give_the_same_numbers(terms, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    # macOS and Windows start workers fresh (spawn), as Linux does when this process runs other threads: each
    # worker imports the engine and unpickles the chunk function
    import multiprocessing

    from engine.risk import parallel

    monkeypatch.setattr(parallel, "_context", lambda: multiprocessing.get_context("spawn"))
    alone = simulate(terms, 1500, seed=12, chunk_paths=512)
    with local_chunk_runner(2) as run:
        split = simulate(terms, 1500, seed=12, chunk_paths=512, map_chunks=run)
    _same(alone, split)


def test_python_m_addin_runs_the_workers_once() -> None:
    import subprocess

    args = [sys.executable, "-m", "addin", "simulate", str(DEAL), "--paths", "1200", "--seed", "4", "--json"]
    alone = subprocess.run(args, capture_output=True, text=True, check=False, cwd=ROOT)
    split = subprocess.run([*args, "--workers", "2"], capture_output=True, text=True, check=False, cwd=ROOT)
    assert alone.returncode == 0 and split.returncode == 0, split.stderr
    assert alone.stdout == split.stdout
