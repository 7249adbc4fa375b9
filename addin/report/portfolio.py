"""The portfolio report: ``cdm report PORTFOLIO -o out.xlsx`` (a portfolio TOML or workbook)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from addin.report.claims import check_claims, claims_for, claims_sheet, load_claims
from addin.report.common import BOLD, FORMATS, HEADER_FILL, SECTION, SUBTITLE, TITLE, WRAP, _name, _print_setup, file_sha256, put
from addin.version import package_version
from addin.workbook.portfolio_file import portfolio_record
from engine.portfolio import Portfolio, PortfolioResult


def is_portfolio_file(path: Path) -> bool:
    from addin.workbook.dealfile import DealFileError

    """A portfolio TOML (has [[contracts]]) or a portfolio workbook (has the cdm_contracts name)."""
    if path.suffix.lower() == ".toml":
        try:
            from addin.workbook.dealfile import read_text_file

            return "[[contracts]]" in read_text_file(path)
        except DealFileError:
            return False
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        if not path.is_file():  # a FIFO or device would block the zip reader; the loader says what it is
            return False
        try:
            import zipfile

            with zipfile.ZipFile(path) as z:
                return b"cdm_contracts" in z.read("xl/workbook.xml")
        except (OSError, KeyError, zipfile.BadZipFile):
            return False
    return False


def load_any_portfolio(path: Path) -> Portfolio:
    if path.suffix.lower() == ".toml":
        from addin.workbook.portfolio_file import load_portfolio

        return load_portfolio(path)[0]
    from addin.workbook.portfolio_book import read_portfolio_workbook

    return read_portfolio_workbook(path)[0]


def load_portfolio_risk(path: Path) -> tuple[dict[str, object], Any]:
    """A portfolio file's Risk block (the TOML's [risk] table or the workbook's Risk sheet) and where each entry is,
    as a DealSource that locates an error in it."""
    from addin.workbook.dealfile import DealSource

    if path.suffix.lower() == ".toml":
        from addin.workbook.dealfile import read_toml

        raw, locations = read_toml(path)
        return raw.get("risk") or {}, DealSource(path=path, raw=raw, locations=locations)
    from addin.workbook.book import OpenpyxlBook
    from addin.workbook.dealbook import open_workbook, read_risk

    risk_raw, where = read_risk(OpenpyxlBook(open_workbook(path)))
    return risk_raw, DealSource(path=path, raw={}, locations=where, kind="xlsx")


def _header(ws: Any, row: int, labels: list[str]) -> None:
    for j, label in enumerate(labels, start=1):
        c = put(ws, row, j, label, font=BOLD)
        c.fill, c.alignment = HEADER_FILL, Alignment(wrap_text=True, vertical="center")


def build_portfolio_report(path: Path, command_line: str = "", now: dt.datetime | None = None) -> tuple[Workbook, dict[str, Any]]:
    p = load_any_portfolio(path)
    r = PortfolioResult(p)
    rec = portfolio_record(r)
    now = now or dt.datetime.now(dt.UTC)
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws.column_dimensions["A"].width = 58
    ws.column_dimensions["B"].width = 22
    put(ws, 1, 1, f"Portfolio report: {p.name}", font=TITLE)
    put(ws, 2, 1, f"{len(p.contracts)} contracts, {p.n_months} months from {p.start_month}. Generated {now:%Y-%m-%d %H:%M} UTC "
                  f"from {path.name}.", font=SUBTITLE)  # fmt: skip
    buckets = rec["commitments_by_period_usd"]
    firm_buckets = rec["firm_commitments_by_period_usd"]
    rows: list[tuple[str, str, Any, str]] = [
        ("valuation_date", "Valuation date of the NPV", dt.date.fromisoformat(rec["valuation_date"]), "date"),
        ("npv_usd", "NPV of every contract's payments on that date [$B]", rec["npv_usd"], "USD"),
        ("total_fees_usd", "Fees in the view [$B]", rec["total_fees_usd"], "USD"),
        ("firm_commitment_usd", "Firm commitments [$B]", rec["firm_commitment_usd"], "USD"),
    ]
    rows += [(f"commitments_{k}_usd", f"Commitments, {k.replace('_', ' ')} [$B]", v, "USD") for k, v in buckets.items()]
    rows += [
        (f"firm_commitments_{k}_usd", f"Firm commitments, {k.replace('_', ' ')} [$B]", v, "USD") for k, v in firm_buckets.items()
    ]
    rows.append(("hhi_avg", "Herfindahl index of capacity, average [0-10,000]", rec["hhi_avg"], "GPUs"))
    rows.append(("burn_to_revenue_multiple", "Burn-to-revenue multiple [x]", rec["burn_to_revenue_multiple"], "x2"))
    if "reliance" in rec:
        a, b = rec["reliance"]["vendors"]
        label = f"Reliance ratio {a} : {b}, average while both deliver [x]"
        rows.append(("reliance_ratio_avg", label, rec["reliance"]["ratio_avg"], "x2"))
    first = rec["first_shortfall_month"]
    shortfall = dt.date.fromisoformat(first + "-01") if first else "none in the view"
    rows.append(("first_shortfall_month", "First month demand exceeds contracted capacity", shortfall, "month"))
    to_sign = sum(rec["gpus_to_sign_per_quarter"][:4])
    rows.append(("gpus_to_sign_next_4_quarters", "GPUs to sign over the next 4 quarters", to_sign, "GPUs"))
    row = 4
    for name, label, value, unit in rows:
        put(ws, row, 1, label)
        put(ws, row, 2, value, {"x2": "0.00", "month": "mmm yyyy", "date": "d mmm yyyy"}.get(unit, FORMATS.get(unit, "General")))
        _name(wb, f"portfolio_{name}", ws, row, 2)
        row += 1
    _print_setup(ws)

    cs = wb.create_sheet("Contracts")
    _header(cs, 1, ["Contract", "Vendor", "Site", "From", "To", "Net TCV [$B]", "Firm [$B]", "GPUs", "$ per GPU-hour"])
    for j, w in enumerate((30, 16, 22, 11, 11, 14, 14, 12, 12), start=1):
        cs.column_dimensions[get_column_letter(j)].width = w
    for i, c in enumerate(rec["contracts"], start=2):
        for j, (key, fmt) in enumerate((("deal_name", None), ("vendor", None), ("site", None), ("start_month", None),
                                         ("end_month", None), ("net_tcv_usd", "USD"), ("firm_commitment_usd", "USD"),
                                         ("gpus", "GPUs"), ("usd_per_gpu_hour", "USD/GPU-hour")), start=1):  # fmt: skip
            put(cs, i, j, c[key], FORMATS.get(fmt or "", None) if fmt else None)
    _print_setup(cs, "1:1")

    ts = wb.create_sheet("Timeline")
    vendors = list(r.vendors)
    labels = ["Month", *[f"Fees: {v} ($M)" for v in vendors], "Fees, total ($M)", *[f"GPU-hours: {v} (M)" for v in vendors],
              "GPU-hours, total (M)", "Demand GPU-hours (M)", "Coverage (%)", "HHI"]  # fmt: skip
    _header(ts, 1, labels)
    ts.row_dimensions[1].height = 45
    for j in range(1, len(labels) + 1):
        ts.column_dimensions[get_column_letter(j)].width = 13
    monthly = rec["monthly"]
    cov = r.coverage(slice(0, 1))  # scenario 0: the one shown
    for i, m in enumerate(monthly["month"]):
        values: list[tuple[Any, str]] = [(dt.date.fromisoformat(m + "-01"), "month")]
        values += [(monthly["fees_by_vendor_usd"][v][i], "USDm") for v in vendors]
        values.append((monthly["net_fee_usd"][i], "USDm"))
        values += [(monthly["gpu_hours_by_vendor"][v][i], "GPU-hours-m") for v in vendors]
        values += [(monthly["delivered_gpu_hours"][i], "GPU-hours-m"), (monthly["demand_gpu_hours"][i], "GPU-hours-m")]
        coverage = float(cov["coverage_pct"][0][i])
        values += [(coverage if coverage != float("inf") else 0.0, "%"), (monthly["hhi"][i], "GPUs")]
        for j, (v, fmt) in enumerate(values, start=1):
            put(ts, 2 + i, j, v, FORMATS[fmt])
    last = 1 + len(monthly["month"])
    ts.freeze_panes = "B2"
    months_ref = Reference(ts, min_col=1, min_row=2, max_row=last)
    fees = BarChart()
    fees.type, fees.grouping, fees.overlap = "col", "stacked", 100
    fees.title = "Monthly fees by vendor"
    fees.y_axis.title, fees.y_axis.numFmt = "$M", "#,##0,,"
    for k in range(len(vendors)):
        fees.add_data(Reference(ts, min_col=2 + k, min_row=1, max_row=last), titles_from_data=True)
    fees.set_categories(months_ref)
    fees.x_axis.number_format = "mmm yy"
    fees.height, fees.width = 8, 24
    fees.legend.position = "b"
    cs_chart = wb.create_sheet("Charts")
    put(cs_chart, 1, 1, "Charts (native Excel charts over the Timeline sheet)", font=TITLE)
    cs_chart.add_chart(fees, "A3")
    supply = LineChart()
    supply.title = "Demand against contracted supply (GPU-hours a month, log scale)"
    supply.y_axis.title, supply.y_axis.numFmt = "GPU-hours (M)", "#,##0,,"
    supply.y_axis.scaling.logBase = 10  # doubling demand would flatten supply on a linear axis
    total_col = 2 + 2 * len(vendors) + 1
    supply.add_data(Reference(ts, min_col=total_col, min_row=1, max_row=last), titles_from_data=True)
    supply.add_data(Reference(ts, min_col=total_col + 1, min_row=1, max_row=last), titles_from_data=True)
    supply.set_categories(months_ref)
    supply.x_axis.number_format = "mmm yy"
    for s in supply.series:
        s.smooth = False
    supply.height, supply.width = 8, 24
    supply.legend.position = "b"
    cs_chart.add_chart(supply, "A20")
    _print_setup(ts, "1:1")
    _print_setup(cs_chart)

    vs = wb.create_sheet("Vendors")
    _header(
        vs, 1, ["Vendor", "Capacity share, average (%)", "Spend share, average (%)", "Capacity lost if down, worst month (%)"]
    )
    for j, w in enumerate((24, 18, 18, 22), start=1):
        vs.column_dimensions[get_column_letter(j)].width = w
    for i, v in enumerate(vendors, start=2):
        put(vs, i, 1, v)
        put(vs, i, 2, rec["capacity_share_avg_pct"][v], FORMATS["%"])
        put(vs, i, 3, rec["spend_share_avg_pct"][v], FORMATS["%"])
        put(vs, i, 4, rec["capacity_lost_if_vendor_down_max_pct"][v], FORMATS["%"])
    row = len(vendors) + 3
    put(vs, row, 1, "Outages", font=SECTION)
    _header(vs, row + 1, ["Outage", "Days", "Lost GPU-hours (M)", "SLA credits back", "Replacement at spot", "Contracts"])
    for i, o in enumerate(rec["outages"], start=row + 2):
        put(vs, i, 1, f"{o['site'] or o['vendor']} from {o['start']}")
        put(vs, i, 2, o["days"])
        put(vs, i, 3, o["lost_gpu_hours"], FORMATS["GPU-hours-m"])
        put(vs, i, 4, o["sla_credits_usd"], FORMATS["USDm"])
        put(vs, i, 5, o["replacement_cost_usd"], FORMATS["USDm"])
        put(vs, i, 6, ", ".join(o["contracts"])).alignment = WRAP
    row = row + 3 + len(rec["outages"])
    put(vs, row, 1, "Deal structure", font=SECTION)
    _header(vs, row + 1, ["Contract", "Cash [$B]", "Equity [$B]", "Revenue share [$B]", "Warrants [$B]", "Ownership (%)",
                          "Stake at later valuations"])  # fmt: skip
    for i, s in enumerate(rec["structure"], start=row + 2):
        put(vs, i, 1, s["deal_name"])
        for j, key in enumerate(("cash_usd", "equity_usd", "revenue_share_usd", "warrant_value_usd"), start=2):
            put(vs, i, j, s[key], FORMATS["USD"])
        put(vs, i, 6, s["ownership_pct"], FORMATS["%"])
        put(vs, i, 7, ", ".join(f"${x / 1e9:,.2f}B" for x in s["stake_at_later_valuations_usd"]) or "-")
    _print_setup(vs)

    _risk_sheet(wb, path, r)

    _assumptions(wb, p)
    claims_file = claims_for(p.name)
    verdicts = check_claims(load_claims(claims_file), r) if claims_file is not None else []
    claims_sheet(wb, verdicts, claims_file, what="portfolio")
    rec["claims"] = [{"claim": v.claim.claim, "verdict": v.verdict, "model_value": v.model_value} for v in verdicts]

    ab = wb.create_sheet("About")
    ab.column_dimensions["A"].width = 28
    ab.column_dimensions["B"].width = 100
    about = [
        ("Compute Deal Model version", package_version()),
        ("Generated (UTC)", f"{now:%Y-%m-%d %H:%M:%S}"),
        ("Input file", path.name),
        ("Input file SHA-256", file_sha256(path)),
        ("Command line", command_line),
    ]
    for i, (k, v) in enumerate(about, start=1):
        put(ab, i, 1, k, font=BOLD)
        put(ab, i, 2, v).alignment = WRAP
    _print_setup(ab)
    return wb, rec


def _risk_sheet(wb: Workbook, path: Path, r: PortfolioResult) -> None:
    """The portfolio's Monte Carlo (10,000 paths, the deal report's seed) under its Risk block: the summary, a
    histogram of $ per used GPU-hour, the demand fan against contracted supply and the drivers' rank correlations."""
    from addin.report.common import REPORT_PATHS, REPORT_SEED, put_histogram, risk_sheet
    from addin.workbook.sheets.risk import fan_chart, histogram_chart, tornado_chart
    from engine.errors import InputError
    from engine.risk import build_portfolio_risk, summarise_portfolio

    risk_raw, source = load_portfolio_risk(path)
    try:
        sim = summarise_portfolio(r, REPORT_PATHS, REPORT_SEED, build_portfolio_risk(risk_raw))
    except InputError as exc:
        exc.source = source  # type: ignore[attr-defined]
        raise
    p = r.portfolio
    ws = risk_sheet(wb, "portfolio", risk_raw)
    ws.column_dimensions["A"].width = 40
    for j in range(2, 7):
        ws.column_dimensions[get_column_letter(j)].width = 16
    _header(ws, 4, ["Output", "P5", "P50", "P95", "Mean"])
    row = 5
    for name, st in sim.summary.stats.items():
        put(ws, row, 1, name)
        for j, q in enumerate(("p5", "p50", "p95"), start=2):
            if name == "first_shortfall_month":
                put(ws, row, j, p.month_label(st[q]))
            else:
                put(ws, row, j, st[q], "#,##0.00")
        put(ws, row, 5, st["mean"], "#,##0.00")
        row += 1
    put(ws, row, 1, f"Paths where demand never outgrows supply in the view: {sim.never_short_pct:.1f}%")
    hist_row = row + 2
    put_histogram(ws, hist_row, sim.summary.histograms["usd_per_used_gpu_hour"], "$/used GPU-hour from", '"$"0.00')
    ws.add_chart(histogram_chart(ws, hist_row, 20, 1, 3, title="Histogram of $ per used GPU-hour (paths per bin)",
                                 number_format='"$"0.00'), "H4")  # fmt: skip
    fan_row = hist_row + 23
    _header(ws, fan_row, ["Month", "Demand P5 (B GPU-hours)", "P50", "P95", "Contracted supply"])
    for k in range(p.n_months):
        month = p.start_month + np.timedelta64(k, "M")
        put(ws, fan_row + 1 + k, 1, dt.date.fromisoformat(f"{month}-01"), "mmm yyyy")
        for j, v in enumerate(
            (sim.demand_fan["p5"][k], sim.demand_fan["p50"][k], sim.demand_fan["p95"][k], sim.supply[k]), start=2
        ):
            put(ws, fan_row + 1 + k, j, v, "#,##0.00,,,")
    ws.add_chart(fan_chart(ws, fan_row, p.n_months, 1, series=4, number_format='#,##0,,," B"',
                           title="Demanded GPU-hours (P5 / P50 / P95) against contracted supply"), "H20")  # fmt: skip
    corr_row = fan_row + p.n_months + 2
    corr = sim.rank_correlation()
    _header(ws, corr_row, ["Driver", "With first shortfall month", "With $/used GPU-hour"])
    for k, c in enumerate(corr, start=corr_row + 1):
        put(ws, k, 1, str(c["driver"]))
        for j, out in enumerate(("first_shortfall_month", "usd_per_used_gpu_hour"), start=2):
            value = c[out]
            put(ws, k, j, value if isinstance(value, float) else "n/a", "+0.00;-0.00;0.00")
    ws.add_chart(tornado_chart(ws, corr_row, len(corr), 1, 2, number_format="0.0",
                               title="Rank correlation with the first shortfall month"), "H36")  # fmt: skip
    _print_setup(ws)


def _assumptions(wb: Workbook, p: Any) -> None:
    """The portfolio's own inputs as used (after defaults), each with its source: the file's, else the default's."""
    from engine.portfolio import PORTFOLIO_FIELDS

    d = p.demand

    def first(a: Any) -> float:
        return float(np.asarray(a).reshape(-1)[0])

    used = {"portfolio_name": p.name, "start_month": str(p.start_month), "months": p.n_months,
            "valuation_date": str(p.valuation_day), "revenue_usd_per_year": first(d.revenue_usd_per_year),
            "revenue_doubling_months": first(d.revenue_doubling_months),
            "doubling_slowdown_pct_per_year": first(d.doubling_slowdown_pct_per_year),
            "gpu_hours_per_usd": first(d.gpu_hours_per_usd), "spot_usd_per_gpu_hour": p.spot_usd_per_gpu_hour,
            "post_money_valuation_usd": p.post_money_valuation_usd}  # fmt: skip
    ws = wb.create_sheet("Assumptions")
    put(ws, 1, 1, "The portfolio's inputs as used, with their sources", font=TITLE)
    for j, (h, w) in enumerate((("Input", 34), ("Meaning", 46), ("Value used", 18), ("Source", 90)), start=1):
        put(ws, 3, j, h, font=BOLD)
        ws.column_dimensions[get_column_letter(j)].width = w
    for r, f in enumerate(PORTFOLIO_FIELDS, start=4):
        put(ws, r, 1, f.name)
        put(ws, r, 2, f.label).alignment = WRAP
        put(ws, r, 3, used.get(f.name, ""), "#,##0.####" if isinstance(used.get(f.name), float) else None)
        put(ws, r, 4, p.sources.get(f.name) or f.default_source or f.blank_means or "").alignment = WRAP
    _print_setup(ws, "3:3")
