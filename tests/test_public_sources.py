"""What ships cites public sources, never the project's internal notes (issue 15, item 5).

Every file in workbooks/ and templates/ (TOML and the text inside each workbook), and the report a user builds,
is searched for the names of the internal notes: "deal-facts", "shared/" and "seed 0" (the news-report files).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
INTERNAL = re.compile(r"deal-facts|shared/|seed 0\d", re.I)
SHIPPED = sorted(p for folder in ("workbooks", "templates") for p in (ROOT / folder).rglob("*") if p.is_file())


def _text(path: Path) -> str:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_shipped_file_names_an_internal_note(path: Path) -> None:
    found = INTERNAL.findall(_text(path))
    assert not found, f"{path.relative_to(ROOT)} cites {sorted(set(found))}"


def test_the_report_names_no_internal_note(tmp_path: Path) -> None:
    from addin.cli import app

    out = tmp_path / "r.xlsx"
    res = CliRunner().invoke(app, ["report", str(ROOT / "workbooks" / "deals" / "anthropic_xai_colossus1.toml"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert not INTERNAL.findall(_text(out))


def test_the_search_would_find_one() -> None:
    assert INTERNAL.search("see deal-facts 4C") and INTERNAL.search("seed 002") and not INTERNAL.search("a seed of 20260506")
