"""Headless recalculation: every formula of a workbook, the CDM_ calls included, without Excel.

The workbook is read once; its formulas are evaluated by our own compiled evaluator (``addin.excel.evaluator``:
the functions the templates write, Excel's rules), the ``CDM_`` functions called as Excel calls them. A workbook
with a formula outside what it reads (another function, a circular reference...) is evaluated instead by the
``formulas`` package (pinned), with each ``CDM_`` function registered under its Excel name: slower, broader, and
the independent reference the tests hold the evaluator to. That package takes an array's size from its stored
range and has no ``INDEX(x,0,c)``, OFFSET or SEQUENCE: the templates avoid those.
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
    engine: str = "formulas"  # which evaluated it: "cdm" (our evaluator) or "formulas"
    book: Any = field(default=None, repr=False, compare=False)  # the workbook as read (openpyxl), for write_values

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


ENGINES = ("auto", "cdm", "formulas")


def recalculate(path: Path, engine: str = "auto", book: Any = None) -> Recalculated:
    """Evaluate every formula in the workbook at ``path``; collect values and error cells.

    ``engine``: ``auto`` (our evaluator, the ``formulas`` package for a workbook it does not read), ``cdm`` (ours
    only: RecalcError naming what it does not read) or ``formulas`` (that package only). ``book``: the workbook
    already read from ``path`` with openpyxl (formulas, not values), so it is not read again.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine != "formulas":
        from addin.excel.xlfunctions import Unsupported

        try:
            return _recalculate_here(path, book)
        except Unsupported as exc:
            if engine == "cdm":
                raise RecalcError(f"{path}: {exc}") from None
        except (RecalcError, MemoryError):
            raise
        except Exception:  # a fault of ours on an odd workbook: the broader engine answers instead
            if engine == "cdm":
                raise
    return _recalculate_formulas(path)


def _recalculate_here(path: Path, book: Any = None) -> Recalculated:
    """Our evaluator: the workbook read once, every formula compiled and evaluated in dependency order."""
    with paused_gc():
        return _evaluate_here(path, book)


@contextlib.contextmanager
def paused_gc(freeze: bool = False) -> Any:
    """The cyclic garbage collector paused: reading a workbook and compiling its formulas make some 100,000 objects
    that live until the end, which it would otherwise walk over and over (measured: two thirds of compiling).
    ``freeze`` (a command about to exit): what exists then is never walked again, so the collector's first run
    afterwards does not walk the workbook (0.19 s measured)."""
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was:
            gc.enable()


def _evaluate_here(path: Path, wb: Any) -> Recalculated:
    import datetime as dt

    from openpyxl import load_workbook
    from openpyxl.utils.cell import range_boundaries
    from openpyxl.worksheet.formula import ArrayFormula

    from addin.excel.evaluator import Book, Parser
    from addin.excel.xlfunctions import Unsupported, XlError, err, serial

    CACHE.clear()
    wb = load_workbook(path) if wb is None else wb
    sheets = {ws.title.upper(): ws.title for ws in wb.worksheets}
    names: dict[str, Any] = {}
    for name, dn in wb.defined_names.items():
        if not name.startswith("_xlnm.") and dn.attr_text:
            with contextlib.suppress(Unsupported):  # a name no formula reads may be anything
                names[name.upper()] = Parser(sheets, {}, "").parse("=" + dn.attr_text)
    book = Book(UDFS)
    formula_cells: list[tuple[str, str, int, int]] = []
    for ws in wb.worksheets:
        _check_size(path, ws)
        local = dict(names)
        for name, dn in ws.defined_names.items():
            with contextlib.suppress(Unsupported):
                local[name.upper()] = Parser(sheets, {}, ws.title).parse("=" + dn.attr_text)
        parser = Parser(sheets, {k: v for k, v in local.items() if v[0] == "ref"}, ws.title)
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if v is None:
                    continue
                key = (ws.title, c.row, c.column)
                if isinstance(v, ArrayFormula):
                    c1, r1, c2, r2 = range_boundaries(v.ref)
                    if (r1, c1) != (c.row, c.column):
                        raise Unsupported(f"array formula {v.ref} not anchored at {c.coordinate}")
                    book.add_formula(key, parser.parse(v.text or ""), (r2 - r1 + 1, c2 - c1 + 1))
                    formula_cells.extend((ws.title, cell, r1 + dr, c1 + dc) for cell, dr, dc in _cells(v.ref))
                elif isinstance(v, str) and v.startswith("=") and c.data_type == "f":
                    book.add_formula(key, parser.parse(v), None)
                    formula_cells.append((ws.title, c.coordinate, c.row, c.column))
                elif c.data_type == "e":  # an error typed or stored as a cell's value: an error, not text
                    book.values[key] = err(str(v).strip().upper())
                elif isinstance(v, (dt.datetime, dt.date)):
                    book.values[key] = serial(v)
                elif isinstance(v, dt.time):  # a time of day: its fraction of a day
                    book.values[key] = (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400.0
                elif isinstance(v, dt.timedelta):
                    book.values[key] = v.total_seconds() / 86400.0
                elif isinstance(v, (str, bool, int, float)):
                    book.values[key] = v
                else:
                    raise Unsupported(f"{ws.title}!{c.coordinate} holds a {type(v).__name__}")
    with np.errstate(all="ignore"):
        book.evaluate()
    out = Recalculated(engine="cdm", book=wb)
    for sheet, cell, r, col in formula_cells:
        v = book.values.get((sheet, r, col))
        if isinstance(v, XlError):
            v = str(v)
        out.values[(sheet, cell)] = None if is_empty_cell(v) else v
    _collect_errors(out, {(s, cell) for s, cell, _, _ in formula_cells})
    return out


def _collect_errors(out: Recalculated, formula_cells: set[tuple[str, str]]) -> None:
    for sheet, cell in sorted(formula_cells):
        if (sheet, cell) not in out.values:
            out.errors.append((sheet, cell, "not evaluated"))
            continue
        v = out.values[(sheet, cell)]
        bad = is_excel_error(v)
        if bad:
            out.errors.append((sheet, cell, bad))
        elif isinstance(v, str) and v.startswith(ERROR_PREFIX):
            out.errors.append((sheet, cell, v))


def _check_size(path: Path, ws: Any) -> None:
    size = ws.max_row * ws.max_column
    if size > MAX_SHEET_CELLS:  # the formulas package would build the whole used range: refuse before it does
        from openpyxl.utils import get_column_letter

        raise RecalcError(f"{path}: the sheet {ws.title!r} is used to {get_column_letter(ws.max_column)}{ws.max_row} "
                          f"({size:,} cells); cdm recalc evaluates sheets of at most {MAX_SHEET_CELLS:,} cells "
                          "(clear the far cells, or recalculate in Excel)")  # fmt: skip


def _recalculate_formulas(path: Path) -> Recalculated:
    """The ``formulas`` package: every formula with the CDM_ functions registered."""
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
    _collect_errors(out, formula_cells)
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
        _check_size(path, ws)
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

    with paused_gc():
        _write_values(result.book if result.book is not None else load_workbook(source), result, target)


def _write_values(wb: Any, result: Recalculated, target: Path) -> None:
    from addin.workbook.atomic import atomic_write

    sheets = {ws.title: ws for ws in wb.worksheets}
    for (sheet, ref), value in result.values.items():  # the formula cells only, not every cell of every sheet
        if sheet in sheets:
            write_cell(sheets[sheet][ref], value)
    for name in list(wb.defined_names):
        if name == "_xlnm._FilterDatabase":
            del wb.defined_names[name]
    wb.calculation.fullCalcOnLoad = False
    with atomic_write(target) as tmp:
        wb.save(tmp)
