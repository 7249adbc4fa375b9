"""Read a deal from a deal workbook (made from the template), through defined names only.

The base case comes from the Inputs cells named after the vocabulary; a
scenario's alternatives come from the Scenarios sheet, where a blank cell
means "same as the base case" (exactly what the sheet's formulas do). Every
value keeps its cell address, so an error reads ``Inputs!E12: pue must be
>= 1.0, got 0.8``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.exceptions import InvalidFileException

from addin.workbook.book import Book, NameError_, OpenpyxlBook, is_percent_format
from addin.workbook.cells import is_empty_cell, pairs_to_raw, percent_to_whole
from addin.workbook.dealfile import BASE_CASE, DealFileError, DealSource
from addin.workbook.safety import UnsafeFileError, check_workbook_file
from engine.errors import InputError, Issue
from engine.fields import FIELD_BY_NAME, FIELDS, TABLE_BY_NAME, TABLES, is_percent

SCENARIO_ALTERNATIVES = "cdm_scenario_alternatives"
ADDED_LATER = frozenset({
    "kw_per_gpu", "valuation_date", "fiscal_year_end_month", "delivery_status", "seller_maintenance_pct_per_year",
    "seller_staff_usd_per_gpu_year", "seller_insurance_pct_per_year", "seller_asset_vintage", "seller_build_lead_months",
    "sla_credit_cap_pct",
})  # fmt: skip
"""Inputs added after the first deal workbooks shipped: a workbook without the defined name reads them blank (the
default); a missing name of any other input is damage and is reported."""


def open_workbook(path: Path, keep: bool = False) -> Any:
    """Open a deal workbook with openpyxl after the safety checks; every failure is a DealFileError.

    Macros are never run (openpyxl does not execute VBA). ``keep`` (a workbook that will be saved back, as
    refresh does) carries its VBA project and external links through unchanged.
    """
    try:
        check_workbook_file(path)
    except UnsafeFileError as exc:
        raise DealFileError(path, str(exc).split(": ", 1)[1]) from None
    try:
        return load_workbook(path, data_only=False, keep_links=keep, keep_vba=keep)
    except (
        InvalidFileException,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        OSError,
    ) as exc:
        raise DealFileError(path, f"cannot be opened as a workbook ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # defusedxml refusals and parser errors come in many types
        from defusedxml import DefusedXmlException

        if isinstance(exc, DefusedXmlException):  # the second guard caught what the byte scan did not
            raise DealFileError(path, "declares a DTD or entities, which workbooks never do: entities are not allowed; "
                                      "refused") from None  # fmt: skip
        raise DealFileError(path, f"cannot be opened safely as a workbook ({type(exc).__name__}: {exc})") from None


def _cell_address(book: Book, name: str, row: int = 0, col: int = 0) -> str:
    sheet, rng = book.address(name)
    min_col, min_row, _, _ = range_boundaries(rng)
    from openpyxl.utils import get_column_letter

    return f"{sheet}!{get_column_letter(min_col + col)}{min_row + row}"


def read_deal(book: Book, scenario: str | None = None) -> tuple[dict[str, object], dict[str, str], str]:
    """Raw inputs of one scenario, the cell of each input, and the scenario's name.

    ``scenario`` None means the workbook's own switch (the ``scenario`` cell).
    Raises InputError (with ``.where``, the cell of every input) for cells the
    engine cannot read, such as Excel errors.
    """
    values, where, name = read_cells(book, scenario)
    try:
        raw = pairs_to_raw(values.items())
    except InputError as exc:
        exc.where = where  # type: ignore[attr-defined]
        raise
    return raw, where, name


def read_deal_lenient(book: Book, scenario: str | None = None) -> tuple[dict[str, object], dict[str, str], str, list[Any]]:
    """Like :func:`read_deal`, but unreadable cells are returned as issues instead of raised."""
    values, where, name = read_cells(book, scenario)
    problems: list[Any] = []
    merged = getattr(book, "merged_cells", None)
    if merged is not None:
        for f in FIELDS:
            if f.name in ADDED_LATER and not book.has_name(f.name):
                continue
            for cell, rng in merged(f.name):
                problems.append(Issue(f.name, "merged", f"{f.name}'s cell {cell} is inside the merged range {rng}: "
                                                        "unmerge it so the value can be read", rng))  # fmt: skip
                values.pop(f.name, None)
    raw = pairs_to_raw(values.items(), problems)
    return raw, where, name, problems


def read_cells(book: Book, scenario: str | None = None) -> tuple[dict[str, object], dict[str, str], str]:
    """The cell values of one scenario (before conversion), their addresses, and the scenario's name."""
    try:
        names_row = [str(v).strip() if not is_empty_cell(v) else "" for v in book.read("cdm_scenario_names")[0]]
        chosen = scenario if scenario is not None else str(book.read("scenario")[0][0] or BASE_CASE)
        keys = [row[0] for row in book.read("cdm_deal")]
        base: dict[str, Any] = {}
        where: dict[str, str] = {}
        for f in FIELDS:
            if f.name in ADDED_LATER and not book.has_name(f.name):  # a workbook made before the input existed
                base[f.name], where[f.name] = None, f"{f.name} (not in this workbook: blank)"
                continue
            base[f.name] = book.read(f.name)[0][0]
            where[f.name] = _cell_address(book, f.name)
        for table in TABLES:
            block = book.read(table.name)
            for i, row in enumerate(block, start=1):
                for j, col in enumerate(table.columns):
                    key = f"{table.name}[{i}].{col.name}"
                    base[key] = row[j] if j < len(row) else None
                    where[key] = _cell_address(book, table.name, i - 1, j)
                where.setdefault(f"{table.name}[{i}]", _cell_address(book, table.name, i - 1, 0))
            where[table.name] = _cell_address(book, table.name)
        alternatives = book.read(SCENARIO_ALTERNATIVES)
        sources = read_sources(book)
    except NameError_:
        raise
    lowered = [n.lower() for n in names_row]
    if chosen.strip().lower() not in lowered:
        known = ", ".join(n for n in names_row if n)
        raise InputError(_issue("scenario", f"scenario {chosen!r} is not one of the workbook's scenarios: {known}", chosen))
    idx = lowered.index(chosen.strip().lower())  # 0 = base case column
    values = dict(base)
    if idx > 0:
        for r, key in enumerate(keys):
            if is_empty_cell(key):
                continue
            alt = alternatives[r][idx - 1] if r < len(alternatives) and idx - 1 < len(alternatives[r]) else None
            if not is_empty_cell(alt):
                cell = _cell_address(book, SCENARIO_ALTERNATIVES, r, idx - 1)
                values[str(key)] = alt
                where[str(key)] = cell
                table = str(key).split("[", 1)[0]
                if table != str(key) and where.get(table, "").startswith(_cell_address(book, table).split("!")[0]):
                    where[table] = cell  # a table overridden by the scenario is located at its first changed cell
    if idx > 0 and is_empty_cell(values.get("valuation_date")) and not is_empty_cell(base.get("start_month")):
        values["valuation_date"] = base["start_month"]  # a scenario is valued on the base case's date
        where["valuation_date"] = _cell_address(book, "start_month")
    _percent_to_whole(book, values, where)
    if sources:
        values["sources"] = sources
    return values, where, names_row[idx]


def _percent_to_whole(book: Book, values: dict[str, Any], where: dict[str, str]) -> None:
    """A percentage typed in a percent-formatted cell is stored as a fraction (85% is 0.85): make it the engine's
    whole-number percent (85). A percentage in a General cell (older workbooks) is already a whole number."""
    number_format = getattr(book, "number_format", None)
    if number_format is None:
        return
    for key, value in values.items():
        f = _field_of(key)
        if f is None or not is_percent(f) or not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        sheet, _, cell = where.get(key, "").rpartition("!")
        if sheet and is_percent_format(number_format(sheet, cell)):
            values[key] = percent_to_whole(value)


def _field_of(key: str) -> Any:
    table, _, col = key.partition("[")
    if not col:
        return FIELD_BY_NAME.get(key)
    spec = TABLE_BY_NAME.get(table)
    return next((c for c in spec.columns if c.name == key.rsplit(".", 1)[-1]), None) if spec else None


def read_risk(book: Book) -> tuple[dict[str, object], dict[str, str]]:
    """The Risk sheet's rows -> the [risk] table of a TOML deal, and the cell of each driver."""
    if not book.has_name("cdm_risk"):
        return {}, {}
    from openpyxl.utils import get_column_letter

    sheet, rng = book.address("cdm_risk")
    c0, r0, _, _ = range_boundaries(rng)
    risk, rows = risk_from_rows(book.read("cdm_risk"))
    return risk, {key: f"{sheet}!{get_column_letter(c0 + 1)}{r0 + k}" for key, k in rows.items()}


def risk_from_rows(block: Any) -> tuple[dict[str, object], dict[str, int]]:
    """Risk rows (name, distribution, parameter 1, 2, 3) -> the [risk] table, and each driver's row (from 0)."""
    from engine.risk import DIST_PARAMS as params

    risk: dict[str, object] = {}
    rows: dict[str, int] = {}
    for k, row in enumerate(block):
        name, dist, *values = (None if is_empty_cell(v) else v for v in list(row) + [None] * (5 - len(row)))
        if name is None or (dist is None and all(v is None for v in values)):
            continue
        rows[f"risk.{name}"] = k
        if dist is None or str(dist).strip() == "fixed":
            risk[str(name)] = values[0] if dist is None else {"dist": "fixed", "value": values[0]}
            continue
        spec: dict[str, object] = {"dist": str(dist).strip()}
        for p, cell in zip(params.get(str(dist).strip(), ()), values):
            listed = (isinstance(cell, str) and "," in cell) or p in ("values", "probabilities")
            spec[p] = _number_list(cell) if listed else cell
        risk[str(name)] = spec
    return _nest_vendors(risk), rows


def _nest_vendors(risk: dict[str, object]) -> dict[str, object]:
    """Risk sheet rows named vendors.NAME.KEY -> the [risk.vendors."NAME"] tables of a portfolio TOML."""
    out: dict[str, object] = {}
    vendors: dict[str, dict[str, object]] = {}
    for name, value in risk.items():
        vendor, dot, key = name.removeprefix("vendors.").rpartition(".")
        if name.startswith("vendors.") and dot and vendor:
            vendors.setdefault(vendor, {})[key] = value
        else:
            out[name] = value
    if vendors:
        out["vendors"] = vendors
    return out


def _number_list(cell: object) -> object:
    """``"0, 1, 3"`` -> [0.0, 1.0, 3.0]; left as typed when it is not a list of numbers (the engine then says why)."""
    try:
        return [float(x) for x in str(cell).split(",") if x.strip()]
    except ValueError:
        return cell


def read_sources(book: Book) -> dict[str, str]:
    """Input name -> the text of its Source column on the Inputs sheet (absent in older workbooks)."""
    if not book.has_name("cdm_input_sources"):
        return {}
    out = {}
    for row in book.read("cdm_input_sources"):
        name, source = row[0], row[-1]
        if (
            isinstance(name, str)
            and (name in FIELD_BY_NAME or name in TABLE_BY_NAME)
            and isinstance(source, str)
            and source.strip()
        ):
            out[name] = source.strip()
    return out


def _issue(field: str, message: str, value: object) -> Any:
    from engine.errors import Issue

    return Issue(field, "scenario", message, value)


def load_workbook_deal(path: Path, scenario: str | None = None) -> DealSource:
    """A deal workbook as a DealSource: its own switch picks the scenario unless one is named."""
    wb = open_workbook(path)
    try:
        raw, where, name, problems = read_deal_lenient(OpenpyxlBook(wb), scenario)
    except NameError_ as exc:
        raise DealFileError(path, str(exc)) from None
    except InputError as exc:
        exc.source = DealSource(path=path, raw={}, locations=getattr(exc, "where", {}), kind="xlsx")  # type: ignore[attr-defined]
        raise
    risk, risk_where = read_risk(OpenpyxlBook(wb))
    return DealSource(path=path, raw=raw, locations={**where, **risk_where}, kind="xlsx", scenario=name, cell_issues=problems,
                      risk=risk)  # fmt: skip


def load_workbook_scenarios(path: Path) -> list[DealSource]:
    """The base case and every scenario column that changes an input, each as a DealSource (the file opened once)."""
    wb = open_workbook(path)
    book = OpenpyxlBook(wb)
    try:
        names = [str(v).strip() if not is_empty_cell(v) else "" for v in book.read("cdm_scenario_names")[0]]
        alternatives = book.read(SCENARIO_ALTERNATIVES)
    except NameError_ as exc:
        raise DealFileError(path, str(exc)) from None
    used = [BASE_CASE] + [n for j, n in enumerate(names[1:]) if n and any(
        j < len(row) and not is_empty_cell(row[j]) for row in alternatives)]  # fmt: skip
    out = []
    for name in used:
        try:
            raw, where, chosen, problems = read_deal_lenient(book, name)
        except InputError as exc:
            exc.source = DealSource(path=path, raw={}, locations=getattr(exc, "where", {}), kind="xlsx")  # type: ignore[attr-defined]
            raise
        out.append(DealSource(path=path, raw=raw, locations=where, kind="xlsx", scenario=chosen, cell_issues=problems))
    return out
