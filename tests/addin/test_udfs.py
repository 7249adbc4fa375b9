"""The CDM_ functions: values against the engine, errors as cell text, xlwings classic metadata and VBA."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from addin.excel import udfs
from engine import evaluate
from tests.addin.xlwings_classic import load_classic

GOLDEN = Path(__file__).parent / "golden" / "computedeal_udfs.vba"

DEAL = [
    ["deal_name", "UDF test"],
    ["start_month", 46143.0],  # Excel serial of 2026-05-01
    ["end_month", "2029-05"],
    ["monthly_fee_usd", 1.25e9],
    ["ramp_months", 2.0],
    ["ramp_fee_fraction", 0.5],
    ["ramp_capacity_fraction", 0.5],
    ["facility_mw", 300.0],
    ["pue", None],  # blank: default 1.2
    ["notice_days", 90.0],
    ["lockin_months", 3.0],
    ["fleet[1].gpu_sku", "H100-SXM"],
    ["fleet[1].gpu_count", 200_000.0],
    ["fleet[2].gpu_sku", None],
    ["fleet[2].gpu_count", None],
    [None, None],
]
RAW = {
    "deal_name": "UDF test", "start_month": "2026-05", "end_month": "2029-05", "monthly_fee_usd": 1.25e9,
    "ramp_months": 2, "ramp_fee_fraction": 0.5, "ramp_capacity_fraction": 0.5, "facility_mw": 300,
    "notice_days": 90, "lockin_months": 3, "fleet": [{"gpu_sku": "H100-SXM", "gpu_count": 200_000}],
}  # fmt: skip


def test_deal_functions_equal_the_engine() -> None:
    rec = evaluate(RAW).record(0)
    assert udfs.cdm_summary(DEAL, "net_tcv_usd") == rec["net_tcv_usd"] == 45e9
    assert udfs.cdm_npv(DEAL) == rec["npv_usd"]
    assert udfs.cdm_usd_per_gpu_hour(DEAL) == rec["usd_per_gpu_hour"]
    assert udfs.cdm_firm_commitment(DEAL) == rec["firm_commitment_usd"]
    assert udfs.cdm_breakeven_utilization(DEAL) == rec["breakeven_utilization_pct"]
    assert udfs.cdm_input(DEAL, "pue") == 1.2
    assert udfs.cdm_summary(DEAL, "exit_date") == 46325.0  # 2026-10-30
    # 200,000 x 1.5 kW = 300 MW: the fleet fits the facility exactly (Colossus's own ratio), so only the price warns
    assert udfs.cdm_check(DEAL).startswith("OK, 1 warning: at 100% utilisation each used GPU-hour costs $8.55")
    cheap = [*DEAL[:3], ["monthly_fee_usd", 1e8], *DEAL[4:8], ["market_usd_per_gpu_hour", 2.0], ["gpu_count", None]]
    assert udfs.cdm_check(cheap) == "OK"  # 200,000 GPUs at 1e8 a month: $0.68 per GPU-hour, under the $2 market
    # an NPV at another rate equals the engine run at that rate
    assert udfs.cdm_npv(DEAL, 12) == evaluate({**RAW, "discount_rate_pct": 12})["npv_usd"][0]


def test_schedule_array_is_rows_by_120_months() -> None:
    arr = udfs.cdm_schedule(DEAL)
    assert isinstance(arr, np.ndarray) and arr.shape == (len(udfs.SCHEDULE_ROWS), 120)
    net = arr[udfs.SCHEDULE_ROWS.index("net_fee_usd")]
    assert net[:37].sum() == pytest.approx(45e9) and (net[37:] == 0).all()
    months = arr[udfs.SCHEDULE_ROWS.index("month")]
    assert months[0] == 46143.0 and months[36] == 47239.0 and months[37] == 0  # May 2026, May 2029, past the term


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: udfs.cdm_summary([["pue", 0.8], *DEAL[1:]], "npv_usd"), "CDM error: deal_name is required and is blank"),
        (lambda: udfs.cdm_summary([*DEAL[:8], ["pue", 0.8]], "npv_usd"), "CDM error: pue must be >= 1.0, got 0.8"),
        (lambda: udfs.cdm_summary(DEAL, "npv"), "CDM error: unknown figure 'npv'"),
        (lambda: udfs.cdm_summary([*DEAL[:8], ["pue", "#N/A"]], "npv_usd"), "CDM error: pue holds the Excel error #N/A"),
        (lambda: udfs.cdm_kw_per_gpu("H100-SXM", 0.8), "CDM error: pue must be >= 1.0, got 0.8"),
        (lambda: udfs.cdm_gpus_from_mw(-3, "H100-SXM"), "CDM error: facility_mw must be > 0, got -3"),
        (lambda: udfs.cdm_gpus_from_mw("300 MW", "H100-SXM"), "CDM error: facility_mw must be a number, got '300 MW'"),
        (lambda: udfs.cdm_gpu_spec("H900", "tdp_w"), "CDM error: gpu_sku 'H900' is not in the GPU catalogue"),
        (lambda: udfs.cdm_gpu_spec("H100-SXM", "price"), "CDM error: unknown GPU field 'price'"),
        (lambda: udfs.cdm_input(DEAL, "colour"), "CDM error: unknown input 'colour'"),
        (lambda: udfs.cdm_npv(DEAL, 200), "CDM error: discount_rate_pct must be <= 100, got 200"),
        (lambda: udfs.cdm_summary([["deal_name"]], "npv_usd"), "CDM error: the deal range must have two columns"),
    ],
)
def test_bad_arguments_return_readable_text(call: Any, expected: str) -> None:
    result = call()
    assert isinstance(result, str) and result.startswith(expected), result


def test_schedule_error_shows_in_the_top_left_cell() -> None:
    grid = udfs.cdm_schedule([*DEAL[:8], ["pue", 0.8]])
    assert grid[0][0] == "CDM error: pue must be >= 1.0, got 0.8" and grid[5][7] == ""


def test_internal_errors_never_escape() -> None:
    broken = udfs.cell_safe(lambda: 1 / 0)
    assert broken() == "CDM error: internal error ZeroDivisionError: division by zero"


def test_sizing_functions() -> None:
    # H100 1.5 kW all-in at PUE 1.2 and 10% (Colossus: 300 MW for 200,000); floor(300,000 / 1.5) = 200,000
    assert udfs.cdm_kw_per_gpu("H100-SXM") == pytest.approx(1.5)
    assert udfs.cdm_kw_per_gpu("H100-SXM", 1.4, 5) == pytest.approx(1.5 / 1.32 * 1.05 * 1.4)  # PUE and network move it
    assert udfs.cdm_gpus_from_mw(300, "H100-SXM", None, None) == 200_000
    assert udfs.cdm_mw_from_gpus(200_000, "H100-SXM") == pytest.approx(300.0)
    assert udfs.cdm_gpu_spec("H100-SXM", "tdp_w") == 700.0
    assert udfs.cdm_version() == udfs.package_version()


def test_one_evaluation_serves_many_cells() -> None:
    udfs.CACHE.clear()
    for name in ("net_tcv_usd", "npv_usd", "gpus", "usd_per_gpu_hour"):
        udfs.cdm_summary(DEAL, name)
    assert (udfs.CACHE.misses, udfs.CACHE.hits) == (1, 3)


@pytest.fixture(scope="module")
def classic() -> tuple[Any, str]:
    return load_classic("computedeal")


def test_classic_decorators_see_every_function_with_docs(classic: tuple[Any, str]) -> None:
    module, _ = classic
    funcs = {name: getattr(module, name) for name in dir(module) if hasattr(getattr(module, name), "__xlfunc__")}
    assert set(funcs) == set(udfs.UDFS)
    for name, f in funcs.items():
        meta = f.__xlfunc__
        assert meta["category"] == "Compute Deal"
        assert meta["ret"]["doc"] and not meta["ret"]["doc"].startswith("Python function")
        for arg in meta["args"]:
            assert not arg["doc"].startswith("Positional argument"), f"{name}({arg['name']}) has no doc="
            assert "convert" not in arg["options"], f"{name}({arg['name']}): a type hint would become a converter"
        assert "convert" not in meta["ret"]["options"]
    assert funcs["CDM_SCHEDULE"].__xlfunc__["args"][0]["options"] == {"ndim": 2}
    assert callable(module.main)


def test_vba_wrappers_match_the_golden_file(classic: tuple[Any, str]) -> None:
    _, vba = classic
    if os.environ.get("CDM_UPDATE_GOLDEN"):
        GOLDEN.write_text(vba)
    assert vba == GOLDEN.read_text(), (
        "UDF signatures changed: review, then run CDM_UPDATE_GOLDEN=1 pytest tests/addin/test_udfs.py"
    )


def test_cdm_table_equals_single_runs_and_is_cached() -> None:
    from addin.excel.udfs import _TABLE_CACHE

    rows, cols = [[60.0], [80.0], [100.0]], [[0.0, 50.0, 100.0]]  # a column and a row of cells, as xlwings passes them
    _TABLE_CACHE.clear()
    grid = udfs.cdm_table(DEAL, "usd_per_used_gpu_hour", "utilization_pct", rows, "take_or_pay_min_pct", cols)
    assert isinstance(grid, np.ndarray) and grid.shape == (3, 3)
    for i, u in enumerate((60.0, 80.0, 100.0)):
        for j, top in enumerate((0.0, 50.0, 100.0)):
            single = evaluate({**RAW, "utilization_pct": u, "take_or_pay_min_pct": top})["usd_per_used_gpu_hour"][0]
            assert grid[i, j] == pytest.approx(single, rel=1e-12)
    # take-or-pay: at a 100% minimum the fee is fixed, so $/used GPU-hour at 60% use = the 100% figure / 0.6
    assert grid[0, 2] == pytest.approx(grid[2, 2] / 0.6, rel=1e-12)
    again = udfs.cdm_table(DEAL, "usd_per_used_gpu_hour", "utilization_pct", rows, "take_or_pay_min_pct", cols)
    assert again is grid and len(_TABLE_CACHE) == 1  # recalculation does not rerun it


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("npv_usd", "gpu_sku", [[1.0]], "discount_rate_pct", [[8.0]]), "row_input: 'gpu_sku' is not a numeric input"),
        (("npv_usd", "utilization_pct", [["high"]], "discount_rate_pct", [[8.0]]),
         "row_input: every value of utilization_pct must be a number, got 'high'"),
        (("npv_usd", "utilization_pct", [[None]], "discount_rate_pct", [[8.0]]),
         "row_input: give the values of utilization_pct in a row or column of cells"),
        (("npv_usd", "utilization_pct", [[50.0]], "utilization_pct", [[8.0]]), "two different inputs, got utilization_pct twice"),
        (("npv", "utilization_pct", [[50.0]], "discount_rate_pct", [[8.0]]), "output must be one of"),
        (("npv_usd", "utilization_pct", [[150.0]], "discount_rate_pct", [[8.0]]), "utilization_pct"),
        (("npv_usd", "utilization_pct", [[float(v)] for v in range(1, 402)], "discount_rate_pct", [list(range(250))]),
         "a table is at most 100,000 cells, got 401 x 250"),
    ],
)  # fmt: skip
def test_cdm_table_errors_are_cell_text(args: tuple[Any, ...], expected: str) -> None:
    out = udfs.cdm_table(DEAL, *args)
    assert isinstance(out, str) and out.startswith("CDM error: ") and expected in out, out


def test_valuation_date_and_obligations_by_name() -> None:
    # blank valuation date: 1 May 2026 (serial 46143); payments May 2026-Apr 2027 (two ramp months at half) in year one
    assert udfs.cdm_summary(DEAL, "valuation_date") == 46143.0
    assert udfs.cdm_summary(DEAL, "obligations_within_1_year_usd") == 10 * 1.25e9 + 2 * 0.625e9
    assert udfs.cdm_summary(DEAL, "obligations_years_1_to_3_usd") == 24 * 1.25e9
    assert udfs.cdm_summary(DEAL, "obligations_years_3_to_5_usd") == 1.25e9  # May 2029, the 37th month
    firm = evaluate(RAW).record(0)["firm_commitment_usd"]
    assert udfs.cdm_summary(DEAL, "firm_obligations_within_1_year_usd") == pytest.approx(firm)
    # a valuation date typed as a date cell (an Excel serial): 1 May 2025 moves the NPV by exactly 1.09^-1
    later = [*DEAL[:-1], ["valuation_date", 45778.0], [None, None]]
    assert udfs.cdm_npv(later) == pytest.approx(udfs.cdm_npv(DEAL) / 1.09, rel=1e-12)
    assert udfs.cdm_summary([*DEAL[:-1], ["valuation_date", "soon"]], "npv_usd").startswith(
        "CDM error: valuation_date must be a date"
    )


def _with(row: str, value: object) -> list[list[object]]:
    """DEAL with ``row``'s value replaced, as a new range (Excel hands each call its own)."""
    return [[name, value if name == row else v] for name, v in DEAL]


@pytest.mark.parametrize(("good", "bad"), [(3.0, True), (0.0, False), (1.0, True)])
def test_a_cell_typed_true_or_false_is_not_the_number_it_equals(good: float, bad: bool) -> None:
    """TRUE == 1 and FALSE == 0 in Python, so a cache comparing cells by value alone would show the figures of the
    number for a cell holding TRUE (or the error of TRUE for the number): in either order each range gets its own."""
    figure = udfs.cdm_summary(_with("lockin_months", good), "net_tcv_usd")
    assert isinstance(figure, float)
    for first, second in ((good, bad), (bad, good), (bad, good)):
        udfs.CACHE.clear()
        udfs.cdm_summary(_with("lockin_months", first), "net_tcv_usd")
        shown = udfs.cdm_summary(_with("lockin_months", second), "net_tcv_usd")
        if second is bad:
            assert shown == f"CDM error: lockin_months must be a number, got {bad}"
        else:
            assert shown == figure


def test_the_formulas_blank_is_not_the_text_empty() -> None:
    """The ``formulas`` package reads a blank cell as a str subclass equal to "empty": a deal name typed "empty"
    and a blank deal name are two ranges (a blank name is an error), whichever comes first."""

    class Token(str):  # the formulas package's EMPTY: is_empty_cell knows it by this name
        pass

    typed, blank = _with("deal_name", "empty"), _with("deal_name", Token("empty"))
    assert blank == typed
    for order in ((typed, blank), (blank, typed)):
        udfs.CACHE.clear()
        shown = [udfs.cdm_summary(block, "deal_name") for block in order]
        assert ("empty" in shown) and any(str(s).startswith("CDM error: deal_name") for s in shown), shown


def test_a_range_changed_in_place_is_read_again() -> None:
    """The cache keeps its own copy of the cells it has seen: a caller changing its list between two calls gets the
    new deal's figures, not the old ones."""
    udfs.CACHE.clear()
    block = _with("monthly_fee_usd", 1.25e9)
    before = udfs.cdm_summary(block, "net_tcv_usd")
    next(row for row in block if row[0] == "monthly_fee_usd")[1] = 2.5e9
    assert udfs.cdm_summary(block, "net_tcv_usd") == pytest.approx(2 * before)


def test_ranges_taking_turns_each_keep_their_figures() -> None:
    """Four deals read in turn (a comparison workbook): each cell gets its own deal's figure, the parse runs once a
    deal, and a fifth deal pushes the oldest out of the cells compared first (it is then found by its digest)."""
    udfs.CACHE.clear()
    fees = [1.0e9, 1.1e9, 1.2e9, 1.3e9, 1.4e9]
    blocks = [_with("monthly_fee_usd", fee) for fee in fees]
    want = [udfs.cdm_summary(b, "net_tcv_usd") for b in blocks]
    assert want == pytest.approx([want[0] * fee / fees[0] for fee in fees])
    for _ in range(3):
        for b, w in zip(blocks, want, strict=True):
            assert udfs.cdm_summary([list(row) for row in b], "net_tcv_usd") == w
    assert udfs.CACHE.misses == len(fees)


_CELL_VALUES = [0.0, 1.0, 3.0, -0.0, True, False, None, "", "empty", "x", "2026-05", 46143.0, 46143, 1, 0]


def test_the_cache_is_never_seen_in_a_cell() -> None:
    """Hypothesis, derandomized: ranges of the test deal with a few cells changed to values that equal each other
    across types (0, 0.0, -0.0, FALSE; 1, 1.0, TRUE; "", blank; a serial as float or int), read in random order
    with the cache kept, give each cell what a cold cache gives it."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    rows = [name for name, _ in DEAL if name is not None]
    changes = st.lists(st.tuples(st.sampled_from(rows), st.sampled_from(_CELL_VALUES)), max_size=3)
    figures = st.sampled_from(["net_tcv_usd", "npv_usd", "gpus", "deal_name", "start_month"])

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(st.lists(st.tuples(changes, figures), min_size=2, max_size=8))
    def check(calls: list[tuple[list[tuple[str, object]], str]]) -> None:
        udfs.CACHE.clear()
        blocks = [[[n, dict(change).get(n, v)] for n, v in DEAL] for change, _ in calls]
        warm = [udfs.cdm_summary(b, figure) for b, (_, figure) in zip(blocks, calls, strict=True)]
        cold = []
        for b, (_, figure) in zip(blocks, calls, strict=True):
            udfs.CACHE.clear()
            cold.append(udfs.cdm_summary([list(r) for r in b], figure))
        assert repr(warm) == repr(cold)

    check()


@pytest.mark.parametrize(
    "deal",
    [
        5.0,
        None,
        "abc",
        [],
        [[1]],
        [["deal_name", "x"], ["monthly_fee_usd"]],
        [["deal_name", np.array([1, 2])]],
        [["deal_name", [1]]],
        np.array([[1, 2, 3]]),
    ],
)
def test_a_range_of_the_wrong_shape_or_cells_is_a_message_twice(deal: object) -> None:
    """Not a two-column range, or cells no comparison can answer: the cell's message names the rule, the first time
    and the second (when the cache has seen the range), never an internal error."""
    udfs.CACHE.clear()
    shown = [udfs.cdm_summary(deal, "npv_usd") for _ in range(2)]
    assert shown[0] == shown[1] and shown[0].startswith("CDM error: ") and "internal error" not in shown[0]
    assert "two columns" in shown[0] or "deal_name must be text" in shown[0] or "not a known input" in shown[0]
