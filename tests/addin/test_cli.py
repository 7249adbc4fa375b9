"""The cdm command line: outputs, JSON keys, exit codes and located messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from addin.cli import app

ROOT = Path(__file__).resolve().parents[2]
DEAL = ROOT / "workbooks" / "deals" / "anthropic_xai_colossus1.toml"
runner = CliRunner()

DESIGN_KEYS = {
    "deal_name",
    "months_billed",
    "headline_tcv_usd",
    "net_tcv_usd",
    "firm_commitment_usd",
    "npv_usd",
    "gpus",
    "kw_per_gpu",
    "delivered_gpu_hours",
    "used_gpu_hours",
    "usd_per_gpu_hour",
    "usd_per_used_gpu_hour",
    "usd_per_kw_month",
    "premium_to_market_pct",
    "breakeven_utilization_pct",
}


def test_summary_json_has_the_design_keys() -> None:
    res = runner.invoke(app, ["summary", str(DEAL), "--json"])
    assert res.exit_code == 0, res.output
    rec = json.loads(res.stdout)
    assert DESIGN_KEYS <= set(rec)
    assert rec["months_billed"] == 37 and rec["net_tcv_usd"] == 45e9
    assert rec["warnings"], "the assumed fleet needs more than 300 MW: a warning is expected"


@pytest.mark.parametrize("deal", sorted((ROOT / "workbooks" / "deals").glob("*.toml")), ids=lambda p: p.stem)
def test_every_seed_deal_summarises(deal: Path) -> None:
    res = runner.invoke(app, ["summary", str(deal), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["net_tcv_usd"] > 0


def test_schedule_table_and_json() -> None:
    res = runner.invoke(app, ["schedule", str(DEAL)])
    assert res.exit_code == 0 and "2026-05" in res.stdout and "total" in res.stdout
    months = json.loads(runner.invoke(app, ["schedule", str(DEAL), "--json"]).stdout)["months"]
    assert len(months) == 37 and months[0]["net_fee_usd"] == 625e6


def test_size_command() -> None:
    res = runner.invoke(app, ["size", "--facility-mw", "300", "--sku", "H100-SXM", "--pue", "1.2", "--json"])
    assert res.exit_code == 0
    assert json.loads(res.stdout)["gpus"] == 200_000  # 300,000 kW / 1.5 kW (Colossus: 300 MW for 200,000 Hopper)
    res = runner.invoke(
        app,
        [
            "size",
            "--facility-mw",
            "300",
            "--fleet",
            "H100-SXM=100000,GB200",
            "--training-flops",
            "1e26",
            "--budget-usd-per-month",
            "1.25e9",
            "--json",
        ],
    )
    rec = json.loads(res.stdout)
    # 100,000 H100 x 1.5 kW = 150 MW; the other 150 MW feed floor(150,000 / 1.909) = 78,575 GB200.
    # the budget rents at the fleet's count-weighted rent: (2.65 x 100,000 + 4.54 x 78,575) / 178,575 = 3.4816 $/GPU-hour,
    # so floor(1.25e9 / (3.4816... x 730)) = 491,819 GPUs (never the first SKU's $2.65 alone, issue 12.4)
    assert rec["gpus_by_sku"]["GB200"] == 78_575 and rec["training_days"] > 0 and rec["gpus_for_budget"] == 491_819


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["size", "--facility-mw", "300", "--pue", "0.8"], "pue must be >= 1.0, got 0.8"),
        (["size", "--facility-mw", "-3"], "facility_mw must be > 0, got -3"),
        (["size", "--facility-mw", "300", "--sku", "H900"], "gpu_sku 'H900' is not in the GPU catalogue"),
        (["size", "--facility-mw", "300", "--fleet", "H100-SXM,GB200"], "at most one SKU may have no count"),
        (["summary", "no/such/deal.toml"], "no such file"),
        (["summary", "README.md"], "unknown file type .md"),
    ],
)
def test_bad_input_exits_2_with_message(args: list[str], expected: str) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert expected in " ".join(res.stderr.split())
    assert "Traceback" not in res.output


def test_bad_toml_value_is_located_by_line(tmp_path: Path) -> None:
    text = DEAL.read_text().replace("pue = 1.2 ", "pue = 0.8 ")
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith("pue ="))
    res = runner.invoke(app, ["summary", str(bad)])
    assert res.exit_code == 2
    assert f"bad.toml:{line}: pue must be >= 1.0, got 0.8" in " ".join(res.stderr.split())


def test_broken_toml_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text('deal_name = "x"\npue = = 1\n')
    res = runner.invoke(app, ["summary", str(bad)])
    assert res.exit_code == 2 and "is not valid TOML" in res.stderr and "line 2" in res.stderr


def test_console_script_runs_without_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "addin", "summary", str(DEAL), "--json"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["deal_name"] == "Anthropic - xAI Colossus 1"


def test_new_check_and_recalc_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "mydeal.xlsx"
    res = runner.invoke(app, ["new", "-o", str(out), "--from", str(ROOT / "workbooks" / "deals" / "google_spacex.toml")])
    assert res.exit_code == 0, res.output
    assert runner.invoke(app, ["new", "-o", str(out)]).exit_code == 2  # never overwrites without --force
    res = runner.invoke(app, ["check", str(out), "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["ok"] is True
    res = runner.invoke(app, ["summary", str(out), "--json"])
    assert json.loads(res.stdout)["net_tcv_usd"] == 33 * 920e6
    res = runner.invoke(app, ["recalc", str(out), "--json", "-o", str(tmp_path / "values.xlsx")])
    assert res.exit_code == 0, res.output
    rec = json.loads(res.stdout)
    assert rec["errors"] == [] and rec["summary"]["net_tcv_usd"] == pytest.approx(33 * 920e6)
    from openpyxl import load_workbook

    values = load_workbook(tmp_path / "values.xlsx")
    formulas = [c.coordinate for ws in values.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    assert runner.invoke(app, ["recalc", str(out), "-o", str(out)]).exit_code == 2


def test_check_lists_every_bad_cell(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "bad.xlsx"
    runner.invoke(app, ["new", "-o", str(out)])
    wb = load_workbook(out)
    ws = wb["Inputs"]
    cells = {ws.cell(r, 3).value: ws.cell(r, 5) for r in range(1, 80)}
    cells["pue"].value = 0.8
    cells["monthly_fee_usd"].value = "lots"
    cells["gpu_sku"].value = "#N/A"
    wb.save(out)
    before = out.read_bytes()
    res = runner.invoke(app, ["check", str(out)])
    assert res.exit_code == 2
    text = " ".join(res.stderr.split())
    assert f"Inputs!{cells['pue'].coordinate}: pue must be >= 1.0, got 0.8" in text
    assert f"Inputs!{cells['monthly_fee_usd'].coordinate}: monthly_fee_usd must be a number, got 'lots'" in text
    assert f"Inputs!{cells['gpu_sku'].coordinate}: gpu_sku holds the Excel error #N/A" in text
    assert out.read_bytes() == before


def test_workbook_scenarios_from_the_command_line() -> None:
    book = ROOT / "workbooks" / "anthropic_xai_colossus1.xlsx"
    res = runner.invoke(app, ["summary", str(book), "--scenario", "Press: full rate from July", "--json"])
    assert json.loads(res.stdout)["months_billed"] == 35
    res = runner.invoke(app, ["summary", str(book), "--scenario", "Nope"])
    assert res.exit_code == 2 and "is not one of the workbook's scenarios" in " ".join(res.stderr.split())


def test_a_csv_renamed_to_xlsx_is_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "deal.xlsx"
    fake.write_text("deal_name,pue\nx,1.2\n")
    res = runner.invoke(app, ["check", str(fake)])
    assert res.exit_code == 2 and "is not an .xlsx workbook" in " ".join(res.stderr.split())
