"""``cdm addin install`` and ``cdm addin doctor`` (issue 14, item 5), the slow functions kept out of the function
wizard, and the UDF cache that makes a cold Summary plus Schedule cheap.

There is no Excel on Linux: the install builds the real add-in and says it cannot install it; the doctor reads the
real file (config sheet, VBA through oletools) and runs the real interpreter, and says what it cannot check.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from addin.cli import app
from addin.excel import install as inst
from addin.excel import udfs
from addin.excel.build_addin import build

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(scope="module")
def xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("doctor") / "computedeal.xlam", interpreter=sys.executable)


def _by_check(findings: list[inst.Finding]) -> dict[str, inst.Finding]:
    return {f.check: f for f in findings}


@pytest.mark.skipif(inst.excel_platform(), reason="checks what the doctor says where there is no Excel")
def test_the_doctor_checks_the_real_file_and_says_what_it_cannot_check(xlam: Path) -> None:
    found = _by_check(inst.doctor(xlam))
    assert found["Excel platform"].status == inst.CANNOT and "no Excel here" in found["Excel platform"].detail
    assert found["add-in file"].status == inst.OK
    assert found["xlwings version"].status == inst.OK and "0.37.8" in found["xlwings version"].detail
    assert found["UDF module setting"].status == inst.OK
    assert found["interpreter"].status == inst.OK and found["interpreter"].detail == sys.executable
    assert found["UDF module imports"].status == inst.OK and f"{len(udfs.UDFS)} functions" in found["UDF module imports"].detail
    # the functions are imported into the add-in only from inside Excel (ImportPythonUDFsToAddin): said, with the fix
    imported = found["functions imported"]
    assert imported.status == inst.FAIL and "ImportPythonUDFsToAddin" in imported.fix
    assert found["Excel has it open"].status == inst.CANNOT


def test_a_dll_version_other_than_the_installed_xlwings_fails(xlam: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import xlwings

    monkeypatch.setattr(xlwings, "__version__", "0.99.0")
    found = _by_check(inst.doctor(xlam))["xlwings version"]
    assert found.status == inst.FAIL and "names xlwings 0.37.8; 0.99.0 is installed" in found.detail
    assert "cdm addin install" in found.fix


def test_imported_functions_are_found_in_the_vba(xlam: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = inst._vba(xlam)
    wrappers = "\n".join(f"Function {name}(deal)\nEnd Function" for name in udfs.UDFS)
    monkeypatch.setattr(inst, "_vba", lambda path: real + "\n" + wrappers)
    assert _by_check(inst.doctor(xlam))["functions imported"].status == inst.OK
    monkeypatch.setattr(inst, "_vba", lambda path: real + "\n" + wrappers.replace("Function CDM_TABLE(", "Function X("))
    found = _by_check(inst.doctor(xlam))["functions imported"]
    assert found.status == inst.FAIL and "1 of 20" in found.detail and "CDM_TABLE" in found.detail


@pytest.mark.parametrize(
    ("interpreter", "status", "said"),
    [("/no/such/python", inst.FAIL, "does not exist"), ("C:\\Python312\\python.exe", inst.CANNOT, "Windows path")],
)
def test_the_interpreter_the_add_in_names(tmp_path: Path, interpreter: str, status: str, said: str) -> None:
    if sys.platform.startswith("win") and status == inst.CANNOT:
        pytest.skip("a Windows path is checked for real on Windows")
    xlam = build(tmp_path / "computedeal.xlam", interpreter=interpreter)
    found = _by_check(inst.doctor(xlam))
    assert found["interpreter"].status == status and said in found["interpreter"].detail
    # the module is then imported by this Python, and the doctor says so
    assert "this Python" in found["UDF module imports"].detail


def test_a_lock_file_means_excel_holds_it_open(xlam: Path) -> None:
    lock = xlam.with_name("~$" + xlam.name)
    lock.write_bytes(b"")
    try:
        found = _by_check(inst.doctor(xlam))["Excel has it open"]
    finally:
        lock.unlink()
    assert found.status == inst.FAIL and "close Excel" in found.fix


def test_a_missing_add_in_is_one_clear_failure(tmp_path: Path) -> None:
    found = _by_check(inst.doctor(tmp_path / "computedeal.xlam"))
    assert found["add-in file"].status == inst.FAIL and "cdm addin install" in found["add-in file"].fix
    assert found["UDF module imports"].status == inst.OK


@pytest.mark.skipif(inst.excel_platform(), reason="where there is Excel, install installs")
def test_install_builds_with_this_python_and_says_it_cannot_install_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "computedeal.xlam"
    monkeypatch.setattr(inst, "TARGET", target)
    res = runner.invoke(app, ["addin", "install", "--json"])
    assert res.exit_code == 1, res.output
    said = json.loads(res.stdout)
    assert said["built"] == str(target) and said["installed"] is None and "Windows or macOS" in said["message"]
    assert _by_check(inst.doctor(target))["interpreter"].detail == sys.executable


def test_cdm_addin_doctor_prints_a_checklist_and_exits_1_on_a_failure() -> None:
    res = runner.invoke(app, ["addin", "doctor", "--json"])
    findings = json.loads(res.stdout)
    assert {f["check"] for f in findings} >= {"Excel platform", "add-in file", "UDF module imports"}
    assert res.exit_code == (1 if any(f["status"] == "fail" for f in findings) else 0)
    text = runner.invoke(app, ["addin", "doctor"])
    assert "Traceback" not in text.output and re.search(r"^\[(ok|FAIL|n/a)\]", text.stdout, re.M)


def test_the_slow_functions_are_kept_out_of_the_function_wizard() -> None:
    from tests.addin.xlwings_classic import load_classic

    module, vba = load_classic("computedeal")
    slow = {"CDM_SIMULATE", "CDM_PORTFOLIO_SIMULATE", "CDM_TABLE"}
    for name in udfs.UDFS:
        assert getattr(module, name).__xlfunc__["call_in_wizard"] is (name not in slow), name
        body = vba.split(f"Function {name}(", 1)[1].split("End Function", 1)[0]
        assert ('Application.CommandBars("Standard")' in body) is (name in slow), name


def _deal_block() -> list[list[Any]]:
    from openpyxl import load_workbook

    ws = load_workbook(ROOT / "workbooks" / "anthropic_xai_colossus1.xlsx", data_only=True)["Scenarios"]
    return [[ws.cell(r, 3).value, ws.cell(r, 4).value] for r in range(7, ws.max_row + 1)]


def test_a_cold_summary_and_schedule_evaluate_the_deal_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """44 cells as Excel calls them, each with its own copy of the deal range: one parse, one evaluation, one
    record, one seller model (its break-even search)."""
    from engine import seller

    calls = {"parse": 0, "seller": 0}
    real_parse, real_seller = udfs.block_to_raw, seller.seller_summary

    def parse(deal: Any) -> Any:
        calls["parse"] += 1
        return real_parse(deal)

    def sell(schedule: Any) -> Any:
        calls["seller"] += 1
        return real_seller(schedule)

    monkeypatch.setattr(udfs, "block_to_raw", parse)
    monkeypatch.setattr(seller, "seller_summary", sell)
    deal = _deal_block()
    udfs.CACHE.clear()
    assert not isinstance(udfs.cdm_schedule(copy.deepcopy(deal)), str)
    for name in ("net_tcv_usd", "npv_usd", "gpus", "irr_vs_market_pct", "deal_name") * 6:
        udfs.cdm_summary(copy.deepcopy(deal), name)
    for name in ("revenue_usd", "project_npv_usd", "breakeven_usd_per_gpu_hour") * 4:
        assert isinstance(udfs.cdm_seller(copy.deepcopy(deal), name), float)
    assert calls == {"parse": 1, "seller": 1} and udfs.CACHE.misses == 1
    # a changed cell is a new deal
    changed = copy.deepcopy(deal)
    row = next(i for i, r in enumerate(changed) if r[0] == "monthly_fee_usd")
    changed[row][1] = 2 * changed[row][1]
    assert udfs.cdm_summary(changed, "net_tcv_usd") == pytest.approx(2 * udfs.cdm_summary(deal, "net_tcv_usd"))
    assert calls["parse"] == 2 and udfs.CACHE.misses == 2
