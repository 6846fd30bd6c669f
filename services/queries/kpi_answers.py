"""A KPI as an answer: the report's `KpiValue` written by the API's one rule for numbers.

The KPI report (`projections.kpis`) keeps percentages 0-100, sales cycles in days and research in
minutes, because objectives and plan KPI bonuses are set in those units by the event contracts.
The answer writes every KPI by the rule of docs/api.md ("Numbers"): counts as integers, ratios as
4-place fractions computed once from the exact numerator and denominator, money at its
currency's scale, and durations as whole seconds under a ``*_seconds`` name.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from projections import numbers
from projections.kpi_scope import KpiValue, Unit

API_KPI_NAMES: Mapping[str, str] = {
    "sales_cycle_days": "sales_cycle_seconds",
    "research_minutes": "research_seconds",
}
"""KPIs the report counts in days or minutes (the unit their objectives and plan thresholds are set
in, by the event contracts), answered in seconds under these names, like every duration."""
_INTERNAL_KPI_NAMES = {api: name for name, api in API_KPI_NAMES.items()}
_SECONDS_PER: Mapping[Unit, int] = {"seconds": 1, "minutes": 60, "days": numbers.SECONDS_PER_DAY}
_ANSWERED_UNIT: Mapping[Unit, str] = {
    "count": "count",
    "percent": "ratio",
    "money": "money",
    "days": "seconds",
    "minutes": "seconds",
    "seconds": "seconds",
}


def api_kpi_name(name: str) -> str:
    """The name a KPI is answered under (``sales_cycle_days`` is ``sales_cycle_seconds``)."""
    return API_KPI_NAMES.get(name, name)


def report_kpi_name(name: str) -> str | None:
    """The report's name of the KPI an API caller names (None: a report name the API does not
    answer under, such as ``sales_cycle_days``)."""
    if name in API_KPI_NAMES:
        return None
    return _INTERNAL_KPI_NAMES.get(name, name)


def _term(term: Decimal | None, unit: Unit, currency: str | None) -> int | str | None:
    """A numerator or denominator, written as the kind of quantity it is."""
    if term is None:
        return None
    if unit == "money":
        return numbers.money(term, currency)
    if unit == "percent":
        return numbers.percent_as_ratio(term)
    if unit in _SECONDS_PER:
        return numbers.seconds(Fraction(term) * _SECONDS_PER[unit])
    whole = Fraction(term)
    return int(whole) if whole.denominator == 1 else numbers.ratio(whole)  # a target set in fractions


def _value(value: KpiValue) -> int | str | None:
    """The KPI's value by the rule, computed from its exact terms where it has them (one rounding:
    the report's own value is already rounded to 4 places of percent)."""
    num, den = value.numerator, value.denominator
    if num is not None and den is not None:
        exact = None if den == 0 else Fraction(num) / Fraction(den)
    elif num is not None:  # a sum of money, exact
        exact = Fraction(num)
    elif value.value is not None:
        exact = Fraction(value.value) / (100 if value.unit == "percent" else 1)
    else:
        exact = None
    if exact is None:
        return None
    if value.unit == "percent":
        return numbers.ratio(exact)
    if value.unit == "money":
        return numbers.money(exact, value.currency)
    if value.unit in _SECONDS_PER:
        return numbers.seconds(exact * _SECONDS_PER[value.unit])
    return numbers.count(exact)


def kpi_answer(value: KpiValue) -> dict[str, Any]:
    """One KPI: ``value`` (count, ratio, money or seconds), ``unit`` (``count``, ``ratio``,
    ``money``, ``seconds``), the ``numerator`` and ``denominator`` it was computed from, each
    written as what it counts, and the ``currency`` of money."""
    if value.unit == "percent":
        terms: Unit = value.terms or ("money" if value.currency else "count")
        num_unit, den_unit = terms, terms
    elif value.unit == "count":
        num_unit = den_unit = "count"
    else:  # money, or a duration: a sum over a count (averages), or a plain sum
        num_unit, den_unit = value.unit, "count"
    return {
        "value": _value(value),
        "unit": _ANSWERED_UNIT[value.unit],
        "numerator": _term(value.numerator, num_unit, value.currency),
        "denominator": _term(value.denominator, den_unit, value.currency),
        "currency": value.currency,
    }


def kpi_body(values: Mapping[str, KpiValue]) -> dict[str, Any]:
    return {api_kpi_name(name): kpi_answer(value) for name, value in values.items()}
