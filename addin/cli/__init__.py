"""``cdm``, the command line: one module per command group, all registered on one typer app.

``app`` holds the shared parts (consoles, exit codes, the error guard); each group module adds its commands.
It may import everything else in the package; nothing imports it but the console script and ``python -m addin``.
"""

from __future__ import annotations

import importlib
import os
import sys

from addin.cli.app import EXIT_BAD_INPUT, _json_safe, app, err
from addin.workbook.dealfile import DealFileError

__all__ = ["_json_safe", "app", "main"]

for _group in ("deal", "files", "review", "portfolio", "risk", "excel"):  # each registers its commands, in `cdm --help` order
    importlib.import_module(f"addin.cli.{_group}")


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
    try:
        app()
    except DealFileError as exc:  # pragma: no cover - guarded() catches these inside commands
        err.print(str(exc))
        sys.exit(EXIT_BAD_INPUT)
