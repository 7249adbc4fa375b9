"""Hostile and careless use of the command line (issues 12.9, 12.16-12.19, 18.4, 18.6, 18.9, 18.10): exit 2 with
the place, the rule and the value; never an internal error, a hang, a damaged file or a driven terminal."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from addin.cli import app
from addin.excel import udfs

ROOT = Path(__file__).resolve().parents[2]
DEAL = ROOT / "workbooks" / "deals" / "google_spacex.toml"
SEED = ROOT / "workbooks" / "google_spacex.xlsx"
runner = CliRunner()


def cdm(*args: str) -> tuple[int, str, str]:
    res = runner.invoke(app, list(args))
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res.exit_code, res.stdout, " ".join(res.stderr.split())


def cdm_process(*args: str, env: dict[str, str] | None = None, setup: str = "") -> subprocess.CompletedProcess[str]:
    """``cdm`` in a real process (``setup`` runs first, e.g. a file-size limit), as a user's shell runs it."""
    code = f"{setup}\nimport sys\nfrom addin.cli import main\nsys.argv = ['cdm', *{list(args)!r}]\nmain()"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})  # fmt: skip


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- outputs (12.16, 12.17, 18.4)


def test_an_output_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out.xlsx").mkdir()
    code, _, err = cdm("report", str(DEAL), "-o", str(tmp_path / "out.xlsx"))
    assert code == 2 and "out.xlsx is a folder: give a file name" in err


def test_a_device_output_is_refused_and_left_alone() -> None:
    code, _, err = cdm("recalc", str(SEED), "-o", "/dev/null")
    assert code == 2 and "/dev/null is not a regular file" in err
    assert Path("/dev/null").is_char_device()


def test_a_file_size_limit_is_a_clear_message_naming_the_target(tmp_path: Path) -> None:
    """A real EFBIG: the process may write at most 20 KB (a report is ~200 KB)."""
    out = tmp_path / "report.xlsx"
    out.write_bytes(b"the previous report")
    limit = "import resource, signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\nresource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))"
    proc = cdm_process("report", str(DEAL), "-o", str(out), setup=limit)
    assert proc.returncode == 2, proc.stderr
    assert f"{out}: cannot be written (the file is too large for this disk); nothing was written" in " ".join(proc.stderr.split())
    assert ".tmp" not in proc.stderr and "Traceback" not in proc.stderr
    assert out.read_bytes() == b"the previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the file-size test covers the OS error path")
def test_a_read_only_folder_is_a_clear_message(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        code, _, err = cdm("report", str(DEAL), "-o", str(folder / "r.xlsx"))
    finally:
        folder.chmod(0o700)
    assert code == 2 and "cannot be written" in err and "permission denied" in err


def test_the_input_is_never_the_output_even_through_a_hard_link(tmp_path: Path) -> None:
    book = tmp_path / "deal.xlsx"
    shutil.copy(SEED, book)
    link = tmp_path / "alias.xlsx"
    os.link(book, link)
    before = digest(book)
    code, _, err = cdm("report", str(book), "-o", str(link))
    assert code == 2 and "is the input file" in err and "the same file on disk" in err
    code, _, err = cdm("new", "-o", str(book), "--from", str(book), "--force")
    assert code == 2 and "is the input file" in err
    code, _, err = cdm("recalc", str(book), "-o", str(link))
    assert code == 2 and "is the input file" in err
    assert digest(book) == before


# ---------------------------------------------------------------- runs too large (12.18, 12.19)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--seed", "-1"], "seed must be a whole number from 0 to 18,446,744,073,709,551,615, got -1"),
        (["--chunk-paths", "20000000", "--paths", "20000000"], "chunk_paths must be from 1 to 65,536"),
        (["--chunk-paths", "0"], "chunk_paths must be from 1 to 65,536"),
        (["--paths", "0"], "paths must be from 1 to 100,000,000, got 0"),
    ],
)
def test_simulation_options_out_of_range_are_refused(args: list[str], expected: str) -> None:
    code, _, err = cdm("simulate", str(DEAL), *args)
    assert code == 2 and expected in err, err


def test_portfolio_simulation_options_are_refused_before_reading(tmp_path: Path) -> None:
    code, _, err = cdm("simulate", str(ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml"), "--seed", "-5")
    assert code == 2 and "seed must be a whole number from 0" in err


def test_a_huge_data_table_is_refused_with_its_estimate() -> None:
    rows = ",".join(str(1 + i / 10_000) for i in range(200))
    cols = ",".join(str(1 + i / 10) for i in range(100))
    code, _, err = cdm("table", str(DEAL), "--output", "npv_usd", "--rows", f"pue={rows}", "--cols", f"utilization_pct={cols}")
    # 200 x 100 = 20,000 cells x 33 months x 8 bytes x 30 arrays = 0.16 GB
    assert code == 2 and "a data table of 200 x 100 = 20,000 cells needs about 0.2 GB; at most 10,000 cells" in err


def _seed_with_formula(path: Path, cell: str, formula: str) -> Path:
    """A copy of the seed workbook with ``formula`` typed into Checks!``cell``."""
    wb = load_workbook(SEED)
    wb["Checks"][cell] = formula
    wb.save(path)
    return path


def test_recalc_refuses_a_sheet_used_to_the_last_column(tmp_path: Path) -> None:
    code, _, err = cdm("recalc", str(_seed_with_formula(tmp_path / "wide.xlsx", "XFD200", "=1+1")))
    assert code == 2 and "the sheet 'Checks' is used to XFD200" in err and "at most 2,000,000 cells" in err


def test_a_portfolio_of_too_many_contracts_is_refused_at_once(tmp_path: Path) -> None:
    rows = "".join(f'[[contracts]]\ndeal_name = "c{i}"\nvendor = "v{i}"\nstart_month = "2026-01"\nend_month = "2026-12"\n'
                   "monthly_fee_usd = 1e6\nfacility_mw = 10\n" for i in range(1001))  # fmt: skip
    path = tmp_path / "big.toml"
    path.write_text('portfolio_name = "big"\nstart_month = "2026-01"\nmonths = 12\n' + rows)
    code, _, err = cdm("report", str(path), "-o", str(tmp_path / "r.xlsx"))
    assert code == 2 and "big.toml:4: contracts must be <= 1,000 contracts, got 1,001 contracts" in err


# ---------------------------------------------------------------- the terminal (18.6, 18.10)


def _named(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "named.toml"
    path.write_text(DEAL.read_text().replace('deal_name = "Google - SpaceX"', f"deal_name = {json.dumps(name)}"))
    return path


@pytest.mark.parametrize("command", ["summary", "schedule", "simulate"])
@pytest.mark.parametrize("name", ["[/bold] deal", "Deal [v2]", "[red]x[/red]"])
def test_names_print_as_typed_never_as_markup(tmp_path: Path, command: str, name: str) -> None:
    args = [command, str(_named(tmp_path, name))] + (["--paths", "300"] if command == "simulate" else [])
    code, out, err = cdm(*args)
    assert code == 0, err
    assert name in out


def test_a_vendor_name_with_markup_prints_in_a_portfolio(tmp_path: Path) -> None:
    text = (ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml").read_text()
    text = text.replace('vendor = "AWS"', 'vendor = "[/i]AWS"').replace('"AWS"', '"[/i]AWS"')
    text = text.replace("../deals/", str(ROOT / "workbooks" / "deals") + "/")
    path = tmp_path / "p.toml"
    path.write_text(text)
    code, out, err = cdm("portfolio", str(path))
    assert code == 0, err
    assert "[/i]AWS" in out


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    scenario = DEAL.read_text() + '\n[scenarios."\\u001b]0;PWNED\\u0007\\u001b[2J"]\npue = 1.3\n'
    path = tmp_path / "esc.toml"
    path.write_text(scenario)
    proc = cdm_process("summary", str(path), "--scenario", "nope")
    assert proc.returncode == 2
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr
    assert "\\x1b]0;PWNED\\x07" in proc.stderr  # shown, visibly


def test_a_name_the_terminal_cannot_encode_is_escaped_not_an_error(tmp_path: Path) -> None:
    proc = cdm_process("summary", str(_named(tmp_path, "Ψ Deal")), env={"PYTHONIOENCODING": "latin-1"})
    assert proc.returncode == 0, proc.stderr
    assert "\\u03a8 Deal" in proc.stdout


# ---------------------------------------------------------------- LibreOffice (18.9)


def test_a_hung_program_is_killed_with_its_whole_process_group(tmp_path: Path) -> None:
    from addin.report.libreoffice import LibreOfficeError, run_bounded

    marker = tmp_path / "grandchild.pid"
    script = f"sleep 300 & echo $! > {marker}; wait"
    with pytest.raises(LibreOfficeError, match="did not finish"):
        run_bounded(["sh", "-c", script], 1.0, "did not finish")
    pid = int(marker.read_text())
    for _ in range(50):  # the kill is delivered at once; give the OS a moment to reap
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        with open(f"/proc/{pid}/stat") as fh:
            if fh.read().split()[2] == "Z":
                break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the grandchild {pid} outlived the timeout")


# ---------------------------------------------------------------- smaller (12.9, 18.10)


@pytest.mark.parametrize("ranges", [(None, None), ([[None]], [[None]]), ([["portfolio_name", "x"]], 5), (5, [[1]])])
def test_portfolio_functions_with_blank_or_one_cell_ranges_say_why(ranges: tuple[object, object]) -> None:
    inputs, contracts = ranges
    schedule = udfs.cdm_portfolio_schedule(inputs, contracts)
    first = schedule[0][0] if isinstance(schedule, list) else schedule
    simulated = udfs.cdm_portfolio_simulate(inputs, contracts)
    for text in (first, simulated if isinstance(simulated, str) else simulated[0][0]):
        assert isinstance(text, str) and text.startswith("CDM error: ") and "internal error" not in text, text


def test_cell_error_text_is_capped() -> None:
    text = udfs.error_text(Exception("x" * 50_000))
    assert len(text) <= udfs.MAX_CELL_MESSAGE and "more characters: run cdm check" in text


def test_new_keeps_the_risk_block(tmp_path: Path) -> None:
    book = tmp_path / "deal.xlsx"
    code, _, err = cdm("new", "-o", str(book), "--from", str(DEAL))
    assert code == 0, err
    from addin.workbook.book import OpenpyxlBook
    from addin.workbook.dealbook import read_risk

    risk, _ = read_risk(OpenpyxlBook(load_workbook(book)))
    assert risk["utilization_pct"] == {"dist": "triangular", "low": 70, "mode": 90, "high": 95}


def test_recalc_names_the_cell_of_a_formula_it_cannot_read(tmp_path: Path) -> None:
    code, _, err = cdm("recalc", str(_seed_with_formula(tmp_path / "bad.xlsx", "Z50", "=SUM(A1,,)+((")))
    assert code == 2 and "Checks!Z50 holds a formula the headless engine cannot read: '=SUM(A1,,)+(('" in err
    assert "%s" not in err


def test_a_deprecation_warning_from_our_code_fails_the_suite(tmp_path: Path) -> None:
    """The pyproject filters turn a DeprecationWarning raised in engine/ or addin/ into an error."""
    test = tmp_path / "test_deprecated.py"
    test.write_text(
        textwrap.dedent("""
        import warnings
        def test_x():
            warnings.warn_explicit("old", DeprecationWarning, "engine/terms.py", 1, module="engine.terms")
    """)
    )
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", "-o", "addopts=",
                           "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path), str(test)],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 1 and "DeprecationWarning" in proc.stdout, proc.stdout[-2000:]
