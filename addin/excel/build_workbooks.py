"""Build every committed workbook (``make workbooks``: ``python -m addin.excel.build_workbooks``): the deal and portfolio
templates and the seed workbooks, byte-reproducible, so a test can prove the committed files are current."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from openpyxl import Workbook

from addin.workbook.template import EXAMPLE_PORTFOLIO, build_deal_workbook, build_template
from engine.errors import CdmError


def iter_committed() -> Iterable[tuple[Path, Path | None]]:
    """(workbook path, deal file) for every committed generated workbook."""
    root = Path(__file__).resolve().parents[2]
    yield root / "templates" / "deal.xlsx", None
    for toml in sorted((root / "workbooks" / "deals").glob("*.toml")):
        yield root / "workbooks" / f"{toml.stem}.xlsx", toml
    yield root / "templates" / "portfolio.xlsx", None
    for toml in sorted((root / "workbooks" / "portfolios").glob("*.toml")):
        yield root / "workbooks" / f"{toml.stem}.xlsx", toml


def save_workbook(wb: Workbook, path: Path, *, pinned: bool = False, refreshed: dt.datetime | None = None) -> None:
    """Save atomically (a temp file in the same folder, fsync, then rename over the target), with every formula's
    computed value stored in the file, so it opens with its numbers in any spreadsheet (:mod:`addin.excel.cached`).

    ``refreshed`` runs Refresh first (as the ribbon button does, stamped with that time): the checks list, the
    scenario comparison and the Risk summary are filled. ``pinned`` (the committed template and seed workbooks)
    makes the file byte-reproducible: openpyxl stamps the save time into docProps/core.xml and every zip entry,
    so those are set to the workbook's creation time and regenerating an unchanged workbook leaves git with
    nothing to commit.
    """
    from addin.excel.cached import cache_values
    from addin.excel.refresh import refresh
    from addin.workbook.atomic import atomic_write
    from addin.workbook.book import OpenpyxlBook

    if refreshed is not None:
        refresh(OpenpyxlBook(wb), refreshed)
    with atomic_write(path) as tmp:
        wb.save(tmp)
        with contextlib.suppress(CdmError):  # a formula the headless engine cannot read: Excel computes it on load
            cache_values(tmp, path.suffix)
        if pinned:
            _pin_timestamps(tmp, wb.properties.created)


def _pin_timestamps(path: Path, when: dt.datetime) -> None:
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        items = [(info, z.read(info.filename)) for info in z.infolist()]
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in items:
            pinned = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            entry = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
            out.writestr(entry, pinned if info.filename == "docProps/core.xml" else data)


def build_committed(out_dir: Path | None = None) -> list[Path]:
    """Build the template and every seed workbook; into ``out_dir`` when given (tests), else in place."""
    from addin.workbook.dealfile import load_toml_deal

    written = []
    from addin.workbook.portfolio_book import build_portfolio_workbook, flatten_portfolio_file

    for target, toml in iter_committed():
        if target.name == "portfolio.xlsx":
            raw, rows = flatten_portfolio_file(EXAMPLE_PORTFOLIO)
            wb = build_portfolio_workbook(raw, rows)
        elif toml is not None and toml.parent.name == "portfolios":
            raw, rows = flatten_portfolio_file(toml)
            wb = build_portfolio_workbook(raw, rows)
        elif toml is None:
            wb, _ = build_template()
        else:
            src = load_toml_deal(toml)
            wb, _ = build_deal_workbook(src.raw, src.scenarios, risk=src.risk)
        path = target if out_dir is None else out_dir / target.name
        path.parent.mkdir(parents=True, exist_ok=True)
        save_workbook(wb, path, pinned=True, refreshed=wb.properties.created.replace(tzinfo=dt.UTC))
        written.append(path)
    return written


if __name__ == "__main__":
    for p in build_committed():
        print(p)
