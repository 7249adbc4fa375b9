"""Read a deal from a file into raw vocabulary values, remembering where each came from.

A TOML deal file holds the vocabulary keys at its top level (tables only for
lists). Every value keeps a location (``deal.toml:12``) so that an error from
the engine, which names only the field, can be shown where the user typed it.
"""

from __future__ import annotations

import re
import stat
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import CdmError, InputError, Issue
from engine.schedule import Schedule, build_schedule
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
    locations: Mapping[str, str] = field(default_factory=dict)
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

    def validate(self) -> Schedule:
        """The base case's schedule, after every rule any command applies to this deal; one InputError lists every
        problem: the base case and its schedule, every scenario of a TOML deal (located at the scenario's own
        lines), and the Risk block. ``cdm check``, ``new`` and ``report`` come through here, so ``check`` never
        passes what they refuse; refresh applies the same Risk-block rule to a workbook's Risk sheet.
        """
        from engine.risk import build_risk

        issues: list[Issue] = []
        terms: DealTerms | None = None
        schedule: Schedule | None = None
        try:
            terms = self.terms()
            schedule = build_schedule(terms)
        except InputError as exc:
            issues += exc.issues
        issues += self._scenario_issues()
        if terms is not None and self.risk:
            try:
                build_risk(dict(self.risk), terms)
            except InputError as exc:
                issues += exc.issues
        if issues:
            error = InputError(issues)
            error.source = self  # type: ignore[attr-defined]
            raise error
        assert schedule is not None
        return schedule

    def _scenario_issues(self) -> list[Issue]:
        """Each named scenario of a TOML deal through the same rules, its issues named by scenario."""
        if self.kind != "toml":
            return []  # a workbook's scenarios are checked cell by cell by refresh and its Checks sheet
        issues: list[Issue] = []
        for name in self.scenarios:
            if not name.strip() or name.strip().lower() == BASE_CASE.lower():
                issues.append(Issue(f"scenarios.{name}", "name", f"a scenario must have a name other than {BASE_CASE!r} "
                                    f"(the inputs themselves are the base case), got {name!r}", name))  # fmt: skip
                continue
            if name == self.scenario:
                continue
            alt = with_scenario(self, name)
            try:
                build_schedule(alt.terms())
            except InputError as exc:
                prefix = f"scenarios.{name}."
                for i in exc.issues:
                    where = prefix + i.field if any(k.startswith(prefix + i.field) for k in self.locations) else i.field
                    issues.append(Issue(where, i.rule, f"scenario {name!r}: {i.message}", i.value))
        return issues

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


class KeyLines(Mapping[str, str]):
    """The ``file:line`` of every key of a TOML text, found on first use: the positions come from tomlkit's parse
    (``addin.workbook.tomlpos``, tens of milliseconds with its import), which a run with nothing to locate (``cdm
    summary --json`` of a valid deal) never pays."""

    def __init__(self, path: Path, text: str) -> None:
        self._path, self._text = path, text
        self._lines: dict[str, str] | None = None

    def _get(self) -> dict[str, str]:
        if self._lines is None:
            from addin.workbook.tomlpos import TOMLKitError, key_lines

            try:
                found = key_lines(self._text)
            except (TOMLKitError, RecursionError):  # tomllib read it; messages then name the file without a line
                found = {}
            self._lines = {k: f"{self._path}:{n}" for k, n in found.items()}
        return self._lines

    def __getitem__(self, key: str) -> str:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def read_toml(path: Path) -> tuple[dict[str, Any], Mapping[str, str]]:
    """A TOML file's values and the ``file:line`` of every key; DealFileError when it cannot be read or parsed."""
    text = read_text_file(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DealFileError(path, f"is not valid TOML: {exc}") from None
    except ValueError:  # Python refuses to read an integer of more than 4,300 digits
        digits = max((len(m) for m in re.findall(r"\d[\d_]*", text)), default=0)
        line = next((n for n, s in enumerate(text.splitlines(), 1) if re.search(r"\d{4301}", s.replace("_", ""))), None)
        where = f"{path}:{line}" if line else str(path)
        raise DealFileError(where, f"has a number of {digits:,} digits, too long to be read as a number") from None
    return raw, KeyLines(path, text)


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


def check_regular_file(path: Path) -> None:
    """DealFileError unless ``path`` is an existing regular file (a device, FIFO or socket would hang or never end)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise DealFileError(path, "no such file") from None
    except OSError as exc:
        raise DealFileError(path, f"cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise DealFileError(path, "is a folder, not a deal file")
    if not stat.S_ISREG(mode):
        raise DealFileError(path, "is not a regular file (a device, pipe or socket); give a saved deal file")


def read_text_file(path: Path) -> str:
    """A deal, portfolio or claims file's text: regular files only, at most MAX_DEAL_FILE_BYTES, UTF-8."""
    check_regular_file(path)
    try:
        with path.open("rb") as fh:  # read at most one byte past the cap, whatever the size claims
            data = fh.read(MAX_DEAL_FILE_BYTES + 1)
    except OSError as exc:
        raise DealFileError(path, f"cannot be read: {exc.strerror}") from None
    if len(data) > MAX_DEAL_FILE_BYTES:
        raise DealFileError(path, f"is over {MAX_DEAL_FILE_BYTES:,} bytes, the most a deal file may be")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DealFileError(path, "is not UTF-8 text (is it a workbook saved with a .toml name?)") from None


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
    # the scenario's own values are located where the scenario sets them, not at the base case's line
    prefix = f"scenarios.{match}."
    own = {k[len(prefix) :]: v for k, v in src.locations.items() if k.startswith(prefix)}
    if raw.get("valuation_date") in (None, "") and src.raw.get("start_month") not in (None, ""):
        raw["valuation_date"] = src.raw["start_month"]  # a scenario is valued on the base case's date
        if "start_month" in src.locations:
            own["valuation_date"] = src.locations["start_month"]
    return DealSource(path=src.path, raw=raw, locations={**src.locations, **own}, kind=src.kind, scenario=match,
                      scenarios=src.scenarios, risk=src.risk)  # fmt: skip


def located_messages(error: InputError, source: DealSource | None) -> list[str]:
    """Each issue of ``error`` prefixed with where it is (``deal.toml:12: pue must be >= 1.0, got 0.8``)."""
    if source is None:
        return [i.message for i in error.issues]
    return [f"{source.locate(i)}: {i.message}" for i in error.issues]
