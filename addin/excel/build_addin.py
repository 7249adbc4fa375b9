"""Build ``addin/computedeal.xlam``: the ribbon add-in, from the pinned xlwings and our ribbon XML.

``make addin`` (or ``python -m addin.build_addin``) runs ``xlwings quickstart
computedeal --addin --ribbon`` with the installed (pinned) xlwings, then edits
the package with zipfile, because openpyxl cannot open an .xlam:

* ``customUI/customUI.xml`` becomes ``addin/ribbon/customUI.xml`` (a "Compute
  Deal" tab with a **Refresh model** button calling the quickstart's
  ``RibbonMyAddin.RunMain``, which runs ``computedeal.main()``);
* the config sheet ``_myaddin.conf`` is activated (renamed ``myaddin.conf``)
  and its "UDF Modules" setting names ``computedeal``; with ``--interpreter``
  its ``Interpreter_Win``/``Interpreter_Mac`` settings name the Python to use.

The result is built, never committed (it carries xlwings' VBA and DLL version).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from addin.workbook.atomic import atomic_write

HERE = Path(__file__).resolve().parents[1]  # addin/: the ribbon XML and the built .xlam live there
RIBBON_XML = HERE / "ribbon" / "customUI.xml"
TARGET = HERE / "computedeal.xlam"
MODULE = "computedeal"
CONFIG_SHEET_HIDDEN, CONFIG_SHEET = "_myaddin.conf", "myaddin.conf"
# rows of the quickstart config sheet (labels in column A, values in column B)
CONFIG_ROWS = {"Interpreter_Win": 1, "Interpreter_Mac": 2, "UDF Modules": 6}


class AddinBuildError(RuntimeError):
    """The quickstart failed or produced something we do not recognise (an xlwings upgrade?)."""


def quickstart(workdir: Path) -> Path:
    """Run the pinned xlwings' quickstart in ``workdir``; return the .xlam it made."""
    exe = Path(sys.executable).with_name("xlwings")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from xlwings.cli import main; main()"]
    proc = subprocess.run(
        [*cmd, "quickstart", MODULE, "--addin", "--ribbon"], cwd=workdir, capture_output=True, text=True, check=False
    )
    xlam = workdir / MODULE / f"{MODULE}.xlam"
    if proc.returncode != 0 or not xlam.exists():
        raise AddinBuildError(f"xlwings quickstart failed: {(proc.stderr or proc.stdout).strip()[-500:]}")
    return xlam


def _set_config(sheet_xml: str, row: int, value: str) -> str:
    """Put an inline-string value in column B of ``row`` of the config sheet."""
    cell = f'<c r="B{row}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    pattern = re.compile(rf'(<row r="{row}"[^>]*>)(.*?)(</row>)', re.S)
    m = pattern.search(sheet_xml)
    if m is None:
        raise AddinBuildError(f"the add-in's config sheet has no row {row}: xlwings changed its quickstart")
    cells = re.sub(rf'<c r="B{row}"[^>]*?(/>|>.*?</c>)', "", m.group(2), flags=re.S)
    opening = re.sub(r'spans="\d+:\d+"', 'spans="1:2"', m.group(1))
    return sheet_xml[: m.start()] + opening + cells + cell + m.group(3) + sheet_xml[m.end() :]


def config_labels(parts: dict[str, bytes]) -> dict[int, str]:
    """Row -> label in column A of the config sheet (labels are shared strings)."""
    shared = re.findall(r"<si><t[^>]*>(.*?)</t></si>", parts["xl/sharedStrings.xml"].decode("utf-8"), re.S)
    sheet = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
    labels = {}
    for row, index in re.findall(r'<c r="A(\d+)"[^>]*t="s"[^>]*><v>(\d+)</v></c>', sheet):
        labels[int(row)] = shared[int(index)]
    return labels


def customise(source: Path, target: Path, ribbon_xml: str, interpreter: str | None = None) -> None:
    """Copy the quickstart add-in with our ribbon and config; every other part byte for byte."""
    with zipfile.ZipFile(source) as zin:
        names = zin.namelist()
        for needed in (
            "customUI/customUI.xml",
            "xl/workbook.xml",
            "xl/worksheets/sheet1.xml",
            "xl/sharedStrings.xml",
            "xl/vbaProject.bin",
        ):
            if needed not in names:
                raise AddinBuildError(f"the quickstart add-in has no {needed}: xlwings changed its quickstart")
        parts = {name: zin.read(name) for name in names}
        infos = {info.filename: info for info in zin.infolist()}
    workbook = parts["xl/workbook.xml"].decode("utf-8")
    if f'name="{CONFIG_SHEET_HIDDEN}"' not in workbook:
        raise AddinBuildError(f"the quickstart add-in has no {CONFIG_SHEET_HIDDEN} sheet")
    parts["xl/workbook.xml"] = workbook.replace(f'name="{CONFIG_SHEET_HIDDEN}"', f'name="{CONFIG_SHEET}"').encode("utf-8")
    labels = config_labels(parts)
    for label, row in CONFIG_ROWS.items():
        if labels.get(row) != label:
            raise AddinBuildError(
                f"the config sheet's row {row} is {labels.get(row)!r}, not {label!r}: xlwings changed its quickstart"
            )
    sheet = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
    sheet = _set_config(sheet, CONFIG_ROWS["UDF Modules"], MODULE)
    if interpreter:
        sheet = _set_config(sheet, CONFIG_ROWS["Interpreter_Win"], interpreter)
        sheet = _set_config(sheet, CONFIG_ROWS["Interpreter_Mac"], interpreter)
    parts["xl/worksheets/sheet1.xml"] = sheet.encode("utf-8")
    parts["customUI/customUI.xml"] = ribbon_xml.encode("utf-8")
    with atomic_write(target) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in names:
            info = infos[name]
            zout.writestr(zipfile.ZipInfo(name, date_time=info.date_time), parts[name], compress_type=zipfile.ZIP_DEFLATED)


def build(target: Path = TARGET, interpreter: str | None = None) -> Path:
    """Build the add-in at ``target`` (default ``addin/computedeal.xlam``)."""
    with tempfile.TemporaryDirectory(prefix="cdm-addin-") as tmp:
        xlam = quickstart(Path(tmp))
        customise(xlam, target, RIBBON_XML.read_text(encoding="utf-8"), interpreter)
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m addin.excel.build_addin", description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", type=Path, default=TARGET)
    ap.add_argument("--interpreter", help="Python the add-in runs (default on Windows: this Python)")
    args = ap.parse_args(argv)
    interpreter = args.interpreter or (sys.executable if sys.platform.startswith("win") else None)
    try:
        out = build(args.output, interpreter)
    except AddinBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
