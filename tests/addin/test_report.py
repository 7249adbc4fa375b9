"""The report: figures against the engine, charts, names, formats, claims, text safety and atomic writes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.chart import BarChart, LineChart
from typer.testing import CliRunner

from addin.cli import app
from addin.report.claims import Claim, check_claim, check_claims, claims_for, load_claims
from addin.report.common import save_report
from addin.report.deal import build_report
from addin.report.sensitivity import sensitivity_tables
from addin.workbook.load import load_deal
from engine import evaluate

ROOT = Path(__file__).resolve().parents[2]
DEALS = sorted((ROOT / "workbooks" / "deals").glob("*.toml"))
runner = CliRunner()
SUMMARY_NAMES = ("net_tcv_usd", "headline_tcv_usd", "firm_commitment_usd", "npv_usd", "gpus", "usd_per_gpu_hour",
                 "usd_per_used_gpu_hour", "usd_per_kw_month", "premium_to_market_pct", "breakeven_utilization_pct")  # fmt: skip
EXCEL_ERRORS = ("#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!")


def cell_of(wb: Any, name: str) -> Any:
    sheet, ref = wb.defined_names[name].attr_text.split("!")
    return wb[sheet.strip("'")][ref.replace("$", "")]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    paths = {}
    for deal in DEALS:
        target = out / f"{deal.stem}-report.xlsx"
        res = runner.invoke(app, ["report", str(deal), "-o", str(target)])
        assert res.exit_code == 0, res.output
        paths[deal.stem] = target
    return paths


@pytest.mark.parametrize("deal", DEALS, ids=lambda p: p.stem)
def test_summary_figures_equal_the_engine(deal: Path, reports: dict[str, Path]) -> None:
    wb = load_workbook(reports[deal.stem])
    rec = evaluate(load_deal(deal).raw).record(0)
    for name in SUMMARY_NAMES:
        assert cell_of(wb, name).value == pytest.approx(rec[name], rel=1e-12), name
    assert cell_of(wb, "overall_check").value == "OK"
    assert cell_of(wb, "net_tcv_usd").number_format == '"$"#,##0.00,,,"B";-"$"#,##0.00,,,"B"'
    assert cell_of(wb, "premium_to_market_pct").number_format == '0.0"%"'
    assert wb.sheetnames == ["Summary", "Schedule", "Charts", "Sensitivity", "Seller", "Risk", "Claims", "Assumptions", "About"]


@pytest.mark.parametrize("deal", DEALS, ids=lambda p: p.stem)
def test_no_cell_holds_an_error_or_a_formula(deal: Path, reports: dict[str, Path]) -> None:
    wb = load_workbook(reports[deal.stem])
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} is a formula"
                assert c.value not in EXCEL_ERRORS, f"{ws.title}!{c.coordinate}"
                if isinstance(c.value, float):
                    assert c.value == c.value and abs(c.value) != float("inf"), f"{ws.title}!{c.coordinate}"


def test_schedule_sheet_totals_and_frozen_header(reports: dict[str, Path]) -> None:
    wb = load_workbook(reports["anthropic_xai_colossus1"])
    ws = wb["Schedule"]
    assert ws.freeze_panes == "B5"
    headers = [c.value for c in ws[4]]
    net_col = headers.index("Net fee ($M)") + 1
    total_row = next(r for r in range(5, 60) if ws.cell(r, 1).value == "Total")
    assert total_row == 5 + 37  # 37 months then the totals row
    assert ws.cell(total_row, net_col).value == pytest.approx(45e9)
    assert sum(ws.cell(r, net_col).value for r in range(5, total_row)) == pytest.approx(45e9)
    assert ws.print_title_rows == "$4:$4"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1


def test_charts_reference_the_schedule(reports: dict[str, Path]) -> None:
    wb = load_workbook(reports["anthropic_xai_colossus1"])
    charts = wb["Charts"]._charts
    assert len(charts) == 3
    refs = []
    for chart in charts:
        for sub in [chart, *getattr(chart, "_charts", [])]:
            for series in sub.series:
                refs.append(series.val.numRef.f)
    assert all(ref.startswith("Schedule!$") or ref.startswith("'Schedule'!$") for ref in refs), refs
    assert any(isinstance(c, BarChart) for c in charts) and sum(isinstance(c, LineChart) for c in charts) == 2
    for chart in charts:
        if isinstance(chart, LineChart):
            assert all(s.smooth is False for s in chart.series)


def test_claims_verdicts_match_hand_arithmetic() -> None:
    src = load_deal(ROOT / "workbooks" / "deals" / "anthropic_xai_colossus1.toml")
    s = evaluate(src.raw)
    verdicts = {v.claim.claim: v for v in check_claims(load_claims(claims_for(src.path)), s)}
    # $1.25B x 12 = $15.0B a year: consistent with "$15 billion annually"
    assert verdicts["Anthropic is committing $15 billion annually to xAI"].consistent
    # 37 months x $1.25B - 2 x $0.625B of ramp = $45.0B >= $40B
    v = verdicts["Total revenue for xAI projected to exceed $40 billion over the life of the deal"]
    assert v.consistent and v.model_value == 45e9
    # 300,000 kW / (338,180 kW / 220,000 = 1.5372 kW, the fleet's blend of 1.5 and 1.909) = 195,162 GPUs: not 300k-400k
    v = verdicts["300 MW of Colossus 1 powers 300,000-400,000 GPUs"]
    assert not v.consistent and v.model_value == 195_162
    # $1.25B / ($3.1286 fleet-weighted market x 730 h) = 547,308 GPUs: more than 400k, so inconsistent
    v = verdicts["$1.25 billion a month buys north of 300,000 to 400,000 GPUs at current H100/H200 rates"]
    assert not v.consistent and v.model_value == pytest.approx(
        1.25e9 / ((150_000 * 2.65 + 50_000 * 4.0 + 20_000 * 4.54) / 220_000 * 730), abs=1
    )
    # 150k x 1.5 + 50k x 1.5 + 20k x 1.909 kW = 338.18 MW > 300 MW
    v = verdicts["300 MW of compute capacity from Colossus 1, with >220,000 GPUs"]
    assert not v.consistent and v.model_value == pytest.approx(338.18)
    # spot: $2.42 / $4.03 - 1 = -40%, not +40%
    v = verdicts["Spot-market volatility that has already spiked 40% year-over-year"]
    assert not v.consistent and v.model_value == pytest.approx((2.42 / 4.03 - 1) * 100)
    assert sum(not x.consistent for x in verdicts.values()) == 4


@pytest.mark.parametrize(
    ("test", "kw", "value", "consistent"),
    [("approx", {"value": 100, "tolerance_pct": 5}, 104.9, True), ("approx", {"value": 100, "tolerance_pct": 5}, 105.1, False),
     ("at_least", {"value": 10}, 10, True), ("at_most", {"value": 10}, 10.01, False),
     ("between", {"low": 1, "high": 2}, 2, True), ("between", {"low": 1, "high": 2}, 0.99, False)],
)  # fmt: skip
def test_claim_tests(test: str, kw: dict[str, float], value: float, consistent: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from addin.report import claims

    monkeypatch.setitem(claims.QUANTITIES, "fixed", ("Fixed", "GPUs", lambda s: (value, "fixed")))
    assert check_claim(Claim("c", "s", "fixed", test, **kw), None).consistent is consistent  # type: ignore[arg-type]


def test_sensitivity_tables_equal_single_runs() -> None:
    raw = load_deal(ROOT / "workbooks" / "deals" / "anthropic_xai_colossus1.toml").raw
    s = evaluate(raw)
    sens = sensitivity_tables(dict(raw), s)
    i, j = 2, 3
    single = evaluate(raw, utilization_pct=float(sens["utils"][i]), monthly_fee_usd=float(sens["fees"][j]))
    assert sens["table_a"][i, j] == pytest.approx(float(single["usd_per_used_gpu_hour"][0]), rel=1e-12)
    single = evaluate(raw, discount_rate_pct=float(sens["rates"][1]), end_month=sens["ends"][0])
    assert sens["table_b"][1, 0] == pytest.approx(float(single["npv_usd"][0]), rel=1e-12)
    fee_row = sens["one_way"][0]
    assert fee_row["npv_usd_high"] == pytest.approx(float(evaluate(raw, monthly_fee_usd=1.5e9)["npv_usd"][0]), rel=1e-12)


def test_user_text_is_never_a_formula(tmp_path: Path) -> None:
    toml = tmp_path / "evil.toml"
    toml.write_text(
        'deal_name = "=HYPERLINK(\\"http://x\\",\\"click\\")"\nbuyer = "+1 buyer"\nvendor = "@vendor"\nnotes = "-note"\n'
        'start_month = "2026-01"\nend_month = "2026-12"\nmonthly_fee_usd = 1e6\nfacility_mw = 1\n'
    )
    out = tmp_path / "evil-report.xlsx"
    assert runner.invoke(app, ["report", str(toml), "-o", str(out)]).exit_code == 0
    wb = load_workbook(out)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} became a formula: {c.value!r}"
    assert wb["Summary"]["B1"].value == 'Deal report: =HYPERLINK("http://x","click")'


def test_output_equal_to_input_is_refused(tmp_path: Path) -> None:
    book = tmp_path / "deal.xlsx"
    shutil.copy(ROOT / "workbooks" / "google_spacex.xlsx", book)
    before = book.read_bytes()
    res = runner.invoke(app, ["report", str(book), "-o", str(book)])
    assert res.exit_code == 2 and "is the input file" in " ".join(res.stderr.split())
    assert book.read_bytes() == before


def test_existing_report_is_replaced_only_by_a_complete_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from addin.workbook.atomic import WriteError

    out = tmp_path / "r.xlsx"
    out.write_bytes(b"previous report")
    src = load_deal(ROOT / "workbooks" / "deals" / "google_spacex.toml")
    wb, _ = build_report(src)

    def broken_save(path: Any) -> None:
        Path(path).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(wb, "save", broken_save)
    with pytest.raises(WriteError, match=r"r\.xlsx: cannot be written \(disk full\); nothing was written"):
        save_report(wb, out)
    assert out.read_bytes() == b"previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]  # no temp file left behind


def test_compare_puts_deals_side_by_side(tmp_path: Path) -> None:
    out = tmp_path / "comparison.xlsx"
    res = runner.invoke(app, ["compare", *map(str, DEALS), "-o", str(out)])
    assert res.exit_code == 0, res.output
    ws = load_workbook(out)["Comparison"]
    header = [c.value for c in ws[4]][1:]
    assert header == [evaluate(load_deal(d).raw).schedule.terms.deal_name for d in DEALS]
    labels = {ws.cell(r, 1).value: r for r in range(5, 30)}
    oracle = header.index("Oracle - OpenAI") + 2
    # $5B a month / 4,500,000 kW = $1,111 per kW-month
    assert ws.cell(labels["$ per kW-month of facility power"], oracle).value == pytest.approx(5e9 / 4.5e6)
    npv = evaluate(load_deal(DEALS[-1]).raw).record(0)["npv_usd"]
    assert ws.cell(labels["NPV per GW of facility power [$B]"], oracle).value == pytest.approx(npv / 4.5)
    assert len(ws._charts) == 2


def test_bad_deal_report_exits_2_without_writing(tmp_path: Path) -> None:
    toml = tmp_path / "bad.toml"
    toml.write_text('deal_name = "x"\nstart_month = "2026-01"\nend_month = "2025-12"\nmonthly_fee_usd = 1e6\nfacility_mw = 1\n')
    out = tmp_path / "bad-report.xlsx"
    res = runner.invoke(app, ["report", str(toml), "-o", str(out)])
    assert res.exit_code == 2 and "end_month 2025-12 is before start_month 2026-01" in res.stderr
    assert not out.exists()


def test_pdf_pages(tmp_path: Path) -> None:
    from addin.report.libreoffice import find_soffice

    if find_soffice() is None:
        pytest.skip("LibreOffice not installed; .ci/run installs it")
    out = tmp_path / "r.xlsx"
    res = runner.invoke(
        app, ["report", str(ROOT / "workbooks" / "deals" / "anthropic_xai_colossus1.toml"), "-o", str(out), "--pdf"]
    )
    assert res.exit_code == 0, res.output
    pdf = out.with_suffix(".pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type/Page") >= 7
