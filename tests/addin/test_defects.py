"""Issue 12's defects, each against an independent reference: hand arithmetic or the catalogue's own CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from addin.cli import app
from addin.excel import udfs
from engine import InputError, build_schedule, build_terms, summarize
from engine.portfolio import Demand, Portfolio, PortfolioResult
from engine.seller import seller_summary

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
BASE: dict[str, Any] = {"deal_name": "x", "start_month": "2026-05", "end_month": "2029-05", "monthly_fee_usd": 1.25e9,
                        "facility_mw": 300}  # fmt: skip


def test_size_prices_a_fleet_budget_at_the_count_weighted_rent_whatever_the_order() -> None:
    """12.4: 150k H100 and 100k GB200 at the catalogue's reference rents, weighted by count, by hand."""
    with (ROOT / "engine" / "data" / "market_prices.csv").open() as fh:
        rent = {r["gpu_sku"]: float(r["reference_usd_per_gpu_hour"]) for r in csv.DictReader(fh)}
    price = (rent["H100-SXM"] * 150_000 + rent["GB200"] * 100_000) / 250_000
    expected_gpus = int(1e9 // (price * 730))  # a budget rents floor(budget / (price x 730 hours)) GPUs
    answers = []
    for fleet in ("H100-SXM=150000,GB200=100000", "GB200=100000,H100-SXM=150000"):
        res = runner.invoke(app, ["size", "--facility-mw", "600", "--fleet", fleet, "--budget-usd-per-month", "1e9", "--json"])
        assert res.exit_code == 0, res.output
        rec = json.loads(res.stdout)
        assert rec["budget_usd_per_gpu_hour"] == pytest.approx(price, rel=1e-12)
        answers.append(rec["gpus_for_budget"])
    assert answers == [expected_gpus, expected_gpus]


def _credit(tiers: list[dict[str, float]], uptime: float) -> float:
    raw = {**BASE, "expected_uptime_pct": uptime, "sla_tiers": tiers}
    s = build_schedule(build_terms(raw))
    return float(s.sla_credit_usd[0, 0] / (s.list_fee_usd[0, 0]))


def test_sla_tiers_the_deepest_crossed_applies_and_out_of_order_credits_are_refused(tmp_path: Path) -> None:
    """12.5: at 98% uptime with tiers 99.9: 5%, 99.5: 10%, 99: 20%, the deepest tier crossed (99) credits 20%."""
    tiers = [{"below_uptime_pct": 99.9, "credit_pct": 5}, {"below_uptime_pct": 99.5, "credit_pct": 10},
             {"below_uptime_pct": 99.0, "credit_pct": 20}]  # fmt: skip
    assert _credit(tiers, 98.0) == pytest.approx(0.20)
    assert _credit(tiers, 99.7) == pytest.approx(0.05)
    assert _credit(list(reversed(tiers)), 99.2) == pytest.approx(0.10)  # the rows' order does not matter
    bad = [{"below_uptime_pct": 99.9, "credit_pct": 5}, {"below_uptime_pct": 99.5, "credit_pct": 40},
           {"below_uptime_pct": 99.0, "credit_pct": 20}]  # fmt: skip
    with pytest.raises(InputError, match=r"sla_tiers\[3\]\.credit_pct must be at least the credit of every shallower tier"):
        build_terms({**BASE, "sla_tiers": bad})
    deal = tmp_path / "sla.toml"
    rows = "".join(f"[[sla_tiers]]\nbelow_uptime_pct = {t['below_uptime_pct']}\ncredit_pct = {t['credit_pct']}\n" for t in bad)
    deal.write_text('deal_name = "x"\nstart_month = "2026-05"\nend_month = "2029-05"\nmonthly_fee_usd = 1.25e9\n'
                    f"facility_mw = 300\n{rows}")  # fmt: skip
    res = runner.invoke(app, ["check", str(deal)])
    line = deal.read_text().splitlines().index("credit_pct = 20") + 1
    assert res.exit_code == 2 and f"sla.toml:{line}:" in res.stderr, res.stderr
    same = [{"below_uptime_pct": 99.0, "credit_pct": 5}, {"below_uptime_pct": 99.0, "credit_pct": 10}]
    with pytest.raises(InputError, match="is the threshold of row 1 too"):
        build_terms({**BASE, "sla_tiers": same})


def test_a_portfolios_trailing_partial_quarter_is_kept() -> None:
    """12.6: 14 months give quarters ending in months 3, 6, 9, 12 and a fifth, partial, ending in month 14."""
    a = build_terms({"deal_name": "A", "vendor": "V", "start_month": "2026-01", "end_month": "2027-02",
                     "monthly_fee_usd": 1e6, "facility_mw": 100, "gpu_count": 1000})  # fmt: skip
    demand = np.array([700_000.0] * 12 + [2_000_000.0] * 2)  # a shortfall that rises only in months 13-14
    r = PortfolioResult(Portfolio("p", np.datetime64("2026-01", "M"), 14, (a,),
                                  Demand(np.array([1e9]), np.array([12.0]), np.array([1.0]), demand), 2.0))  # fmt: skip
    per_quarter = r.coverage()["gpus_to_sign_per_quarter"][0]
    assert per_quarter.size == 5
    supply_feb_2027 = 1000 * 28 * 24  # 672,000 GPU-hours in February 2027
    need = (2_000_000 - supply_feb_2027) / 730  # the largest shortfall, in 730-hour GPUs
    assert per_quarter[-1] == pytest.approx(need - max(0.0, (700_000 - 672_000) / 730))  # Feb 2026 was short too
    assert per_quarter.sum() == pytest.approx(need)


def test_lockin_without_notice_warns_with_the_arithmetic() -> None:
    """12.7: a lock-in with no termination right changes nothing: the whole term (37 months) is firm."""
    s = summarize(build_schedule(build_terms({**BASE, "lockin_months": 3})))
    warning = next(w for w in s.warnings if w.field == "lockin_months")
    assert "all 37 months are firm" in warning.message and "notice_days" in warning.message
    assert s["firm_commitment_usd"][0] == s["net_tcv_usd"][0] == 37 * 1.25e9


def test_seller_breakeven_is_none_when_the_npv_is_positive_at_a_price_of_zero() -> None:
    """12.9: at a -5% discount rate, no costs and a 100% residual value, the residual alone (worth more than the
    capex once discounted at a negative rate) repays the capex: no price makes the NPV zero."""
    raw = {**BASE, "gpu_count": 1000, "seller_capex_usd_per_gpu": 1.0, "seller_dc_capex_usd_per_mw": 0.0,
           "seller_residual_value_pct": 100, "seller_power_usd_per_kwh": 0.0, "seller_other_opex_usd_per_gpu_hour": 0.0,
           "seller_colocation_usd_per_kw_month": 0.0, "seller_staff_usd_per_gpu_year": 0.0,
           "seller_maintenance_pct_per_year": 0.0, "seller_insurance_pct_per_year": 0.0, "discount_rate_pct": -5}  # fmt: skip
    rec = seller_summary(build_schedule(build_terms(raw))).record(0)
    assert rec["breakeven_usd_per_gpu_hour"] is None
    normal = seller_summary(build_schedule(build_terms({**BASE, "gpu_count": 150_000}))).record(0)
    assert normal["breakeven_usd_per_gpu_hour"] is not None and normal["breakeven_usd_per_gpu_hour"] > 0.01


def test_mw_from_gpus_refuses_what_gpus_from_mw_would_refuse() -> None:
    """12.9: 1e9 H100 need 1.5 million MW (1.5 kW all-in each, Colossus's figure), more than a facility_mw may be."""
    assert str(udfs.cdm_mw_from_gpus(1e9, "H100-SXM")).startswith("CDM error: gpus 1,000,000,000 need 1,500,000 MW")
    mw = udfs.cdm_mw_from_gpus(100_000, "H100-SXM")
    assert mw == pytest.approx(100_000 * 1.5 / 1000)
    assert isinstance(udfs.cdm_gpus_from_mw(mw, "H100-SXM"), float)
