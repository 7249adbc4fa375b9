"""LibreOffice headless: PDF export and an independent spreadsheet engine for parity tests.

Each call uses its own throwaway profile (concurrent runs must not share
one), with ``OOXMLRecalcMode=0`` so files that carry cached values are
recalculated, and runs under a timeout: a stuck soffice never hangs a user.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import tempfile
from pathlib import Path

from engine.errors import CdmError

SOFFICE_CANDIDATES = ("soffice", "libreoffice")
DEFAULT_TIMEOUT_S = 180

_REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


class LibreOfficeError(CdmError):
    """LibreOffice is missing, timed out or produced nothing."""


def find_soffice() -> str | None:
    """Path of the soffice binary, or None when LibreOffice is not installed."""
    for name in SOFFICE_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def convert(path: Path, target: str, outdir: Path, timeout_s: int = DEFAULT_TIMEOUT_S) -> Path:
    """Convert ``path`` with ``soffice --convert-to target`` into ``outdir``; return the new file.

    ``target`` is a LibreOffice filter spec such as ``pdf`` or ``csv``.
    """
    soffice = find_soffice()
    if soffice is None:
        raise LibreOfficeError("LibreOffice is not installed (Debian: apt-get install libreoffice-calc-nogui)")
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cdm-lo-profile-") as profile:
        user = Path(profile) / "user"
        user.mkdir(parents=True)
        (user / "registrymodifications.xcu").write_text(_REGISTRY, encoding="utf-8")
        cmd = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(outdir),
            str(path),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise LibreOfficeError(f"LibreOffice did not finish converting {path.name} within {timeout_s} s") from None
    ext = target.split(":", 1)[0]
    produced = outdir / f"{path.stem}.{ext}"
    if proc.returncode != 0 or not produced.exists():
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise LibreOfficeError(f"LibreOffice could not convert {path.name} to {ext}: {detail[0]}")
    return produced


def computed_first_sheet(path: Path, timeout_s: int = DEFAULT_TIMEOUT_S) -> list[list[str]]:
    """Every cell of the first sheet as LibreOffice computes it (formulas evaluated), as text."""
    with tempfile.TemporaryDirectory(prefix="cdm-lo-out-") as out:
        produced = convert(
            path, "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false", Path(out), timeout_s
        )
        with produced.open(encoding="utf-8", newline="") as fh:
            return list(csv.reader(fh))
