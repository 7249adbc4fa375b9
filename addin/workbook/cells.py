"""Cell values -> raw vocabulary values, the same for every way a workbook is read.

Three readers meet here: xlwings (live Excel: ``None`` for blanks, ``datetime``
for dates), the ``formulas`` package (headless recalculation: an ``EMPTY``
token for blanks, ``XlError`` objects, dates as serial numbers) and openpyxl
(files: ``None``, ``datetime``, error text such as ``#N/A``). Each becomes a
plain Python value the engine validates; Excel errors become clear input
errors here, because the engine has no notion of them.

A deal block is a two-column range of (name, value) rows. Names are the
vocabulary (``pue``) or table cells (``fleet[2].gpu_count``).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from engine.errors import InputError, Issue
from engine.fields import FIELD_BY_NAME, TABLE_BY_NAME

EXCEL_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!")
EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # serial 1 = 1900-01-01, with Excel's 1900 leap-year quirk
TABLE_KEY = re.compile(r"^([a-z_]+)\[(\d+)\]\.([a-z_]+)$")
MIN_DATE_SERIAL, MAX_DATE_SERIAL = 1, 2_958_465  # 1900-01-01 .. 9999-12-31
NIL_MARK = "-"
"""Typed in a scenario cell, ``-`` blanks an input the base case has (a blank cell would inherit it)."""


def is_excel_error(value: object) -> str | None:
    """The Excel error text of a cell value (``#N/A``), or None."""
    text = str(value) if type(value).__name__ == "XlError" else value
    if isinstance(text, str) and text.strip().upper() in EXCEL_ERRORS:
        return text.strip().upper()
    return None


def is_empty_cell(value: object) -> bool:
    """A blank cell in any reader: None, empty text, or the formulas package's EMPTY token."""
    if value is None:
        return True
    if type(value).__name__ == "Token":  # formulas' EMPTY is a str subclass equal to "empty"
        return str(value) == "empty"
    return isinstance(value, str) and value.strip() == ""


def scalar(value: object) -> object:
    """Unwrap numpy scalars and 1x1 arrays to plain Python values."""
    if isinstance(value, np.ndarray):
        value = value.reshape(-1)[0] if value.size == 1 else value
    if isinstance(value, np.generic):
        return value.item()
    return value


def serial_to_date(serial: float) -> dt.date:
    """An Excel date serial (1900 date system) as a date."""
    return (EXCEL_EPOCH + dt.timedelta(days=float(serial))).date()


def date_to_serial(day: dt.date | np.datetime64) -> float:
    """A date as an Excel serial number (1900 date system)."""
    if isinstance(day, np.datetime64):
        day = dt.date.fromisoformat(str(day.astype("datetime64[D]")))
    return float((dt.datetime(day.year, day.month, day.day) - EXCEL_EPOCH).days)


def percent_to_whole(fraction: float) -> float:
    """0.85 (a percent-formatted cell) -> 85.0, rounded to 10 decimals so that 0.29 gives 29, not 28.999999999999996."""
    if not math.isfinite(fraction):
        return fraction
    return round(fraction * 100.0, 10)


def cell_to_raw(name: str, value: object) -> object:
    """One cell's value as the engine expects it for input ``name``.

    Blank -> None (the default applies); an Excel error -> InputError; a
    number in a month input -> the date of that serial (Excel stores dates as
    numbers); whole-number floats stay floats (the engine checks wholeness).
    """
    value = scalar(value)
    if is_empty_cell(value):
        return None
    err = is_excel_error(value)
    if err is not None:
        raise InputError(Issue(name, "excel_error", f"{name} holds the Excel error {err}; type a value or clear the cell", err))
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time(0) else value
    kind = _kind(name)
    if kind in ("month", "date") and isinstance(value, (int, float)) and not isinstance(value, bool):
        if not (MIN_DATE_SERIAL <= value <= MAX_DATE_SERIAL) or not math.isfinite(value):
            what = "a month (a date, or text like 2026-05)" if kind == "month" else "a date (or text like 2026-05-01)"
            raise InputError(Issue(name, "type", f"{name} must be {what}, got {value:g}", value))
        return serial_to_date(value)
    if isinstance(value, str):
        text = value.strip()
        return None if text == NIL_MARK else text
    return value


@functools.lru_cache(maxsize=4096)
def _kind(name: str) -> str:
    """The kind of input ``name`` (``month``, ``date``...; "" for a name the vocabulary does not know); a deal's
    names repeat on every recalculation, so each is looked up once."""
    m = _table_key(name)
    if m:
        table = TABLE_BY_NAME.get(m[0])
        col = next((c for c in table.columns if c.name == m[2]), None) if table else None
        return col.kind if col else ""
    f = FIELD_BY_NAME.get(name)
    return f.kind if f else ""


@functools.lru_cache(maxsize=4096)
def _table_key(name: str) -> tuple[str, int, str] | None:
    """``fleet[2].gpu_count`` -> ("fleet", 2, "gpu_count"); None for a name that is not a table cell."""
    m = TABLE_KEY.match(name)
    return (m.group(1), int(m.group(2)), m.group(3)) if m else None


def pairs_to_raw(pairs: Iterable[tuple[object, object]], problems: list[Issue] | None = None) -> dict[str, object]:
    """(name, value) rows -> a raw mapping for ``engine.build_terms``.

    Table cells (``fleet[2].gpu_count``) are gathered into lists of rows; a
    table row whose cells are all blank is dropped (the table simply has
    fewer rows). Rows with a blank name are ignored. Every cell error is
    collected so the caller sees all of them at once: raised as one
    InputError, or, when ``problems`` is given, appended to it (the bad cells
    are left out of the result, so the rest can still be validated).
    """
    raw: dict[str, object] = {}
    tables: dict[str, dict[int, dict[str, object]]] = {}
    issues: list[Issue] = []
    for raw_key, value in pairs:
        key = scalar(raw_key)
        if is_empty_cell(key):
            continue
        name = str(key).strip()
        if name == "sources" and isinstance(value, dict):
            raw["sources"] = value  # the Source column, not a cell value
            continue
        try:
            v = cell_to_raw(name, value)
        except InputError as exc:
            issues.extend(exc.issues)
            continue
        m = _table_key(name)
        if m:
            tables.setdefault(m[0], {}).setdefault(m[1], {})[m[2]] = v
        else:
            raw[name] = v
    if issues and problems is None:
        raise InputError(issues)
    if problems is not None:
        problems.extend(issues)
    for table, rows in tables.items():
        kept = [row for _, row in sorted(rows.items()) if any(v is not None for v in row.values())]
        raw[table] = [{k: v for k, v in row.items() if v is not None} for row in kept]
    return raw


def block_to_raw(block: Sequence[Sequence[object]] | np.ndarray) -> dict[str, object]:
    """A two-column (name, value) range as a raw mapping; see :func:`pairs_to_raw`."""
    if isinstance(block, list) and block and all(type(row) is list for row in block):  # Excel's range: read as is
        widths = set(map(len, block))
        if len(widths) == 1 and widths.pop() >= 2:
            return pairs_to_raw((row[0], row[1]) for row in block)
    arr = np.asarray(block, dtype=object)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise InputError(
            Issue("deal", "shape", f"the deal range must have two columns (name, value), got shape {arr.shape}", None)
        )
    return pairs_to_raw((row[0], row[1]) for row in arr)


def to_cell(value: Any) -> Any:
    """An engine value as something every Excel writer accepts (dates as serials, NaN as blank)."""
    if isinstance(value, np.datetime64):
        return date_to_serial(value)
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return f if math.isfinite(f) else ""
    if isinstance(value, np.integer):
        return int(value)
    return value


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|")
"""First characters a spreadsheet may read as the start of a formula or DDE command when the cell is edited or exported."""


def write_cell(cell: Any, value: Any) -> Any:
    """Write a value into an openpyxl cell: the one way every writer stores what a user supplied.

    Text is always stored as text (string data type), never as a formula, whatever it starts with. Text that looks
    like a formula also gets Excel's quote prefix (the ``'`` a user types), so it stays text when edited in Excel
    and when saved as CSV. Numpy scalars become Python numbers.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        value = "n/a"  # a figure with no value (a ratio over no hours); a cell never holds NaN, which Excel cannot read
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
    return cell
