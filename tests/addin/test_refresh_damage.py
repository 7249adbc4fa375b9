"""Refresh never harms a workbook (issue 18): what a user typed, the parts it does not own, the file itself.

Each test builds the real thing (a VBA project from xlwings' own macro workbook, an external link, a pasted
PNG, a symlink, another owner, a lock file appearing mid-refresh) and checks the file after ``cdm refresh``.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from addin.cli import app

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "workbooks" / "google_spacex.xlsx"
MACRO_SOURCE = Path(__import__("xlwings").__file__).parent / "quickstart.xlsm"
runner = CliRunner()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refresh(path: Path) -> tuple[int, str]:
    res = runner.invoke(app, ["refresh", str(path)])
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res.exit_code, " ".join(res.stderr.split())


def stamp(path: Path) -> str:
    wb = load_workbook(path)
    sheet, ref = wb.defined_names["cdm_run_stamp"].attr_text.split("!")
    return str(wb[sheet.strip("'")][ref.replace("$", "")].value)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    target = tmp_path / "deal.xlsx"
    shutil.copy(SEED, target)
    return target


# ---------------------------------------------------------------- inputs are never outputs


def _point(path: Path, name: str, ref: str) -> None:
    wb = load_workbook(path)
    wb.defined_names[name].attr_text = ref
    wb.save(path)


@pytest.mark.parametrize("name", ["cdm_run_stamp", "cdm_messages", "cdm_scenario_results"])
def test_an_output_name_moved_onto_an_input_is_refused(book: Path, name: str) -> None:
    wb = load_workbook(book)
    sheet, ref = wb.defined_names["pue"].attr_text.split("!")
    _point(book, name, f"{sheet}!{ref}")
    before = digest(book)
    code, err = refresh(book)
    assert code == 2 and f"the output name {name} points at {sheet.strip(chr(39))}!{ref.replace('$', '')}, the input pue" in err
    assert digest(book) == before


def test_an_output_name_on_a_cell_styled_as_input_is_refused(book: Path) -> None:
    wb = load_workbook(book)
    ws = wb["Checks"]
    from addin.workbook.styles import INPUT_FILL, INPUT_FONT

    ws["K40"].font, ws["K40"].fill = INPUT_FONT, INPUT_FILL
    ws["K40"] = "a note I typed"
    wb.defined_names["cdm_run_stamp"].attr_text = "Checks!$K$40"
    wb.save(book)
    before = digest(book)
    code, err = refresh(book)
    assert code == 2 and "points at Checks!K40, a cell styled as an input" in err
    assert digest(book) == before


def test_an_output_name_over_a_whole_sheet_is_refused_not_a_memory_error(book: Path) -> None:
    _point(book, "cdm_messages", "Checks!$A$1:$XFD$1048576")
    before = digest(book)
    code, err = refresh(book)
    assert code == 2 and "covers 17,179,869,184 cells" in err and "MemoryError" not in err
    assert digest(book) == before


# ---------------------------------------------------------------- parts refresh does not own are kept


def test_a_macro_workbook_keeps_its_vba_project_and_file_type(tmp_path: Path) -> None:
    target = tmp_path / "deal.xlsm"
    wb = load_workbook(SEED)
    wb.vba_archive = zipfile.ZipFile(MACRO_SOURCE)  # a real VBA project, from xlwings' own macro workbook
    wb.save(target)
    with zipfile.ZipFile(target) as z:
        vba = z.read("xl/vbaProject.bin")
    code, err = refresh(target)
    assert code == 0, err
    with zipfile.ZipFile(target) as z:
        assert z.read("xl/vbaProject.bin") == vba
        assert b"application/vnd.ms-excel.sheet.macroEnabled.main+xml" in z.read("[Content_Types].xml")
    assert stamp(target).startswith("Refreshed")


def test_an_external_link_is_kept(book: Path) -> None:
    from openpyxl.packaging.relationship import Relationship
    from openpyxl.workbook.external_link.external import ExternalBook, ExternalLink

    wb = load_workbook(book)
    link = ExternalLink(externalBook=ExternalBook(id="rId1"))
    link.file_link = Relationship(type="externalLinkPath", Target="budget-2027.xlsx", TargetMode="External", Id="rId1")
    wb._external_links.append(link)
    wb.save(book)
    code, err = refresh(book)
    assert code == 0, err
    with zipfile.ZipFile(book) as z:
        assert b"budget-2027.xlsx" in z.read("xl/externalLinks/_rels/externalLink1.xml.rels")


def test_a_pasted_image_is_kept(book: Path) -> None:
    from openpyxl.drawing.image import Image
    from PIL import Image as Picture

    png = io.BytesIO()
    Picture.new("RGB", (40, 20), (200, 30, 30)).save(png, format="PNG")
    wb = load_workbook(book)
    wb["Cover"].add_image(Image(io.BytesIO(png.getvalue())), "H2")
    wb.save(book)
    code, err = refresh(book)
    assert code == 0, err
    with zipfile.ZipFile(book) as z:
        media = [n for n in z.namelist() if n.startswith("xl/media/")]
        assert len(media) == 1
        assert Picture.open(io.BytesIO(z.read(media[0]))).size == (40, 20)


def test_a_part_refresh_cannot_carry_is_refused_and_nothing_changes(book: Path) -> None:
    """A custom XML part (as document-management tools add) is not carried by openpyxl: refuse, never drop it."""
    with zipfile.ZipFile(book, "a") as z:
        z.writestr("customXml/item1.xml", "<b:Sources xmlns:b='urn:x'/>")
    before = digest(book)
    code, err = refresh(book)
    assert code == 2 and "refresh would drop custom XML (1 of 1 parts)" in err and "nothing was written" in err
    assert digest(book) == before


# ---------------------------------------------------------------- the file: links, owner, lock, errors


def test_a_symlink_is_refreshed_in_its_target_and_stays_a_link(book: Path, tmp_path: Path) -> None:
    link = tmp_path / "shortcut.xlsx"
    link.symlink_to(book)
    code, err = refresh(link)
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == book.resolve()
    assert stamp(book).startswith("Refreshed")  # the target itself was refreshed, not a copy beside the link


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="changing a file's owner needs root")
def test_the_owner_and_group_are_kept_when_root_refreshes(book: Path) -> None:
    os.chown(book, 4321, 4322)
    os.chmod(book, 0o640)
    code, err = refresh(book)
    assert code == 0, err
    st = book.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (4321, 4322, 0o640)


def test_a_lock_file_appearing_during_refresh_stops_the_replace(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import addin.excel.refresh as refresh_module

    real = refresh_module.refresh

    def excel_opens_it_meanwhile(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)  # type: ignore[arg-type]
        book.with_name("~$" + book.name).write_text("owner")
        return result

    monkeypatch.setattr(refresh_module, "refresh", excel_opens_it_meanwhile)
    before = digest(book)
    code, err = refresh(book)
    assert code == 2 and "is open in Excel" in err
    assert digest(book) == before
    assert not [p for p in book.parent.iterdir() if p.name.endswith(".tmp")]


def test_input_errors_are_written_and_exit_2(book: Path) -> None:
    wb = load_workbook(book)
    sheet, ref = wb.defined_names["pue"].attr_text.split("!")
    wb[sheet.strip("'")][ref.replace("$", "")] = 0.5
    wb.save(book)
    code, err = refresh(book)
    assert code == 2 and "pue must be >= 1.0, got 0.5" in err
    wb = load_workbook(book)
    sheet, ref = wb.defined_names["cdm_messages"].attr_text.split("!")
    first = ref.replace("$", "").split(":")[0]
    row = wb[sheet.strip("'")][first].row
    texts = [str(c.value) for c in wb[sheet.strip("'")][row] if c.value]
    assert "error" in texts and any("pue must be >= 1.0" in t for t in texts), texts


def test_a_bad_risk_block_is_an_error_for_refresh_as_for_check(book: Path) -> None:
    wb = load_workbook(book)
    sheet, ref = wb.defined_names["cdm_risk"].attr_text.split("!")
    ws = wb[sheet.strip("'")]
    first = ref.replace("$", "").split(":")[0]
    top = ws[first].row
    col = ws[first].column
    row = next(r for r in range(top, top + 40) if ws.cell(r, col).value == "outages_per_year")
    ws.cell(row, col + 1, "fixed")  # the Risk sheet's own row for the driver: a fixed -1 outages a year
    ws.cell(row, col + 2, -1)
    wb.save(book)
    code, err = refresh(book)
    assert code == 2 and "risk.outages_per_year must be" in err, err
    check = runner.invoke(app, ["check", str(book)])
    assert check.exit_code == 2 and "risk.outages_per_year must be" in " ".join(check.stderr.split())
