"""The JSON fast path (``cdm summary DEAL --json`` without typer or rich) prints what the typer command prints, byte
for byte, hands everything else to typer, and keeps the heavy imports out of that run (issue 17, target 1)."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from addin.cli import app, app_for
from addin.cli.fast import _plain_summary, run_fast

ROOT = Path(__file__).resolve().parents[2]
TOML = str(ROOT / "workbooks" / "deals" / "anthropic_xai_colossus1.toml")
XLSX = str(ROOT / "workbooks" / "google_spacex.xlsx")


def fast(args: list[str]) -> tuple[bool, str]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        done = run_fast(args)
    return done, buf.getvalue()


@pytest.mark.parametrize(
    "args",
    [
        ["summary", TOML, "--json"],
        ["summary", "--json", TOML],
        ["summary", TOML, "--json", "--side", "seller"],
        ["summary", TOML, "--side=seller", "--json"],
        ["summary", TOML, "--json", "--scenario", "Press: full rate from July"],
        ["summary", XLSX, "--json"],
    ],
)
def test_fast_path_prints_what_the_typer_command_prints(args: list[str]) -> None:
    done, text = fast(args)
    assert done
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0 and res.stdout == text
    assert json.loads(text)["deal_name"]


@pytest.mark.parametrize(
    "args",
    [
        ["summary", TOML],  # a table for people: rich's
        ["summary", TOML, "--json", "--help"],
        ["summary", TOML, "--json", "--side", "vendor"],
        ["summary", TOML, TOML, "--json"],
        ["summary", TOML, "--json", "--bogus"],
        ["summary", "--json"],
        ["schedule", TOML, "--json"],
        [],
    ],
)
def test_anything_else_goes_to_typer(args: list[str]) -> None:
    assert _plain_summary(args) is None
    assert fast(args) == (False, "")


def test_a_problem_goes_to_typer_which_reports_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('deal_name = "x"\nstart_month = "2026-01"\nend_month = "2026-12"\nmonthly_fee_usd = -5\n')
    for args in (["summary", str(bad), "--json"], ["summary", str(tmp_path / "missing.toml"), "--json"],
                 ["summary", TOML, "--json", "--scenario", "No such scenario"]):  # fmt: skip
        assert fast(args) == (False, "")  # nothing half-printed
    res = subprocess.run(
        [sys.executable, "-m", "addin", "summary", str(bad), "--json"], capture_output=True, text=True, check=False
    )
    assert res.returncode == 2 and res.stdout == "" and "bad.toml:4" in res.stderr and "monthly_fee_usd" in res.stderr


def test_the_fast_run_imports_no_framework_and_no_workbook_library() -> None:
    run = f"import sys\nfrom addin.cli import main\nsys.argv = ['cdm', 'summary', {TOML!r}, '--json']\nmain()\n"
    code = run + (
        "heavy = ('typer', 'click', 'rich', 'openpyxl', 'tomlkit', 'pydantic')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy} | "
        "({'engine.risk'} & set(sys.modules))), file=sys.stderr)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(res.stdout)["deal_name"] == "Anthropic - xAI Colossus 1"
    assert res.stderr.strip() == "[]"


def test_a_named_command_runs_alone_and_everything_else_runs_the_whole_app() -> None:
    whole = app_for(["cdm", "--help"])
    assert len(whole.registered_commands) > 10
    one = app_for(["cdm", "simulate", TOML])
    assert [c.callback.__name__ for c in one.registered_commands] == ["simulate"]
    assert app_for(["cdm", "summry"]) is whole and app_for(["cdm"]) is whole
    res = CliRunner().invoke(app_for(["cdm", "summary"]), ["summary", TOML])
    assert res.exit_code == 0 and "Anthropic - xAI Colossus 1" in res.stdout


def test_the_chunk_option_names_the_engine_default() -> None:
    from addin.cli.risk import CHUNK_HELP
    from engine.risk import DEFAULT_CHUNK_PATHS

    assert f"default {DEFAULT_CHUNK_PATHS:,}," in CHUNK_HELP
