"""Nothing lost: killed mid-write, the previous file survives; 200 workbooks in one run; partial runs list failures."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from addin.cli import app

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "workbooks" / "google_spacex.xlsx"
runner = CliRunner()

# Run cdm in a child process with one library call replaced, so the test can kill it at a known point.
HARNESS = """
import os, sys, time
import openpyxl.workbook.workbook as W
stage = os.environ["CDM_TEST_STAGE"]
if stage == "before-rename":
    real = os.replace
    def slow_replace(src, dst):
        open(os.environ["CDM_TEST_READY"], "w").close()
        time.sleep(60)
        return real(src, dst)
    os.replace = slow_replace
elif stage == "mid-save":
    real_save = W.Workbook.save
    def half_save(self, path):
        with open(path, "wb") as fh:
            fh.write(b"PK half a workbook")
        open(os.environ["CDM_TEST_READY"], "w").close()
        time.sleep(60)
    W.Workbook.save = half_save
sys.argv = ["cdm", *sys.argv[1:]]
from addin.cli import main
main()
"""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def kill_at(stage: str, args: list[str], tmp: Path) -> None:
    ready = tmp / f"ready-{stage}"
    env = {**os.environ, "CDM_TEST_STAGE": stage, "CDM_TEST_READY": str(ready)}
    proc = subprocess.Popen([sys.executable, "-c", HARNESS, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None, f"cdm exited before reaching {stage}"
        assert time.monotonic() < deadline, f"cdm never reached {stage}"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.parametrize("stage", ["mid-save", "before-rename"])
def test_killed_report_leaves_the_previous_report(stage: str, tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    assert runner.invoke(app, ["report", str(SEED), "-o", str(target)]).exit_code == 0
    before = digest(target)
    kill_at(stage, ["report", str(SEED), "-o", str(target)], tmp_path)
    assert digest(target) == before
    load_workbook(target)  # still a complete workbook


@pytest.mark.parametrize("stage", ["mid-save", "before-rename"])
def test_killed_refresh_leaves_the_workbook_intact(stage: str, tmp_path: Path) -> None:
    book = tmp_path / "deal.xlsx"
    shutil.copy(SEED, book)
    before = digest(book)
    kill_at(stage, ["refresh", str(book)], tmp_path)
    assert digest(book) == before
    assert runner.invoke(app, ["check", str(book)]).exit_code == 0


@pytest.mark.parametrize("delay", [0.3, 0.6, 0.9, 1.2, 1.5])
def test_report_killed_at_any_moment_is_old_or_complete(delay: float, tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    target.write_bytes(b"the previous report")
    proc = subprocess.Popen([sys.executable, "-m", "addin", "report", str(SEED), "-o", str(target)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    data = target.read_bytes()
    if data != b"the previous report":
        wb = load_workbook(target)  # replaced: then only by a complete report
        assert wb.sheetnames[0] == "Summary" and "About" in wb.sheetnames


def test_two_hundred_workbooks_in_one_run(tmp_path: Path) -> None:
    folder = tmp_path / "deals"
    folder.mkdir()
    for i in range(190):
        shutil.copy(SEED, folder / f"deal_{i:03d}.xlsx")
    bad = {"bad_text.xlsx": b"deal_name,pue\n", "bad_empty.xlsx": b"", "bad_truncated.xlsx": SEED.read_bytes()[:5000]}
    for name, data in bad.items():
        (folder / name).write_bytes(data)
    for i in range(7):
        (folder / f"bad_toml_{i}.toml").write_text(f'deal_name = "x"\npue = {0.1 * i}\n')
    res = runner.invoke(app, ["report", "--all", str(folder), "-o", str(tmp_path / "out")])
    assert res.exit_code == 2
    lines = res.stdout.splitlines()
    assert sum(line.startswith("ok ") for line in lines) == 190
    assert "190 of 200 reports written" in res.stdout and "10 failed:" in res.stdout
    listed = res.stdout.split("10 failed:")[1]
    for name in [*bad, *(f"bad_toml_{i}.toml" for i in range(7))]:
        assert name in listed
    assert len(list((tmp_path / "out").glob("*-report.xlsx"))) == 190
    assert "Traceback" not in res.output
