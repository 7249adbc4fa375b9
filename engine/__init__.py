"""Compute Deal Model engine: pure, vectorised numpy.

Arrays are ``(n_scenarios, n_months)``; scalars broadcast. Data flows one
way: raw inputs -> :func:`build_terms` (validated :class:`DealTerms`) ->
:func:`build_schedule` -> :func:`summarize`. This package never imports
xlwings or openpyxl and does no I/O except reading its own ``data/`` files.
"""

from engine.catalogue import GPU_SPEC_FIELDS, gpu_catalogue, gpu_spec_value, market_prices, sla_policies
from engine.errors import CdmError, InputError, InputWarning, Issue
from engine.fields import FIELD_BY_NAME, FIELDS, MAX_MONTHS, TABLES
from engine.schedule import COLUMNS, Schedule, build_schedule
from engine.summary import METRICS, Summary, summarize
from engine.terms import DealTerms, build_terms, is_blank, resolve_blank


def evaluate(raw: dict[str, object], **overrides: object) -> Summary:
    """Validate, schedule and summarise in one call (``summarize(build_schedule(build_terms(...)))``)."""
    return summarize(build_schedule(build_terms(raw, **overrides)))


__all__ = [
    "COLUMNS",
    "FIELDS",
    "FIELD_BY_NAME",
    "GPU_SPEC_FIELDS",
    "MAX_MONTHS",
    "METRICS",
    "TABLES",
    "CdmError",
    "DealTerms",
    "InputError",
    "InputWarning",
    "Issue",
    "Schedule",
    "Summary",
    "build_schedule",
    "build_terms",
    "evaluate",
    "gpu_catalogue",
    "gpu_spec_value",
    "is_blank",
    "market_prices",
    "resolve_blank",
    "sla_policies",
    "summarize",
]
