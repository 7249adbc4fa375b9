"""A workbook seen only through its defined names: one small interface, two backends.

Refresh and the deal reader use :class:`Book` and nothing else, so the same
code runs headless on an openpyxl workbook and live on an xlwings Book in
Excel. Nothing here addresses a cell like ``B7``: a name resolves to a sheet
and a range, and the name is the contract with the template.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook

from addin.workbook.cells import FORMULA_START, write_cell
from engine.errors import CdmError

_REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^!]+))!(\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)$")


INPUT_FILL_RGB, INPUT_FONT_RGB = "FFF2CC", "0000FF"
"""The input style of the templates (FAST: blue text on light yellow); addin.workbook.template uses the same colours."""
MAX_NAME_CELLS = 250_000
"""The most cells a defined name the model reads or writes may cover (the largest in the templates is far below)."""


class NameError_(CdmError):
    """A defined name the model needs is missing or points nowhere."""


def _check_size(name: str, rng: str) -> None:
    min_col, min_row, max_col, max_row = range_boundaries(rng)
    n = (max_col - min_col + 1) * (max_row - min_row + 1)
    if n > MAX_NAME_CELLS:
        raise NameError_(f"the defined name {name!r} covers {n:,} cells ({rng}); the model's ranges are at most "
                         f"{MAX_NAME_CELLS:,} cells: point it back at its own range (Formulas > Name Manager)")  # fmt: skip


def split_ref(ref: str) -> tuple[str, str]:
    """``'My Sheet'!$A$1:$B$2`` -> (``My Sheet``, ``A1:B2``)."""
    m = _REF.match(ref.strip().lstrip("="))
    if not m:
        raise NameError_(f"the reference {ref!r} is not a single sheet range")
    sheet = (m.group(1) or "").replace("''", "'") or (m.group(2) or "")
    return sheet, m.group(3).replace("$", "")


class Book(Protocol):
    """What refresh and the reader need from a workbook."""

    def has_name(self, name: str) -> bool: ...

    def address(self, name: str) -> tuple[str, str]:
        """(sheet, ``A1:B2``) of a defined name."""
        ...

    def read(self, name: str) -> list[list[Any]]:
        """The values of a named range, as rows."""
        ...

    def write(self, name: str, rows: list[list[Any]]) -> None:
        """Write values into a named range (text is always text, never a formula)."""
        ...


class OpenpyxlBook:
    """A workbook file opened with openpyxl (formulas are read as their text)."""

    def __init__(self, wb: Workbook):
        self.wb = wb

    def has_name(self, name: str) -> bool:
        return name in self.wb.defined_names

    def address(self, name: str) -> tuple[str, str]:
        dn = self.wb.defined_names.get(name)
        if dn is None:
            raise NameError_(f"the defined name {name!r} is missing (was a sheet or name deleted or renamed?)")
        if "#REF!" in (dn.attr_text or ""):
            raise NameError_(
                f"the defined name {name!r} points to a deleted cell or sheet (#REF!): restore it or rebuild with cdm new"
            )
        sheet, rng = split_ref(dn.attr_text)
        if sheet not in self.wb.sheetnames:
            raise NameError_(f"the defined name {name!r} points to the sheet {sheet!r}, which does not exist")
        _check_size(name, rng)
        return sheet, rng

    def number_format(self, sheet: str, cell: str) -> str:
        """The number format of one cell (``General`` for a cell never styled)."""
        ws = self.wb[sheet]
        from openpyxl.utils.cell import coordinate_to_tuple

        found = ws._cells.get(coordinate_to_tuple(cell))  # an empty, unstyled cell is not created just to be looked at
        return str(found.number_format) if found is not None else "General"

    def merged_cells(self, name: str) -> list[tuple[str, str]]:
        """(cell, merged range) for every cell of the name that a merge has swallowed (its value is lost)."""
        from openpyxl.cell.cell import MergedCell

        sheet, rng = self.address(name)
        ws = self.wb[sheet]
        min_col, min_row, max_col, max_row = range_boundaries(rng)
        out = []
        for r in range(min_row, max_row + 1):
            for c in range(min_col, max_col + 1):
                cell = ws.cell(r, c)
                if isinstance(cell, MergedCell):
                    merged = next((str(m) for m in ws.merged_cells.ranges if cell.coordinate in m), "a merged range")
                    out.append((f"{sheet}!{cell.coordinate}", merged))
        return out

    def styled_as_input(self, sheet: str, cells: list[tuple[int, int]]) -> tuple[int, int] | None:
        """The first of ``cells`` (row, column) styled as an input: blue text on the input fill."""
        ws = self.wb[sheet]
        for r, c in cells:
            cell = ws._cells.get((r, c))  # an empty, unstyled cell is not created just to be looked at
            if cell is None:
                continue
            fill = str(getattr(cell.fill.fgColor, "rgb", "") or "").upper()
            font = str(getattr(getattr(cell.font, "color", None), "rgb", "") or "").upper()
            if cell.fill.fill_type == "solid" and fill.endswith(INPUT_FILL_RGB) and font.endswith(INPUT_FONT_RGB):
                return r, c
        return None

    def protected_sheet(self, name: str) -> str | None:
        """The sheet of ``name`` if it is protected (Excel would refuse to write there)."""
        sheet, _ = self.address(name)
        return sheet if self.wb[sheet].protection.sheet else None

    def read(self, name: str) -> list[list[Any]]:
        sheet, rng = self.address(name)
        ws = self.wb[sheet]
        min_col, min_row, max_col, max_row = range_boundaries(rng)
        return [[ws.cell(r, c).value for c in range(min_col, max_col + 1)] for r in range(min_row, max_row + 1)]

    def write(self, name: str, rows: list[list[Any]]) -> None:
        sheet, rng = self.address(name)
        ws = self.wb[sheet]
        min_col, min_row, max_col, max_row = range_boundaries(rng)
        for i, r in enumerate(range(min_row, max_row + 1)):
            for j, c in enumerate(range(min_col, max_col + 1)):
                value = rows[i][j] if i < len(rows) and j < len(rows[i]) else None
                write_cell(ws.cell(r, c), value)  # never a formula, even when it starts with =, +, - or @


class XlwingsBook:
    """A live workbook in Excel through xlwings (kept tiny: names in, values out)."""

    def __init__(self, book: Any):
        self.book = book

    def _name(self, name: str) -> Any:
        for n in self.book.names:
            if n.name == name:
                return n
        raise NameError_(f"the defined name {name!r} is missing (was a sheet or name deleted or renamed?)")

    def has_name(self, name: str) -> bool:
        return any(n.name == name for n in self.book.names)

    def address(self, name: str) -> tuple[str, str]:
        sheet, rng = split_ref(self._name(name).refers_to)
        _check_size(name, rng)
        return sheet, rng

    def number_format(self, sheet: str, cell: str) -> str:
        return str(self.book.sheets[sheet].range(cell).number_format or "General")

    def read(self, name: str) -> list[list[Any]]:
        values = self._name(name).refers_to_range.options(ndim=2).value
        return [list(row) for row in values]

    def write(self, name: str, rows: list[list[Any]]) -> None:
        rng = self._name(name).refers_to_range
        n_rows, n_cols = rng.shape
        grid = [
            [_as_text(rows[i][j]) if i < len(rows) and j < len(rows[i]) else None for j in range(n_cols)] for i in range(n_rows)
        ]
        rng.value = grid


def is_percent_format(fmt: str) -> bool:
    """A number format that shows a fraction as a percentage (``0.0%``); a quoted or escaped ``%`` is text, not one."""
    plain = re.sub(r'"[^"]*"|\\.', "", fmt or "")
    return "%" in plain


def _as_text(value: Any) -> Any:
    """Excel turns typed text starting with = into a formula; a leading apostrophe keeps it text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
