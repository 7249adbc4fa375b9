"""Cached values: every formula cell of a written workbook carries the value it computes, so the file opens with its
numbers in any spreadsheet (Excel without the add-in, Excel on the web or on a Mac, LibreOffice, Numbers, a viewer).

openpyxl writes a formula with an empty value and cannot write both, so the values ``cdm recalc`` computes are
put into the saved file's sheet XML afterwards: ``<v>`` in each formula cell and in each cell an array formula
fills, typed as Excel types them (a number; ``t="str"`` text; ``t="b"`` a boolean; ``t="e"`` an error). The
workbook then asks for no full recalculation on load and carries a current ``calcId``, so a spreadsheet shows the
stored values; Excel with the add-in recomputes a CDM_ cell as soon as one of its inputs changes.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from addin.excel.recalc import Recalculated, recalculate
from addin.workbook.cells import is_excel_error

CALC_ID = "191029"
"""The calcId Excel 2019 and Microsoft 365 write: a file stamped older is recalculated in full when Excel opens it."""

_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_TYPE = re.compile(rb'\s+t="[^"]*"')
_VALUE = re.compile(rb"<v\s*/>|<v>.*?</v>", re.S)
_SHEET = re.compile(rb'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"')
_REL = re.compile(
    rb'<Relationship\b[^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"|<Relationship\b[^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"'
)


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name (as the workbook spells it) -> its XML part in the zip."""
    from html import unescape

    rels: dict[bytes, bytes] = {}
    for m in _REL.finditer(z.read("xl/_rels/workbook.xml.rels")):
        rid, target = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        rels[rid] = target
    out = {}
    for m in _SHEET.finditer(z.read("xl/workbook.xml")):
        target = rels.get(m.group(2), b"").decode()
        part = target.lstrip("/") if target.startswith("/") else "xl/" + target
        out[unescape(m.group(1).decode())] = part
    return out


def _encode(value: Any) -> tuple[bytes, bytes] | None:
    """(type attribute, <v> text) of a computed value; None for a blank result (no cached value)."""
    if value is None:
        return None
    err = is_excel_error(value)
    if err is not None:
        return b' t="e"', err.encode()
    if isinstance(value, bool):
        return b' t="b"', b"1" if value else b"0"
    if isinstance(value, (int, float)):
        if not math.isfinite(float(value)):
            return b' t="e"', b"#NUM!"
        # 15 significant digits, Excel's precision: the last bits of a computed float may differ between builds of
        # numpy and the C library, and a stored workbook should not; a whole number as Excel writes it (1, not 1.0),
        # whichever evaluator computed it
        f = float(f"{value:.15g}")
        return b"", (str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)).encode()
    return b' t="str"', escape(str(value)).encode("utf-8")


def _fill_sheet(xml: bytes, values: dict[str, Any]) -> bytes:
    def cell(m: re.Match[bytes]) -> bytes:
        ref = m.group(1).decode()
        if ref not in values:
            return m.group(0)
        inner = m.group(3) or b""
        attrs = _TYPE.sub(b"", m.group(2))
        coded = _encode(values[ref])
        inner = _VALUE.sub(b"", inner)
        if coded is None:
            return (
                b'<c r="' + m.group(1) + b'"' + attrs + b">" + inner + b"</c>"
                if inner
                else b'<c r="' + m.group(1) + b'"' + attrs + b"/>"
            )
        kind, text = coded
        return b'<c r="' + m.group(1) + b'"' + attrs + kind + b">" + inner + b"<v>" + text + b"</v></c>"

    return _CELL.sub(cell, xml)


def _calc_props(xml: bytes) -> bytes:
    """No full calculation on load, and a current calcId: spreadsheets show the stored values."""

    def fix(m: re.Match[bytes]) -> bytes:
        tag = re.sub(rb'\s+fullCalcOnLoad="[^"]*"', b"", m.group(0))
        return re.sub(rb'calcId="[^"]*"', b'calcId="' + CALC_ID.encode() + b'"', tag)

    return re.sub(rb"<calcPr\b[^>]*/?>", fix, xml)


def store_values(path: Path, result: Recalculated) -> None:
    """Write ``result``'s values into the formula cells of the workbook file at ``path`` (rewritten in place)."""
    by_sheet: dict[str, dict[str, Any]] = {}
    for (sheet, ref), value in result.values.items():
        by_sheet.setdefault(sheet, {})[ref] = value
    with zipfile.ZipFile(path) as z:
        parts = _sheet_parts(z)
        entries = [(info, z.read(info.filename)) for info in z.infolist()]
    targets = {parts[s]: v for s, v in by_sheet.items() if s in parts}
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".cache", delete=False) as fh:
        scratch = Path(fh.name)
    try:
        with zipfile.ZipFile(scratch, "w", zipfile.ZIP_DEFLATED) as out:
            for info, data in entries:
                if info.filename in targets:
                    out.writestr(info, _fill_sheet(data, targets[info.filename]))
                elif info.filename == "xl/workbook.xml":
                    out.writestr(info, _calc_props(data))
                else:
                    out.writestr(info, data)
        shutil.move(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)


def cache_values(path: Path, suffix: str = ".xlsx") -> Recalculated:
    """Recalculate the workbook at ``path`` (any file name: a temp file of an atomic write) and store every formula's
    value in it; the recalculation is returned (its ``errors`` list the cells that compute to an error)."""
    with tempfile.TemporaryDirectory(prefix="cdm-cache-") as d:
        copy = Path(d) / f"book{suffix}"
        shutil.copyfile(path, copy)
        result = recalculate(copy)
    store_values(path, result)
    return result
