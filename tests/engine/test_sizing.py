"""Sizing against hand arithmetic and the reference sheet's reconciliation (deal-facts section 4)."""

from __future__ import annotations

import pytest

from engine.catalogue import gpu_catalogue, gpu_spec_value, market_prices, sla_policies
from engine.sizing import flops_per_month, gpus_for_budget, gpus_from_mw, kw_per_gpu, size_facility, training_days


def test_catalogue_has_the_required_skus_with_sources() -> None:
    cat = gpu_catalogue()
    assert {"H100-SXM", "H200-SXM", "B200", "GB200", "GB300", "MI300X"} <= set(cat)
    for spec in cat.values():
        assert spec.source and spec.source_date
        assert spec.dense_fp8_tflops == pytest.approx(2 * spec.dense_bf16_tflops, rel=0.01)
    assert set(market_prices()) == set(cat)
    assert gpu_spec_value("H100-SXM", "tdp_w") == 700.0
    assert sla_policies()["aws-ec2-region"][0].below_uptime_pct == 99.99


def test_hopper_at_300_mw() -> None:
    # 1.275 kW x 1.10 x 1.2 = 1.683 kW; 300,000 kW / 1.683 = 178,253.1 -> 178,253 GPUs
    kw = float(kw_per_gpu(1.275, 10, 1.2))
    assert kw == pytest.approx(1.683, abs=1e-12)
    assert int(gpus_from_mw(300, kw)) == 178_253


def test_deal_facts_physical_check() -> None:
    # deal-facts 4C: 300 MW / 300k GPUs = 1.0 kW per GPU, below the 1.275 kW server alone
    assert 300_000 / 300_000 < gpu_catalogue()["H100-SXM"].server_kw_per_gpu
    # the fee buys 646k-729k H100 at $2.35-2.65 (730 h month): 1.25e9 / (2.65 x 730) = 646,161.8
    assert int(gpus_for_budget(1.25e9, 2.65)) == 646_161
    assert int(gpus_for_budget(1.25e9, 2.35)) == 728_650


def test_mixed_fleet_fills_remaining_power() -> None:
    # 100k H100 need 100,000 x 1.5 kW = 150 MW; GB200 all-in 1.909 kW (SpaceX S-1: 210 MW for 110k);
    # 150,000 kW / 1.909 kW = 78,575.2 -> 78,575
    r = size_facility(300, [("H100-SXM", 100_000), ("GB200", None)])
    assert r.gpus_by_sku["GB200"] == 78_575
    assert r.required_facility_mw <= 300


def test_fleet_over_power_reports_negative_headroom() -> None:
    r = size_facility(300, [("H100-SXM", 150_000), ("H200-SXM", 50_000), ("GB200", 20_000)])
    # 200,000 x 1.5 + 20,000 x 1.909 = 300,000 + 38,180 kW = 338.18 MW
    assert r.required_facility_mw == pytest.approx(338.18, rel=1e-12)
    assert r.power_headroom_mw == pytest.approx(-38.18, rel=1e-12)


def test_flops_and_training_time() -> None:
    # 100,000 x 989e12 x 0.40 x 730 x 3600 = 1.0396e26 FLOPs a month
    assert float(flops_per_month(100_000, 989, 40)) == pytest.approx(100_000 * 989e12 * 0.4 * 730 * 3600, rel=1e-15)
    # 1e26 / (100,000 x 989e12 x 0.4) s = 2,527.8 s x ... = 29.26 days
    assert float(training_days(1e26, 100_000, 989, 40)) == pytest.approx(1e26 / (100_000 * 989e12 * 0.4) / 86400, rel=1e-15)


@pytest.mark.parametrize(
    ("sku", "mw", "low", "high"),
    [("H100-SXM", 300, 187_500, 220_600), ("GB200", 210, 105_000, 117_000), ("GB300", 220, 104_000, 122_000)],
)
def test_default_power_per_gpu_agrees_with_the_record(sku: str, mw: float, low: int, high: int) -> None:
    """Colossus (300 MW for 200,000 Hopper) and the SpaceX S-1 (210 MW for ~110k GB200, 220 MW for ~110k GB300):
    the defaults (PUE 1.2, 10% network) size those sites inside the recorded ranges (1.36-1.6 kW for Hopper)."""
    r = size_facility(mw, [(sku, None)])
    assert low <= r.gpus <= high, (sku, r.gpus)
    # 300,000 / 1.5 = 200,000; 210,000 / 1.909 = 110,005.2; 220,000 / 2.0 = 110,000
    assert r.gpus == {"H100-SXM": 200_000, "GB200": 110_005, "GB300": 110_000}[sku]


def test_pue_and_network_still_move_the_default() -> None:
    # H100 typical draw 1.5 / 1.32 = 1.13636 kW; at PUE 1.4 and 5%: 1.13636 x 1.05 x 1.4 = 1.67045 kW
    r = size_facility(300, [("H100-SXM", None)], pue=1.4, network_overhead_pct=5)
    assert r.kw_per_gpu == pytest.approx(1.5 / 1.32 * 1.05 * 1.4, rel=1e-12)
    assert r.gpus == 179_591  # 300,000 / 1.670454... = 179,591.8


def test_kw_per_gpu_given_replaces_catalogue_pue_and_network() -> None:
    # 300 MW / 1.36 kW = 220,588.2: the announced 220,000 Hopper fit, whatever the PUE
    r = size_facility(300, [("H100-SXM", None)], pue=1.4, kw_per_gpu_all_in=1.36)
    assert r.kw_per_gpu == pytest.approx(1.36, rel=1e-15) and r.gpus == 220_588
    assert r.gpu_server_mw == pytest.approx(220_588 * 1.36 / 1000 / (1.1 * 1.4), rel=1e-12)
