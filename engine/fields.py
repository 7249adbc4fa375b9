"""The input vocabulary: one table of every deal input, its unit, rule and default.

This table is the contract shared by the engine's dataclass, the TOML deal
files, the Excel template's Inputs sheet (label, unit, validation, defined
name) and the generated docs/reference/inputs.md. A new input is added here once.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_MONTHS = 120
"""Longest term modelled: the templates' fixed timeline is 120 months."""


@dataclass(frozen=True)
class Field:
    """One scalar input of a deal.

    ``kind`` is one of ``text``, ``month``, ``date``, ``number``, ``integer``,
    ``choice``, ``sku``. ``default`` is used when the value is blank;
    ``None`` with ``required=False`` means "blank is meaningful" (explained in
    ``blank_means``). ``batch`` fields may be given as a 1-D array of scenario
    values.
    """

    name: str
    kind: str
    label: str
    unit: str
    default: object = None
    required: bool = False
    minimum: float | None = None
    min_exclusive: bool = False
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    blank_means: str = ""
    default_source: str = ""
    batch: bool = True
    section: str = "Deal"


def is_percent(f: Field) -> bool:
    """A percentage input (``utilization_pct``, the SLA table's ``credit_pct``): a whole number of percent in TOML and
    in the engine (85 means 85%); in the deal workbook a percent-formatted cell, which holds the fraction 0.85."""
    return f.kind == "number" and "_pct" in f.name


FIELDS: tuple[Field, ...] = (
    Field("deal_name", "text", "Deal name", "text", required=True, batch=False, section="Parties"),
    Field("buyer", "text", "Buyer", "text", default="", batch=False, section="Parties"),
    Field("vendor", "text", "Vendor (seller of capacity)", "text", default="", batch=False, section="Parties"),
    Field("start_month", "month", "First billed service month", "month", required=True, section="Term"),
    Field("end_month", "month", "Last billed service month (inclusive)", "month", required=True, section="Term"),
    Field(
        "monthly_fee_usd",
        "number",
        "Full-rate monthly fee",
        "USD/month",
        maximum=1e13,
        required=True,
        minimum=0,
        min_exclusive=True,
        section="Fees",
    ),
    Field("ramp_months", "integer", "Ramp months at a reduced fee", "months", maximum=1200, default=0, minimum=0, section="Fees"),
    Field(
        "ramp_fee_fraction",
        "number",
        "Fee fraction during the ramp",
        "fraction 0-1",
        default=1.0,
        minimum=0,
        maximum=1,
        section="Fees",
    ),
    Field(
        "ramp_capacity_fraction",
        "number",
        "Capacity fraction during the ramp",
        "fraction 0-1",
        default=1.0,
        minimum=0,
        maximum=1,
        section="Fees",
    ),
    Field(
        "escalator_pct_per_year",
        "number",
        "Fee escalator on each anniversary",
        "% per year",
        default=0.0,
        minimum=-50,
        maximum=100,
        section="Fees",
    ),
    Field(
        "take_or_pay_min_pct",
        "number",
        "Take-or-pay minimum (share of fee paid whatever is used)",
        "%",
        default=100.0,
        minimum=0,
        maximum=100,
        section="Fees",
        blank_means="100: a reserved-capacity deal pays the full fee whatever is used",
    ),
    Field(
        "prepayment_pct",
        "number",
        "Prepayment (share of net TCV paid at the start)",
        "%",
        default=0.0,
        minimum=0,
        maximum=100,
        section="Fees",
    ),
    Field(
        "equity_pct", "number", "Share of each payment made in equity", "%", default=0.0, minimum=0, maximum=100, section="Fees"
    ),
    Field(
        "facility_mw",
        "number",
        "Facility power",
        "MW",
        maximum=1e6,
        required=True,
        minimum=0,
        min_exclusive=True,
        section="Capacity",
    ),
    Field(
        "pue",
        "number",
        "Power usage effectiveness",
        "ratio",
        default=1.2,
        minimum=1.0,
        maximum=3.0,
        section="Capacity",
        default_source="Uptime Institute 2024: 1.1-1.4 for new AI sites, industry average 1.56",
    ),
    Field(
        "network_overhead_pct",
        "number",
        "Network and storage share of IT load",
        "%",
        default=10.0,
        minimum=0,
        maximum=100,
        section="Capacity",
        default_source="SemiAnalysis '100k H100 Clusters' (Jun 2024): 5-15%",
    ),
    Field(
        "kw_per_gpu",
        "number",
        "Facility kW per GPU, all-in (replaces the catalogue, PUE and network overhead)",
        "kW",
        minimum=0,
        min_exclusive=True,
        maximum=100,
        section="Capacity",
        blank_means="the catalogue's typical draw x (1 + network overhead) x PUE (H100 1.5 kW at PUE 1.2 and 10%)",
    ),
    Field(
        "gpu_sku",
        "sku",
        "GPU model (catalogue SKU)",
        "SKU",
        default="H100-SXM",
        batch=False,
        section="Capacity",
        blank_means="H100-SXM, unless a fleet table is given",
    ),
    Field(
        "gpu_count",
        "integer",
        "GPUs",
        "GPUs",
        maximum=1e9,
        minimum=0,
        min_exclusive=True,
        section="Capacity",
        blank_means="sized from power: floor(facility_mw x 1000 / kW per GPU)",
    ),
    Field(
        "mfu_pct",
        "number",
        "Model FLOPs utilisation (for FLOPs per month)",
        "%",
        default=40.0,
        minimum=0.01,
        maximum=100,
        section="Capacity",
        default_source="Llama 3 paper (Meta, 2024): 38-43% BF16 MFU on 16k H100",
    ),
    Field(
        "utilization_pct",
        "number",
        "Share of delivered GPU-hours the buyer uses",
        "%",
        default=100.0,
        minimum=0.01,
        maximum=100,
        section="Usage",
    ),
    Field(
        "expected_uptime_pct",
        "number",
        "Expected uptime (scales delivered hours; sets SLA credits)",
        "%",
        default=100.0,
        minimum=0.01,
        maximum=100,
        section="Usage",
    ),
    Field(
        "sla_policy",
        "choice",
        "SLA credit policy",
        "name",
        default="none",
        batch=False,
        section="Usage",
        choices=("none", "aws-ec2-region", "aws-ec2-instance", "gcp-compute-multizone", "nebius-vm"),
        blank_means="none, unless an sla_tiers table is given",
    ),
    Field(
        "sla_credit_cap_pct",
        "number",
        "Cap on a month's SLA credits",
        "% of the month's fee",
        minimum=0,
        maximum=100,
        batch=False,
        section="Usage",
        blank_means="a retail policy's own top tier (AWS, GCP: 100% of the month); 50 for a bespoke sla_tiers table",
        default_source="bespoke terms: Colohouse colocation SLA (colohouse.com/legal/sla): credits in a month capped at 50% "
        "of the monthly recurring charge; retail: AWS EC2 and GCP Compute Engine SLAs credit at most 100%, as does "
        "Voltage Park's GPU VM SLA (voltagepark.com/virtual-machine-sla: at most the amount due for the month)",
    ),
    Field(
        "market_usd_per_gpu_hour",
        "number",
        "Market reference price",
        "USD/GPU-hour",
        maximum=1000,
        minimum=0.01,
        section="Market",
        blank_means="the catalogue reference rent of the SKU (fleet-weighted by GPU count)",
    ),
    Field(
        "discount_rate_pct",
        "number",
        "Discount rate (annual effective)",
        "% per year",
        default=9.0,
        minimum=-50,
        maximum=100,
        section="Market",
        default_source="cost of debt 9% (CoreWeave 9% notes due 2031; range 6-15%)",
    ),
    Field(
        "valuation_date",
        "date",
        "Valuation date (every NPV is discounted to it)",
        "date",
        section="Market",
        blank_means="the first day of start_month (a scenario takes the base case's)",
    ),
    Field(
        "fiscal_year_end_month",
        "integer",
        "Fiscal year ends with month (1-12; 12 = calendar year)",
        "month number",
        default=12,
        minimum=1,
        maximum=12,
        batch=False,
        section="Market",
    ),
    Field(
        "payment_timing",
        "choice",
        "Payment timing",
        "advance/arrears",
        default="advance",
        batch=False,
        section="Market",
        choices=("advance", "arrears"),
    ),
    Field(
        "notice_days",
        "integer",
        "Termination notice",
        "days",
        maximum=36_600,
        minimum=0,
        section="Termination",
        blank_means="no termination right: the whole term is firm",
    ),
    Field(
        "lockin_months",
        "integer",
        "Lock-in before notice may be given",
        "months",
        maximum=1200,
        minimum=0,
        section="Termination",
        blank_means="0 when notice_days is given",
    ),
    Field("delivery_due_month", "month", "Capacity due by (month)", "month", section="Delivery", blank_means="start_month"),
    Field(
        "delivery_status",
        "choice",
        "Delivery status (picks the Monte Carlo's default delay)",
        "choice",
        default="under_construction",
        batch=False,
        section="Delivery",
        choices=("delivered", "under_construction", "planned"),
        default_source="ASSUMED default delays (docs/how-to/monte-carlo.md): delivered none; under construction 0, 1 or 3 "
        "months (0.7, 0.2, 0.1); planned 0, 3 or 6 months (0.5, 0.3, 0.2)",
    ),
    Field(
        "delivery_grace_months",
        "integer",
        "Grace period after the due month",
        "months",
        maximum=1200,
        default=0,
        minimum=0,
        section="Delivery",
    ),
    Field(
        "delivery_delay_months",
        "integer",
        "Expected delivery delay after the due month",
        "months",
        maximum=1200,
        default=0,
        minimum=0,
        section="Delivery",
    ),
    Field(
        "late_capacity_pct",
        "number",
        "Share of capacity that is late",
        "%",
        default=100.0,
        minimum=0,
        maximum=100,
        section="Delivery",
    ),
    Field(
        "seller_capex_usd_per_gpu",
        "number",
        "Seller: capex per GPU (servers and networking)",
        "USD/GPU",
        minimum=0,
        maximum=1e7,
        section="Seller",
        blank_means="the catalogue capex of the SKU (engine/data/capex.csv), weighted by GPU count",
    ),
    Field(
        "seller_facility",
        "choice",
        "Seller: data centre owned or colocated",
        "owned/colocation",
        default="owned",
        batch=False,
        choices=("owned", "colocation"),
        section="Seller",
    ),
    Field(
        "seller_dc_capex_usd_per_mw",
        "number",
        "Seller: data-centre build cost per MW of IT load (owned; applied to facility MW / PUE)",
        "USD/MW",
        default=11.7e6,
        minimum=0,
        maximum=1e9,
        section="Seller",
        default_source="Cushman & Wakefield Data Center Development Cost Guide 2025 (Jan 2025): $11.7M per MW of "
        "critical (IT) load, range $9.3-15.0M, excluding IT equipment",
    ),
    Field(
        "seller_colocation_usd_per_kw_month",
        "number",
        "Seller: colocation rent (colocated)",
        "USD/kW-month",
        default=195.0,
        minimum=0,
        maximum=10_000,
        section="Seller",
        default_source="CBRE North America 2025: $195/kW-month ($184-217)",
    ),
    Field(
        "seller_power_usd_per_kwh",
        "number",
        "Seller: electricity price",
        "USD/kWh",
        default=0.068,
        minimum=0,
        maximum=10,
        section="Seller",
        default_source="EIA industrial rate, Tennessee 2026: 6.8 cents/kWh (6.7-8.0)",
    ),
    Field(
        "seller_other_opex_usd_per_gpu_hour",
        "number",
        "Seller: other opex (software, network transit, overheads)",
        "USD/GPU-hour",
        default=0.10,
        minimum=0,
        maximum=100,
        section="Seller",
        default_source="ASSUMED: no figure in our sources",
    ),
    Field(
        "seller_maintenance_pct_per_year",
        "number",
        "Seller: hardware maintenance, a year",
        "% of GPU capex",
        default=5.0,
        minimum=0,
        maximum=100,
        section="Seller",
        default_source="CTWatch Quarterly 2(2), May 2006, 'Designing and supporting high-end computational facilities' "
        "(icl.utk.edu/ctwatch): annual maintenance 4-8% of the purchase price after the first year",
    ),
    Field(
        "seller_staff_usd_per_gpu_year",
        "number",
        "Seller: operations staff, a year",
        "USD/GPU-year",
        default=1000.0,
        minimum=0,
        maximum=1e6,
        section="Seller",
        default_source="Hedgehog, 'AI Cloud Business Planning Playbook' part 5 (hedgehog.cloud, 2025): 4-12 staff run a "
        "1,024-GPU cloud; at $250,000 a person (NAG HPC TCO calculator, nag.com) $977-2,930 per GPU-year; the low end "
        "for a site of 100,000+ GPUs (ASSUMED)",
    ),
    Field(
        "seller_insurance_pct_per_year",
        "number",
        "Seller: property insurance, a year",
        "% of capex",
        default=0.5,
        minimum=0,
        maximum=100,
        section="Seller",
        default_source="ASSUMED: no public premium rate for data centres in our sources (Reed Smith, Jun 2025: no "
        "data-centre-specific policies yet)",
    ),
    Field(
        "seller_depreciation_years",
        "number",
        "Seller: GPU depreciation life",
        "years",
        default=5.0,
        minimum=1,
        maximum=20,
        section="Seller",
        default_source="10-Ks: CoreWeave 6, Nebius 4, MSFT/GOOGL 6, META 5.5; range 4-6",
    ),
    Field(
        "seller_depreciation_method",
        "choice",
        "Seller: depreciation method",
        "method",
        default="straight_line",
        batch=False,
        choices=("straight_line", "declining"),
        section="Seller",
    ),
    Field(
        "seller_dc_depreciation_years",
        "number",
        "Seller: data-centre depreciation life",
        "years",
        default=20.0,
        minimum=1,
        maximum=50,
        section="Seller",
        default_source="ASSUMED: data-centre shell and plant",
    ),
    Field(
        "seller_debt_pct",
        "number",
        "Seller: share of capex financed by debt",
        "%",
        default=60.0,
        minimum=0,
        maximum=100,
        section="Seller",
        default_source="ASSUMED: neoclouds finance most capex with debt (CoreWeave DDTL facilities)",
    ),
    Field(
        "seller_interest_rate_pct",
        "number",
        "Seller: interest rate on debt",
        "% per year",
        default=9.0,
        minimum=0,
        maximum=50,
        section="Seller",
        default_source="cost of debt 9% (CoreWeave 9% notes due 2031; 6-15%)",
    ),
    Field(
        "seller_loan_tenor_months",
        "integer",
        "Seller: loan tenor (amortising monthly)",
        "months",
        default=60,
        minimum=1,
        maximum=360,
        section="Seller",
        default_source="ASSUMED: matches a 5-year GPU life",
    ),
    Field(
        "seller_tax_rate_pct",
        "number",
        "Seller: tax rate",
        "%",
        default=21.0,
        minimum=0,
        maximum=60,
        section="Seller",
        default_source="US federal corporate rate",
    ),
    Field(
        "seller_residual_value_pct",
        "number",
        "Seller: GPU resale value at the end of the deal",
        "% of GPU capex",
        default=20.0,
        minimum=0,
        maximum=100,
        section="Seller",
        default_source="ASSUMED",
    ),
    Field(
        "seller_asset_vintage",
        "month",
        "Seller: month the GPUs and site were bought",
        "month",
        section="Seller",
        blank_means="start_month: bought for the deal; an earlier month makes the capex sunk, valued at its book value "
        "on the first day of start_month",
    ),
    Field(
        "seller_build_lead_months",
        "integer",
        "Buyer: months to build the same capacity (renting at market meanwhile)",
        "months",
        default=12,
        minimum=0,
        maximum=120,
        section="Seller",
        default_source="ASSUMED 12: from 4 months (xAI Colossus 1, 100,000 H100 in 122 days to Sep 2024, Tom's Hardware) "
        "to 24 for a new campus",
    ),
    Field(
        "seller_vacancy_months",
        "integer",
        "Seller: months empty if the buyer leaves early",
        "months",
        default=3,
        minimum=0,
        maximum=120,
        section="Seller",
        default_source="ASSUMED",
    ),
    Field(
        "seller_release_usd_per_gpu_hour",
        "number",
        "Seller: price when re-leased after an early exit",
        "USD/GPU-hour",
        minimum=0,
        maximum=1000,
        section="Seller",
        blank_means="market_usd_per_gpu_hour",
    ),
    Field("site", "text", "Site (for whole-site outages in a portfolio)", "text", default="", batch=False, section="Parties"),
    Field(
        "revenue_share_pct",
        "number",
        "Share of each payment made as a revenue share",
        "%",
        default=0.0,
        minimum=0,
        maximum=100,
        section="Fees",
    ),
    Field(
        "warrant_value_usd",
        "number",
        "Warrants or shares given to the seller, at the stated valuation",
        "USD",
        default=0.0,
        minimum=0,
        maximum=1e13,
        section="Fees",
    ),
    Field("notes", "text", "Notes", "text", default="", batch=False, section="Parties"),
)

FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}


@dataclass(frozen=True)
class TableSpec:
    """A list input (a TOML array of tables; a small table on the Inputs sheet)."""

    name: str
    columns: tuple[Field, ...]
    label: str
    max_rows: int


TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "fleet",
        (
            Field("gpu_sku", "sku", "GPU model", "SKU", required=True, batch=False),
            Field("gpu_count", "integer", "GPUs", "GPUs", maximum=1e9, required=True, minimum=0, min_exclusive=True, batch=False),
        ),
        "Mixed fleet (overrides gpu_sku and gpu_count)",
        8,
    ),
    TableSpec(
        "ramp_table",
        (
            Field("fee_fraction", "number", "Fee fraction", "fraction 0-1", required=True, minimum=0, maximum=1, batch=False),
            Field(
                "capacity_fraction",
                "number",
                "Capacity fraction",
                "fraction 0-1",
                required=True,
                minimum=0,
                maximum=1,
                batch=False,
            ),
        ),
        "Month-by-month ramp from start_month (overrides ramp_months and fractions)",
        24,
    ),
    TableSpec(
        "step_ups",
        (
            Field("from_month", "month", "From month", "month", required=True, batch=False),
            Field(
                "monthly_fee_usd",
                "number",
                "New full-rate monthly fee",
                "USD/month",
                maximum=1e13,
                required=True,
                minimum=0,
                min_exclusive=True,
                batch=False,
            ),
        ),
        "Fee step-ups (new full-rate fee from a month)",
        12,
    ),
    TableSpec(
        "sla_tiers",
        (
            Field("below_uptime_pct", "number", "Uptime below", "%", required=True, minimum=0, maximum=100, batch=False),
            Field("credit_pct", "number", "Credit", "% of fee", required=True, minimum=0, maximum=100, batch=False),
        ),
        "SLA credit tiers (override sla_policy)",
        8,
    ),
)

TABLE_BY_NAME: dict[str, TableSpec] = {t.name: t for t in TABLES}

META_KEYS = ("sources",)
"""Top-level keys that are not inputs: ``sources`` maps an input name to its source text."""
