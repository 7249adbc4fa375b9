"""No formula from user text, writer by writer (issue 18.1).

The same corpus of formula-like strings goes into every text a user supplies (deal, buyer and vendor names,
notes, sources, scenario names, portfolio and contract names) and through every writer: ``cdm new``, ``report``,
``compare``, ``refresh``, ``recalc -o``, the portfolio report and the portfolio workbook. In every file written,
no formula cell may carry the text, and the text must be there as text (with Excel's quote prefix where it
starts like a formula).
"""

from __future__ import annotations

import re
import tomllib
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from addin.cli import app
from tests.corpus import _toml_value

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

PAYLOADS = {
    "equals": "=1+1",
    "plus": "+1+1",
    "minus": "-1+1",
    "at": "@SUM(1,1)",
    "tab-first": "\t=1+1",
    "cr-first": "\r=1+1",
    "hyperlink": '=HYPERLINK("http://evil.example","x")',
    "dde": "=cmd|' /C calc'!A0",
    "dde-bare": "|calc!A0",
}


def _core(payload: str) -> str:
    return payload.strip().lstrip("=+-@|")


def _deal_toml(payload: str) -> str:
    raw = tomllib.loads((ROOT / "workbooks" / "deals" / "google_spacex.toml").read_text())
    lines = []
    for key, given in raw.items():
        value = f"{payload} {key}" if key in ("deal_name", "buyer", "vendor", "notes") else given
        if isinstance(value, (str, int, float)) or hasattr(value, "isoformat"):
            lines.append(f"{key} = {_toml_value(value)}")
    lines.append("\n[sources]")
    lines.append(f"monthly_fee_usd = {_toml_value(payload + ' source')}")
    lines.append(f"\n[scenarios.{_toml_value(payload + ' scenario')}]\npue = 1.3")
    return "\n".join(lines) + "\n"


def assert_text_not_formula(path: Path, payload: str) -> int:
    """Every cell holding the payload holds it as text; returns how many cells hold it."""
    core = _core(payload)
    wb = load_workbook(path)
    held = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                value = getattr(c.value, "text", c.value)
                if not isinstance(value, str) or core not in value:
                    continue
                assert c.data_type != "f", f"{path.name} {ws.title}!{c.coordinate} became the formula {value!r}"
                held += 1
                if value.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r", "\n", "|")) and value.startswith(payload[:1]):
                    assert c.quotePrefix, f"{ws.title}!{c.coordinate}: {value!r} lacks the quote prefix"
    with zipfile.ZipFile(path) as z:  # and in the XML itself: no <f> element carries it
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = z.read(name).decode("utf-8")
                for body in re.findall(r"<f(?:\s[^>]*)?>(.*?)</f>", xml, re.S):  # <f> only: not <formula1>, <oddFooter>
                    assert core not in body, f"{name}: a formula holds {core!r}"
    return held


@pytest.fixture(params=list(PAYLOADS.values()), ids=list(PAYLOADS))
def payload(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_new_report_compare_refresh_and_recalc_write_user_text_as_text(payload: str, tmp_path: Path) -> None:
    deal = tmp_path / "deal.toml"
    deal.write_text(_deal_toml(payload))
    assert runner.invoke(app, ["check", str(deal)]).exit_code == 0
    book = tmp_path / "deal.xlsx"
    res = runner.invoke(app, ["new", "-o", str(book), "--from", str(deal)])
    assert res.exit_code == 0, res.output
    assert assert_text_not_formula(book, payload) >= 6  # four text inputs, a source, a scenario name

    report = tmp_path / "report.xlsx"
    res = runner.invoke(app, ["report", str(deal), "-o", str(report)])
    assert res.exit_code == 0, res.output
    assert assert_text_not_formula(report, payload) >= 1

    compared = tmp_path / "compare.xlsx"
    res = runner.invoke(
        app, ["compare", str(deal), str(ROOT / "workbooks" / "deals" / "iren_microsoft.toml"), "-o", str(compared)]
    )
    assert res.exit_code == 0, res.output
    assert assert_text_not_formula(compared, payload) >= 1

    res = runner.invoke(app, ["refresh", str(book)])
    assert res.exit_code == 0, res.output
    assert assert_text_not_formula(book, payload) >= 7  # the scenario name now heads the comparison too

    values = tmp_path / "values.xlsx"
    res = runner.invoke(app, ["recalc", str(book), "-o", str(values)])
    assert res.exit_code in (0, 2), res.output
    assert assert_text_not_formula(values, payload) >= 6


def test_portfolio_writers_write_user_text_as_text(payload: str, tmp_path: Path) -> None:
    text = (ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml").read_text()
    raw = tomllib.loads(text)
    text = text.replace(f"portfolio_name = {_toml_value(raw['portfolio_name'])}",
                        f"portfolio_name = {_toml_value(payload + ' portfolio')}")  # fmt: skip
    text = text.replace('deal_name = "Anthropic - AWS"', f"deal_name = {_toml_value(payload + ' contract')}")
    text = text.replace("../deals/", str(ROOT / "workbooks" / "deals") + "/")
    portfolio = tmp_path / "portfolio.toml"
    portfolio.write_text(text)
    report = tmp_path / "portfolio-report.xlsx"
    res = runner.invoke(app, ["report", str(portfolio), "-o", str(report)])
    assert res.exit_code == 0, res.output
    assert assert_text_not_formula(report, payload) >= 2

    from addin.excel.build_workbooks import save_workbook
    from addin.workbook.portfolio_book import build_portfolio_workbook, flatten_portfolio_file

    inputs, rows = flatten_portfolio_file(portfolio)
    book = tmp_path / "portfolio.xlsx"
    save_workbook(build_portfolio_workbook(inputs, rows), book)
    assert assert_text_not_formula(book, payload) >= 2
