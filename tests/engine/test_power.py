"""Power per GPU calibrated to the record, the kw_per_gpu input and the power-fed basis (issue 15, items 1-2).

Hand arithmetic from the catalogue's sourced figures: H100/H200 1.5 kW all-in (Colossus, 300 MW for 200,000),
GB200 1.909 kW (SpaceX S-1, 210 MW for ~110,000), at the reference PUE 1.2 and 10% network overhead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from addin.workbook.load import load_deal
from engine import build_schedule, build_terms, summarize
from engine.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
BASE = {"deal_name": "x", "start_month": "2026-01", "end_month": "2026-12", "monthly_fee_usd": 100e6, "facility_mw": 300}


def _summary(raw: dict[str, object]) -> dict[str, float]:
    s = summarize(build_schedule(build_terms(raw)))
    return {k: float(v[0]) for k, v in s.values.items()}


def test_the_seed_fleet_on_both_bases() -> None:
    """Anthropic - xAI: 150k H100 + 50k H200 + 20k GB200 in 300 MW."""
    raw = load_deal(ROOT / "workbooks" / "deals" / "anthropic_xai_colossus1.toml").raw
    s = _summary(raw)
    # the fleet needs 200,000 x 1.5 + 20,000 x 1.909 = 338,180 kW; 1.53718 kW a GPU on average
    assert s["required_facility_mw"] == pytest.approx(338.18, rel=1e-12)
    # 300 MW feeds floor(300,000 / (338,180 / 220,000)) = floor(195,162.3) = 195,162 of the 220,000
    assert s["powered_gpus"] == 195_162
    # delivered GPU-hours: 220,000 x 24 x (0.5 x 61 ramp days + 1,066 days) = 5,789,520,000
    delivered = 220_000 * 24 * (0.5 * 61 + 1066)
    assert s["delivered_gpu_hours"] == pytest.approx(delivered, rel=1e-12)
    assert s["usd_per_gpu_hour"] == pytest.approx(45e9 / delivered, rel=1e-12)  # $7.77
    # on the power-fed basis the same $45.0B buys the GPU-hours of 195,162 GPUs: $8.76
    assert s["usd_per_powered_gpu_hour"] == pytest.approx(45e9 / (delivered * 195_162 / 220_000), rel=1e-12)
    assert round(s["usd_per_powered_gpu_hour"], 2) == 8.76


def test_powered_gpus_is_the_contracted_count_when_the_power_suffices() -> None:
    s = _summary({**BASE, "gpu_count": 150_000})  # 150,000 x 1.5 = 225 MW < 300 MW
    assert s["powered_gpus"] == 150_000 and s["usd_per_powered_gpu_hour"] == s["usd_per_gpu_hour"]


def test_kw_per_gpu_replaces_the_catalogue_pue_and_network() -> None:
    # 300 MW / 1.36 kW = 220,588.2 -> 220,588 GPUs sized from power, whatever the PUE says
    s = _summary({**BASE, "kw_per_gpu": 1.36, "pue": 1.4})
    assert s["kw_per_gpu"] == 1.36 and s["gpus"] == 220_588 and s["powered_gpus"] == 220_588
    # given GPUs: 220,000 x 1.36 = 299.2 MW fits, so no power warning
    t = build_terms({**BASE, "kw_per_gpu": 1.36, "gpu_count": 220_000})
    s2 = summarize(build_schedule(t))
    assert not [w for w in s2.warnings if w.rule == "power"]
    assert float(s2["required_facility_mw"][0]) == pytest.approx(299.2, rel=1e-12)


def test_the_announced_scenario_needs_no_faked_pue() -> None:
    src = load_deal(ROOT / "workbooks" / "deals" / "anthropic_xai_colossus1.toml", scenario="Announced: 220k Hopper at 1.36 kW")
    assert src.raw.get("kw_per_gpu") == 1.36 and src.raw["pue"] == 1.2  # the base case's PUE, no longer faked
    s = summarize(build_schedule(build_terms(src.raw)))
    assert float(s["kw_per_gpu"][0]) == 1.36 and float(s["powered_gpus"][0]) == 220_000
    assert not [w for w in s.warnings if w.rule == "power"]


@pytest.mark.parametrize(("value", "said"), [(0, "kw_per_gpu must be > 0, got 0"), (101, "kw_per_gpu must be <= 100, got 101")])
def test_kw_per_gpu_out_of_range_is_refused(value: float, said: str) -> None:
    with pytest.raises(InputError) as exc:
        build_terms({**BASE, "kw_per_gpu": value})
    assert said in str(exc.value)


def test_a_workbook_made_before_kw_per_gpu_reads_it_blank(tmp_path: Path) -> None:
    """A deal workbook from before the input existed has no kw_per_gpu name: blank (the catalogue), not an error."""
    from openpyxl import load_workbook

    wb = load_workbook(ROOT / "workbooks" / "google_spacex.xlsx")
    del wb.defined_names["kw_per_gpu"]
    wb.save(tmp_path / "older.xlsx")
    src = load_deal(tmp_path / "older.xlsx")
    assert src.raw.get("kw_per_gpu") is None
    assert _summary(src.raw)["kw_per_gpu"] == pytest.approx(1.909, rel=1e-15)  # GB200 from the catalogue (SpaceX S-1)
