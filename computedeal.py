"""The Excel add-in's Python module (named after ``computedeal.xlam``).

xlwings imports this module for the ``CDM_`` worksheet functions (the
add-in's config sheet names it under "UDF Modules") and the ribbon's
**Refresh model** button runs ``computedeal.main()``. Every function here is a
thin wrapper: the work is in :mod:`addin.udfs` (cells -> engine -> cells) and
:mod:`addin.refresh` (the ribbon refresh), which also run headless.

On Windows ``xw.func``/``xw.arg`` are xlwings' classic COM UDF decorators;
elsewhere they are its runtime-neutral ones, so importing this module never
needs Excel. The wrappers carry no type hints on purpose: classic xlwings
reads a hint as the argument's converter.
"""

from __future__ import annotations

import xlwings as xw

from addin.excel import udfs

DEAL_DOC = "The deal range: two columns (name, value), e.g. the defined name cdm_deal"
SKU_DOC = "GPU model from the catalogue, e.g. H100-SXM"
PUE_DOC = "Power usage effectiveness (blank: 1.2)"
OVERHEAD_DOC = "Network and storage share of IT load in % (blank: 10)"


@xw.func(category="Compute Deal")
@xw.arg("deal", doc=DEAL_DOC, ndim=2)
def CDM_SCHEDULE(deal):
    """Monthly schedule of the deal: one row per line item, 120 months across (array formula)."""
    return udfs.cdm_schedule(deal)


@xw.func(category="Compute Deal")
@xw.arg("deal", doc=DEAL_DOC, ndim=2)
@xw.arg("figure", doc="Name of the figure, e.g. net_tcv_usd, npv_usd, usd_per_gpu_hour")
def CDM_SUMMARY(deal, figure):
    """One key figure of the deal by name."""
    return udfs.cdm_summary(deal, figure)


@xw.func(category="Compute Deal")
@xw.arg("deal", doc=DEAL_DOC, ndim=2)
@xw.arg("name", doc="Name of an input, e.g. pue, discount_rate_pct")
def CDM_INPUT(deal, name):
    """The value in use for an input after defaults (what a blank cell means)."""
    return udfs.cdm_input(deal, name)


@xw.func(category="Compute Deal")
@xw.arg("deal", doc=DEAL_DOC, ndim=2)
@xw.arg("discount_rate_pct", doc="Annual effective discount rate in % (blank: the deal's)")
def CDM_NPV(deal, discount_rate_pct=None):
    """NPV of the deal's payments, XNPV convention (actual/365 from the first day of start_month)."""
    return udfs.cdm_npv(deal, discount_rate_pct)


@xw.func(category="Compute Deal")
@xw.arg("deal", doc=DEAL_DOC, ndim=2)
@xw.arg("figure", doc="Name of the seller figure, e.g. project_irr_pct, payback_month, breakeven_usd_per_gpu_hour")
def CDM_SELLER(deal, figure):
    """A figure of the seller's economics or of build vs buy, by name."""
    return udfs.cdm_seller(deal, figure)


PORTFOLIO_DOC = "The portfolio inputs: two columns (name, value), e.g. the defined name cdm_portfolio"
CONTRACTS_DOC = "The contracts table: a header row of input names, one contract per row, e.g. cdm_contracts"


@xw.func(category="Compute Deal")
@xw.arg("inputs", doc=PORTFOLIO_DOC, ndim=2)
@xw.arg("contracts", doc=CONTRACTS_DOC, ndim=2)
@xw.arg("figure", doc="Name of the figure, e.g. total_fees_usd, hhi_avg, burn_to_revenue_multiple")
def CDM_PORTFOLIO(inputs, contracts, figure):
    """A portfolio figure by name."""
    return udfs.cdm_portfolio(inputs, contracts, figure)


@xw.func(category="Compute Deal")
@xw.arg("inputs", doc=PORTFOLIO_DOC, ndim=2)
@xw.arg("contracts", doc=CONTRACTS_DOC, ndim=2)
def CDM_PORTFOLIO_SCHEDULE(inputs, contracts):
    """The portfolio by month: fees, firm fees, GPUs, GPU-hours, FLOPs, HHI, demand, shortfall, coverage (array formula)."""
    return udfs.cdm_portfolio_schedule(inputs, contracts)


@xw.func(category="Compute Deal", call_in_wizard=False)  # slow: the function wizard must not run it
@xw.arg("inputs", doc=PORTFOLIO_DOC, ndim=2)
@xw.arg("contracts", doc=CONTRACTS_DOC, ndim=2)
@xw.arg("paths", doc="Monte Carlo paths, up to 1,000,000 (blank: 10,000)")
@xw.arg("seed", doc="Seed of the random numbers (blank: 20260506)")
@xw.arg("risk", doc="The Risk sheet's driver rows, e.g. the defined name cdm_risk (blank: the default distributions)", ndim=2)
def CDM_PORTFOLIO_SIMULATE(inputs, contracts, paths=None, seed=None, risk=None):
    """Portfolio Monte Carlo summary: P5, P50, P95 and mean of the first shortfall month, $/used GPU-hour... (9 x 5)."""
    return udfs.cdm_portfolio_simulate(inputs, contracts, paths, seed, risk)


@xw.func(category="Compute Deal", call_in_wizard=False)  # slow: the function wizard must not run it
@xw.arg("deal", doc=DEAL_DOC, ndim=2)
@xw.arg("paths", doc="Monte Carlo paths, up to 1,000,000 (blank: 10,000)")
@xw.arg("seed", doc="Seed of the random numbers (blank: 20260506)")
@xw.arg("risk", doc="The Risk sheet's driver rows, e.g. the defined name cdm_risk (blank: the default distributions)", ndim=2)
def CDM_SIMULATE(deal, paths=None, seed=None, risk=None):
    """Monte Carlo summary: P5, P50, P95 and mean of $/used GPU-hour, NPV, premium, SLA credits (8 x 5 array)."""
    return udfs.cdm_simulate(deal, paths, seed, risk)


@xw.func(category="Compute Deal", call_in_wizard=False)  # slow: the function wizard must not run it
@xw.arg("deal", doc=DEAL_DOC, ndim=2)
@xw.arg("output", doc="The figure to tabulate, e.g. npv_usd or usd_per_used_gpu_hour")
@xw.arg("row_input", doc="The input varied down the rows, e.g. utilization_pct")
@xw.arg("row_values", doc="Its values: a column of cells", ndim=1)
@xw.arg("col_input", doc="The input varied across the columns, e.g. discount_rate_pct")
@xw.arg("col_values", doc="Its values: a row of cells", ndim=1)
def CDM_TABLE(deal, output, row_input, row_values, col_input, col_values):  # noqa: PLR0917 (Excel arguments are positional)
    """A two-way data table of any figure over any two inputs, in one engine call (rows x columns array)."""
    return udfs.cdm_table(deal, output, row_input, row_values, col_input, col_values)


@xw.func(category="Compute Deal")
@xw.arg("deal", doc=DEAL_DOC, ndim=2)
def CDM_USD_PER_GPU_HOUR(deal):
    """Net TCV divided by delivered GPU-hours, USD."""
    return udfs.cdm_usd_per_gpu_hour(deal)


@xw.func(category="Compute Deal")
@xw.arg("deal", doc=DEAL_DOC, ndim=2)
def CDM_FIRM_COMMITMENT(deal):
    """Fees accrued before the earliest exit date (lock-in plus notice), USD."""
    return udfs.cdm_firm_commitment(deal)


@xw.func(category="Compute Deal")
@xw.arg("deal", doc=DEAL_DOC, ndim=2)
def CDM_BREAKEVEN_UTILIZATION(deal):
    """Utilisation in % at which the deal costs the market price per used GPU-hour."""
    return udfs.cdm_breakeven_utilization(deal)


@xw.func(category="Compute Deal")
@xw.arg("deal", doc=DEAL_DOC, ndim=2)
def CDM_CHECK(deal):
    """OK, or the first input error; warnings counted."""
    return udfs.cdm_check(deal)


@xw.func(category="Compute Deal")
@xw.arg("deal", doc=DEAL_DOC, ndim=2)
def CDM_WARNING_COUNT(deal):
    """Number of legal but inconsistent inputs (e.g. more GPUs than the power feeds)."""
    return udfs.cdm_warning_count(deal)


@xw.func(category="Compute Deal")
@xw.arg("gpu_sku", doc=SKU_DOC)
@xw.arg("pue", doc=PUE_DOC)
@xw.arg("network_overhead_pct", doc=OVERHEAD_DOC)
def CDM_KW_PER_GPU(gpu_sku, pue=None, network_overhead_pct=None):
    """All-in facility kW per GPU: server kW x (1 + network overhead) x PUE."""
    return udfs.cdm_kw_per_gpu(gpu_sku, pue, network_overhead_pct)


@xw.func(category="Compute Deal")
@xw.arg("facility_mw", doc="Facility power in MW")
@xw.arg("gpu_sku", doc=SKU_DOC)
@xw.arg("pue", doc=PUE_DOC)
@xw.arg("network_overhead_pct", doc=OVERHEAD_DOC)
def CDM_GPUS_FROM_MW(facility_mw, gpu_sku, pue=None, network_overhead_pct=None):
    """GPUs a facility can feed: floor(MW x 1000 / all-in kW per GPU)."""
    return udfs.cdm_gpus_from_mw(facility_mw, gpu_sku, pue, network_overhead_pct)


@xw.func(category="Compute Deal")
@xw.arg("gpus", doc="Number of GPUs")
@xw.arg("gpu_sku", doc=SKU_DOC)
@xw.arg("pue", doc=PUE_DOC)
@xw.arg("network_overhead_pct", doc=OVERHEAD_DOC)
def CDM_MW_FROM_GPUS(gpus, gpu_sku, pue=None, network_overhead_pct=None):
    """Facility MW the GPUs need: GPUs x all-in kW per GPU / 1000."""
    return udfs.cdm_mw_from_gpus(gpus, gpu_sku, pue, network_overhead_pct)


@xw.func(category="Compute Deal")
@xw.arg("gpu_sku", doc=SKU_DOC)
@xw.arg("field", doc="tdp_w, server_kw_per_gpu, dense_bf16_tflops, dense_fp8_tflops, hbm_gb, source or source_date")
def CDM_GPU_SPEC(gpu_sku, field):
    """A value from the GPU catalogue, e.g. CDM_GPU_SPEC("H100-SXM", "tdp_w") = 700."""
    return udfs.cdm_gpu_spec(gpu_sku, field)


@xw.func(category="Compute Deal")
def CDM_VERSION():
    """Version of Compute Deal Model computing this workbook."""
    return udfs.cdm_version()


def main() -> None:
    """Ribbon button "Refresh model": refresh the active workbook through its defined names."""
    from addin.excel.refresh import refresh
    from addin.workbook.book import XlwingsBook

    book = xw.Book.caller()
    refresh(XlwingsBook(book))
