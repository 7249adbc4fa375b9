"""Every bad input in the corpus: exit 2, a located message with rule and value, no traceback, file untouched."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from addin.cli import app
from addin.excel import udfs
from tests.corpus import Case, all_cases, base_raw

CASES = all_cases()
runner = CliRunner()


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def run(case: Case, tmp: Path) -> tuple[int, str, Path, str]:
    path, where = case.make(tmp)
    before = digest(path)
    args = [case.command, str(path)]
    if case.command == "report":
        args += ["-o", str(tmp / "out.xlsx")]
    if case.command == "new":
        args = ["new", "-o", str(tmp / "out.xlsx"), "--from", str(path)]
    res = runner.invoke(app, args)
    assert res.exception is None or isinstance(res.exception, SystemExit), f"{case.id}: {res.exception!r}"
    assert digest(path) == before, f"{case.id}: the input file changed"
    return res.exit_code, " ".join(res.stderr.split()), path, where


def test_corpus_size() -> None:
    kinds = {tag: sum(tag in c.tags for c in CASES) for tag in ("toml", "xlsx", "structure", "file")}
    assert len(CASES) >= 60 and kinds["file"] >= 10 and kinds["structure"] >= 10, kinds


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_reported_where_it_is(case: Case, tmp_path: Path) -> None:
    code, stderr, path, where = run(case, tmp_path)
    assert code == 2, f"{case.id}: exit {code}: {stderr}"
    assert "Traceback" not in stderr
    for expected in case.expect:
        assert expected in stderr, f"{case.id}: {expected!r} not in {stderr!r}"
    assert str(path) in stderr or path.name in stderr, f"{case.id}: the file is not named"
    if where:
        assert f"{where}:" in stderr or f"{where} " in stderr, f"{case.id}: the place {where} is not named: {stderr}"


FIELD_CASES = [c for c in CASES if c.raw_change is not None and "toml" in c.tags]


@pytest.mark.parametrize("case", FIELD_CASES, ids=[c.id for c in FIELD_CASES])
def test_udfs_return_readable_text(case: Case) -> None:
    raw = {**base_raw(), **(case.raw_change or {})}
    block = [[k, v] for k, v in raw.items() if k != "sources" and not isinstance(v, list)]
    block += [
        [f"{t}[{i}].{k}", v]
        for t, rows in raw.items()
        if isinstance(rows, list)
        for i, row in enumerate(rows, 1)
        for k, v in row.items()
    ]
    result = udfs.cdm_summary(block, "net_tcv_usd")
    assert isinstance(result, str) and result.startswith("CDM error: "), f"{case.id}: {result!r}"
    assert case.expect[0] in result, f"{case.id}: {result!r}"


@pytest.mark.parametrize(
    "case_id",
    ["file-entity-bomb", "xlsx-error-na", "toml-pue-below", "file-password", "risk-xlsx-outage_days-triangular-order",
     "risk-portfolio-toml-vendor-unknown-name"],
)  # fmt: skip
def test_real_process_shows_no_traceback(case_id: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.id == case_id)
    path, _ = case.make(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "addin", case.command, str(path)], capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr + proc.stdout
    assert case.expect[0] in " ".join(proc.stderr.split())
