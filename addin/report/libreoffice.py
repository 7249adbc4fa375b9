"""LibreOffice headless: PDF export and an independent spreadsheet engine for parity tests.

Each call uses its own throwaway profile (concurrent runs must not share
one), with ``OOXMLRecalcMode=0`` so files that carry cached values are
recalculated, and runs under a timeout: a stuck soffice never hangs a user.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import signal
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


def run_bounded(cmd: list[str], timeout_s: float, message: str) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in its own process group; past the timeout (or on Ctrl-C), kill the whole group (soffice is a
    launcher whose soffice.bin child would otherwise outlive us) and raise LibreOfficeError(message)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, errtext = proc.communicate(timeout=timeout_s)
    except BaseException as exc:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        if isinstance(exc, subprocess.TimeoutExpired):
            raise LibreOfficeError(message) from None
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, errtext)


def convert(path: Path, target: str, outdir: Path, timeout_s: int = DEFAULT_TIMEOUT_S) -> Path:
    """Convert ``path`` with ``soffice --convert-to target`` into ``outdir``; return the new file.

    ``target`` is a LibreOffice filter spec such as ``pdf`` or ``csv``.
    """
    return convert_many([path], target, outdir, timeout_s)[0]


def convert_many(paths: list[Path], target: str, outdir: Path, timeout_s: int = DEFAULT_TIMEOUT_S) -> list[Path]:
    """Convert every file of ``paths`` in one LibreOffice process (one start-up, one profile); the new files in order.

    The files must have distinct names (LibreOffice names each output after its input).
    """
    soffice = find_soffice()
    if soffice is None:
        raise LibreOfficeError("LibreOffice is not installed (Debian: apt-get install libreoffice-calc-nogui)")
    stems = [p.stem for p in paths]
    if len(set(stems)) != len(stems):
        raise ValueError("convert_many needs distinct file names")
    outdir.mkdir(parents=True, exist_ok=True)
    names = ", ".join(p.name for p in paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
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
            *(str(p) for p in paths),
        ]
        budget = timeout_s * max(1, len(paths))
        proc = run_bounded(cmd, budget, f"LibreOffice did not finish converting {names} within {budget} s")
    ext = target.split(":", 1)[0]
    produced = [outdir / f"{p.stem}.{ext}" for p in paths]
    missing = [p for p, out in zip(paths, produced, strict=True) if not out.exists()]
    if proc.returncode != 0 or missing:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        which = ", ".join(p.name for p in missing) or names
        raise LibreOfficeError(f"LibreOffice could not convert {which} to {ext}: {detail[0]}")
    return produced


def computed_first_sheet(path: Path, timeout_s: int = DEFAULT_TIMEOUT_S) -> list[list[str]]:
    """Every cell of the first sheet as LibreOffice computes it (formulas evaluated), as text."""
    with tempfile.TemporaryDirectory(prefix="cdm-lo-out-") as out:
        produced = convert(
            path, "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false", Path(out), timeout_s
        )
        with produced.open(encoding="utf-8", newline="") as fh:
            return list(csv.reader(fh))
