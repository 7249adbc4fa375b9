"""Where a TOML value was typed: positions from tomlkit's parser, never from patterns (issues 12.8, 18.5)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from addin.cli import app
from addin.workbook.load import load_deal
from addin.workbook.tomlpos import key_lines

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]

TRICKY = '''deal_name = "x"   # a comment
"quoted key" = 1
a.b.c = 2
notes = """
gpu_count = 5
[ risk ]
"""
fleet = [
  { gpu_sku = "H100", gpu_count = 1 },
  { gpu_sku = "H200", gpu_count = 2 },
]

[risk]
x = { dist = "uniform" }

[risk.vendors."xAI / SpaceX"]
outage_days = 3

[scenarios."Full rate"]
monthly_fee_usd = 5

[[contracts]]
name = "a"
[[contracts]]
name = "b"
'''


def test_positions_follow_toml_not_patterns() -> None:
    lines = key_lines(TRICKY)
    assert lines["quoted key"] == 2
    assert lines["a.b.c"] == 3 and lines["a"] == 3
    assert "gpu_count" not in lines, "a key inside a multi-line string is text, not a key"
    assert "risk" in lines and lines["risk"] == 13, "'[ risk ]' inside the string is not the [risk] table"
    assert lines["fleet[1].gpu_count"] == 9 and lines["fleet[2].gpu_sku"] == 10
    assert lines["risk.x.dist"] == 14
    assert lines["risk.vendors.xAI / SpaceX.outage_days"] == 17
    assert lines["scenarios.Full rate.monthly_fee_usd"] == 20
    assert lines["contracts[1].name"] == 23 and lines["contracts[2].name"] == 25


def test_a_scenarios_error_is_located_at_the_scenarios_line(tmp_path: Path) -> None:
    deal = tmp_path / "scen.toml"
    base = (ROOT / "workbooks" / "deals" / "google_spacex.toml").read_text()
    deal.write_text(base + '\n[scenarios."Bad"]\npue = 0.5\n')
    line = len(deal.read_text().splitlines())
    res = runner.invoke(app, ["summary", str(deal), "--scenario", "Bad"])
    assert res.exit_code == 2, res.output
    assert f"scen.toml:{line}:" in res.stderr, res.stderr
    base_line = next(i for i, s in enumerate(base.splitlines(), 1) if s.startswith("pue"))
    assert f"scen.toml:{base_line}:" not in res.stderr


def test_a_dotted_key_error_is_located(tmp_path: Path) -> None:
    deal = tmp_path / "d.toml"
    deal.write_text(
        (ROOT / "workbooks" / "deals" / "google_spacex.toml")
        .read_text()
        .replace("[risk]\n", "[risk]\noutage_days.dist = 'nonsense'\n")
    )
    res = runner.invoke(app, ["check", str(deal)])
    assert res.exit_code == 2
    line = next(i for i, s in enumerate(deal.read_text().splitlines(), 1) if s.startswith("outage_days.dist"))
    assert f"d.toml:{line}:" in res.stderr, res.stderr


def test_no_cubic_scan_inside_multiline_strings(tmp_path: Path) -> None:
    """The text that kept the regex locator busy past 60 s: a hang guard, not a speed test."""
    deal = tmp_path / "slow.toml"
    deal.write_text(
        (ROOT / "workbooks" / "deals" / "google_spacex.toml")
        .read_text()
        .replace('notes = "', 'notes = """\n[' + " " * 8000 + 'x\n""" \nnotes2 = "', 1)
    )
    proc = subprocess.run([sys.executable, "-m", "addin", "check", str(deal)], check=False, capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert "Traceback" not in proc.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_or_device_is_refused_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "deal.toml"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        res = runner.invoke(app, ["check", str(path)])
        assert res.exit_code == 2, res.output
        assert "not a regular file" in res.stderr or "unknown file type" in res.stderr, res.stderr
    with pytest.raises(Exception, match="not a regular file"):
        load_deal(fifo)


def test_a_file_larger_than_it_says_is_read_no_further_than_the_cap(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_text("x = 1\n" * 200_000)
    res = runner.invoke(app, ["check", str(big)])
    assert res.exit_code == 2 and "bytes, the most a deal file may be" in res.stderr
