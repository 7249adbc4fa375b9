"""Read a deal from a file into raw vocabulary values, remembering where each came from.

A TOML deal file holds the vocabulary keys at its top level (tables only for
lists). Every value keeps a location (``deal.toml:12``) so that an error from
the engine, which names only the field, can be shown where the user typed it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import CdmError, InputError, Issue
from engine.terms import DealTerms, build_terms

MAX_DEAL_FILE_BYTES = 1_000_000


class DealFileError(CdmError):
    """The file itself cannot be read (missing, wrong format, not parseable)."""

    def __init__(self, path: Path | str, message: str):
        self.path = str(path)
        super().__init__(f"{path}: {message}")


@dataclass
class DealSource:
    """Raw inputs read from one file, and where each one is (``field -> location``)."""

    path: Path
    raw: dict[str, object]
    locations: dict[str, str] = field(default_factory=dict)
    kind: str = "toml"
    scenario: str | None = None
    scenarios: dict[str, dict[str, object]] = field(default_factory=dict)
    """Named alternatives: each maps inputs to the values that replace the base case's."""
    risk: dict[str, object] = field(default_factory=dict)
    """The Risk block: distributions of the simulation's drivers (engine.risk.build_risk)."""
    cell_issues: list[Issue] = field(default_factory=list)
    """Cells that could not be read at all (Excel errors); left out of ``raw``."""

    def terms(self) -> DealTerms:
        """Validated terms; raises one InputError listing every problem, located at this source."""
        bad = {i.field for i in self.cell_issues}
        try:
            terms = build_terms(self.raw)
        except InputError as exc:
            issues = self.cell_issues + [i for i in exc.issues if i.field not in bad]
            error = InputError(issues)
            error.source = self  # type: ignore[attr-defined]
            raise error from None
        if self.cell_issues:
            error = InputError(self.cell_issues)
            error.source = self  # type: ignore[attr-defined]
            raise error
        return terms

    def locate(self, issue: Issue) -> str:
        """Where the user typed the value behind ``issue`` (falls back to the file name).

        TOML: ``deal.toml:12``; workbook: ``[deal.xlsx]Inputs!E12`` (Excel's external-reference form).
        """
        key = issue.field
        # the most specific place recorded: risk.x.dist -> risk.x -> risk; fleet[2].gpu_count -> fleet[2] -> fleet
        parts = re.split(r"(?=[\[.])", key)
        candidates = ["".join(parts[:n]).lstrip(".") for n in range(len(parts), 0, -1)]
        found = next((self.locations[c] for c in candidates if c in self.locations), None)
        if found is None:
            return str(self.path)
        return f"[{self.path.name}]{found}" if self.kind == "xlsx" else found


def _key_lines(text: str) -> dict[str, int]:
    """Line numbers of top-level keys and of each table row (``fleet[2]``) in a TOML text."""
    lines: dict[str, int] = {}
    table: str | None = None
    counts: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        m = re.match(r"^\[\[\s*([A-Za-z0-9_]+)\s*\]\]", s)
        if m:
            name = m.group(1)
            counts[name] = counts.get(name, 0) + 1
            table = f"{name}[{counts[name]}]"
            lines.setdefault(name, n)
            lines[table] = n
            continue
        m = re.match(r"^\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$", s)
        if m:  # [risk] or a dotted, quoted header such as [risk.vendors."xAI / SpaceX"]
            parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)', m.group(1))
            table = ".".join(next(p for p in part if p) if any(part) else "" for part in parts)
            lines.setdefault(table, n)
            continue
        m = re.match(r"^([A-Za-z0-9_]+)\s*=", s)
        if m:
            key = m.group(1) if table is None else f"{table}.{m.group(1)}"
            lines.setdefault(key, n)
    return lines


def read_toml(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """A TOML file's values and the ``file:line`` of every key; DealFileError when it cannot be read or parsed."""
    text = _read_text(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DealFileError(path, f"is not valid TOML: {exc}") from None
    return raw, {k: f"{path}:{n}" for k, n in _key_lines(text).items()}


def load_toml_deal(path: Path) -> DealSource:
    """Parse a TOML deal file. Raises :class:`DealFileError` for unreadable files."""
    raw, locations = read_toml(path)
    scenarios = raw.pop("scenarios", {})
    risk = raw.pop("risk", {})
    if not isinstance(risk, dict):
        raise DealFileError(path, "[risk] must be a table of drivers")
    if not isinstance(scenarios, dict) or not all(isinstance(v, dict) for v in scenarios.values()):
        raise DealFileError(path, '[scenarios] must hold one table per scenario, e.g. [scenarios."Full rate from July"]')
    return DealSource(path=path, raw=raw, locations=locations, kind="toml", scenarios=scenarios, risk=risk)


def _read_text(path: Path) -> str:
    if not path.exists():
        raise DealFileError(path, "no such file")
    if path.is_dir():
        raise DealFileError(path, "is a folder, not a deal file")
    size = path.stat().st_size
    if size > MAX_DEAL_FILE_BYTES:
        raise DealFileError(path, f"is {size:,} bytes; a deal file is at most {MAX_DEAL_FILE_BYTES:,}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DealFileError(path, "is not UTF-8 text (is it a workbook saved with a .toml name?)") from None
    except OSError as exc:
        raise DealFileError(path, f"cannot be read: {exc.strerror}") from None


def _toml_loader(path: Path, scenario: str | None) -> DealSource:
    src = load_toml_deal(path)
    return with_scenario(src, scenario) if scenario is not None else src


LOADERS: dict[str, Callable[[Path, str | None], DealSource]] = {".toml": _toml_loader}
"""File suffix -> loader(path, scenario); addin.workbook registers .xlsx and .xlsm."""


def load_deal(path: Path | str, scenario: str | None = None) -> DealSource:
    """Read a deal from a TOML file or (once registered) a deal workbook."""
    import addin.workbook  # noqa: F401 (registers the workbook loaders)

    p = Path(path)
    loader = LOADERS.get(p.suffix.lower())
    if loader is None:
        raise DealFileError(p, f"unknown file type {p.suffix or '(none)'}; expected one of {', '.join(sorted(LOADERS))}")
    return loader(p, scenario)


BASE_CASE = "Base case"


def with_scenario(src: DealSource, scenario: str) -> DealSource:
    """The deal with a named scenario's values in place of the base case's."""
    if scenario.strip().lower() == BASE_CASE.lower():
        return src
    match = next((k for k in src.scenarios if k.strip().lower() == scenario.strip().lower()), None)
    if match is None:
        names = ", ".join([BASE_CASE, *src.scenarios]) or BASE_CASE
        raise DealFileError(src.path, f"has no scenario {scenario!r}; its scenarios are: {names}")
    raw = {**src.raw, **src.scenarios[match]}
    return DealSource(path=src.path, raw=raw, locations=src.locations, kind=src.kind, scenario=match, scenarios=src.scenarios,
                      risk=src.risk)  # fmt: skip


def located_messages(error: InputError, source: DealSource | None) -> list[str]:
    """Each issue of ``error`` prefixed with where it is (``deal.toml:12: pue must be >= 1.0, got 0.8``)."""
    if source is None:
        return [i.message for i in error.issues]
    return [f"{source.locate(i)}: {i.message}" for i in error.issues]
