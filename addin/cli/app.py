"""``cdm``: the command line. Tables for people, ``--json`` for programs.

Every command exits 0 on success, 2 with messages naming the place, the rule
and the value on bad input, and 1 with a one-line message (no traceback; set
``CDM_DEBUG=1`` to see one) on an internal error.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from addin.cli.fast import evaluate, json_text
from addin.workbook.dealfile import DealSource, located_messages
from engine.errors import CdmError, InputError, Issue
from engine.fields import FIELD_BY_NAME
from engine.terms import _Collector, parse_value

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """User text as a terminal should show it: a control character (escape, bell, carriage return) is written out as
    ``\\x1b``, never obeyed, so a deal name cannot retitle the window or clear the screen."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@functools.cache
def _safe_console_class() -> type[Console]:
    from rich.console import Console

    class SafeConsole(Console):
        """A Rich console that reads no markup in what it prints (a deal called "[/bold] deal" prints as typed) and
        shows control characters visibly; styled labels are asked for explicitly (``_say``)."""

        def render_str(self, text: str, **kwargs: Any) -> Any:
            return super().render_str(visible(text), **kwargs)

    return SafeConsole


class LazyConsole:
    """A safe Rich console made on first use: Rich costs about 40 ms to import, which a command that prints JSON
    (``cdm summary --json``) never pays. Every attribute, read or set, is the console's."""

    def __init__(self, **options: Any) -> None:
        object.__setattr__(self, "_options", options)
        object.__setattr__(self, "_console", None)

    def console(self) -> Console:
        if self._console is None:
            object.__setattr__(self, "_console", _safe_console_class()(**self._options))
        return self._console  # type: ignore[return-value]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.console(), name, value)


app = typer.Typer(no_args_is_help=True, help="Compute Deal Model: price and compare GPU compute contracts.")
out = LazyConsole(soft_wrap=True, markup=False)
err = LazyConsole(stderr=True, soft_wrap=True, markup=False)

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1
MIN_TABLE_WIDTH = 120

F = TypeVar("F", bound=Callable[..., Any])


def guarded(fn: F) -> F:
    """Turn engine and file errors into located messages and exit codes; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except InputError as exc:
            source = getattr(exc, "source", None)
            for line in located_messages(exc, source):
                _say("red", "error", f"{line}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except CdmError as exc:
            _say("red", "error", f"{exc}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:
            if os.environ.get("CDM_DEBUG"):
                raise
            _say("red", "internal error", f"{type(exc).__name__}: {exc} (set CDM_DEBUG=1 for details)")
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


def _evaluate(path: Path, scenario: str | None) -> tuple[DealSource, Any]:
    return evaluate(path, scenario)  # the one reading of a deal, shared with the JSON fast path


def _warn(src: DealSource, summary: Any) -> None:
    for w in summary.warnings:
        loc = src.locate(Issue(w.field, w.rule, w.message))
        _say("yellow", "warning", f"{loc}: {w.message}")


def _say(style: str, label: str, text: str) -> None:
    """One styled line on stderr; the text is escaped, so [deal.xlsx] or a bracket in a path stays visible."""
    from rich.markup import escape

    err.print(f"[{style}]{label}[/{style}] {escape(text)}", markup=True, highlight=False)


def _figure_table(title: str, with_names: bool = False) -> Table:
    """The table every command shows figures in: figure, value (right-aligned), and the name for programs."""
    from rich.table import Table

    t = Table(title=title)
    t.add_column("figure")
    t.add_column("value", justify="right")
    if with_names:
        t.add_column("name", style="dim")
    return t


def _show(table: Table) -> None:
    """Print a table never narrower than its content: a cut-off figure is worse than a wrapped line."""
    out.width = max(out.width, MIN_TABLE_WIDTH)
    out.print(table)


def _dump(obj: Any) -> None:
    """JSON for programs: a figure with no value (a ratio over no hours) is null, never NaN, which JSON cannot hold."""
    sys.stdout.write(json_text(obj))


DealArg = Annotated[Path, typer.Argument(help="A deal file: TOML (workbooks/deals/*.toml) or a deal workbook.")]
ScenarioOpt = Annotated[
    str | None, typer.Option("--scenario", help="Scenario name in a deal workbook (default: the workbook's switch).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for programs instead of a table.")]


def _checked(name: str, value: object) -> Any:
    c = _Collector()
    v = parse_value(c, FIELD_BY_NAME[name], value, name)
    if c.issues:
        raise InputError(c.issues)
    return v


def _number(label: str, text: str) -> float:
    try:
        return float(text.replace("_", ""))
    except ValueError:
        raise InputError(Issue(label, "type", f"{label} must be a number, got {text!r}", text)) from None


def _command_line() -> str:
    import shlex

    return "cdm " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _version(value: bool) -> None:
    if value:
        from addin.version import package_version

        out.print(f"cdm (Compute Deal Model) {package_version()}", highlight=False)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True)
    ] = False,
) -> None:
    """Compute Deal Model: price and compare GPU compute contracts."""
