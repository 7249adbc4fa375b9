"""Headless recalculation: every formula of a workbook, the CDM_ calls included, without Excel.

Uses the ``formulas`` package (pinned) with each ``CDM_`` function registered
under its Excel name, so a template is proved to compute the same values as
in Excel with the add-in. See ``reference/headless-recalc.md`` for what that
package does and does not do (array size comes from the stored range; no
``INDEX(x,0,c)``; no OFFSET/SEQUENCE): the templates avoid those.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from addin.excel.udfs import CACHE, ERROR_PREFIX, UDFS
from addin.workbook.cells import is_empty_cell, is_excel_error, write_cell
from engine.errors import CdmError

_KEY = re.compile(r"^'\[(?P<book>[^\]]+)\](?P<sheet>.+)'!(?P<ref>[A-Z]+\d+(?::[A-Z]+\d+)?)$")


class RecalcError(CdmError):
    """The workbook could not be evaluated at all."""


@dataclass
class Recalculated:
    """Values of every formula cell, by sheet (as the workbook spells it) and cell (``D6``)."""

    values: dict[tuple[str, str], Any] = field(default_factory=dict)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (sheet, cell, what is wrong)

    def get(self, sheet: str, cell: str) -> Any:
        return self.values.get((sheet, cell))


def _register() -> None:
    import formulas
    from formulas.functions import wrap_ranges_func

    functions = formulas.get_functions()
    for name, fn in UDFS.items():
        functions[name] = wrap_ranges_func(fn)


def _split(key: str) -> tuple[str, str] | None:
    m = _KEY.match(key)
    return (m.group("sheet"), m.group("ref")) if m else None


def _cells(ref: str) -> list[tuple[str, int, int]]:
    """A1 or A1:B2 -> every (cell, row offset, col offset)."""
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    min_col, min_row, max_col, max_row = range_boundaries(ref)
    return [
        (f"{get_column_letter(c)}{r}", r - min_row, c - min_col)
        for r in range(min_row, max_row + 1)
        for c in range(min_col, max_col + 1)
    ]


MAX_SHEET_CELLS = 2_000_000
"""The largest used range (rows x columns) recalc evaluates; the templates' sheets are under 50,000 cells."""


def recalculate(path: Path) -> Recalculated:
    """Evaluate every formula in the workbook at ``path``; collect values and error cells."""
    import formulas
    from openpyxl import load_workbook

    _register()
    CACHE.clear()
    formula_cells = _formula_cells(path)  # first: it refuses a sheet too large to evaluate
    sheet_names = {s.upper(): s for s in load_workbook(path, read_only=True).sheetnames}
    try:
        with contextlib.redirect_stderr(io.StringIO()), _quiet_progress():
            model = formulas.ExcelModel().loads(str(path)).finish()
            solution = model.calculate()
    except Exception as exc:  # formulas raises many kinds; the user needs one sentence, and the cell where it can be found
        bad = _unreadable_formula(path)
        if bad is not None:
            sheet, cell, text = bad
            raise RecalcError(f"{path}: {sheet}!{cell} holds a formula the headless engine cannot read: {text[:200]!r} "
                              "(fix or clear it, or recalculate in Excel)") from None  # fmt: skip
        detail = str(exc.args[0] % exc.args[1:]) if exc.args and isinstance(exc.args[0], str) and "%" in exc.args[0] else exc
        raise RecalcError(f"{path}: the formulas could not be evaluated: {type(exc).__name__}: {detail}") from None
    out = Recalculated()
    for key, ranges in solution.items():
        parts = _split(str(key))
        if parts is None:
            continue
        sheet_upper, ref = parts
        sheet = sheet_names.get(sheet_upper.upper(), sheet_upper)
        value = np.asarray(getattr(ranges, "value", ranges), dtype=object)
        for cell, r, c in _cells(ref):
            if (sheet, cell) not in formula_cells:
                continue
            v = value[r, c] if value.ndim == 2 and r < value.shape[0] and c < value.shape[1] else value.reshape(-1)[0]
            v = v.item() if isinstance(v, np.generic) else v
            if is_empty_cell(v):
                v = None
            out.values[(sheet, cell)] = v
    for sheet, cell in formula_cells:
        v = out.values.get((sheet, cell), "#NOT-EVALUATED")
        if (sheet, cell) not in out.values:
            out.errors.append((sheet, cell, "not evaluated"))
            continue
        err = is_excel_error(v)
        if err:
            out.errors.append((sheet, cell, err))
        elif isinstance(v, str) and v.startswith(ERROR_PREFIX):
            out.errors.append((sheet, cell, v))
    return out


def _unreadable_formula(path: Path) -> tuple[str, str, str] | None:
    """The first formula cell the ``formulas`` parser refuses (sheet, cell, formula), to name it in the message."""
    import formulas
    from openpyxl import load_workbook

    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                text = getattr(c.value, "text", c.value)
                if isinstance(text, str) and text.startswith("=") and (c.data_type == "f" or hasattr(c.value, "ref")):
                    try:
                        formulas.Parser().ast(text)
                    except Exception:  # the parser's refusal, whatever its type
                        return ws.title, c.coordinate, text
    return None


def _formula_cells(path: Path) -> set[tuple[str, str]]:
    """Every cell that holds a formula (array formulas: every cell of the array's range)."""
    from openpyxl import load_workbook
    from openpyxl.worksheet.formula import ArrayFormula

    wb = load_workbook(path)
    cells: set[tuple[str, str]] = set()
    for ws in wb.worksheets:
        size = ws.max_row * ws.max_column
        if size > MAX_SHEET_CELLS:  # the formulas package would build the whole used range: refuse before it does
            from openpyxl.utils import get_column_letter

            raise RecalcError(f"{path}: the sheet {ws.title!r} is used to {get_column_letter(ws.max_column)}{ws.max_row} "
                              f"({size:,} cells); cdm recalc evaluates sheets of at most {MAX_SHEET_CELLS:,} cells "
                              "(clear the far cells, or recalculate in Excel)")  # fmt: skip
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, ArrayFormula):
                    cells.update((ws.title, cell) for cell, _, _ in _cells(c.value.ref))
                elif isinstance(c.value, str) and c.value.startswith("=") and c.data_type == "f":
                    cells.add((ws.title, c.coordinate))
    return cells


@contextlib.contextmanager
def _quiet_progress() -> Any:
    """formulas draws tqdm progress bars on stderr; a CLI command should not."""
    old = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = old


def write_values(source: Path, result: Recalculated, target: Path) -> None:
    """A values-only copy of ``source``: every formula replaced by its computed value, formats kept.

    For colleagues without the add-in: the copy shows numbers, never #NAME?.
    """
    from openpyxl import load_workbook

    from addin.workbook.atomic import atomic_write

    wb = load_workbook(source)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                key = (ws.title, c.coordinate)
                if key in result.values:
                    write_cell(c, result.values[key])
    for name in list(wb.defined_names):
        if name == "_xlnm._FilterDatabase":
            del wb.defined_names[name]
    wb.calculation.fullCalcOnLoad = False
    with atomic_write(target) as tmp:
        wb.save(tmp)
