"""``cdm addin install`` and ``cdm addin doctor``: the Excel add-in in one step, and its checklist."""

from __future__ import annotations

from typing import Annotated

import typer

from addin.cli.app import JsonOpt, _dump, app, guarded, out

addin_app = typer.Typer(no_args_is_help=True, help="The Excel add-in: install it in one step, check it with the doctor.")
app.add_typer(addin_app, name="addin")

MARKS = {"ok": "[ok]  ", "fail": "[FAIL]", "cannot check": "[n/a] "}


@addin_app.command("install")
@guarded
def install_cmd(
    interpreter: Annotated[
        str | None, typer.Option("--interpreter", help="The Python Excel should run (default: this one).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build the add-in with this Python as its interpreter and install it for Excel (exit 1 where there is no Excel)."""
    from addin.excel.install import install

    built, installed, message = install(interpreter)
    if as_json:
        _dump({"built": str(built), "installed": str(installed) if installed else None, "message": message})
    else:
        out.print(message, highlight=False)
    if installed is None:
        raise typer.Exit(1)


@addin_app.command("doctor")
@guarded
def doctor_cmd(as_json: JsonOpt = False) -> None:
    """Check the add-in, with a fix for each problem: file, xlwings version, interpreter, UDF module, imported
    functions, Excel holding it open. Exit 1 when a check fails."""
    from addin.excel.install import FAIL, doctor

    findings = doctor()
    if as_json:
        _dump([{"check": f.check, "status": f.status, "detail": f.detail, "fix": f.fix} for f in findings])
    else:
        for f in findings:
            out.print(f"{MARKS.get(f.status, f.status)} {f.check}: {f.detail}", highlight=False)
            if f.fix and f.status != "ok":
                out.print(f"       fix: {f.fix}", highlight=False)
    if any(f.status == FAIL for f in findings):
        raise typer.Exit(1)
