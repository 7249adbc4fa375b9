"""The JSON fast path: ``cdm summary DEAL --json`` without typer or rich.

A program that asks for one deal's figures pays for the interpreter, numpy and the engine, not for a command-line
framework: typer and its option validation cost about 35 ms a run, a third of what the command needs beyond
``import numpy`` (issue 17: start-up at most 1.8x ``python -c "import numpy"``). Only the plain form is taken here,
``summary DEAL --json`` with ``--scenario NAME`` and ``--side buyer|seller`` in any order; anything else, and any run
that meets a problem, goes to the typer command, which runs it again and reports as it always does (summary reads and
writes nothing, so running it twice changes nothing). ``tests/addin/test_cli_fast.py`` holds the two paths to the
same bytes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np


def json_safe(obj: Any) -> Any:
    """A figure with no value (a ratio over no hours) is null, never NaN, which JSON cannot hold."""
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, np.generic):
        return json_safe(obj.item())
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def json_text(obj: Any) -> str:
    """What ``--json`` prints: indented, null for a missing figure, one trailing newline."""
    return json.dumps(json_safe(obj), indent=2, allow_nan=False) + "\n"


def _plain_summary(args: list[str]) -> tuple[str, str | None, str] | None:
    """(deal, scenario, side) when ``args`` is the plain JSON summary, else None."""
    if not args or args[0] != "summary":
        return None
    deal: str | None = None
    scenario: str | None = None
    side = "buyer"
    as_json = False
    rest = args[1:]
    i = 0
    while i < len(rest):
        a = rest[i]
        if a == "--json":
            as_json = True
        elif a in ("--scenario", "--side") and i + 1 < len(rest):
            value = rest[i + 1]
            if a == "--scenario":
                scenario = value
            else:
                side = value
            i += 1
        elif a.startswith(("--scenario=", "--side=")):
            name, value = a.split("=", 1)
            if name == "--scenario":
                scenario = value
            else:
                side = value
        elif a.startswith("-") or deal is not None:
            return None  # --help, an option this path does not know, a second file: typer's to answer
        else:
            deal = a
        i += 1
    if not as_json or deal is None or side not in ("buyer", "seller"):
        return None
    return deal, scenario, side


def evaluate(deal: str | Path, scenario: str | None) -> tuple[Any, Any]:
    """The deal's source and its summary, for every command that reads one deal; an input error carries the source,
    so the typer commands locate it in the file."""
    from addin.workbook.load import load_deal
    from engine import build_schedule, summarize
    from engine.errors import InputError

    src = load_deal(deal, scenario)
    terms = src.terms()
    try:
        summary = summarize(build_schedule(terms))
    except InputError as exc:
        exc.source = src  # type: ignore[attr-defined]
        raise
    return src, summary


def summary_record(deal: str | Path, scenario: str | None, side: str) -> dict[str, Any]:
    """What ``cdm summary --json`` prints, on either path: the deal's figures (``side`` "buyer") or the seller's."""
    _, s = evaluate(deal, scenario)
    if side == "seller":
        from engine.seller import seller_summary

        return seller_summary(s.schedule).record(0)
    return s.record(0)


def run_fast(args: list[str]) -> bool:
    """Run ``args`` on the fast path if it is the plain JSON summary of a deal that evaluates; True when done."""
    plain = _plain_summary(args)
    if plain is None:
        return False
    try:
        text = json_text(summary_record(*plain))
    except Exception:
        return False
    sys.stdout.write(text)
    return True
