"""Every numeric input works as a data-table axis (issue 12.1: notice_days crashed every table)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from engine import InputError, build_schedule, build_terms, summarize
from engine.fields import FIELDS
from engine.risk import data_table

ROOT = Path(__file__).resolve().parents[2]
RAW = tomllib.loads((ROOT / "workbooks" / "deals" / "google_spacex.toml").read_text())
for key in ("scenarios", "risk", "sources"):
    RAW.pop(key, None)
NUMERIC = [f for f in FIELDS if f.kind in ("number", "integer") and f.batch]


def _candidates(f: object) -> list[float]:
    lo = getattr(f, "minimum", None)
    hi = getattr(f, "maximum", None)
    base = RAW.get(f.name)  # type: ignore[attr-defined]
    values = [0.0, 1.0, 2.0, 3.0, 12.0, 31.0, 50.0, 90.0, 1.2, 1e6, 9e8]
    if isinstance(base, (int, float)):
        values = [float(base), *values]
    if lo is not None:
        values.append(float(lo) + (1.0 if getattr(f, "min_exclusive", False) else 0.0))
    if hi is not None:
        values.append(float(hi))
    return list(dict.fromkeys(values))


def _scalar(raw: dict[str, object], output: str) -> float | None:
    try:
        return float(summarize(build_schedule(build_terms(raw)))[output][0])
    except InputError:
        return None


@pytest.mark.parametrize("f", NUMERIC, ids=[f.name for f in NUMERIC])
@pytest.mark.parametrize("output", ["firm_commitment_usd", "npv_usd", "usd_per_gpu_hour"])
def test_every_numeric_input_is_a_table_axis(f: object, output: str) -> None:
    name = f.name  # type: ignore[attr-defined]
    legal = [v for v in _candidates(f) if _scalar({**RAW, name: v}, output) is not None][:3]
    assert len(legal) >= 2, f"{name}: fewer than two legal values to tabulate"
    other = "utilization_pct" if name != "utilization_pct" else "discount_rate_pct"
    cols = np.array([80.0, 95.0])
    for axes in ((name, other), (other, name)):  # the input down the rows, then across the columns
        rows_f, cols_f = axes
        rv, cv = (np.array(legal), cols) if rows_f == name else (cols, np.array(legal))
        grid = data_table(build_terms(RAW), output, row_field=rows_f, row_values=rv, col_field=cols_f, col_values=cv)
        assert grid.shape == (rv.size, cv.size)
        for i, r in enumerate(rv):
            for j, c in enumerate(cv):
                expected = _scalar({**RAW, rows_f: float(r), cols_f: float(c)}, output)
                assert expected is not None
                assert grid[i, j] == pytest.approx(expected, rel=1e-12, abs=1e-6), (rows_f, r, cols_f, c)
