"""The ribbon add-in built from the pinned xlwings: package, ribbon XML, VBA callbacks, config sheet."""

from __future__ import annotations

import importlib
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from oletools.olevba import VBA_Parser

from addin.excel.build_addin import CONFIG_SHEET, MODULE, build

NS = {"ui": "http://schemas.microsoft.com/office/2006/01/customui"}
RIBBON_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"


@pytest.fixture(scope="module")
def xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("addin") / f"{MODULE}.xlam")


def test_is_a_valid_zip_with_the_ribbon_relationship(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as z:
        assert z.testzip() is None
        rels = ElementTree.fromstring(z.read("_rels/.rels"))
        targets = {r.get("Target") for r in rels if r.get("Type") == RIBBON_REL}
        assert targets == {"customUI/customUI.xml"}


def test_ribbon_xml_has_the_compute_deal_tab(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as z:
        ui = ElementTree.fromstring(z.read("customUI/customUI.xml"))
    tabs = ui.findall(".//ui:tab", NS)
    assert [t.get("label") for t in tabs] == ["Compute Deal"]
    buttons = ui.findall(".//ui:button", NS)
    assert [b.get("label") for b in buttons] == ["Refresh model"]
    ids = [e.get("id") for e in ui.iter() if e.get("id")]
    assert len(ids) == len(set(ids))


def test_every_on_action_has_a_ribbon_callback_in_the_vba(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as z:
        ui = ElementTree.fromstring(z.read("customUI/customUI.xml"))
    modules = {}
    parser = VBA_Parser(str(xlam))
    try:
        for _, stream, _, code in parser.extract_macros():
            modules[stream.split("/")[-1]] = code
    finally:
        parser.close()
    actions = [e.get("onAction") for e in ui.iter() if e.get("onAction")]
    assert actions
    for action in actions:
        module, sub = action.split(".")
        assert module in modules, f"no VBA module {module}"
        assert re.search(rf"^Sub {sub}\(control As IRibbonControl\)", modules[module], re.M), action
        assert "RunPython" in modules[module] and ".main()" in modules[module]


def test_vba_names_the_pinned_xlwings_dll(xlam: Path) -> None:
    import xlwings

    parser = VBA_Parser(str(xlam))
    try:
        code = "\n".join(c for _, _, _, c in parser.extract_macros())
    finally:
        parser.close()
    assert f'XLWINGS_VERSION As String = "{xlwings.__version__}"' in code
    assert xlwings.__version__ == "0.37.8"  # the pin in pyproject.toml; upgrade both together


def test_config_sheet_names_the_udf_module(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as z:
        workbook = z.read("xl/workbook.xml").decode()
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert f'name="{CONFIG_SHEET}"' in workbook
    assert f"<t>{MODULE}</t>" in sheet


def test_module_named_after_the_addin_exposes_main() -> None:
    module = importlib.import_module(MODULE)
    assert callable(module.main)
