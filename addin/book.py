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

from addin.cells import FORMULA_START, write_cell
from engine.errors import CdmError

_REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^!]+))!(\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)$")


class NameError_(CdmError):
    """A defined name the model needs is missing or points nowhere."""


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
        return sheet, rng

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
        return split_ref(self._name(name).refers_to)

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


def _as_text(value: Any) -> Any:
    """Excel turns typed text starting with = into a formula; a leading apostrophe keeps it text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
