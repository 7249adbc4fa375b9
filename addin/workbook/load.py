"""Read a deal from any file a user gives: a TOML deal file or a deal workbook, chosen by the file's suffix.

The one place that knows both readers (``dealfile`` for TOML, ``dealbook`` for workbooks), so neither imports
the other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from addin.workbook.dealfile import BASE_CASE, DealFileError, DealSource, load_toml_deal, with_scenario


def _toml_loader(path: Path, scenario: str | None) -> DealSource:
    src = load_toml_deal(path)
    return with_scenario(src, scenario) if scenario is not None else src


def _workbook_loader(path: Path, scenario: str | None) -> DealSource:
    from addin.workbook.dealbook import load_workbook_deal  # openpyxl (~100 ms) only for a workbook

    return load_workbook_deal(path, scenario)


LOADERS: dict[str, Callable[[Path, str | None], DealSource]] = {
    ".toml": _toml_loader,
    ".xlsx": _workbook_loader,
    ".xlsm": _workbook_loader,
}
"""File suffix -> loader(path, scenario)."""


def load_deal(path: Path | str, scenario: str | None = None) -> DealSource:
    """Read a deal from a TOML file or a deal workbook."""
    p = Path(path)
    loader = LOADERS.get(p.suffix.lower())
    if loader is None:
        raise DealFileError(p, f"unknown file type {p.suffix or '(none)'}; expected one of {', '.join(sorted(LOADERS))}")
    return loader(p, scenario)


def load_scenarios(path: Path | str) -> list[DealSource]:
    """The deal's base case and each of its scenarios (a workbook's columns that change an input), in order."""
    p = Path(path)
    if p.suffix.lower() == ".toml":
        src = load_toml_deal(p)
        return [src, *(with_scenario(src, name) for name in src.scenarios if name.strip().lower() != BASE_CASE.lower())]
    if p.suffix.lower() in LOADERS:
        from addin.workbook.dealbook import load_workbook_scenarios

        return load_workbook_scenarios(p)
    return [load_deal(p)]
