"""``cdm report`` and ``compare``: the review workbooks (and PDFs) of one deal, a folder of deals, or several side by side."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from addin.cli.app import EXIT_BAD_INPUT, JsonOpt, ScenarioOpt, _command_line, _dump, _say, _warn, app, guarded, out
from addin.workbook.dealfile import located_messages
from addin.workbook.load import load_deal
from engine.errors import CdmError, InputError

REPORT_SUFFIXES = (".xlsx", ".xlsm", ".toml")


@app.command()
@guarded
def report(  # noqa: PLR0917 (typer options are parameters)
    deal: Annotated[Path | None, typer.Argument(help="A deal file or workbook (or give --all FOLDER).")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Report workbook (.xlsx); with --all, a folder.")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write a PDF beside it (needs LibreOffice).")] = False,
    scenario: ScenarioOpt = None,
    all_in: Annotated[Path | None, typer.Option("--all", help="Report every deal workbook and TOML file in this folder.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build the review report of a deal: summary, schedule, charts, sensitivity, claims, assumptions."""
    if all_in is not None:
        if deal is not None:
            raise CdmError("give either a deal file or --all FOLDER, not both")
        _report_all(all_in, output or all_in / "reports", pdf, as_json)
        return
    if deal is None or output is None:
        raise CdmError("give a deal file and -o REPORT.xlsx (or --all FOLDER -o OUTPUT_FOLDER)")
    built = _report_one(deal, output, pdf, scenario, quiet=as_json)
    if as_json:
        _dump({"written": [str(output), *built["pdf"]], "claims": built["claims"], "inconsistent": built["inconsistent"],
               "warnings": built["warnings"]})  # fmt: skip
        return
    out.print(f"wrote {output}  ({built['claims']} claims checked, {built['inconsistent']} inconsistent)", highlight=False)
    for line in built["notes"]:
        out.print(line, highlight=False)


def _report_one(deal: Path, output: Path, pdf: bool, scenario: str | None = None, quiet: bool = False) -> dict[str, Any]:
    from addin.report.common import check_output, save_report
    from addin.report.deal import build_report
    from addin.report.portfolio import build_portfolio_report, is_portfolio_file

    check_output(deal, output)
    if is_portfolio_file(deal):
        if scenario is not None:
            raise CdmError("--scenario applies to deals, not portfolios")
        wb, rec = build_portfolio_report(deal, command_line=_command_line())
        save_report(wb, output)
        pdfs = _pdf_beside(output) if pdf else []
        claims = rec.get("claims", [])
        return {"claims": len(claims), "inconsistent": sum(c["verdict"] == "inconsistent" for c in claims),
                "notes": [f"wrote {p}" for p in pdfs], "pdf": pdfs, "warnings": 0,
                "portfolio": rec["portfolio_name"]}  # fmt: skip
    src = load_deal(deal, scenario)
    src.validate()
    wb, ctx = build_report(src, command_line=_command_line())
    save_report(wb, output)
    if not quiet:
        _warn(src, ctx.summary)
    pdfs = _pdf_beside(output) if pdf else []
    return {"claims": len(ctx.verdicts), "inconsistent": sum(v.inconsistent for v in ctx.verdicts),
            "notes": [f"wrote {p}" for p in pdfs], "pdf": pdfs, "warnings": len(ctx.summary.warnings)}  # fmt: skip


def _pdf_beside(output: Path) -> list[str]:
    """The PDF of a written workbook beside it ([] with a note when LibreOffice cannot make it)."""
    from addin.report.common import export_pdf
    from addin.report.libreoffice import LibreOfficeError

    try:
        return [str(export_pdf(output, output.with_suffix(".pdf")))]
    except LibreOfficeError as exc:
        _say("yellow", "no PDF", str(exc))
        return []


def _report_all(folder: Path, out_dir: Path, pdf: bool, as_json: bool = False) -> None:
    """Report every deal in ``folder``; a bad file is listed and skipped, never the end of the run."""
    if not folder.is_dir():
        raise CdmError(f"{folder} is not a folder")
    if out_dir.exists() and not out_dir.is_dir():
        raise CdmError(f"{out_dir} exists and is not a folder")

    def is_deal(p: Path) -> bool:
        hidden_or_lock = p.name.startswith(("~$", "."))
        return p.suffix.lower() in REPORT_SUFFIXES and not hidden_or_lock and not p.stem.endswith("-report")

    deals = sorted(p for p in folder.iterdir() if is_deal(p))
    if not deals:
        raise CdmError(f"{folder} holds no deal workbooks (.xlsx, .xlsm) or deal files (.toml)")
    out_dir.mkdir(parents=True, exist_ok=True)
    failed: list[tuple[Path, str]] = []
    written: list[str] = []
    stems = [d.stem.lower() for d in deals]
    for deal in deals:
        # deal.toml and deal.xlsx side by side must not write over each other's report
        tag = f"-{deal.suffix.lstrip('.').lower()}" if stems.count(deal.stem.lower()) > 1 else ""
        target = out_dir / f"{deal.stem}{tag}-report.xlsx"
        try:
            built = _report_one(deal, target, False, quiet=True)  # the PDFs come after, from one LibreOffice
        except InputError as exc:
            source = getattr(exc, "source", None)
            first = located_messages(exc, source)[0]
            more = f" (and {len(exc.issues) - 1} more)" if len(exc.issues) > 1 else ""
            failed.append((deal, first + more))
            _say("red", "FAIL", f"{deal.name}: {first}{more}")
            continue
        except CdmError as exc:
            failed.append((deal, str(exc)))
            _say("red", "FAIL", f"{deal.name}: {exc}")
            continue
        except Exception as exc:  # one broken file must not stop the other 199
            failed.append((deal, f"internal error {type(exc).__name__}: {exc}"))
            _say("red", "FAIL", f"{deal.name}: internal error {type(exc).__name__}: {exc}")
            continue
        written.append(str(target))
        claims = f"{built['inconsistent']}/{built['claims']} claims inconsistent"
        if not as_json:
            out.print(f"ok    {deal.name} -> {target.name} ({built['warnings']} warnings, {claims})", highlight=False)
    if pdf and written:
        from addin.report.common import export_pdfs

        pdfs, problem = export_pdfs([Path(w) for w in written])
        if problem:
            _say("yellow", "no PDF", problem)
        written += [str(p) for p in pdfs]
        if not as_json:
            out.print(f"{len(pdfs)} PDFs written by one LibreOffice process", highlight=False)
    if as_json:
        _dump({"written": written, "failed": [{"file": str(d), "why": why} for d, why in failed]})
        if failed:
            raise typer.Exit(EXIT_BAD_INPUT)
        return
    out.print(f"{len(deals) - len(failed)} of {len(deals)} reports written to {out_dir}", highlight=False)
    if failed:
        out.print(f"{len(failed)} failed:", highlight=False)
        for deal, why in failed:
            out.print(f"  {deal.name}: {why}", highlight=False, markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)


VALUATION_HELP = "Value every deal's NPV on this date (YYYY-MM-DD); default: the first day of the earliest start month."


@app.command()
@guarded
def compare(
    deals: Annotated[list[Path], typer.Argument(help="Deal files or workbooks to put side by side.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The comparison workbook to write (.xlsx).")],
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write a PDF beside it (needs LibreOffice).")] = False,
    valuation_date: Annotated[
        str | None,
        typer.Option("--valuation-date", help=VALUATION_HELP),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Put several deals side by side, every NPV on one date: $/GPU-hour, $/kW-month, firm share, NPV per GW, premium."""
    from addin.report.common import check_output, save_report
    from addin.report.compare import build_comparison, evaluate_sources

    for deal in deals:
        check_output(deal, output)
    if valuation_date is not None:
        try:
            valuation_date = dt.date.fromisoformat(valuation_date.strip()).isoformat()
        except ValueError:
            raise CdmError(f"--valuation-date must be a date like 2026-05-01, got {valuation_date!r}") from None
    compared = evaluate_sources([load_deal(deal) for deal in deals], valuation_date)
    save_report(build_comparison(compared, _command_line()), output)
    written = [str(output), *(_pdf_beside(output) if pdf else [])]
    if as_json:
        _dump({"written": written, "deals": [c.source.terms().deal_name for c in compared]})
        return
    out.print(f"wrote {output}  ({len(compared)} deals)", highlight=False)
    for extra in written[1:]:
        out.print(f"wrote {extra}", highlight=False)
