"""Exact percentiles in bounded memory: the streamed summary equals the in-memory one bit for bit, and NumPy."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addin.workbook.load import load_deal
from engine.quantiles import BLOCK, summarise
from engine.risk import OUTPUTS, simulate
from tests.engine.test_risk import DEAL


def chunked(values: dict[str, np.ndarray], chunk: int) -> Iterator[dict[str, np.ndarray]]:
    n = next(iter(values.values())).shape[0]
    for lo in range(0, n, chunk):
        yield {k: v[lo : lo + chunk] for k, v in values.items()}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e12, 1e12, allow_nan=False), min_size=1, max_size=3000),
    st.integers(1, 8),
    st.sampled_from([0, 1, 5]),
)
def test_streamed_equals_in_memory_and_numpy(data: list[float], blocks_per_chunk: int, ties: int) -> None:
    v = np.array(data)
    if ties:  # many equal values: order statistics in one bin, ranks across bin edges
        v = np.round(v / 10 ** (12 - ties)) * 10 ** (12 - ties)
    values = {"x": v, "y": -2.0 * v + 1.0}
    n = v.size
    chunk = BLOCK * blocks_per_chunk
    kept = summarise(lambda: chunked(values, chunk), n, ("x", "y"), keep=n, histograms=("x", "y"))
    streamed = summarise(lambda: chunked(values, chunk), n, ("x", "y"), keep=0, histograms=("x", "y"))
    assert streamed.values is None and kept.values is not None
    assert streamed.stats == kept.stats and streamed.histograms == kept.histograms
    for k, arr in values.items():
        p5, p50, p95 = np.percentile(arr, [5, 50, 95])
        st_ = kept.stats[k]
        scale = max(float(np.abs(arr).max()), 1e-300)
        assert st_["p5"] == pytest.approx(p5, rel=1e-15, abs=1e-15 * scale)
        assert st_["p50"] == pytest.approx(p50, rel=1e-15, abs=1e-15 * scale)
        assert st_["p95"] == pytest.approx(p95, rel=1e-15, abs=1e-15 * scale)
        assert st_["mean"] == pytest.approx(float(arr.mean()), rel=1e-12, abs=1e-12 * scale)
        counts, edges = np.histogram(arr, bins=np.linspace(arr.min(), arr.max(), 21))
        assert kept.histograms[k]["counts"] == counts.astype(float).tolist()
        assert kept.histograms[k]["edges"] == edges.tolist()


def _counting(passes: list[int]):  # type: ignore[no-untyped-def]
    """A chunk runner that runs here and counts how many times the summary reads the chunks."""

    def map_chunks(run, chunks):  # type: ignore[no-untyped-def]
        passes.append(len(chunks))
        return (run(c) for c in chunks)

    return map_chunks


def test_a_large_simulation_streams_with_the_same_numbers_in_one_pass() -> None:
    # 60,000 paths kept in memory against the same 60,000 streamed (keep_paths below them): one pass, the windows
    # placed from the first 1,000 paths hold every order statistic
    terms = load_deal(DEAL).terms()
    kept = simulate(terms, 60_000, seed=3)
    passes: list[int] = []
    streamed = simulate(terms, 60_000, seed=3, keep_paths=1_000, map_chunks=_counting(passes))
    assert kept.values is not None and streamed.values is None
    assert len(passes) == 1  # no second pass: 60,000 paths cost what they cost kept
    assert streamed.stats() == kept.stats()
    assert streamed.histogram("npv_usd") == kept.histogram("npv_usd")
    np.testing.assert_array_equal(streamed.fan_sample, kept.fan_sample)


def test_over_its_budget_the_summary_reads_twice_in_flat_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.quantiles

    terms = load_deal(DEAL).terms()

    def peak(paths: int, keep: int, passes: list[int]) -> int:
        tracemalloc.start()
        simulate(terms, paths, seed=3, keep_paths=keep, map_chunks=_counting(passes))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    # (both above the 100,000 paths the rank correlations sample)
    grown = 200_000 * len(OUTPUTS) * 8  # 16 MB more outputs for 320,000 paths than for 120,000
    assert peak(320_000, 10**6, []) - peak(120_000, 10**6, []) > 0.6 * grown
    one: list[int] = []
    assert peak(320_000, 1_000, one) - peak(120_000, 1_000, one) < 0.6 * grown  # the windows and NPV (histogram)
    assert len(one) == 2  # one pass each
    monkeypatch.setattr(engine.quantiles, "STREAM_BUDGET_BYTES", 1 << 20)  # 1 MB: over it within the first chunks
    two: list[int] = []
    assert peak(320_000, 1_000, two) - peak(120_000, 1_000, two) < 0.1 * grown  # flat: nothing kept per path
    assert len(two) == 4  # two passes each
    streamed = simulate(terms, 20_000, seed=3, keep_paths=1_000)
    assert streamed.stats() == simulate(terms, 20_000, seed=3).stats()


def test_windows_placed_from_unlike_first_paths_fall_back_to_two_more_passes() -> None:
    # the first 4,096 paths are all far below the rest: the windows they place (about their own P5, P50 and P95)
    # miss the P50 and P95 of the whole, which lie among the later values
    rng = np.random.default_rng(5)
    v = np.concatenate([rng.normal(0.0, 1.0, 4096), rng.normal(100.0, 1.0, 36_864)])
    values = {"x": v}
    reads: list[int] = []

    def run() -> Iterator[dict[str, np.ndarray]]:
        reads.append(1)
        return chunked(values, 512)

    streamed = summarise(run, v.size, ("x",), keep=4096)
    assert len(reads) == 3  # the one pass, then a pass counting the fine bins and one keeping those that matter
    kept = summarise(lambda: chunked(values, 512), v.size, ("x",), keep=v.size)
    assert streamed.stats == kept.stats
    assert kept.stats["x"]["p50"] == pytest.approx(float(np.percentile(v, 50)), rel=1e-15)


def test_portfolio_summary_streams_with_the_same_numbers() -> None:
    from addin.workbook.portfolio_file import load_portfolio
    from engine.portfolio import PortfolioResult
    from engine.risk import PORTFOLIO_OUTPUTS, simulate_portfolio, summarise_portfolio
    from tests.engine.test_risk import ROOT

    r = PortfolioResult(load_portfolio(ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml")[0])
    kept_sim, streamed_sim = summarise_portfolio(r, 5_000, seed=2), summarise_portfolio(r, 5_000, seed=2, keep_paths=100)
    kept, never = kept_sim.summary, kept_sim.never_short_pct
    streamed, never_streamed = streamed_sim.summary, streamed_sim.never_short_pct
    assert kept_sim.demand_fan == streamed_sim.demand_fan and kept_sim.rank_correlation() == streamed_sim.rank_correlation()
    assert streamed.values is None and streamed.stats == kept.stats and streamed.histograms == kept.histograms
    values = simulate_portfolio(r, 5_000, seed=2)
    assert summarise(lambda: [values], 5_000, PORTFOLIO_OUTPUTS, keep=5_000).stats == kept.stats  # held at once
    expected_never = float((values["first_shortfall_month"] >= r.portfolio.n_months).mean() * 100)
    assert never == never_streamed == pytest.approx(expected_never, abs=1e-12)


@pytest.mark.libreoffice
def test_percentiles_equal_the_spreadsheets_percentile_inc(tmp_path: pytest.TempPathFactory) -> None:
    """P5/P50/P95 and the mean against LibreOffice's PERCENTILE.INC and AVERAGE on the same 1,001 values (ties too)."""
    from pathlib import Path

    from openpyxl import Workbook

    from addin.report.libreoffice import computed_first_sheet, find_soffice

    if find_soffice() is None:
        pytest.skip("LibreOffice not installed; .ci/run installs it")
    rng = np.random.default_rng(7)
    v = np.concatenate([rng.lognormal(20, 1, 900), np.full(101, 3.0e8)])  # a block of ties, as credits of 0 make
    wb = Workbook()
    ws = wb.active
    for i, x in enumerate(v, start=1):
        ws.cell(i, 1, float(x))
    for j, p in enumerate((0.05, 0.5, 0.95), start=2):
        ws.cell(1, j, f"=_xlfn.PERCENTILE.INC(A1:A{v.size},{p})")  # how Excel stores its 2010 functions
    ws.cell(1, 5, f"=AVERAGE(A1:A{v.size})")
    book = Path(str(tmp_path)) / "p.xlsx"
    wb.save(book)
    row = computed_first_sheet(book)[0]
    stats = summarise(lambda: [{"x": v}], v.size, ("x",), keep=0).stats["x"]  # streamed, to test the harder path
    assert [stats["p5"], stats["p50"], stats["p95"], stats["mean"]] == pytest.approx([float(c) for c in row[1:5]], rel=1e-13)


def test_later_paths_that_overfill_the_windows_fall_back_in_bounded_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.quantiles

    # the first 4,096 values place the windows; every later value is distinct and inside the median's window, so
    # the windows outgrow the budget mid-run: the pass stops keeping and two more passes give the exact figures
    rng = np.random.default_rng(9)
    head = rng.normal(0.0, 1.0, 4096)
    tail = rng.uniform(-0.05, 0.05, 36_864)
    v = np.concatenate([head, tail])
    values = {"x": v}
    reads: list[int] = []

    def run() -> Iterator[dict[str, np.ndarray]]:
        reads.append(1)
        return chunked(values, 512)

    monkeypatch.setattr(engine.quantiles, "STREAM_BUDGET_BYTES", 512 << 10)  # the first paths project 206 KB
    streamed = summarise(run, v.size, ("x",), keep=4096)
    assert len(reads) == 3
    assert streamed.stats == summarise(lambda: chunked(values, 512), v.size, ("x",), keep=v.size).stats


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=True, width=64), max_size=40), max_size=6))
def test_the_kept_sum_is_the_exact_sum_to_the_bit(groups: list[list[float]]) -> None:
    """A kept run's block sums go to math.fsum once at the end (KeptSum); the streamed pass keeps Shewchuk's partials
    as it goes (ExactSum): the same correctly rounded sum, to the bit, and ExactSum's NaN where an infinity or an
    intermediate overflow makes fsum give inf or raise (hand: 0.1 ten times is 1.0; 1e308 + 1e308 - 1e308 is NaN; two
    halves of the largest float are NaN, where ExactSum raised), never an exception."""
    import math

    from engine.quantiles import ExactSum, KeptSum

    hand = (
        ([0.1] * 10, 1.0),
        ([1e308, 1e308, -1e308], math.nan),
        ([1.0, math.inf], math.nan),
        ([8.988465674311579e307, 8.98846567431158e307], math.nan),
    )  # the last raised in ExactSum's fsum (found by this test)
    for case, want in hand:
        for total in (KeptSum(), ExactSum()):
            total.add(np.array(case))
            assert total.value() == want or (math.isnan(want) and math.isnan(total.value()))
    exact, kept = ExactSum(), KeptSum()
    for g in groups:
        exact.add(np.array(g, float))
        kept.add(np.array(g, float))
    a, b = exact.value(), kept.value()
    assert a == b or (math.isnan(a) and math.isnan(b)), (a, b)
    if not math.isnan(a):
        assert np.signbit(a) == np.signbit(b)


def test_ordering_the_outputs_on_threads_gives_the_same_summary() -> None:
    """A run on worker processes orders its kept outputs two at a time (threads): every statistic and histogram the
    same to the bit as one at a time, NaN paths and ties included."""
    rng = np.random.default_rng(7)
    outputs = ("a", "b", "c")
    chunks = []
    for _ in range(5):
        a = rng.standard_normal(BLOCK * 2)
        a[::17] = np.nan
        chunks.append({"a": a, "b": np.round(rng.standard_normal(BLOCK * 2)), "c": np.full(BLOCK * 2, np.nan)})
    one = summarise(lambda: iter(chunks), 5 * 2 * BLOCK, outputs, histograms=("a",))
    two = summarise(lambda: iter(chunks), 5 * 2 * BLOCK, outputs, histograms=("a",), threads=2)
    assert repr(one.stats) == repr(two.stats) and one.histograms == two.histograms
    assert one.stats["a"]["undefined_paths"] == 5 * 31  # 512 paths a chunk, every 17th NaN: ceil(512 / 17) = 31
