"""Portfolios against hand arithmetic and single-deal runs."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from addin.cli import app
from addin.workbook.portfolio_file import load_portfolio, portfolio_record
from engine import build_schedule, build_terms, evaluate
from engine.portfolio import Demand, Outage, Portfolio, PortfolioResult, build_portfolio, warrant_ownership_pct

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def deal(name: str, vendor: str, start: str, end: str, fee: float, gpus: int, **kw: Any) -> Any:  # noqa: PLR0917
    return build_terms({"deal_name": name, "vendor": vendor, "start_month": start, "end_month": end, "monthly_fee_usd": fee,
                        "facility_mw": 100, "gpu_count": gpus, **kw})  # fmt: skip


def portfolio(contracts: list[Any], months: int = 24, **kw: Any) -> PortfolioResult:
    demand = kw.pop("demand", Demand(np.array([12e6]), np.array([12.0]), np.array([1.0])))
    return PortfolioResult(Portfolio("p", np.datetime64("2026-01", "M"), months, tuple(contracts), demand, 2.0, **kw))


def test_combined_schedule_is_the_sum_of_single_deals() -> None:
    a = deal("A", "V1", "2026-01", "2027-06", 1e6, 300)
    b = deal("B", "V2", "2026-07", "2028-12", 2e6, 100, ramp_months=2, ramp_fee_fraction=0.5)
    r = portfolio([a, b], months=36)
    sa, sb = build_schedule(a), build_schedule(b)
    expected = np.zeros(36)
    expected[:18] += sa.net_fee_usd[0]
    expected[6:36] += sb.net_fee_usd[0][:30]
    np.testing.assert_allclose(r.total_fee, expected)
    assert r.total_fee.sum() == pytest.approx(18e6 + (28 * 2e6 + 2 * 1e6))  # B: 30 months in view, 2 at half fee
    hours = np.zeros(36)
    hours[:18] += sa.delivered_gpu_hours[0]
    hours[6:36] += sb.delivered_gpu_hours[0][:30]
    np.testing.assert_allclose(r.total_gpu_hours, hours)


def test_one_contract_portfolio_reproduces_the_deal() -> None:
    a = deal("A", "V1", "2026-01", "2027-12", 1e6, 300, notice_days=30, lockin_months=3)
    r = portfolio([a], months=24)
    s = evaluate(a.raw)
    assert r.total_fee.sum() == pytest.approx(float(s["net_tcv_usd"][0]))
    assert r.firm.sum() == pytest.approx(float(s["firm_commitment_usd"][0]))
    assert r.total_gpu_hours.sum() == pytest.approx(float(s["delivered_gpu_hours"][0]))
    np.testing.assert_allclose(r.capacity_share(), 1.0)
    np.testing.assert_allclose(r.hhi(), 10_000.0)


def test_shares_reliance_and_hhi_by_hand() -> None:
    # same months, 300 and 100 GPUs: shares 0.75 and 0.25; HHI = 10,000 x (0.75^2 + 0.25^2) = 6,250; A:B = 3
    r = portfolio([deal("A", "V1", "2026-01", "2026-12", 1e6, 300), deal("B", "V2", "2026-01", "2026-12", 3e6, 100)], months=12)
    np.testing.assert_allclose(r.capacity_share(), [[0.75] * 12, [0.25] * 12])
    np.testing.assert_allclose(r.spend_share(), [[0.25] * 12, [0.75] * 12])
    np.testing.assert_allclose(r.capacity_share().sum(axis=0), 1.0)
    np.testing.assert_allclose(r.hhi(), 6250.0)
    np.testing.assert_allclose(r.reliance_ratio("V1", "V2"), 3.0)


def test_commitment_buckets_by_hand() -> None:
    # $1M a month for 48 months: 12 / 24 / 12 / 0 months in the buckets
    r = portfolio([deal("A", "V1", "2026-01", "2029-12", 1e6, 10)], months=60)
    assert r.commitment_buckets() == pytest.approx({"next_12_months": 12e6, "years_1_to_3": 24e6, "years_3_to_5": 12e6,
                                                    "beyond_5_years": 0.0})  # fmt: skip


def test_coverage_by_hand() -> None:
    # supply: 1,000 GPUs x hours; demand table: 700,000 GPU-hours a month, then 1,000,000 from month 6
    a = deal("A", "V1", "2026-01", "2026-12", 1e6, 1000)
    table = np.array([700_000.0] * 6 + [1_000_000.0] * 6)
    r = portfolio([a], months=12, demand=Demand(np.array([1e9]), np.array([12.0]), np.array([1.0]), table))
    cov = r.coverage()
    supply = r.total_gpu_hours  # 1,000 x days x 24: 744,000 in a 31-day month, 720,000 in a 30-day one
    short = np.maximum(table - supply, 0)
    assert int(cov["first_shortfall_month"][0]) == 1  # February: 672,000 < 700,000
    np.testing.assert_allclose(cov["shortfall_gpu_hours"][0], short)
    # GPUs to sign: the running maximum shortfall in 730-hour GPUs, its rise each quarter
    need = np.maximum.accumulate(short / 730)
    np.testing.assert_allclose(cov["gpus_to_sign_per_quarter"][0], np.diff(np.concatenate([[0], need[[2, 5, 8, 11]]])))


def test_doubling_demand_and_scenarios() -> None:
    a = deal("A", "V1", "2026-01", "2027-12", 1e6, 1000)
    d = Demand(np.array([1.2e9, 2.4e9]), np.array([6.0, 4.5]), np.array([0.2, 0.2]))
    r = portfolio([a], months=24, demand=d)
    demand = r.demand_gpu_hours()
    # month 6 at a 6-month doubling: $1.2B x 2 / 12 x 0.2 GPU-hours per $ = 40,000,000
    assert demand[0, 6] == pytest.approx(1.2e9 * 2 / 12 * 0.2)
    single = portfolio([a], months=24, demand=Demand(np.array([2.4e9]), np.array([4.5]), np.array([0.2]))).demand_gpu_hours()
    np.testing.assert_array_equal(demand[1], single[0])


def test_seed_figures_burn_multiple_and_warrants() -> None:
    # seed 000: "$34 billion in compute spend before monetization has crossed $1 billion annualized revenue, a 34x
    # burn-to-revenue multiple": $34B of fees / $1B a year = 34
    a = deal("AWS", "AWS", "2026-01", "2030-12", 34e9 / 60, 1000)
    r = portfolio([a], months=60, demand=Demand(np.array([1e9]), np.array([12.0]), np.array([0.1])))
    assert r.coverage()["burn_to_revenue_multiple"][0] == pytest.approx(34.0)
    # seed 004: warrants at an $18B post-money giving 4% to 6%: $0.72B and $1.08B of warrants
    np.testing.assert_allclose(warrant_ownership_pct([0.72e9, 1.08e9], 18e9), [4.0, 6.0])
    b = deal("X", "xAI", "2026-01", "2026-12", 1e8, 100, warrant_value_usd=0.9e9, equity_pct=10, revenue_share_pct=5)
    r = portfolio([b], months=12, post_money_valuation_usd=18e9, later_valuations_usd=(36e9,))
    s = r.structure()[0]
    assert s["ownership_pct"] == pytest.approx(5.0) and s["stake_at_later_valuations_usd"] == [pytest.approx(1.8e9)]
    assert (s["cash_usd"], s["equity_usd"], s["revenue_share_usd"]) == pytest.approx((12e8 * 0.85, 12e8 * 0.10, 12e8 * 0.05))


def test_outage_by_hand() -> None:
    # 1,000 GPUs, out 10 days of a 30-day month (June 2026): 1,000 x 24 x 10 = 240,000 GPU-hours lost;
    # uptime 1 - 10/30 = 66.7% < 95% -> the AWS policy credits 100% of June's fee ($1M); replaced at $2/GPU-hour
    a = deal("A", "AWS", "2026-01", "2026-12", 1e6, 1000, sla_policy="aws-ec2-region", site="Site 1")
    r = portfolio([a, deal("B", "Other", "2026-01", "2026-12", 1e6, 1000)], months=12)
    out = r.outage(Outage(dt.date(2026, 6, 1), 10, vendor="AWS"))
    assert out["lost_gpu_hours"] == pytest.approx(240_000)
    assert out["sla_credits_usd"] == pytest.approx(1e6)
    assert out["replacement_cost_usd"] == pytest.approx(480_000)
    assert out["share_of_capacity_lost_pct"] == pytest.approx(240_000 / (2 * 1000 * 720) * 100)
    assert r.outage(Outage(dt.date(2026, 6, 1), 10, site="Site 1"))["lost_gpu_hours"] == pytest.approx(240_000)


def test_anthropic_portfolio_file() -> None:
    p, _ = load_portfolio(ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml")
    rec = portfolio_record(PortfolioResult(p))
    assert [c["vendor"] for c in rec["contracts"]] == ["xAI / SpaceX", "AWS", "Google"]
    assert sum(rec["commitments_by_period_usd"].values()) == pytest.approx(rec["total_fees_usd"])
    assert rec["structure"][0]["ownership_pct"] == pytest.approx(5.0)  # $0.9B / $18B
    memphis = rec["outages"][0]
    assert memphis["contracts"] == ["Anthropic - xAI Colossus 1"] and memphis["lost_gpu_hours"] > 0
    res = runner.invoke(app, ["portfolio", str(ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml"), "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["portfolio_name"] == "Anthropic compute portfolio"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[contracts]]\ndeal_name = "a"\nstart_month = "2026-01"\nend_month = "2026-12"\nmonthly_fee_usd = 1e6\nfacility_mw = 1\npue = 0.8\n',
         "portfolio.toml:7: contracts[1]: pue must be >= 1.0, got 0.8"),
        ('[[contracts]]\ndeal_file = "nope.toml"\n', "no such file"),
        ('[[contracts]]\ndeal_name = "a"\nstart_month = "2026-01"\nend_month = "2026-12"\nmonthly_fee_usd = 1e6\nfacility_mw = 1\n'
         "months = 500\n", "months must be <= 120, got 500"),
    ],
)  # fmt: skip
def test_bad_portfolio_inputs_are_located(text: str, expected: str, tmp_path: Path) -> None:
    header = 'portfolio_name = "p"\nstart_month = "2026-01"\nrevenue_usd_per_year = 1e9\ngpu_hours_per_usd = 0.2\n'
    body = text if "months = 500" not in text else text.replace("months = 500\n", "")
    if "months = 500" in text:
        header += "months = 500\n"
    f = tmp_path / "portfolio.toml"
    f.write_text(header + body if "contracts" not in header else header)
    res = runner.invoke(app, ["portfolio", str(f)])
    assert res.exit_code == 2
    stderr = " ".join(res.stderr.split()).replace(str(tmp_path) + "/", "")
    assert expected.replace("portfolio.toml:7", f"portfolio.toml:{4 + 7}") in stderr or expected in stderr, stderr


def test_portfolio_inputs_validated() -> None:
    with pytest.raises(Exception) as info:
        build_portfolio({"portfolio_name": "p", "start_month": "2026-01", "revenue_usd_per_year": -1, "gpu_hours_per_usd": 0.2,
                         "reliance_vendors": ["A"]}, [])  # fmt: skip
    text = str(info.value)
    assert "revenue_usd_per_year must be > 0, got -1" in text and "reliance_vendors must name two vendors" in text
    assert "contracts must list at least one contract" in text


def test_portfolio_workbook_refresh_and_located_errors(tmp_path: Path) -> None:
    import datetime as _dt
    import shutil

    from openpyxl import load_workbook

    from addin.excel.refresh import refresh_file

    book = tmp_path / "p.xlsx"
    shutil.copy(ROOT / "workbooks" / "anthropic_portfolio.xlsx", book)
    inputs_before = [[c.value for c in row] for row in load_workbook(book)["Contracts"].iter_rows()]
    now = _dt.datetime(2026, 11, 23, tzinfo=_dt.UTC)
    refresh_file(book, now)
    once = [[c.value for c in row] for ws in load_workbook(book).worksheets for row in ws.iter_rows() if ws.title == "Vendors"]
    refresh_file(book, now)
    twice = [[c.value for c in row] for ws in load_workbook(book).worksheets for row in ws.iter_rows() if ws.title == "Vendors"]
    assert once == twice and any("Memphis" in str(v) for row in once for v in row)
    assert [[c.value for c in row] for row in load_workbook(book)["Contracts"].iter_rows()] == inputs_before
    wb = load_workbook(book)
    ws = wb["Contracts"]
    col = next(c.column for c in ws[3] if c.value == "pue")
    ws.cell(5, col).value = 0.8  # contract row 2 (AWS)
    wb.save(book)
    res = runner.invoke(app, ["portfolio", str(book)])
    assert res.exit_code == 2
    cell = f"Contracts!{ws.cell(5, col).coordinate}"
    assert f"[p.xlsx]{cell}: contracts row 2: pue must be >= 1.0, got 0.8" in " ".join(res.stderr.split())


def test_portfolio_workbook_risk_sheet_matches_the_toml_and_locates_errors(tmp_path: Path) -> None:
    """The Risk sheet typed in the portfolio workbook gives the same simulation as the TOML's [risk] table."""
    import shutil

    from openpyxl import load_workbook

    from addin.excel.refresh import refresh_file

    book = tmp_path / "p.xlsx"
    shutil.copy(ROOT / "workbooks" / "anthropic_portfolio.xlsx", book)
    toml = ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml"
    from_toml = json.loads(runner.invoke(app, ["simulate", str(toml), "--paths", "10000", "--seed", "20260506", "--json"]).stdout)
    res = runner.invoke(app, ["simulate", str(book), "--paths", "10000", "--seed", "20260506", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["stats"] == from_toml["stats"]
    refresh_file(book, dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
    ws = load_workbook(book)["Risk"]
    rows = {r[1]: r[2:6] for r in ws.iter_rows(values_only=True) if r[1]}
    lost = from_toml["stats"]["outage_lost_gpu_hours"]
    assert rows["outage_lost_gpu_hours"] == pytest.approx((lost["p5"], lost["p50"], lost["p95"], lost["mean"]))
    # the tables under the Risk sheet's charts: the $/used GPU-hour histogram, the demand fan, the rank correlations
    from addin.workbook.book import OpenpyxlBook
    from addin.workbook.dealbook import read_risk
    from addin.workbook.portfolio_book import read_portfolio_workbook
    from engine.risk import build_portfolio_risk, summarise_portfolio

    wb = load_workbook(book)
    sim = summarise_portfolio(PortfolioResult(read_portfolio_workbook(book)[0]), 10_000, 20260506,
                              build_portfolio_risk(read_risk(OpenpyxlBook(wb))[0]))  # fmt: skip

    def block(name: str) -> list[list[Any]]:
        sheet, ref = wb.defined_names[name].attr_text.split("!")
        return [[c.value for c in r] for r in wb[sheet.strip("'")][ref.replace("$", "")]]

    assert [r[2] for r in block("cdm_risk_histogram")[1:]] == sim.summary.histograms["usd_per_used_gpu_hour"]["counts"]
    fan = block("cdm_risk_fan")
    assert [r[2] for r in fan[1 : len(sim.supply) + 1]] == pytest.approx(sim.demand_fan["p50"], rel=1e-12)
    assert [r[4] for r in fan[1 : len(sim.supply) + 1]] == pytest.approx(sim.supply, rel=1e-12)
    corr = block("cdm_risk_correlation")
    assert [r[0] for r in corr[1:]] == [r["driver"] for r in sim.rank_correlation()]
    assert {"starting_revenue_level", "outage_days_at:AWS"} <= {r[0] for r in corr[1:]} and len(wb["Risk"]._charts) == 3
    shortfall = rows["first_shortfall_month (mean in months from start)"]
    p5 = int(from_toml["stats"]["first_shortfall_month"]["p5"])  # months after January 2026
    assert shortfall[0] == f"{2026 + p5 // 12}-{p5 % 12 + 1:02d}" and shortfall[0] <= shortfall[1] <= shortfall[2]
    wb = load_workbook(book)
    ws = wb["Risk"]
    row = next(r for r in range(1, 20) if ws.cell(r, 3).value == "outages_per_year")
    ws.cell(row, 4).value, ws.cell(row, 5).value = None, -1
    wb.save(book)
    res = runner.invoke(app, ["simulate", str(book), "--paths", "100"])
    assert res.exit_code == 2
    assert f"[p.xlsx]Risk!D{row}: risk.outages_per_year must be a number from 0 to 500, got -1" in " ".join(res.stderr.split())
    refresh_file(book, dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
    texts = [str(r[1]) for r in load_workbook(book)["Risk"].iter_rows(values_only=True) if r[1]]
    assert "CDM error: risk.outages_per_year must be a number from 0 to 500, got -1" in texts
    # a vendor's own row (one pair per vendor of the portfolio) is located by its cell too
    shutil.copy(ROOT / "workbooks" / "anthropic_portfolio.xlsx", book)
    wb = load_workbook(book)
    ws = wb["Risk"]
    row = next(r for r in range(1, 30) if ws.cell(r, 3).value == "vendors.AWS.outage_days")
    ws.cell(row, 4).value, ws.cell(row, 5).value, ws.cell(row, 6).value = "uniform", 6, 2
    wb.save(book)
    res = runner.invoke(app, ["simulate", str(book), "--paths", "100"])
    assert res.exit_code == 2
    assert f"[p.xlsx]Risk!D{row}: risk.vendors.AWS.outage_days:" in " ".join(res.stderr.split())


def test_portfolio_report(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "p-report.xlsx"
    res = runner.invoke(app, ["report", str(ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["Summary", "Contracts", "Timeline", "Charts", "Vendors", "Risk", "Assumptions", "Claims", "About"]
    p, _ = load_portfolio(ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml")
    rec = portfolio_record(PortfolioResult(p))
    sheet, ref = wb.defined_names["portfolio_total_fees_usd"].attr_text.split("!")
    assert wb[sheet.strip("'")][ref.replace("$", "")].value == pytest.approx(rec["total_fees_usd"])
    assert len(wb["Charts"]._charts) == 2
    assert all(c.data_type != "f" for ws in wb.worksheets for row in ws.iter_rows() for c in row)
    same = tmp_path / "from-workbook.xlsx"
    assert runner.invoke(app, ["report", str(ROOT / "workbooks" / "anthropic_portfolio.xlsx"), "-o", str(same)]).exit_code == 0
    # the Risk sheet: the simulation under the portfolio's own Risk block, with its three charts
    from engine.risk import build_portfolio_risk, summarise_portfolio

    risk = build_portfolio_risk(
        tomllib.loads((ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml").read_text())["risk"]
    )
    sim = summarise_portfolio(PortfolioResult(p), 10_000, 20260506, risk)
    ws = wb["Risk"]
    shown = {row[0]: row[1:5] for row in ws.iter_rows(min_row=5, max_row=11, values_only=True)}
    st = sim.summary.stats["usd_per_used_gpu_hour"]
    assert shown["usd_per_used_gpu_hour"] == pytest.approx((st["p5"], st["p50"], st["p95"], st["mean"]), rel=1e-12)
    assert len(ws._charts) == 3 and load_workbook(same)["Risk"].max_row == ws.max_row
    # a bad Risk block stops the report where it is
    bad = tmp_path / "bad.toml"
    text = (ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml").read_text()
    bad.write_text(
        text.replace("../deals/", str(ROOT / "workbooks" / "deals") + "/").replace(
            "outages_per_year = 2 ", "outages_per_year = -2 "
        )
    )
    res = runner.invoke(app, ["report", str(bad), "-o", str(tmp_path / "bad.xlsx")])
    assert res.exit_code == 2 and "risk.vendors.xAI / SpaceX.outages_per_year must be a number from 0 to 500, got -2" in " ".join(
        res.stderr.split()
    )
    assert not (tmp_path / "bad.xlsx").exists()


def test_cdm_portfolio_simulate_udf() -> None:
    """=CDM_PORTFOLIO_SIMULATE(cdm_portfolio, cdm_contracts, paths, seed, cdm_risk) on the workbook's own ranges."""
    from openpyxl import load_workbook

    from addin.excel import udfs
    from addin.workbook.book import OpenpyxlBook
    from addin.workbook.dealbook import read_risk
    from addin.workbook.portfolio_book import read_portfolio_workbook
    from engine.risk import PORTFOLIO_OUTPUTS, build_portfolio_risk, summarise_portfolio

    path = ROOT / "workbooks" / "anthropic_portfolio.xlsx"
    book = OpenpyxlBook(load_workbook(path))
    inputs, contracts, risk = book.read("cdm_portfolio"), book.read("cdm_contracts"), book.read("cdm_risk")
    udfs._SIMULATION_CACHE.clear()
    table = udfs.cdm_portfolio_simulate(inputs, contracts, 3000, 9, risk)
    assert isinstance(table, list) and table[0] == ["output", "P5", "P50", "P95", "mean"] and table[-1][0] == "paths 3000, seed 9"
    stats = summarise_portfolio(
        PortfolioResult(read_portfolio_workbook(path)[0]), 3000, 9, build_portfolio_risk(read_risk(book)[0])
    )
    assert [row[0] for row in table[1:-1]] == list(PORTFOLIO_OUTPUTS)
    for row in table[1:-1]:
        assert row[1:] == [stats.summary.stats[row[0]][q] for q in ("p5", "p50", "p95", "mean")]
    assert udfs.cdm_portfolio_simulate(inputs, contracts, 3000, 9, risk) is table  # recalculation does not rerun it
    bad = [list(r) for r in risk]
    bad[2] = ["outages_per_year", "fixed", -4, None, None]
    assert udfs.cdm_portfolio_simulate(inputs, contracts, 3000, 9, bad) == (
        "CDM error: risk.outages_per_year must be a number from 0 to 500, got -4"
    )


def test_doublings_by_hand() -> None:
    from engine.portfolio import doublings

    # constant doubling time: t / D0
    assert float(doublings(np.array(9.0), np.array(4.5), np.array(0.0))) == 2.0
    # 100% a year: D(u) = 4.5 x 2^(u/12); integral of 1/D over 24 months = 12 (1 - 2^-2) / (4.5 ln 2) = 2.885390
    assert float(doublings(np.array(24.0), np.array(4.5), np.array(100.0))) == pytest.approx(12 * 0.75 / (4.5 * np.log(2)))
    # a numerical integral of 1 / D(u), 100,000 midpoints: the same to 1e-9
    u = (np.arange(100_000) + 0.5) * 24 / 100_000
    assert float(np.sum(24 / 100_000 / (4.5 * 1.5 ** (u / 12)))) == pytest.approx(
        float(doublings(np.array(24.0), np.array(4.5), np.array(50.0))), rel=1e-9
    )
    # it saturates: never more than 12 / (D0 ln(1 + s)) doublings
    assert float(doublings(np.array(1e6), np.array(4.5), np.array(100.0))) == pytest.approx(12 / (4.5 * np.log(2)))


def test_the_shipped_portfolio_demand_is_plausible() -> None:
    # the check (docs/how-to/portfolios.md): at 1.5 kW all-in per H100-equivalent (the catalogue's Hopper figure),
    # demand at the end of the view stays within 10 GW, the upper end of the "multiple gigawatts" of frontier AI
    # compute by 2030 (Anthropic with Google, 6 Apr 2026; Epoch AI); GPUs to sign in any quarter stay under 1,000,000
    p, _ = load_portfolio(ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml")
    r = PortfolioResult(p)
    demand_gpus = r.demand_gpu_hours()[0] / 730.0
    gw = demand_gpus[-1] * 1.5 / 1e6
    assert 1.0 < gw < 10.0, gw  # about 3.9 GW in Dec 2030
    assert r.coverage()["gpus_to_sign_per_quarter"].max() < 1_000_000
    # without the slowdown the same inputs ask for 2^(59 / 4.5) = 8,848 times the starting demand by Dec 2030
    flat = build_portfolio({**_portfolio_inputs(), "doubling_slowdown_pct_per_year": 0}, p.contracts)
    demand = PortfolioResult(flat).demand_gpu_hours()[0]
    assert demand[-1] / demand[0] == pytest.approx(2 ** (59 / 4.5)) and demand[-1] / 730 * 1.5 / 1e6 > 1_000  # > 1,000 GW


def _portfolio_inputs() -> dict[str, Any]:
    raw = tomllib.loads((ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml").read_text())
    keep = ("portfolio_name", "start_month", "months", "revenue_usd_per_year", "revenue_doubling_months", "gpu_hours_per_usd")
    return {k: raw[k] for k in keep}


def _many_scenarios(n: int) -> PortfolioResult:
    import dataclasses

    p, _ = load_portfolio(ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml")
    demand = dataclasses.replace(p.demand, revenue_doubling_months=np.linspace(3.0, 24.0, n),
                                 revenue_usd_per_year=np.linspace(0.1e9, 30e9, n))  # fmt: skip
    return PortfolioResult(dataclasses.replace(p, demand=demand))


def test_coverage_stats_over_chunks_equal_numpy_over_every_scenario() -> None:
    r = _many_scenarios(10_000)
    assert r.n_demand_scenarios == 10_000
    full = r.coverage()
    part = r.coverage(slice(2_500, 2_600))
    for k in ("demand_gpu_hours", "coverage_pct", "gpus_to_sign_per_quarter", "first_shortfall_month"):
        np.testing.assert_array_equal(part[k], full[k][2_500:2_600], err_msg=k)
    first = np.where(full["first_shortfall_month"] >= 0, full["first_shortfall_month"].astype(float), np.nan)
    coverage = full["coverage_pct"].min(axis=1)
    expected = {
        "first_shortfall_month": first,
        "gpus_to_sign_next_4_quarters": full["gpus_to_sign_per_quarter"][:, :4].sum(axis=1),
        "burn_to_revenue_multiple": full["burn_to_revenue_multiple"],
        "min_coverage_pct": np.where(np.isfinite(coverage), coverage, np.nan),
    }
    stats = r.coverage_stats(chunk_scenarios=768).stats  # 14 chunks, the last of 16 scenarios
    for k, v in expected.items():
        defined = v[~np.isnan(v)]
        assert stats[k]["undefined_paths"] == v.size - defined.size, k
        for q, pct in (("p5", 5), ("p50", 50), ("p95", 95)):
            assert stats[k][q] == np.percentile(defined, pct), (k, q)
        assert stats[k]["mean"] == pytest.approx(defined.mean(), rel=1e-12), k
    # slow doubling and little revenue: some scenarios never run short within the portfolio's months
    assert 0 < stats["first_shortfall_month"]["undefined_paths"] < 10_000


def test_coverage_stats_memory_is_bounded_whatever_the_scenarios() -> None:
    import tracemalloc

    r = _many_scenarios(200_000)
    tracemalloc.start()
    stats = r.coverage_stats().stats
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # the full (200,000 x months) arrays would hold 100+ MB each; chunks of 4,096 scenarios and four kept figures
    # of 1.6 MB each stay well under 40 MB
    assert peak < 40e6, peak
    assert stats["burn_to_revenue_multiple"]["p50"] > 0


def test_the_record_summarises_every_demand_scenario() -> None:
    r = _many_scenarios(3)
    rec = portfolio_record(r)
    assert rec["demand_scenarios"] == 3 and set(rec["demand_scenario_stats"]) == {
        "first_shortfall_month", "gpus_to_sign_next_4_quarters", "burn_to_revenue_multiple", "min_coverage_pct"}  # fmt: skip
    one, _ = load_portfolio(ROOT / "workbooks" / "portfolios" / "anthropic_portfolio.toml")
    assert "demand_scenario_stats" not in portfolio_record(PortfolioResult(one))
