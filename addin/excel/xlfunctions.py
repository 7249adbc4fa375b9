"""Excel's values, operators and the worksheet functions our templates use, with Excel's rules (see evaluator)."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np


class Unsupported(Exception):
    """A formula, reference or workbook feature the evaluator does not read: use the ``formulas`` package."""


@dataclass(frozen=True)
class XlError:
    """An Excel error value (``#N/A``, ``#DIV/0!``...): its text is what a cell shows."""

    code: str

    def __str__(self) -> str:
        return self.code


_ERRORS = {code: XlError(code) for code in ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")}


def err(code: str) -> XlError:
    return _ERRORS.get(code) or XlError(code)


@dataclass(frozen=True)
class Range:
    """A block of cells of one sheet, read when a function asks for its values."""

    book: Any
    sheet: str
    r1: int
    c1: int
    r2: int
    c2: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.r2 - self.r1 + 1, self.c2 - self.c1 + 1

    def first(self) -> Any:
        """The value of the block's top-left cell (a one-cell block's value)."""
        return self.book.values.get((self.sheet, self.r1, self.c1))

    def rows(self) -> list[list[Any]]:
        values, sheet = self.book.values, self.sheet
        return [[values.get((sheet, r, c)) for c in range(self.c1, self.c2 + 1)] for r in range(self.r1, self.r2 + 1)]

    def cells(self) -> Iterator[Any]:
        values, sheet = self.book.values, self.sheet
        for r in range(self.r1, self.r2 + 1):
            for c in range(self.c1, self.c2 + 1):
                yield values.get((sheet, r, c))


# ---------------------------------------------------------------- values


def scalar(value: Any, ctx: Any) -> Any:
    """One value from what an expression gave: a block's cell in the formula's row or column (Excel's implicit
    intersection), an array's first element."""
    if isinstance(value, Range):
        if value.r1 == value.r2 and value.c1 == value.c2:
            return value.first()
        if value.c1 == value.c2 and value.r1 <= ctx.row <= value.r2:
            return value.book.values.get((value.sheet, ctx.row, value.c1))
        if value.r1 == value.r2 and value.c1 <= ctx.col <= value.c2:
            return value.book.values.get((value.sheet, value.r1, ctx.col))
        return err("#VALUE!")
    if isinstance(value, np.ndarray):
        return value.reshape(-1)[0] if value.size else err("#VALUE!")
    return value


def number(value: Any) -> float | XlError:
    """A value as a number: blank 0, TRUE 1, text that reads as a number that number, other text #VALUE!."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if value is None:
        return 0.0
    if isinstance(value, XlError):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
        except ValueError:
            return err("#VALUE!")
    if isinstance(value, np.generic):  # a NumPy number or boolean a function returned
        return number(value.item())
    return err("#VALUE!")


def text(value: Any) -> str | XlError:
    """A value as text, as ``&`` writes it: numbers in General format (up to 15 significant digits)."""
    if isinstance(value, XlError):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        f = float(value)
        if f.is_integer() and abs(f) < 1e15:
            return str(int(f))
        return f"{f:.15g}".replace("e+", "E+").replace("e-", "E-")
    return str(value)


def truth(value: Any) -> bool | XlError:
    if isinstance(value, XlError):
        return value
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str) and value.strip().upper() in ("TRUE", "FALSE"):
        return value.strip().upper() == "TRUE"
    return err("#VALUE!")


def first_error(*values: Any) -> XlError | None:
    """The first error among ``values`` (an operation on an error gives that error), or None."""
    return next((v for v in values if isinstance(v, XlError)), None)


def _finite(x: float) -> float | XlError:
    return x if math.isfinite(x) else err("#NUM!")


def arith(op: str, a: Any, b: Any) -> Any:
    x, y = number(a), number(b)
    bad = first_error(x, y)
    if bad is not None:
        return bad
    assert isinstance(x, float) and isinstance(y, float)
    if op == "+":
        return _finite(x + y)
    if op == "-":
        return _finite(x - y)
    if op == "*":
        return _finite(x * y)
    if op == "/":
        return err("#DIV/0!") if y == 0 else _finite(x / y)
    # ^
    if x == 0 and y == 0:
        return err("#NUM!")
    if x == 0 and y < 0:
        return err("#DIV/0!")
    if x < 0 and not float(y).is_integer():
        return err("#NUM!")
    try:
        return _finite(x**y)
    except OverflowError:
        return err("#NUM!")


def negate(a: Any) -> Any:
    x = number(a)
    return x if isinstance(x, XlError) else -x


_RANK = {float: 0, int: 0, str: 1, bool: 2}


def compare(op: str, a: Any, b: Any) -> Any:
    bad = first_error(a, b)
    if bad is not None:
        return bad
    if a is None:
        a = "" if isinstance(b, str) else False if isinstance(b, bool) else 0.0
    if b is None:
        b = "" if isinstance(a, str) else False if isinstance(a, bool) else 0.0
    ra, rb = _RANK.get(type(a), 0), _RANK.get(type(b), 0)
    if ra != rb:
        x: Any = ra
        y: Any = rb
    elif ra == 1:
        x, y = a.casefold(), b.casefold()
    else:
        x, y = float(a), float(b)
    if op == "=":
        return x == y
    if op == "<>":
        return x != y
    if op == "<":
        return x < y
    if op == ">":
        return x > y
    if op == "<=":
        return x <= y
    return x >= y


def concat(op: str, a: Any, b: Any) -> Any:
    x, y = text(a), text(b)
    bad = first_error(x, y)
    return bad if bad is not None else f"{x}{y}"


def _block(value: Any) -> np.ndarray | None:
    if isinstance(value, Range):
        if value.r1 == value.r2 and value.c1 == value.c2:
            return None
        out = np.empty(value.shape, dtype=object)
        out[:] = value.rows()
        return out
    if isinstance(value, np.ndarray):
        return value.reshape(1, -1) if value.ndim == 1 else value
    return None


def elementwise(apply: Callable[[str, Any, Any], Any], op: str, a: Any, b: Any) -> Any:
    """``a op b``, cell by cell when either side is a block (array arithmetic, as SUMPRODUCT's arguments use)."""
    x, y = _block(a), _block(b)
    if x is None and y is None:
        return apply(op, a.first() if isinstance(a, Range) else a, b.first() if isinstance(b, Range) else b)
    if x is None:
        x = np.array([[a.first() if isinstance(a, Range) else a]], dtype=object)
    if y is None:
        y = np.array([[b.first() if isinstance(b, Range) else b]], dtype=object)
    if x.shape != y.shape and x.size != 1 and y.size != 1:
        raise Unsupported(f"array arithmetic on blocks of {x.shape} and {y.shape}")
    xb, yb = np.broadcast_arrays(x, y)
    out = np.empty(xb.shape, dtype=object)
    for idx in np.ndindex(xb.shape):
        out[idx] = apply(op, xb[idx], yb[idx])
    return out


def each(fn: Callable[[Any], Any], a: Any) -> Any:
    """``fn`` of a value, or of each cell of a block (a block's unary minus inside SUMPRODUCT)."""
    x = _block(a)
    if x is None:
        return fn(a.first() if isinstance(a, Range) else a)
    out = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(x.shape):
        out[idx] = fn(x[idx])
    return out


# ---------------------------------------------------------------- dates (1900 system)

_EPOCH = dt.date(1899, 12, 30)


def serial(value: dt.date) -> float:
    """A date or date-time as an Excel serial number (1900 system, its phantom 29 February 1900 counted)."""
    if isinstance(value, dt.datetime):
        days = (value - dt.datetime(1899, 12, 30)).total_seconds() / 86400.0
    else:
        days = float((value - _EPOCH).days)
    return days if days >= 61 else days - 1.0


def to_date(x: float) -> dt.date | XlError:
    """The date of a serial number (its whole days); 1 to 59 before the phantom 29 February 1900."""
    whole = math.floor(x)
    if whole < 1 or whole > 2958465:
        return err("#NUM!")
    if whole == 60:
        raise Unsupported("29 February 1900, a date Excel counts and no calendar has")
    return _EPOCH + dt.timedelta(days=whole if whole > 60 else whole + 1)


def _month_shift(day: dt.date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def _days_in(year: int, month: int) -> int:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - dt.timedelta(days=1)).day


# ---------------------------------------------------------------- functions


def _numbers(args: list[Any]) -> list[float] | XlError:
    """The numbers of SUM, MIN, MAX...: a block's numbers (text, TRUE and blanks left out); an argument typed
    directly read as a number (#VALUE! when it is not one)."""
    out: list[float] = []
    for a in args:
        if isinstance(a, (Range, np.ndarray)):
            cells = a.cells() if isinstance(a, Range) else a.reshape(-1)
            for v in cells:
                if isinstance(v, XlError):
                    return v
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out.append(float(v))
        elif a is not None:
            x = number(a)
            if isinstance(x, XlError):
                return x
            out.append(x)
    return out


def _one(args: list[Any], i: int, ctx: Any, default: Any = None) -> Any:
    return scalar(args[i], ctx) if i < len(args) and args[i] is not None else default


def _sum(ctx: Any, args: list[Any]) -> Any:
    xs = _numbers(args)
    return xs if isinstance(xs, XlError) else math.fsum(xs) if xs else 0.0


def _min(ctx: Any, args: list[Any]) -> Any:
    xs = _numbers(args)
    return xs if isinstance(xs, XlError) else min(xs) if xs else 0.0


def _max(ctx: Any, args: list[Any]) -> Any:
    xs = _numbers(args)
    return xs if isinstance(xs, XlError) else max(xs) if xs else 0.0


def _count(ctx: Any, args: list[Any]) -> Any:
    n = 0
    for a in args:
        cells = a.cells() if isinstance(a, Range) else a.reshape(-1) if isinstance(a, np.ndarray) else [a]
        n += sum(1 for v in cells if isinstance(v, (int, float)) and not isinstance(v, bool))
    return float(n)


def _unary(fn: Callable[[float], Any]) -> Callable[[Any, list[Any]], Any]:
    def impl(ctx: Any, args: list[Any]) -> Any:
        if len(args) != 1:
            raise Unsupported("a one-argument function with other than one argument")
        x = number(scalar(args[0], ctx))
        return x if isinstance(x, XlError) else fn(x)

    return impl


def round_half_away(x: float, digits: int) -> float:
    """Excel's ROUND: half away from zero on the decimal the number shows (2.675 -> 2.68)."""
    q = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP))


def _round(ctx: Any, args: list[Any]) -> Any:
    x, n = number(_one(args, 0, ctx)), number(_one(args, 1, ctx, 0.0))
    bad = first_error(x, n)
    return bad if bad is not None else round_half_away(float(x), int(n))  # type: ignore[arg-type]


def _date_part(part: str) -> Callable[[Any, list[Any]], Any]:
    def impl(ctx: Any, args: list[Any]) -> Any:
        x = number(_one(args, 0, ctx))
        if isinstance(x, XlError):
            return x
        if 0 <= x < 1:  # serial 0: Excel's 0 January 1900
            return {"year": 1900.0, "month": 1.0, "day": 0.0}[part]
        day = to_date(x)
        return day if isinstance(day, XlError) else float(getattr(day, part))

    return impl


def _date(ctx: Any, args: list[Any]) -> Any:
    y, m, d = (number(_one(args, i, ctx)) for i in range(3))
    bad = first_error(y, m, d)
    if bad is not None:
        return bad
    year = int(y) + (1900 if 0 <= int(y) < 1900 else 0)  # type: ignore[arg-type]
    index = year * 12 + int(m) - 1  # type: ignore[arg-type]
    first = dt.date(index // 12, index % 12 + 1, 1) if 1900 <= index // 12 <= 9999 else None
    if first is None:
        return err("#NUM!")
    return serial(first) + int(d) - 1  # type: ignore[arg-type]


def _shift(end_of_month: bool) -> Callable[[Any, list[Any]], Any]:
    def impl(ctx: Any, args: list[Any]) -> Any:
        x, k = number(_one(args, 0, ctx)), number(_one(args, 1, ctx))
        bad = first_error(x, k)
        if bad is not None:
            return bad
        day = to_date(x)  # type: ignore[arg-type]
        if isinstance(day, XlError):
            return day
        year, month = _month_shift(day, int(k))
        if not 1900 <= year <= 9999:
            return err("#NUM!")
        last = _days_in(year, month)
        return serial(dt.date(year, month, last if end_of_month else min(day.day, last)))

    return impl


def _index(ctx: Any, args: list[Any]) -> Any:
    block = args[0]
    if not isinstance(block, Range):
        raise Unsupported("INDEX of something other than a reference")
    r, c = number(_one(args, 1, ctx, 1.0)), number(_one(args, 2, ctx, 1.0))
    bad = first_error(r, c)
    if bad is not None:
        return bad
    rows, cols = block.shape
    if len(args) == 2 and rows == 1:  # INDEX(row, n): the n-th of the row
        r, c = 1.0, r
    if int(r) == 0 or int(c) == 0:
        raise Unsupported("INDEX of a whole row or column")
    if not (1 <= int(r) <= rows and 1 <= int(c) <= cols):
        return err("#REF!")
    return block.book.values.get((block.sheet, block.r1 + int(r) - 1, block.c1 + int(c) - 1))


def _match(ctx: Any, args: list[Any]) -> Any:
    wanted = _one(args, 0, ctx)
    kind = number(_one(args, 2, ctx, 1.0))
    if isinstance(wanted, XlError):
        return wanted
    if kind != 0:
        raise Unsupported("MATCH other than exact (match type 0)")
    block = args[1]
    cells = list(block.cells()) if isinstance(block, Range) else [scalar(block, ctx)]
    for i, v in enumerate(cells, start=1):
        if v is not None and not isinstance(v, XlError) and compare("=", v, wanted) is True:
            return float(i)
    return err("#N/A")


_CRITERION = re.compile(r"^(<>|<=|>=|=|<|>)?(.*)$", re.S)


def _criterion(value: Any) -> Callable[[Any], bool]:
    """SUMIF's and COUNTIF's test of a cell: a number matches equal numbers; text may start with an operator."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        x = float(value)
        return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and float(v) == x
    if not isinstance(value, str):
        raise Unsupported("a SUMIF criterion that is not a number or text")
    m = _CRITERION.match(value)  # always matches: the operator is optional, the rest anything
    op, rest = (m.group(1) or "=", m.group(2)) if m else ("=", value)
    if any(ch in rest for ch in "*?~"):
        raise Unsupported("wildcards in a criterion")
    try:
        x = float(rest)
    except ValueError:
        if op not in ("=", "<>"):
            raise Unsupported("a text comparison in a criterion") from None
        key = rest.casefold()
        if op == "=":
            return lambda v: (v is None and key == "") or (isinstance(v, str) and v.casefold() == key)
        return lambda v: not ((v is None and key == "") or (isinstance(v, str) and v.casefold() == key))
    return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and compare(op, float(v), x) is True


def _sumif(ctx: Any, args: list[Any]) -> Any:
    block, test = args[0], _criterion(_one(args, 1, ctx))
    target = args[2] if len(args) > 2 else block
    if not isinstance(block, Range) or not isinstance(target, Range):
        raise Unsupported("SUMIF of something other than references")
    rows, cols = block.shape
    values = block.book.values
    total = []
    for dr in range(rows):
        for dc in range(cols):
            if test(values.get((block.sheet, block.r1 + dr, block.c1 + dc))):
                v = values.get((target.sheet, target.r1 + dr, target.c1 + dc))
                if isinstance(v, XlError):
                    return v
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    total.append(float(v))
    return math.fsum(total)


def _countif(ctx: Any, args: list[Any]) -> Any:
    block, test = args[0], _criterion(_one(args, 1, ctx))
    if not isinstance(block, Range):
        raise Unsupported("COUNTIF of something other than a reference")
    return float(sum(1 for v in block.cells() if test(v)))


def _sumproduct(ctx: Any, args: list[Any]) -> Any:
    blocks = []
    for a in args:
        b = _block(a) if isinstance(a, (Range, np.ndarray)) else None
        blocks.append(b if b is not None else np.array([[scalar(a, ctx)]], dtype=object))
    if len({b.shape for b in blocks}) != 1:
        return err("#VALUE!")
    total = np.ones(blocks[0].shape)
    for b in blocks:
        for idx, v in np.ndenumerate(b):
            if isinstance(v, XlError):
                return v
            total[idx] *= float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0
    return math.fsum(total.reshape(-1).tolist())


def _logical(all_of: bool) -> Callable[[Any, list[Any]], Any]:
    def impl(ctx: Any, args: list[Any]) -> Any:
        seen = []
        for a in args:
            if isinstance(a, (Range, np.ndarray)):
                for v in a.cells() if isinstance(a, Range) else a.reshape(-1):
                    if isinstance(v, XlError):
                        return v
                    if isinstance(v, (bool, int, float)):
                        seen.append(bool(v))
            else:
                t = truth(a)
                if isinstance(t, XlError):
                    return t
                seen.append(t)
        if not seen:
            return err("#VALUE!")
        return all(seen) if all_of else any(seen)

    return impl


def _isnumber(ctx: Any, args: list[Any]) -> Any:
    v = scalar(args[0], ctx)
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _left(ctx: Any, args: list[Any]) -> Any:
    s, n = text(_one(args, 0, ctx)), number(_one(args, 1, ctx, 1.0))
    bad = first_error(s, n)
    if bad is not None:
        return bad
    return str(s)[: int(n)] if float(n) >= 0 else err("#VALUE!")  # type: ignore[arg-type]


def _abs(x: float) -> float:
    return abs(x)


def _int(x: float) -> float:
    return float(math.floor(x))


FUNCTIONS: dict[str, Callable[[Any, list[Any]], Any]] = {
    "SUM": _sum, "MIN": _min, "MAX": _max, "COUNT": _count, "ABS": _unary(_abs), "INT": _unary(_int),
    "ROUND": _round, "YEAR": _date_part("year"), "MONTH": _date_part("month"), "DAY": _date_part("day"),
    "DATE": _date, "EDATE": _shift(end_of_month=False), "EOMONTH": _shift(end_of_month=True), "INDEX": _index,
    "MATCH": _match, "SUMIF": _sumif, "COUNTIF": _countif, "SUMPRODUCT": _sumproduct, "AND": _logical(True),
    "OR": _logical(False), "ISNUMBER": _isnumber, "LEFT": _left,
}  # fmt: skip
"""The worksheet functions the templates write; any other sends ``cdm recalc`` to the ``formulas`` package."""


def _if(ctx: Any, parts: list[Callable[[Any], Any]]) -> Any:
    if not 1 <= len(parts) <= 3:
        raise Unsupported("IF with other than one to three arguments")
    t = truth(parts[0](ctx))
    if isinstance(t, XlError):
        return t
    if t:
        return parts[1](ctx) if len(parts) > 1 else True
    return parts[2](ctx) if len(parts) > 2 else False


def _iferror(ctx: Any, parts: list[Callable[[Any], Any]], only: str | None = None) -> Any:
    v = parts[0](ctx)
    return parts[1](ctx) if isinstance(v, XlError) and (only is None or v.code == only) else v


LAZY: dict[str, Callable[[Any, list[Callable[[Any], Any]]], Any]] = {
    "IF": _if,
    "IFERROR": _iferror,
    "IFNA": lambda ctx, parts: _iferror(ctx, parts, "#N/A"),
}


def column_of(ctx: Any, target: Any) -> float:
    return float(ctx.col if target is None else target[3])


def row_of(ctx: Any, target: Any) -> float:
    return float(ctx.row if target is None else target[2])


def call_udf(fn: Callable[..., Any], args: list[Any], ctx: Any) -> Any:
    """A CDM_ function as Excel calls it through xlwings: a range as rows of values (a cell as its value)."""
    given = []
    for a in args:
        if isinstance(a, Range):
            given.append(a.first() if a.shape == (1, 1) else a.rows())
        else:
            given.append(a)
    return fn(*given)
