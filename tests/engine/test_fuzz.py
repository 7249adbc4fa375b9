"""Fuzzing: any value in any input is either refused with a message or gives finite figures."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addin import udfs
from addin.cells import cell_to_raw, pairs_to_raw
from engine import FIELDS, InputError, evaluate
from tests.strategies import valid_deals

ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e-300, max_value=1e-300),
    st.text(max_size=12),
    st.sampled_from(["#N/A", "#DIV/0!", "=1+1", "-", " ", "2026-05", "May 2026", "1e9", "H100-SXM", "advance"]),
    st.dates(),
    st.lists(st.integers(), max_size=3),
)
NUMERIC = [f for f in FIELDS if f.kind in ("number", "integer")]


def extreme_within_bounds(f: Any) -> st.SearchStrategy[float]:
    lo = f.minimum if f.minimum is not None else -1e6
    hi = f.maximum if f.maximum is not None else 1e6
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


@st.composite
def extreme_changes(draw: st.DrawFn) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(NUMERIC), min_size=1, max_size=5, unique_by=lambda f: f.name))
    return {f.name: draw(extreme_within_bounds(f)) for f in chosen}


def assert_finite_or_refused(raw: dict[str, Any]) -> None:
    try:
        s = evaluate(raw)
    except InputError as exc:
        assert exc.issues and all(i.message for i in exc.issues)
        return
    for name, v in s.values.items():
        assert np.isfinite(v).all(), name
    json.dumps(s.record(0), allow_nan=False)  # NaN or inf would raise here


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(valid_deals(), st.dictionaries(st.sampled_from([f.name for f in FIELDS]), ANYTHING, max_size=4))
def test_any_value_anywhere(raw: dict[str, Any], changes: dict[str, Any]) -> None:
    assert_finite_or_refused({**raw, **changes})


@FUZZ
@given(valid_deals(), extreme_changes())
def test_extreme_values_within_the_rules(raw: dict[str, Any], changes: dict[str, Any]) -> None:
    assert_finite_or_refused({**raw, **changes})


@FUZZ
@given(st.sampled_from([f.name for f in FIELDS] + ["fleet[1].gpu_count", "step_ups[2].from_month", "unknown"]), ANYTHING)
def test_cell_values_convert_or_refuse(name: str, value: Any) -> None:
    try:
        cell_to_raw(name, value)
    except InputError as exc:
        assert exc.issues[0].message


@FUZZ
@given(st.lists(st.tuples(st.one_of(st.sampled_from([f.name for f in FIELDS]), ANYTHING), ANYTHING), max_size=12))
def test_udf_blocks_never_raise(rows: list[tuple[Any, Any]]) -> None:
    block = [[k, v] for k, v in rows]
    for fn in (lambda: udfs.cdm_summary(block, "npv_usd"), lambda: udfs.cdm_schedule(block), lambda: udfs.cdm_check(block)):
        result = fn()
        if isinstance(result, str):
            assert result.startswith("CDM error: ") or result.startswith("OK"), result
    try:
        pairs_to_raw(rows)
    except InputError:
        pass
