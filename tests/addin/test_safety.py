"""Hostile and macro-carrying files: refused quickly with bounded memory, or read without running anything."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import xlwings

from tests.corpus import _entity_bomb, _zip_bomb

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "workbooks" / "google_spacex.xlsx"
# Peak memory of this process image: VmHWM belongs to the address space made by exec, unlike ru_maxrss,
# which Linux carries over from the forking parent (a pytest worker of several hundred MB).
MEASURE = """
import json, sys, time
from pathlib import Path
from addin.workbook.safety import UnsafeFileError, check_workbook_file
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
t0 = time.perf_counter()
try:
    check_workbook_file(Path(sys.argv[1])); outcome = "accepted"
except UnsafeFileError as exc:
    outcome = str(exc)
print(json.dumps({"s": time.perf_counter() - t0, "rss_mb": peak_mb(), "outcome": outcome}))
"""


@pytest.mark.parametrize(
    ("maker", "expected"), [(_entity_bomb, "declares a DTD or entities"), (_zip_bomb, "a zip bomb? refused")]
)
def test_bombs_are_refused_quickly_with_bounded_memory(maker: object, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    maker(path)  # type: ignore[operator]
    proc = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, check=True, timeout=120)
    result = json.loads(proc.stdout)
    assert expected in result["outcome"]
    assert result["rss_mb"] < 200, result  # the zip bomb expands to 512 MB; we never hold it
    assert result["s"] < 10, result  # measured about 0.3 s; the bound only catches a runaway


def test_macro_workbook_is_read_without_running_anything(tmp_path: Path) -> None:
    """An .xlsm with a VBA project (xlwings' own quickstart macros) reads like any deal workbook."""
    vba = zipfile.ZipFile(Path(xlwings.__file__).parent / "quickstart_standalone.xlsm").read("xl/vbaProject.bin")
    xlsm = tmp_path / "deal.xlsm"
    with zipfile.ZipFile(SEED) as zin, zipfile.ZipFile(xlsm, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")  # fmt: skip
                data = data.replace(
                    b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'
                )
            zout.writestr(info, data)
        zout.writestr("xl/vbaProject.bin", vba)
    before = hashlib.sha256(xlsm.read_bytes()).hexdigest()
    proc = subprocess.run(
        [sys.executable, "-m", "addin", "summary", str(xlsm), "--json"], capture_output=True, text=True, check=False, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["net_tcv_usd"] == 33 * 920e6
    assert hashlib.sha256(xlsm.read_bytes()).hexdigest() == before
