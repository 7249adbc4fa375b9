"""A compiled evaluator of the formulas our workbooks hold: ``cdm recalc`` without the ``formulas`` package's cost.

The templates write a known set of Excel functions (IF, INDEX, MIN, MAX, EOMONTH, SUMIF, ...), cell and range
references across sheets, defined names, the ``CDM_`` functions and three array formulas. Each formula is parsed
once (a Pratt parser with Excel's precedence), compiled into Python closures, and evaluated in dependency order
(a topological sort of the cells, no recursion), with Excel's rules: an empty cell is 0 in arithmetic and "" in
a comparison of text, numbers sort before text before booleans, text compares without case, an error propagates,
ROUND rounds half away from zero, dates are serial numbers of the 1900 system.

Anything outside that set (another function, an intersection, a whole-row reference, a circular reference)
raises :class:`Unsupported` before a value is used, and ``cdm recalc`` falls back to the ``formulas`` package,
which reads more of Excel (and is kept as the independent reference the tests compare this evaluator with).
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from addin.excel import xlfunctions as fx
from addin.excel.xlfunctions import Range, Unsupported, XlError, err

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<str>"(?:[^"]|"")*")
    |(?P<err>\#(?:NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A))
    |(?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_.]*)!)?\$?[A-Za-z]{1,3}\$?[0-9]+(?::\$?[A-Za-z]{1,3}\$?[0-9]+)?)(?![A-Za-z0-9_.(!])
    |(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
    |(?P<func>[A-Za-z_][A-Za-z0-9_.]*(?=\())
    |(?P<name>[A-Za-z_][A-Za-z0-9_.]*)
    |(?P<op><>|<=|>=|[-+*/^&=<>%(),])""",
    re.X,
)
_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)$")
_PREFIXES = ("_XLFN._XLWS.", "_XLFN.", "_XLWS.")

Node = tuple[Any, ...]  # ("num", v) ("str", s) ("err", e) ("ref", sheet, r1, c1, r2, c2) ("func", NAME, args) ...
BINARY_POWER = {"=": 10, "<>": 10, "<": 10, ">": 10, "<=": 10, ">=": 10, "&": 20, "+": 30, "-": 30, "*": 40, "/": 40, "^": 50}
PREFIX_POWER = 60
PERCENT_POWER = 70


def column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _cell(text: str) -> tuple[int, int]:
    m = _CELL.match(text)
    if m is None:
        raise Unsupported(f"reference {text!r}")
    return int(m.group(2)), column_number(m.group(1))


class Parser:
    """Excel formula text -> a tree of tuples; sheet names resolved through ``sheets`` (upper case -> as spelt)."""

    def __init__(self, sheets: dict[str, str], names: dict[str, Node], here: str) -> None:
        self.sheets, self.names, self.here = sheets, names, here

    def parse(self, text: str) -> Node:
        self.tokens = list(self._tokens(text[1:] if text.startswith("=") else text))
        self.i = 0
        node = self._expr(0)
        if self.i != len(self.tokens):
            raise Unsupported(f"unexpected {self.tokens[self.i][1]!r} in {text!r}")
        return node

    def _tokens(self, text: str) -> Iterator[tuple[str, str]]:
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise Unsupported(f"cannot read {text[pos : pos + 20]!r}")
            pos = m.end()
            kind = m.lastgroup or ""
            if kind != "ws":
                yield kind, m.group(0)

    def _next(self) -> tuple[str, str]:
        if self.i >= len(self.tokens):
            raise Unsupported("formula ends early")
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _expr(self, rbp: int) -> Node:
        left = self._prefix(self._next())
        while True:
            tok = self._peek()
            if tok is None or tok[0] != "op":
                return left
            op = tok[1]
            if op == "%":
                if PERCENT_POWER <= rbp:
                    return left
                self.i += 1
                left = ("pct", left)
                continue
            power = BINARY_POWER.get(op)
            if power is None or power <= rbp:
                return left
            self.i += 1
            left = ("bin", op, left, self._expr(power))

    def _prefix(self, tok: tuple[str, str]) -> Node:
        kind, text = tok
        if kind == "num":
            return ("num", float(text))
        if kind == "str":
            return ("str", text[1:-1].replace('""', '"'))
        if kind == "err":
            return ("err", text)
        if kind == "ref":
            return self._ref(text)
        if kind == "name":
            upper = text.upper()
            if upper in ("TRUE", "FALSE"):
                return ("bool", upper == "TRUE")
            found = self.names.get(upper)
            if found is None:
                raise Unsupported(f"name {text!r}")
            return found
        if kind == "func":
            return self._call(text)
        if text == "(":
            node = self._expr(0)
            if self._next() != ("op", ")"):
                raise Unsupported("unbalanced parentheses")
            return node
        if text in ("-", "+"):
            inner = self._expr(PREFIX_POWER)
            return ("neg", inner) if text == "-" else ("plus", inner)
        raise Unsupported(f"unexpected {text!r}")

    def _call(self, text: str) -> Node:
        name = text.upper()
        for prefix in _PREFIXES:
            name = name.removeprefix(prefix)
        self._next()  # (
        args: list[Node] = []
        if self._peek() == ("op", ")"):
            self.i += 1
            return ("func", name, tuple(args))
        while True:
            tok = self._peek()
            args.append(("missing",) if tok in (("op", ","), ("op", ")")) else self._expr(0))
            sep = self._next()
            if sep == ("op", ")"):
                return ("func", name, tuple(args))
            if sep != ("op", ","):
                raise Unsupported(f"unexpected {sep[1]!r} in the arguments of {name}")

    def _ref(self, text: str) -> Node:
        sheet = self.here
        if "!" in text:
            raw, text = text.rsplit("!", 1)
            raw = raw[1:-1].replace("''", "'") if raw.startswith("'") else raw
            found = self.sheets.get(raw.upper())
            if found is None:
                raise Unsupported(f"sheet {raw!r}")
            sheet = found
        first, _, last = text.partition(":")
        r1, c1 = _cell(first)
        r2, c2 = _cell(last) if last else (r1, c1)
        return ("ref", sheet, min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))


Thunk = Callable[["Context"], Any]


@dataclass
class Context:
    """Where a formula is evaluated: the cell (for COLUMN() and ROW()) and the book."""

    book: Book
    sheet: str
    row: int
    col: int


class Book:
    """The cells of a workbook: constants, and formulas compiled and evaluated in dependency order."""

    def __init__(self, udfs: dict[str, Callable[..., Any]]) -> None:
        self.udfs = udfs
        self.values: dict[tuple[str, int, int], Any] = {}
        self.formulas: dict[tuple[str, int, int], tuple[Thunk, list[Node], tuple[int, int] | None]] = {}

    def add_formula(self, key: tuple[str, int, int], tree: Node, spill: tuple[int, int] | None) -> None:
        """A formula at ``key``; ``spill`` (rows, columns) for an array formula filling that block from ``key``."""
        deps: list[Node] = []
        self.formulas[key] = (self._compile(tree, deps), deps, spill)

    def evaluate(self) -> None:
        """Every formula, each after the cells it reads."""
        for key in self._order():
            thunk, _, spill = self.formulas[key]
            sheet, row, col = key
            value = thunk(Context(self, sheet, row, col))
            if spill is None:
                self.values[key] = _cell_value(value)
                continue
            grid = _grid(value)
            for dr in range(spill[0]):
                for dc in range(spill[1]):
                    inside = dr < len(grid) and dc < len(grid[dr])
                    self.values[(sheet, row + dr, col + dc)] = _cell_value(grid[dr][dc]) if inside else err("#N/A")

    def _order(self) -> list[tuple[str, int, int]]:
        """The formula cells in an order where each comes after every formula cell it reads (Kahn's algorithm)."""
        owner: dict[str, dict[int, list[tuple[int, tuple[str, int, int]]]]] = {}
        for key, (_, _, spill) in self.formulas.items():
            sheet, row, col = key
            rows, cols = spill or (1, 1)
            for r in range(row, row + rows):
                line = owner.setdefault(sheet, {}).setdefault(r, [])
                line.extend((c, key) for c in range(col, col + cols))
        for by_row in owner.values():
            for line in by_row.values():
                line.sort()
        waiting: dict[tuple[str, int, int], int] = {}
        readers: dict[tuple[str, int, int], list[tuple[str, int, int]]] = {}
        for key, (_, deps, _) in self.formulas.items():
            needs: set[tuple[str, int, int]] = set()
            for _, sheet, r1, c1, r2, c2 in deps:
                by_row = owner.get(sheet, {})
                # a tall range (A1:A1048576) walks the rows that hold formulas, not every row it spans
                rows = range(r1, r2 + 1) if r2 - r1 < len(by_row) else [r for r in by_row if r1 <= r <= r2]
                for r in rows:
                    line = by_row.get(r)
                    if line:
                        lo = bisect.bisect_left(line, (c1,))
                        hi = bisect.bisect_right(line, (c2, ("\uffff", 1 << 30, 1 << 30)))
                        needs.update(k for _, k in line[lo:hi])
            if key in needs:
                raise Unsupported(f"{key[0]}!{key[1]},{key[2]} reads itself")
            waiting[key] = len(needs)
            for n in needs:
                readers.setdefault(n, []).append(key)
        ready = [k for k, n in waiting.items() if n == 0]
        order = []
        while ready:
            key = ready.pop()
            order.append(key)
            for reader in readers.get(key, ()):
                waiting[reader] -= 1
                if waiting[reader] == 0:
                    ready.append(reader)
        if len(order) != len(self.formulas):
            raise Unsupported("a circular reference")
        return order

    # -------------------------------------------------------------- compiling a tree into closures

    def _compile(self, node: Node, deps: list[Node]) -> Thunk:
        kind = node[0]
        if kind in ("num", "str", "bool"):
            value = node[1]
            return lambda ctx: value
        if kind == "err":
            value = err(node[1])
            return lambda ctx: value
        if kind == "missing":
            return lambda ctx: None
        if kind == "ref":
            deps.append(node)
            _, sheet, r1, c1, r2, c2 = node
            if r1 == r2 and c1 == c2:  # a cell: its value (a function that wants the reference reads it as one)
                key = (sheet, r1, c1)
                values = self.values
                return lambda ctx: values.get(key)
            block = Range(self, sheet, r1, c1, r2, c2)
            return lambda ctx: block
        if kind == "neg":
            inner = self._compile(node[1], deps)
            return lambda ctx: fx.each(fx.negate, inner(ctx))
        if kind == "plus":
            return self._compile(node[1], deps)
        if kind == "pct":
            inner = self._compile(node[1], deps)
            return lambda ctx: fx.each(lambda v: fx.arith("/", v, 100.0), inner(ctx))
        if kind == "bin":
            op = node[1]
            left, right = self._compile(node[2], deps), self._compile(node[3], deps)
            apply = fx.compare if op in ("=", "<>", "<", ">", "<=", ">=") else fx.concat if op == "&" else fx.arith
            return lambda ctx: fx.elementwise(apply, op, left(ctx), right(ctx))
        if kind == "func":
            return self._function(node[1], node[2], deps)
        raise Unsupported(f"node {kind}")

    def _scalar(self, node: Node, deps: list[Node]) -> Thunk:
        thunk = self._compile(node, deps)
        return lambda ctx: fx.scalar(thunk(ctx), ctx)

    def _refs(self, node: Node, deps: list[Node]) -> Thunk:
        """An argument read as a range when it is a reference (INDEX, SUMIF, COLUMN...), else its value."""
        if node[0] == "ref":
            deps.append(node)
            _, sheet, r1, c1, r2, c2 = node
            block = Range(self, sheet, r1, c1, r2, c2)
            return lambda ctx: block
        return self._compile(node, deps)

    def _function(self, name: str, args: tuple[Node, ...], deps: list[Node]) -> Thunk:
        if name in ("IF", "IFERROR", "IFNA"):
            parts = [self._scalar(a, deps) for a in args]
            lazy = fx.LAZY[name]
            return lambda ctx: lazy(ctx, parts)
        if name in ("COLUMN", "ROW"):
            if args and args[0][0] != "ref":
                raise Unsupported(f"{name} of something other than a reference")
            pick = fx.column_of if name == "COLUMN" else fx.row_of
            target = args[0] if args else None  # its position only: not a cell read, so no dependency
            return lambda ctx: pick(ctx, target)
        if name in self.udfs:
            fn = self.udfs[name]
            thunks = [self._refs(a, deps) for a in args]
            return lambda ctx: fx.call_udf(fn, [t(ctx) for t in thunks], ctx)
        impl = fx.FUNCTIONS.get(name)
        if impl is None:
            raise Unsupported(f"function {name}")
        thunks = [self._refs(a, deps) for a in args]
        return lambda ctx: impl(ctx, [t(ctx) for t in thunks])


def _grid(value: Any) -> list[list[Any]]:
    if isinstance(value, Range):
        return value.rows()
    if isinstance(value, np.ndarray):
        arr = value if value.ndim == 2 else value.reshape(1, -1) if value.ndim == 1 else value.reshape(1, 1)
        return arr.tolist()
    if isinstance(value, (list, tuple)):
        return [list(r) if isinstance(r, (list, tuple)) else [r] for r in value]
    return [[value]]


def _cell_value(value: Any) -> Any:
    """What a formula cell shows: a reference to an empty cell is 0; a block gives its first cell (no spill)."""
    if isinstance(value, Range):
        value = value.first()
    elif isinstance(value, np.ndarray):
        value = value.reshape(-1)[0] if value.size else err("#VALUE!")
    elif isinstance(value, (list, tuple)):
        value = _grid(value)[0][0]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return 0.0
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return err("#NUM!")
    return value


__all__ = ["Book", "Parser", "Range", "Unsupported", "XlError"]
