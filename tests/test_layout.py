"""The layout shows the architecture (issue 13): imports run one way, no cycles, small folders and modules.

Every import counts, at module level or inside a function, for types only or not: a cycle hidden in a function
is still a cycle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "addin")
MAX_MODULES_PER_FOLDER = 15
MAX_MODULE_LINES = 700


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _imports(path: Path) -> set[str]:
    """The project modules ``path`` imports (``from pkg import submodule`` is the submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return {m for m in found if m.split(".")[0] in PACKAGES and m in MODULES}


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_graph_was_read() -> None:
    assert "engine.terms" in GRAPH["engine.schedule"] and "addin.workbook.dealfile" in GRAPH["addin.workbook.load"]


def test_no_import_cycle_anywhere() -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = defaultdict(int)  # 0 new, 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH.get(node, ())):
            if state[nxt] == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif state[nxt] == 0:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(GRAPH):
        if state[name] == 0:
            visit(name)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize(
    ("importer", "forbidden"),
    [
        ("engine", ("addin",)),
        ("addin.workbook", ("addin.excel", "addin.report", "addin.cli")),
        ("addin.excel", ("addin.report", "addin.cli")),
        ("addin.report", ("addin.excel", "addin.cli")),
        ("addin.version", ("addin.workbook", "addin.excel", "addin.report", "addin.cli")),
    ],
)
def test_imports_run_one_way(importer: str, forbidden: tuple[str, ...]) -> None:
    wrong = sorted(
        f"{m} imports {d}" for m, deps in GRAPH.items() if _in(m, importer) for d in deps if any(_in(d, f) for f in forbidden)
    )
    assert not wrong, wrong


def test_nothing_imports_the_command_line() -> None:
    outside = sorted(
        m
        for m, deps in GRAPH.items()
        if not _in(m, "addin.cli") and m != "addin.__main__" and any(_in(d, "addin.cli") for d in deps)
    )
    assert not outside, outside


def test_folders_and_modules_are_small() -> None:
    folders: dict[Path, int] = defaultdict(int)
    for path in MODULES.values():
        folders[path.parent] += 1
    big = {str(f.relative_to(ROOT)): n for f, n in folders.items() if n > MAX_MODULES_PER_FOLDER}
    assert not big, f"folders over {MAX_MODULES_PER_FOLDER} modules: {big}"
    long = {str(p.relative_to(ROOT)): n for p in MODULES.values() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_every_subpackage_says_what_lives_there_and_what_it_may_import() -> None:
    for name, path in MODULES.items():
        if path.name != "__init__.py":
            continue
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        assert len([line for line in doc.splitlines() if line.strip()]) >= 2, f"{name}: its docstring must say what lives there"
        assert "import" in doc, f"{name}: its docstring must say what it may import"
