"""``cdm``, the command line: one module per command group, all registered on one typer app.

``app`` holds the shared parts (consoles, exit codes, the error guard); each group module adds its commands.
It may import everything else in the package; nothing imports it but the console script and ``python -m addin``.
"""

from __future__ import annotations

import copy
import importlib
import os
import sys
from typing import Any

__all__ = ["_json_safe", "app", "main"]

GROUPS = ("deal", "files", "review", "portfolio", "risk", "excel")
"""The command modules, each registering its commands on the typer app, in ``cdm --help`` order."""


def _typer_app() -> Any:
    """The typer app with every command registered, imported on first use (``cdm summary --json`` needs none)."""
    from addin.cli.app import app as typer_app

    for group in GROUPS:
        importlib.import_module(f"addin.cli.{group}")
    globals()["app"] = typer_app  # importing the submodule addin.cli.app bound that name to the module
    return typer_app


def __getattr__(name: str) -> Any:
    if name == "app":
        return _typer_app()
    if name == "_json_safe":
        from addin.cli.fast import json_safe

        return json_safe
    raise AttributeError(name)


def app_for(argv: list[str]) -> Any:
    """The app to run for ``argv``: when it names a command, the app with that command alone.

    Typer builds the options of every registered command on each run (about 30 ms for the 14 commands, most of a
    ``cdm summary --json``); a run needs only the command it names. Anything else (``--help``, ``--version``, a
    mistyped command, which gets typer's suggestion) runs the whole app.
    """
    app = _typer_app()
    if len(argv) < 2 or argv[1].startswith("-"):
        return app
    from typer.main import get_command_name

    def name(info: Any) -> str:
        return info.name or get_command_name(info.callback.__name__)

    chosen = [c for c in app.registered_commands if name(c) == argv[1]]
    if not chosen:
        return app
    one = copy.copy(app)
    one.registered_commands = chosen
    return one


def main() -> None:
    """Console-script entry point."""
    if not os.environ.get("CDM_DEBUG"):
        # a library's generator finalised after an error we already reported (openpyxl's sheet writer on a full
        # disk) would print "Exception ignored ... Traceback" at exit: the user has the one-line message already
        sys.unraisablehook = lambda unraisable: None
    for stream in (sys.stdout, sys.stderr):  # a name the terminal's encoding cannot show is escaped, never an exit 1
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    from addin.cli.fast import run_fast

    if run_fast(sys.argv[1:]):
        return
    from addin.cli.app import EXIT_BAD_INPUT, err
    from addin.workbook.dealfile import DealFileError

    try:
        app_for(sys.argv)()
    except DealFileError as exc:  # pragma: no cover - guarded() catches these inside commands
        err.print(str(exc))
        sys.exit(EXIT_BAD_INPUT)
