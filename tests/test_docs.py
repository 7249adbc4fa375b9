"""The docs cannot drift from the code: the generated reference pages are what docs/generate.py writes today."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
assert spec is not None and spec.loader is not None
generate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generate)


@pytest.mark.parametrize("name", sorted(generate.PAGES))
def test_generated_reference_is_current(name: str) -> None:
    committed = (ROOT / "docs" / "reference" / name).read_text(encoding="utf-8")
    assert committed == generate.PAGES[name](), f"docs/reference/{name} is stale: run make docs"


def test_every_input_and_function_is_documented() -> None:
    from engine.fields import FIELDS

    inputs = (ROOT / "docs" / "reference" / "inputs.md").read_text()
    assert all(f"`{f.name}`" in inputs for f in FIELDS)
    functions = (ROOT / "docs" / "reference" / "functions.md").read_text()
    source = (ROOT / "computedeal.py").read_text()
    names = [line.split("(")[0][4:] for line in source.splitlines() if line.startswith("def CDM_")]
    assert names and all(f"## `{n}(" in functions for n in names)


def test_the_readme_is_short() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


def test_the_readme_performance_table_is_the_last_bench_run() -> None:
    import json

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme == generate.readme_with_performance(readme), "README's performance table is stale: run make docs"
    saved = json.loads((ROOT / "bench" / "results.json").read_text(encoding="utf-8"))
    # every target of issue 17 (the fourth in three rows: one core, two workers, no cliff), with the run that
    # measured it named above the table
    assert [row["target"][:2] for row in saved["targets"]] == ["1.", "2.", "3.", "4.", "4.", "4.", "5.", "6.", "6."]
    assert f"commit {saved['run']['commit']}" in readme
