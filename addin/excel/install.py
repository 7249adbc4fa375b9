"""``cdm addin install`` and ``cdm addin doctor``: the Excel add-in in one step, and a checklist when it misbehaves.

Install builds ``computedeal.xlam`` from the pinned xlwings (:mod:`addin.excel.build_addin`) with the running
Python written in as the add-in's interpreter, then does what ``xlwings addin install`` does: copies it into
Excel's start-up folder (XLSTART) and opens it in a running Excel. The doctor reads the add-in file itself (its
config sheet, and its VBA through oletools) and checks, with a fix for each failure: the add-in exists, its VBA
names the installed xlwings' DLL version, the interpreter it names exists, that interpreter imports the UDF
module, the functions were imported into the add-in, and Excel does not hold the file open. A check this machine
cannot make (no Excel off Windows and macOS) says so instead of passing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from addin.excel.build_addin import MODULE, TARGET, AddinBuildError, build
from engine.errors import CdmError

OK, FAIL, CANNOT = "ok", "fail", "cannot check"


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's checklist: what was checked, the outcome, what was seen, and the fix."""

    check: str
    status: str  # ok, fail or "cannot check"
    detail: str
    fix: str = ""


def excel_platform() -> bool:
    """True where Excel can run the add-in's UDFs (Windows; macOS runs the ribbon, not the UDFs)."""
    return sys.platform.startswith("win") or sys.platform == "darwin"


def startup_folder() -> Path | None:
    """Excel's XLSTART folder, as xlwings finds it (None off Windows and macOS, or when Excel cannot be asked)."""
    if not excel_platform():
        return None
    try:
        from xlwings.cli import get_addin_dir

        return Path(get_addin_dir())
    except Exception:  # xlwings raises many kinds when Excel is missing or busy; the caller reports None
        return None


def install(interpreter: str | None = None) -> tuple[Path, Path | None, str]:
    """Build the add-in with ``interpreter`` (default: this Python) and install it; (built, installed, message).

    ``installed`` is None where there is no Excel to install into; the message then says what to do.
    """
    python = interpreter or sys.executable
    try:
        built = build(TARGET, interpreter=python)
    except AddinBuildError as exc:
        raise CdmError(f"the add-in could not be built: {exc}") from None
    folder = startup_folder()
    if folder is None:
        where = "Windows or macOS" if not excel_platform() else "this machine's Excel (could not be started)"
        return built, None, (f"built {built} (interpreter {python}); not installed: Excel for {where} is needed. On the "
                             "machine with Excel, run cdm addin install there, or copy the file into Excel's XLSTART "
                             "folder")  # fmt: skip
    from xlwings.cli import _addin_install

    _addin_install(str(built))
    return built, folder / built.name, f"installed {folder / built.name} (interpreter {python})"


def _config(xlam: Path) -> dict[str, str]:
    """The add-in config sheet's settings (label -> value) from the file."""
    from addin.excel.build_addin import config_labels

    with zipfile.ZipFile(xlam) as z:
        parts = {name: z.read(name) for name in ("xl/sharedStrings.xml", "xl/worksheets/sheet1.xml")}
    labels = config_labels(parts)
    sheet = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
    shared = re.findall(r"<si><t[^>]*>(.*?)</t></si>", parts["xl/sharedStrings.xml"].decode("utf-8"), re.S)
    out = {}
    for row, label in labels.items():
        m = re.search(rf'<c r="B{row}"[^>]*?(?:t="(\w+)")?[^>]*>(.*?)</c>', sheet, re.S)
        if m is None:
            out[label] = ""
            continue
        text = re.sub(r"<[^>]+>", "", m.group(2))
        out[label] = shared[int(text)] if m.group(1) == "s" and text.isdigit() else text
    return out


def _vba(xlam: Path) -> str:
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(xlam))
    try:
        return "\n".join(code for _, _, _, code in parser.extract_macros())
    finally:
        parser.close()


def _interpreter(config: dict[str, str]) -> str:
    key = "Interpreter_Win" if sys.platform.startswith("win") or not sys.platform == "darwin" else "Interpreter_Mac"
    return config.get(key, "").strip()


def doctor(xlam: Path | None = None) -> list[Finding]:
    """The checklist for the add-in at ``xlam`` (default: the installed one, else the built one)."""
    import xlwings

    from addin.excel.udfs import UDFS

    folder = startup_folder()
    candidates = [p for p in ((folder / f"{MODULE}.xlam") if folder else None, TARGET) if p is not None]
    path = xlam or next((p for p in candidates if p.exists()), TARGET)
    found = [_check_excel()]
    if not path.exists():
        return [*found, Finding("add-in file", FAIL, f"{path} does not exist", "run cdm addin install (or make addin)"),
                _check_import("")]  # fmt: skip
    found.append(Finding("add-in file", OK, str(path)))
    try:
        vba = _vba(path)
        config = _config(path)
    except Exception as exc:  # oletools and zipfile raise many kinds on a damaged file: one finding says so
        return [*found, Finding("add-in contents", FAIL, f"cannot read {path.name}: {type(exc).__name__}: {exc}",
                                "rebuild it: cdm addin install")]  # fmt: skip
    m = re.search(r'XLWINGS_VERSION As String = "([^"]+)"', vba)
    named = m.group(1) if m else "(none)"
    if named == xlwings.__version__:
        found.append(Finding("xlwings version", OK, f"the add-in's VBA names xlwings {named}, the version installed"))
    else:
        found.append(Finding("xlwings version", FAIL, f"the add-in's VBA names xlwings {named}; {xlwings.__version__} is "
                             "installed, so Excel would load the wrong DLL", "rebuild it: cdm addin install"))  # fmt: skip
    modules = config.get("UDF Modules", "")
    found.append(Finding("UDF module setting", OK if modules == MODULE else FAIL, f"UDF Modules = {modules or '(blank)'}",
                         "" if modules == MODULE else "rebuild it: cdm addin install"))  # fmt: skip
    python = _interpreter(config)
    found.append(_check_interpreter(python))
    found.append(_check_import(python))
    missing = [name for name in UDFS if not re.search(rf"^\s*Function {name}\(", vba, re.M)]
    if not missing:
        found.append(Finding("functions imported", OK, f"all {len(UDFS)} CDM_ functions are in the add-in's VBA"))
    else:
        found.append(Finding("functions imported", FAIL, f"{len(missing)} of {len(UDFS)} CDM_ functions are not in the "
                             f"add-in's VBA (e.g. {missing[0]})", "in Excel: Alt+F11, the add-in's xlwings module, "
                             "Sub ImportPythonUDFsToAddin, F5 (Trust Center must allow access to the VBA project)"))  # fmt: skip
    found.append(_check_open(path))
    return found


def _check_excel() -> Finding:
    if sys.platform.startswith("win"):
        return Finding("Excel platform", OK, "Windows: Excel runs the ribbon and the CDM_ functions")
    if sys.platform == "darwin":
        return Finding("Excel platform", CANNOT, "macOS: Excel runs the ribbon's Refresh; xlwings runs the CDM_ functions "
                       "on Windows only", "on a Mac use cdm recalc and cdm refresh, or the workbook's cached values")  # fmt: skip
    return Finding("Excel platform", CANNOT, f"{sys.platform}: there is no Excel here, so nothing can be installed into it "
                   "or seen open; the file, its VBA, its config and the Python module are checked",
                   "run cdm addin doctor on the Windows machine that runs Excel")  # fmt: skip


def _check_interpreter(python: str) -> Finding:
    if not python:
        return Finding("interpreter", FAIL if excel_platform() else CANNOT, "the add-in names no interpreter: Excel would "
                       "run the first python on its PATH", "cdm addin install writes this Python into it")  # fmt: skip
    windows_path = bool(re.match(r"^[A-Za-z]:\\", python))
    if windows_path and not sys.platform.startswith("win"):
        return Finding("interpreter", CANNOT, f"{python} is a Windows path: check it on the Windows machine")
    if Path(python).exists():
        return Finding("interpreter", OK, python)
    return Finding("interpreter", FAIL, f"{python} does not exist", "cdm addin install from the Python Excel should use")


def _check_import(python: str) -> Finding:
    """The interpreter imports the UDF module and finds every function (run in that Python, as Excel would)."""
    exe = python if python and Path(python).exists() else sys.executable
    code = f"import {MODULE}, addin.excel.udfs as u; print(sum(hasattr({MODULE}, n) for n in u.UDFS), len(u.UDFS))"
    root = str(Path(__file__).resolve().parents[2])  # where computedeal.py sits in a source checkout
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
    try:
        proc = subprocess.run([exe, "-c", code], capture_output=True, text=True, timeout=120, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Finding("UDF module imports", FAIL, f"{exe} could not be run: {exc}", "reinstall the project into it")
    which = "" if exe == python or not python else f" (this Python: the add-in's {python} cannot be run here)"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return Finding("UDF module imports", FAIL, f"{exe}{which}: {last}",
                       f"install the project into that Python: {exe} -m pip install compute-deal-model")  # fmt: skip
    have, want = proc.stdout.split()[-2:]
    if have != want:
        return Finding("UDF module imports", FAIL, f"{MODULE} defines {have} of {want} CDM_ functions", "reinstall the project")
    return Finding("UDF module imports", OK, f"{exe}{which} imports {MODULE}: {want} functions")


def _check_open(path: Path) -> Finding:
    lock = path.with_name("~$" + path.name)
    if lock.exists():
        return Finding("Excel has it open", FAIL, f"{lock.name} exists beside it: Excel holds the file open",
                       "close Excel (or the add-in) before reinstalling")  # fmt: skip
    if not excel_platform():
        return Finding("Excel has it open", CANNOT, "no Excel on this system; no lock file beside the add-in")
    return Finding("Excel has it open", OK, "no lock file beside the add-in")
