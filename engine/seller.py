"""The seller's side of a deal, and build-vs-buy for the buyer.

What a neocloud earns on a contract: revenue (the deal's net fees), cash
costs (power, colocation rent or none for an owned site, other opex),
depreciation, EBITDA and operating margin, interest on a monthly amortising
loan, tax, free cash flow, IRR, NPV, payback and the break-even price per
GPU-hour; what happens if the buyer leaves at the first exit date; and, for
the buyer, what building the same capacity would cost instead.

Arrays are ``(n_scenarios, n_months)`` over the deal's timeline; capex is paid
on the first day of ``start_month`` (t = 0) and the residual value is received
on the last payment date. Conventions (docs/how-to/seller.md):

* power drawn = min(delivered MW, facility MW) x hours x price per kWh
  (delivered MW is all-in: servers, network, PUE);
* depreciation: GPU capex straight-line over its life, or declining balance
  at twice the straight-line rate (monthly rate 2 / (12 x life)); the data
  centre straight-line over its own life;
* loan = debt share x capex, repaid monthly over its tenor (numpy-financial
  ``pmt``/``ipmt``/``ppmt``); any balance left at the end is repaid then;
* tax = rate x max(taxable profit, 0) month by month (no loss carry-forward);
* project (unlevered) flows: -capex, EBITDA - tax on EBIT, + residual; equity
  flows: -(capex - debt), EBITDA - interest - principal - tax on (EBIT -
  interest), + residual - balance outstanding;
* data-centre capex (an owned site) = IT MW (facility MW / PUE) x ``seller_dc_capex_usd_per_mw``, the cost
  guides' basis (per MW of critical load);
* residual = resale of the GPUs (``seller_residual_value_pct`` of GPU capex)
  plus the data centre's book value (an owned site keeps its undepreciated value).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy_financial as npf

from engine.catalogue import NETWORK_USD_PER_GPU, capex_basis
from engine.finance import xirr
from engine.schedule import Schedule
from engine.sizing import HOURS_PER_AVERAGE_MONTH

BREAKEVEN_MAX_USD_PER_GPU_HOUR = 1000.0

NEOCLOUD_EBITDA_MARGIN_PCT = (55.0, 65.0)
"""The neocloud range the seller's EBITDA margin is read against: CoreWeave's adjusted EBITDA margin, quarter by
quarter from Q1 2024 (55%) to Q3 2025 (61%), with 65% in Q3 2024 and 62% in Q1 and Q2 2025 (CoreWeave quarterly
results, 14 May 2025, 12 Aug 2025 and 10 Nov 2025, investors.coreweave.com; the only listed neocloud with a full
record). Adjusted EBITDA leaves out stock-based pay, so a contract's margin may sit a little above it."""


def network_share_of_capex(terms: Any) -> float:
    """The back-end network's share of the GPU capex, fleet-weighted from the catalogue (engine/data/capex.csv): the
    network line of the cost stack. Applied to ``seller_capex_usd_per_gpu`` whether given or the catalogue's."""
    basis = capex_basis()
    entries = [(e.gpu_sku, float(e.gpu_count)) for e in terms.fleet] or [(terms.gpu_sku, 1.0)]
    network = sum(NETWORK_USD_PER_GPU * count for _, count in entries)
    total = sum(basis[sku].all_in_usd * count for sku, count in entries)
    return network / total if total > 0 else 0.0


def margin_check(margin_pct: float) -> str:
    """The EBITDA margin against the neocloud range: ``within``, or above or below it, said with the range."""
    lo, hi = NEOCLOUD_EBITDA_MARGIN_PCT
    if margin_pct > hi:
        return f"above the neocloud range ({lo:.0f}-{hi:.0f}%, CoreWeave 2024-25): check the fee against the costs"
    if margin_pct < lo:
        return f"below the neocloud range ({lo:.0f}-{hi:.0f}%, CoreWeave 2024-25)"
    return f"within the neocloud range ({lo:.0f}-{hi:.0f}%, CoreWeave 2024-25)"


def _col(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, float).reshape(-1, 1)


@dataclass(frozen=True, eq=False)
class SellerCase:
    """Monthly seller figures, every array (n_scenarios, n_months); initial amounts (n_scenarios,)."""

    revenue_usd: np.ndarray
    power_usd: np.ndarray
    colocation_usd: np.ndarray
    maintenance_usd: np.ndarray
    staff_usd: np.ndarray
    insurance_usd: np.ndarray
    other_opex_usd: np.ndarray
    cash_costs_usd: np.ndarray
    ebitda_usd: np.ndarray
    depreciation_usd: np.ndarray
    ebit_usd: np.ndarray
    interest_usd: np.ndarray
    principal_usd: np.ndarray
    tax_usd: np.ndarray
    project_fcf_usd: np.ndarray
    equity_fcf_usd: np.ndarray
    cumulative_project_fcf_usd: np.ndarray
    gpu_capex_usd: np.ndarray
    dc_capex_usd: np.ndarray
    debt_usd: np.ndarray
    residual_usd: np.ndarray
    balance_at_end_usd: np.ndarray


class SellerModel:
    """The seller's economics of a deal's schedule; ``case(revenue)`` evaluates any revenue path."""

    def __init__(self, schedule: Schedule):
        self.schedule = schedule
        t = schedule.terms
        n, m = schedule.shape
        self.n, self.m = n, m
        self.active = schedule.active
        hours = schedule.hours
        facility_kw = _col(t.facility_mw) * 1000.0
        drawn_kw = np.minimum(schedule.delivered_mw * 1000.0, facility_kw) * self.active
        self.power = drawn_kw * hours * _col(t.seller_power_usd_per_kwh)
        owned = t.seller_facility == "owned"
        self.colocation = np.zeros((1, 1)) if owned else facility_kw * _col(t.seller_colocation_usd_per_kw_month) * self.active
        self.other_opex = schedule.delivered_gpu_hours * _col(t.seller_other_opex_usd_per_gpu_hour)
        self.staff = schedule.delivered_gpu_hours * _col(t.seller_staff_usd_per_gpu_year) / (12.0 * HOURS_PER_AVERAGE_MONTH)

        gpus = np.broadcast_to(_col(schedule.capacity.gpus), (n, 1))
        self.gpu_capex = (gpus * _col(t.seller_capex_usd_per_gpu))[:, 0]
        it_mw = _col(t.facility_mw) / _col(t.pue)  # the cost guides quote per MW of IT (critical) load
        dc_capex = np.broadcast_to(it_mw * _col(t.seller_dc_capex_usd_per_mw), (n, 1))[:, 0]
        self.dc_capex = dc_capex if owned else np.zeros(n)
        self.new_capex = self.gpu_capex + self.dc_capex
        self.maintenance = _col(self.gpu_capex) * _col(t.seller_maintenance_pct_per_year) / 1200.0 * self.active
        self.insurance = _col(self.new_capex) * _col(t.seller_insurance_pct_per_year) / 1200.0 * self.active
        self.cash_costs = self.power + self.colocation + self.maintenance + self.staff + self.insurance + self.other_opex
        self.network_share = network_share_of_capex(t)

        # the assets' age on the first day of start_month: bought for the deal (age 0) or earlier (sunk, at book value)
        age = np.broadcast_to(
            (np.asarray(t.start_month) - np.asarray(t.seller_asset_vintage)).astype(np.int64).astype(float), (n,)
        )
        self.age_months = age
        j = np.arange(m)[None, :]
        life = _col(t.seller_depreciation_years) * 12.0
        if t.seller_depreciation_method == "declining":
            rate = 2.0 / life
            gpu_dep = _col(self.gpu_capex) * (1.0 - rate) ** (j + _col(age)) * rate
            gpu_book0 = self.gpu_capex * (1.0 - rate[:, 0]) ** age
        else:
            gpu_dep = np.where(j + _col(age) < life, _col(self.gpu_capex) / life, 0.0)
            gpu_book0 = self.gpu_capex * np.maximum(1.0 - age / life[:, 0], 0.0)
        dc_life = _col(t.seller_dc_depreciation_years) * 12.0
        dc_dep = np.where(j + _col(age) < dc_life, _col(self.dc_capex) / dc_life, 0.0)
        dc_book0 = self.dc_capex * np.maximum(1.0 - age / dc_life[:, 0], 0.0)
        self.gpu_depreciation = np.broadcast_to(gpu_dep * self.active, (n, m))
        self.dc_depreciation = np.broadcast_to(dc_dep * self.active, (n, m))
        self.depreciation = self.gpu_depreciation + self.dc_depreciation
        # what the project puts in on day one: new capex, or the book value of assets bought earlier (sunk)
        capex = np.broadcast_to(gpu_book0 + dc_book0, (n,)).astype(float)

        months = np.broadcast_to(schedule.terms.months_billed, (n,))
        self.months = months
        self.debt = capex * np.broadcast_to(t.seller_debt_pct, (n,)) / 100.0
        monthly_rate = np.broadcast_to(t.seller_interest_rate_pct, (n,)) / 100.0 / 12.0
        tenor = np.broadcast_to(t.seller_loan_tenor_months, (n,)).astype(int)
        period = j + 1
        in_loan = period <= _col(tenor)
        ipmt = -npf.ipmt(_col(monthly_rate), np.minimum(period, _col(tenor)), _col(tenor), _col(self.debt))
        # numpy-financial's ppmt is pmt - ipmt: the payment once, less the interest already computed
        ppmt = -npf.pmt(_col(monthly_rate), _col(tenor), _col(self.debt)) - ipmt
        self.interest = np.where(in_loan, ipmt, 0.0) * self.active
        self.principal = np.where(in_loan, ppmt, 0.0) * self.active
        self.balance_at_end = np.maximum(self.debt - self.principal.sum(axis=1), 0.0)

        last = (months - 1).astype(int)
        gpu_resale = self.gpu_capex * np.broadcast_to(t.seller_residual_value_pct, (n,)) / 100.0
        dc_used = self.dc_depreciation.sum(axis=1)
        self.residual = gpu_resale + (np.maximum(dc_book0 - dc_used, 0.0) if owned else 0.0)
        # a build from new (the buyer's alternative) keeps the data centre's whole life
        new_dc_used = np.where(j < dc_life, _col(self.dc_capex) / dc_life, 0.0) * self.active
        self.build_residual = gpu_resale + (np.maximum(self.dc_capex - new_dc_used.sum(axis=1), 0.0) if owned else 0.0)
        self.end = np.zeros((n, m))
        self.end[np.arange(n), last] = 1.0
        self.capex = capex
        self.tax_rate = _col(np.broadcast_to(t.seller_tax_rate_pct, (n,))) / 100.0
        self.discount = schedule.discount_factor
        self.capex_discount = schedule.start_discount_factor  # capex is paid on the first day of start_month

    def case(self, revenue: np.ndarray) -> SellerCase:
        """Every monthly figure for a revenue path (n, m)."""
        revenue = np.broadcast_to(revenue, (self.n, self.m)) * self.active
        ebitda = revenue - self.cash_costs
        ebit = ebitda - self.depreciation
        tax_unlevered = np.maximum(ebit, 0.0) * self.tax_rate
        tax = np.maximum(ebit - self.interest, 0.0) * self.tax_rate
        project = ebitda - tax_unlevered + self.end * _col(self.residual)
        equity = ebitda - self.interest - self.principal - tax + self.end * _col(self.residual - self.balance_at_end)
        cumulative = np.cumsum(project, axis=1) - _col(self.capex)
        return SellerCase(
            revenue_usd=revenue, power_usd=np.broadcast_to(self.power, (self.n, self.m)),
            colocation_usd=np.broadcast_to(self.colocation, (self.n, self.m)),
            maintenance_usd=np.broadcast_to(self.maintenance, (self.n, self.m)),
            staff_usd=np.broadcast_to(self.staff, (self.n, self.m)),
            insurance_usd=np.broadcast_to(self.insurance, (self.n, self.m)),
            other_opex_usd=np.broadcast_to(self.other_opex, (self.n, self.m)),
            cash_costs_usd=np.broadcast_to(self.cash_costs, (self.n, self.m)), ebitda_usd=ebitda,
            depreciation_usd=self.depreciation, ebit_usd=ebit, interest_usd=self.interest, principal_usd=self.principal,
            tax_usd=tax, project_fcf_usd=project, equity_fcf_usd=equity, cumulative_project_fcf_usd=cumulative,
            gpu_capex_usd=self.gpu_capex, dc_capex_usd=self.dc_capex, debt_usd=self.debt, residual_usd=self.residual,
            balance_at_end_usd=self.balance_at_end,
        )  # fmt: skip

    def project_npv(self, case: SellerCase) -> np.ndarray:
        """NPV of the project flows at the deal's discount rate on its valuation date (XNPV convention, capex paid
        on the first day of start_month)."""
        return (case.project_fcf_usd * self.discount).sum(axis=1) - self.capex * self.capex_discount

    def breakeven_usd_per_gpu_hour(self) -> np.ndarray:
        """The price per delivered GPU-hour at which the project NPV is zero (every scenario at once), solved exactly.

        At a price p a month earns hours x p less its cash costs and pays tax on that less depreciation when positive:
        the NPV is linear in p between the prices where a month starts paying tax (its costs and depreciation over
        its hours) and rises with p (the tax rate is below 100%). With those prices sorted, cumulative sums give the
        NPV at each of them; the root lies after the last one where the NPV is still negative, where the NPV is
        p x (discounted hours less the taxed months' share) less (discounted costs less the taxed months' tax
        shield) plus the residual less the capex, zero at one p. NaN (shown as "none") where the NPV is positive even
        at a price of zero (the other flows, a residual value, already repay the capex) or still not positive at
        the ceiling (``BREAKEVEN_MAX_USD_PER_GPU_HOUR``): there is then no break-even price.
        """
        n, m = self.n, self.m
        hours = np.broadcast_to(self.schedule.delivered_gpu_hours * self.active, (n, m))
        # the project NPV at a price, from the figures that do not move with it (the same arithmetic as case() and
        # project_npv(), which the tests hold it to): only the revenue, EBITDA, EBIT and its tax change
        fixed = (self.end * _col(self.residual) * self.discount).sum(axis=1) - self.capex * self.capex_discount
        costs, dep = np.broadcast_to(self.cash_costs, (n, m)), np.broadcast_to(self.depreciation, (n, m))
        discount = np.broadcast_to(self.discount, (n, m))
        tax_rate = self.tax_rate[:, 0]

        def npv(price: np.ndarray) -> np.ndarray:
            ebitda = hours * _col(price) - costs
            tax = np.maximum(ebitda - dep, 0.0) * self.tax_rate
            return ((ebitda - tax) * discount).sum(axis=1) + fixed

        at_zero = npv(np.zeros(n)) > 0
        at_cap = npv(np.full(n, BREAKEVEN_MAX_USD_PER_GPU_HOUR)) > 0
        # where each month starts paying tax: (costs + depreciation) / hours; a month without hours pays the same
        # at every price (always, when its costs and depreciation are negative; else never)
        taxable_from = np.where(
            hours > 0,
            (costs + dep) / np.where(hours > 0, hours, 1.0),
            np.where(costs + dep < 0, -np.inf, np.inf),
        )
        order = np.argsort(taxable_from, axis=1, kind="stable")
        kinks = np.take_along_axis(taxable_from, order, axis=1)
        zeros = np.zeros((n, 1))
        taxed_hours = np.hstack([zeros, np.cumsum(np.take_along_axis(discount * hours, order, axis=1), axis=1)])
        taxed_base = np.hstack([zeros, np.cumsum(np.take_along_axis(discount * (costs + dep), order, axis=1), axis=1)])
        # with the first j months of the sorted order paying tax, the NPV is p x slope[:, j] - base[:, j] + fixed
        slope = (discount * hours).sum(axis=1)[:, None] - tax_rate[:, None] * taxed_hours
        base = (discount * costs).sum(axis=1)[:, None] - tax_rate[:, None] * taxed_base
        with np.errstate(invalid="ignore", over="ignore"):  # the infinite prices are set apart just below
            at_kinks = kinks * slope[:, :m] - base[:, :m] + fixed[:, None]
        at_kinks = np.where(np.isposinf(kinks), np.inf, np.where(np.isneginf(kinks), -np.inf, at_kinks))
        below = (at_kinks < 0).sum(axis=1)  # months taxed at the root: those whose price is below it
        rows = np.arange(n)
        with np.errstate(divide="ignore", invalid="ignore"):
            root = (base[rows, below] - fixed) / slope[rows, below]
        # rounding cannot take the root out of its piece: between the last price below it and the next
        lower = np.where(below > 0, kinks[rows, np.maximum(below - 1, 0)], 0.0)
        upper = np.where(below < m, kinks[rows, np.minimum(below, m - 1)], BREAKEVEN_MAX_USD_PER_GPU_HOUR)
        root = np.clip(root, np.maximum(lower, 0.0), np.minimum(upper, BREAKEVEN_MAX_USD_PER_GPU_HOUR))
        return np.where(at_zero | ~at_cap | ~np.isfinite(root), np.nan, root)

    def early_exit_revenue(self) -> np.ndarray:
        """Revenue if the buyer leaves at the earliest exit: fees until the exit date, nothing for the vacancy,
        then the capacity re-leased at ``seller_release_usd_per_gpu_hour`` for every delivered GPU-hour.
        """
        s = self.schedule
        t = s.terms
        firm = s.firm_fraction
        exit_month = firm.sum(axis=1)  # months (fractional) until the exit date
        j = np.arange(self.m)[None, :]
        back = j >= np.ceil(_col(exit_month) + _col(np.broadcast_to(t.seller_vacancy_months, (self.n,))))
        released = s.delivered_gpu_hours * _col(t.seller_release_usd_per_gpu_hour) * back
        return s.net_fee_usd * firm + released * self.active


SELLER_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("revenue_usd", "USD", "Revenue (the deal's net fees)"),
    ("power_usd", "USD", "Power"),
    ("colocation_usd", "USD", "Colocation rent"),
    ("maintenance_usd", "USD", "Hardware maintenance"),
    ("staff_usd", "USD", "Operations staff"),
    ("insurance_usd", "USD", "Property insurance"),
    ("other_opex_usd", "USD", "Other opex"),
    ("cash_costs_usd", "USD", "Cash costs"),
    ("ebitda_usd", "USD", "EBITDA"),
    ("ebitda_margin_pct", "%", "EBITDA margin"),
    ("depreciation_usd", "USD", "Depreciation"),
    ("ebit_usd", "USD", "Operating profit (EBIT)"),
    ("operating_margin_pct", "%", "Operating margin"),
    ("interest_usd", "USD", "Interest"),
    ("tax_usd", "USD", "Tax"),
    ("project_fcf_usd", "USD", "Project free cash flow (after capex and residual)"),
    ("equity_fcf_usd", "USD", "Equity free cash flow (after debt service)"),
    ("capex_usd", "USD", "Capex (GPUs with their network, and data centre), at cost"),
    ("gpu_capex_usd", "USD", "GPU capex (servers and network)"),
    ("dc_capex_usd", "USD", "Data-centre capex"),
    ("asset_age_months", "months", "Age of the assets on the first day of the term (seller_asset_vintage)"),
    ("book_value_at_start_usd", "USD", "Book value at the start: what the project puts in (= capex when bought new)"),
    ("debt_usd", "USD", "Debt raised"),
    ("residual_usd", "USD", "Residual value at the end"),
    ("project_npv_usd", "USD", "Project NPV at the discount rate"),
    ("project_irr_pct", "%", "Project IRR (annual, XIRR on the dated flows the NPV discounts)"),
    ("equity_irr_pct", "%", "Equity IRR (annual, XIRR on dated flows)"),
    ("payback_month", "months", "Payback month (cumulative project cash flow turns positive)"),
    ("breakeven_usd_per_gpu_hour", "USD/GPU-hour", "Break-even price per delivered GPU-hour (project NPV = 0)"),
    ("power_share_of_fee_pct", "%", "Power as a share of the fee"),
    ("stack_gpu_capex_usd_per_gpu_hour", "USD/GPU-hour", "Cost stack: GPU servers (depreciation)"),
    ("stack_network_usd_per_gpu_hour", "USD/GPU-hour", "Cost stack: back-end network (depreciation)"),
    ("stack_data_centre_usd_per_gpu_hour", "USD/GPU-hour", "Cost stack: data centre (depreciation, or colocation rent)"),
    ("stack_power_usd_per_gpu_hour", "USD/GPU-hour", "Cost stack: power"),
    ("stack_staff_maintenance_usd_per_gpu_hour", "USD/GPU-hour", "Cost stack: staff and maintenance"),
    ("stack_insurance_other_usd_per_gpu_hour", "USD/GPU-hour", "Cost stack: insurance and other"),
    ("stack_financing_usd_per_gpu_hour", "USD/GPU-hour", "Cost stack: financing (interest)"),
    ("stack_total_usd_per_gpu_hour", "USD/GPU-hour", "Cost stack: total per delivered GPU-hour"),
    ("early_exit_revenue_lost_usd", "USD", "Revenue lost if the buyer leaves at the first exit"),
    ("early_exit_project_npv_usd", "USD", "Project NPV if the buyer leaves at the first exit"),
    ("early_exit_project_irr_pct", "%", "Project IRR if the buyer leaves at the first exit"),
    ("build_npv_cost_usd", "USD", "Buyer: NPV of building the same capacity"),
    ("contract_npv_cost_usd", "USD", "Buyer: NPV of the contract's payments"),
    ("build_saving_npv_usd", "USD", "Buyer: NPV saved by building instead (contract - build)"),
    ("build_usd_per_gpu_hour", "USD/GPU-hour", "Buyer: levelised build cost per delivered GPU-hour"),
    ("contract_usd_per_gpu_hour", "USD/GPU-hour", "Buyer: levelised contract cost per delivered GPU-hour"),
    ("build_crossover_utilization_pct", "%", "Buyer: utilisation above which building beats renting at market"),
    ("build_crossover_month", "months", "Buyer: contract term (months) beyond which building is cheaper (PV, no resale)"),
)
TOTALLED = (
    "revenue_usd", "power_usd", "colocation_usd", "maintenance_usd", "staff_usd", "insurance_usd", "other_opex_usd",
    "cash_costs_usd", "ebitda_usd", "depreciation_usd", "ebit_usd", "interest_usd", "tax_usd",
)  # fmt: skip
UNITS = {name: unit for name, unit, _ in SELLER_FIGURES}
STACK_FIGURES = tuple(name for name, _, _ in SELLER_FIGURES if name.startswith("stack_"))
BUILD_FIGURES = tuple(name for name, _, _ in SELLER_FIGURES if name.startswith(("build_", "contract_")))
OPTIONAL = {
    "project_irr_pct",
    "equity_irr_pct",
    "payback_month",
    "early_exit_project_irr_pct",
    "build_crossover_month",
    "breakeven_usd_per_gpu_hour",
}
"""Figures that may not exist (no sign change, never paid back): reported as None, never as NaN."""


class SellerSummary:
    """Seller and build-vs-buy figures for every scenario; ``record(i)`` for one, JSON-ready.

    Each figure is computed the first time it is asked for, with the others of its group (the early-exit case,
    build-vs-buy, the cost stack, each IRR): a worksheet cell asking for the project IRR does not pay for the equity
    IRR. ``values`` maps every figure's name to its (n_scenarios,) array.
    """

    def __init__(self, schedule: Schedule):
        self.schedule = schedule
        self.model = SellerModel(schedule)
        self.case = self.model.case(schedule.net_fee_usd)
        self._exit: SellerCase | None = None
        groups: tuple[tuple[tuple[str, ...], Callable[[], dict[str, np.ndarray]]], ...] = (
            (("project_irr_pct",), lambda: {"project_irr_pct": self._irr(self.case.project_fcf_usd, self.model.capex)}),
            (("equity_irr_pct",), lambda: {"equity_irr_pct": self._irr(self.case.equity_fcf_usd,
                                                                        self.model.capex - self.model.debt)}),
            (("breakeven_usd_per_gpu_hour",), lambda: {"breakeven_usd_per_gpu_hour": self.model.breakeven_usd_per_gpu_hour()}),
            ((*STACK_FIGURES,), lambda: self._stack(self.case)),
            (("early_exit_revenue_lost_usd", "early_exit_project_npv_usd"), self._early_exit),
            (("early_exit_project_irr_pct",), lambda: {"early_exit_project_irr_pct": self._irr(
                self._exit_case().project_fcf_usd, self.model.capex)}),
            (BUILD_FIGURES, self._build_vs_buy),
        )  # fmt: skip
        by_name = {name: group for names, group in groups for name in names}
        # every other figure comes from the operating case's totals (_totals), in the figures' order
        self.values = _Figures({name: by_name.get(name, self._totals) for name, _, _ in SELLER_FIGURES})

    def _totals(self) -> dict[str, np.ndarray]:
        c, model = self.case, self.model
        revenue = c.revenue_usd.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            margin = np.where(revenue > 0, c.ebitda_usd.sum(axis=1) / np.where(revenue > 0, revenue, 1.0) * 100.0, 0.0)
            op_margin = np.where(revenue > 0, c.ebit_usd.sum(axis=1) / np.where(revenue > 0, revenue, 1.0) * 100.0, 0.0)
        return {
            **{k: getattr(c, k).sum(axis=1) for k in TOTALLED},
            "ebitda_margin_pct": margin,
            "operating_margin_pct": op_margin,
            "project_fcf_usd": c.project_fcf_usd.sum(axis=1) - model.capex,
            "equity_fcf_usd": c.equity_fcf_usd.sum(axis=1) - (model.capex - model.debt),
            "capex_usd": model.new_capex, "gpu_capex_usd": model.gpu_capex, "dc_capex_usd": model.dc_capex,
            "asset_age_months": model.age_months, "book_value_at_start_usd": model.capex,
            "debt_usd": model.debt, "residual_usd": model.residual,
            "project_npv_usd": model.project_npv(c),
            "payback_month": self._payback(c.cumulative_project_fcf_usd),
            "power_share_of_fee_pct": c.power_usd.sum(axis=1) / np.maximum(revenue, 1e-300) * 100.0,
        }  # fmt: skip

    def _exit_case(self) -> SellerCase:
        """The figures if the buyer leaves at the first exit (built once: its NPV and its IRR both read it)."""
        if self._exit is None:
            self._exit = self.model.case(self.model.early_exit_revenue())
        return self._exit

    def _early_exit(self) -> dict[str, np.ndarray]:
        exit_case = self._exit_case()
        return {
            "early_exit_revenue_lost_usd": self.case.revenue_usd.sum(axis=1) - exit_case.revenue_usd.sum(axis=1),
            "early_exit_project_npv_usd": self.model.project_npv(exit_case),
        }

    def _stack(self, c: SellerCase) -> dict[str, np.ndarray]:
        """The cost stack per delivered GPU-hour over the term (SemiAnalysis's layout): each cost's total over the
        term divided by the delivered GPU-hours; depreciation stands for the capex's recovery, interest for its
        financing. The GPU depreciation is split by the network's share of the capex (``network_share_of_capex``)."""
        m = self.model
        hours = np.maximum(self.schedule.delivered_gpu_hours.sum(axis=1), 1e-300)
        gpu_dep = m.gpu_depreciation.sum(axis=1)
        site = m.dc_depreciation.sum(axis=1) + c.colocation_usd.sum(axis=1)
        lines = {
            "stack_gpu_capex_usd_per_gpu_hour": gpu_dep * (1.0 - m.network_share),
            "stack_network_usd_per_gpu_hour": gpu_dep * m.network_share,
            "stack_data_centre_usd_per_gpu_hour": site,
            "stack_power_usd_per_gpu_hour": c.power_usd.sum(axis=1),
            "stack_staff_maintenance_usd_per_gpu_hour": c.staff_usd.sum(axis=1) + c.maintenance_usd.sum(axis=1),
            "stack_insurance_other_usd_per_gpu_hour": c.insurance_usd.sum(axis=1) + c.other_opex_usd.sum(axis=1),
            "stack_financing_usd_per_gpu_hour": c.interest_usd.sum(axis=1),
        }
        out = {k: v / hours for k, v in lines.items()}
        out["stack_total_usd_per_gpu_hour"] = sum(out.values(), np.zeros_like(hours))
        return out

    def _irr(self, flows: np.ndarray, initial: np.ndarray) -> np.ndarray:
        """XIRR of -initial on the first day of start_month and each month's flow on its payment date: the same dated
        flows the NPV discounts, so the NPV at this rate is zero."""
        s = self.schedule
        start = s.start_day
        out = np.full(flows.shape[0], np.nan)
        for i in range(flows.shape[0]):
            keep = s.active[i]
            days = (s.payment_date[i][keep] - start[i]).astype(np.int64).astype(float)
            irr = xirr(np.concatenate([[-initial[i]], flows[i][keep]]), np.concatenate([[0.0], days]))
            out[i] = np.nan if irr is None else irr
        return out

    @staticmethod
    def _payback(cumulative: np.ndarray) -> np.ndarray:
        paid = cumulative >= 0
        first = np.argmax(paid, axis=1).astype(float) + 1.0
        return np.where(paid.any(axis=1), first, np.nan)

    def _build_vs_buy(self) -> dict[str, np.ndarray]:
        """The buyer builds the same capacity from new: capex on the first day, and for the first
        ``seller_build_lead_months`` the capacity is not there, so the buyer rents each month's delivered GPU-hours
        at the market price; then power and opex monthly, residual at the end; all discounted at the buyer's rate,
        against the contract's payments at the same rate."""
        s, model = self.schedule, self.model
        t = s.terms
        j = np.arange(model.m)[None, :]
        building = j < _col(np.broadcast_to(t.seller_build_lead_months, (model.n,)))
        market = np.broadcast_to(t.market_usd_per_gpu_hour, (s.n_scenarios,))
        rent = s.delivered_gpu_hours * _col(market) * building
        running = np.where(building, rent, model.cash_costs)
        monthly_cost = running - model.end * _col(model.build_residual)
        build_pv = (monthly_cost * model.discount).sum(axis=1) + model.new_capex * model.capex_discount
        contract_pv = s.total_present_value_usd
        hours_pv = (s.delivered_gpu_hours * model.discount).sum(axis=1)
        build_per_hour = build_pv / hours_pv
        contract_per_hour = contract_pv / hours_pv
        # the term a contract must run for building to have been cheaper: cumulative contract payments
        # (PV) reach the build's capex plus its running costs and the rent while it is built (PV); no resale
        # credited (conservative)
        build_cum = (model.new_capex * model.capex_discount)[:, None] + np.cumsum(running * model.discount, axis=1)
        contract_cum = np.cumsum(s.present_value_usd, axis=1)
        ahead = (build_cum <= contract_cum) & s.active
        crossover = np.where(ahead.any(axis=1), np.argmax(ahead, axis=1) + 1.0, np.nan)
        return {
            "build_npv_cost_usd": build_pv,
            "contract_npv_cost_usd": contract_pv,
            "build_saving_npv_usd": contract_pv - build_pv,
            "build_usd_per_gpu_hour": build_per_hour,
            "contract_usd_per_gpu_hour": contract_per_hour,
            "build_crossover_utilization_pct": build_per_hour / market * 100.0,
            "build_crossover_month": crossover,
        }

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def figure(self, name: str, i: int = 0) -> Any:
        """Scenario ``i``'s figure ``name`` as :meth:`record` gives it (None where an optional one does not exist,
        whole months as int, ``ebitda_margin_check`` as its text), computing only what it needs."""
        if name == "ebitda_margin_check":
            return margin_check(float(self.values["ebitda_margin_pct"][i]))
        v = float(self.values[name][i])
        if not np.isfinite(v):
            if name not in OPTIONAL:
                raise ValueError(f"seller figure {name} is not finite")
            return None
        return int(v) if UNITS[name] == "months" else v

    def record(self, i: int = 0) -> dict[str, Any]:
        """Scenario ``i``: every figure; optional ones None when they do not exist."""
        out: dict[str, Any] = {"deal_name": self.schedule.terms.deal_name}
        out["ebitda_margin_check"] = self.figure("ebitda_margin_check", i)
        for name, _, _ in SELLER_FIGURES:
            out[name] = self.figure(name, i)
        return out


class _Figures(Mapping[str, np.ndarray]):
    """Every seller figure by name, each group computed on its first read."""

    def __init__(self, groups: dict[str, Callable[[], dict[str, np.ndarray]]]):
        self.groups = groups
        self.done: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        found = self.done.get(name)
        if found is None:
            self.done.update(self.groups[name]())
            found = self.done[name]
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)


def seller_summary(schedule: Schedule) -> SellerSummary:
    """Seller and build-vs-buy figures of every scenario in ``schedule``."""
    return SellerSummary(schedule)
