"""Errors and warnings of the engine, with every message template in one place.

Batch callers get exceptions; the Excel layer turns them into a short text
that a cell shows (``CDM error: pue must be >= 1.0, got 0.8``). Every message
names the field, the rule and the value received, so the layer that knows
where the value came from (a TOML key, an Excel cell) only has to add the
location.
"""

from __future__ import annotations

from dataclasses import dataclass

# Message templates. ``{field}`` is the vocabulary name, ``{value}`` the value
# as the user would recognise it.
MSG_REQUIRED = "{field} is required and is blank"
MSG_UNKNOWN_KEY = "{field} is not a known input (check the spelling; known inputs are listed in docs/reference/inputs.md)"
MSG_NOT_NUMBER = "{field} must be a number, got {value}"
MSG_NOT_WHOLE = "{field} must be a whole number, got {value}"
MSG_NOT_TEXT = "{field} must be text, got {value}"
MSG_MONTH_RANGE = "{field} must be a month from {first} to {last} (what Excel's dates can hold), got {value}"
MSG_CONTROL_CHAR = (
    "{field} holds the control character {code} at position {at}, which a workbook cannot store: remove it; got {value}"
)
MSG_NOT_MONTH = "{field} must be a month (a date, or text like 2026-05), got {value}"
MSG_NOT_DATE = "{field} must be a date (a date, or text like 2026-05-01; a month alone is its first day), got {value}"
MSG_NOT_FINITE = "{field} must be a finite number, got {value}"
MSG_MIN = "{field} must be >= {bound}, got {value}"
MSG_MIN_EXCLUSIVE = "{field} must be > {bound}, got {value}"
MSG_MAX = "{field} must be <= {bound}, got {value}"
MSG_CHOICE = "{field} must be one of {choices}, got {value}"
MSG_UNKNOWN_SKU = "{field} {value} is not in the GPU catalogue; known SKUs: {choices}"
MSG_END_BEFORE_START = "end_month {end} is before start_month {start}"
MSG_TERM_TOO_LONG = "the term from {start} to {end} is {months} months; at most {limit} months are modelled"
MSG_LONGER_THAN_TERM = "{field} {value} is longer than the term of {months} months"
MSG_NOTICE_TOO_LONG = "{field} {value} is longer than the term of {days} days ({months} months)"
MSG_DATE_OUTSIDE_TERM = "{field} {value} is outside the term {start} to {end}"
MSG_VINTAGE_AFTER_START = (
    "{field} {value} is after start_month {start}: the seller must own the GPUs when the term begins (leave it blank "
    "for assets bought for the deal)"
)
MSG_FLEET_AND_SKU = "give either gpu_sku/gpu_count or a fleet table, not both (got {field} {value} and a fleet of {n} rows)"
MSG_NOT_TABLE = "{field} must be a table of rows, got {value}"
MSG_TABLE_ROW = "{field} row {row}: {message}"
MSG_NOT_1D = "{field} must be a single value or a 1-D array of scenarios, got an array of shape {shape}"
MSG_SHAPES = "scenario arrays must have one length: {field} has {n}, other inputs have {m}"
MSG_NO_DELIVERY = "the deal delivers no GPU-hours: capacity fraction is 0 in every month ({detail})"
MSG_SHARES = "equity_pct {equity} + revenue_share_pct {share} must be <= 100: the rest of each payment is cash"
MSG_SLA_ORDER = (
    "{field} must be at least the credit of every shallower tier (the deepest tier crossed applies): below {below}% "
    "uptime it credits {value}%, less than row {other}'s {credit}% below {above}%"
)
MSG_SLA_SAME = "{field} {value} is the threshold of row {other} too: each tier needs its own threshold"
MSG_STEP_ORDER = "{field} must be in date order, got {value} after {previous}"


class CdmError(Exception):
    """Base of every error the engine raises on purpose."""


@dataclass(frozen=True)
class Issue:
    """One problem with one input.

    Attributes
    ----------
    field : str
        The vocabulary name of the input (``pue``), or ``table[row].column``
        for a row of a table (``fleet[2].gpu_count``).
    rule : str
        A short code of the rule that failed (``min``, ``required``...).
    message : str
        The full sentence, naming the field, the rule and the value.
    value : object
        The value received, as given.
    """

    field: str
    rule: str
    message: str
    value: object = None

    def __str__(self) -> str:
        return self.message


class InputError(CdmError):
    """One or more inputs break a rule. ``issues`` lists every one of them."""

    def __init__(self, issues: list[Issue] | Issue):
        self.issues: list[Issue] = [issues] if isinstance(issues, Issue) else list(issues)
        super().__init__("; ".join(i.message for i in self.issues))


@dataclass(frozen=True)
class InputWarning:
    """A legal but inconsistent input, with the arithmetic that shows it.

    Real deals and press figures contain these, so they are reported, never
    refused.
    """

    field: str
    rule: str
    message: str


def fmt_value(value: object) -> str:
    """Show a received value the way a user typed it: text in quotes."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 200 else repr(value[:200]) + f"... ({len(value):,} characters)"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"a {len(str(abs(value)))}-digit integer" if abs(value) < 10**4000 else "an integer of more than 4,000 digits"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)
