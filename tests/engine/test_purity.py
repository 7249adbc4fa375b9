"""engine/ stays pure: importing it never imports xlwings or openpyxl."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"
ALLOWED = {"numpy", "numpy_financial", "pandas", "engine"}


def test_import_engine_loads_neither_xlwings_nor_openpyxl() -> None:
    code = (
        "import sys, engine; engine.evaluate; print(sorted(m for m in sys.modules if m.split('.')[0] in ('xlwings', 'openpyxl')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_engine_imports_only_numpy_pandas_numpy_financial_and_stdlib() -> None:
    for path in ENGINE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
            )
            for name in names:
                top = name.split(".")[0]
                assert top in ALLOWED or top in sys.stdlib_module_names, f"{path.name} imports {name}"
