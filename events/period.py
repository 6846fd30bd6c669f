"""Calendar facts: business dates, measurement periods and effective dating.

A business date (`Day`) is a calendar day with no time and no timezone: a quota period or the day a
plan takes effect is the same day for everyone, wherever the event was published. Dates are
written ``YYYY-MM-DD`` and nothing else (no timestamps, no times, no numbers), and ranges include
both their first and their last day.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator

from events.envelope import Contract

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: object) -> object:
    if isinstance(value, datetime) or not isinstance(value, str | date):
        raise ValueError("a date must be written YYYY-MM-DD")
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise ValueError("a date must be written YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]
"""A calendar day, ``YYYY-MM-DD``."""


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"


_MONTHS_IN = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}
_SPAN = {PeriodKind.MONTH: "one whole calendar month", PeriodKind.QUARTER: "three whole calendar months"}


def last_day_of(start: date, months: int) -> date:
    """The last day of the ``months``-th calendar month counted from ``start``'s month."""
    month_index = start.year * 12 + start.month - 1 + months - 1
    year, month = divmod(month_index, 12)
    return date(year, month + 1, calendar.monthrange(year, month + 1)[1])


class Period(Contract):
    """The span objectives, quotas, SPIFFs and payouts are measured over, both ends inclusive.

    Month, quarter and year periods are whole calendar months from the 1st (so a fiscal year may
    start in any month); calendars that do not follow months, such as 4-4-5 weeks, use ``custom``.
    """

    kind: PeriodKind
    start: Day = Field(description="First day of the period.")
    end: Day = Field(description="Last day of the period (inclusive).")

    @field_validator("end")
    @classmethod
    def _fits_kind(cls, end: date, info: ValidationInfo) -> date:
        start, kind = info.data.get("start"), info.data.get("kind")
        if start is None or kind is None:
            return end  # already reported on its own field
        if end < start:
            raise ValueError("the period must not end before it starts")
        months = _MONTHS_IN.get(kind)
        if months is not None and (start.day != 1 or end != last_day_of(start, months)):
            span = _SPAN.get(kind, "twelve whole calendar months")
            raise ValueError(f"a {kind} period is {span} from the 1st; use kind custom for other spans")
        return end


class EffectiveDated(Contract):
    """Base of facts that apply over a range of days: known in advance, corrected without rewriting.

    ``effective_from`` may be in the past (a back-dated correction) or the future (announced now,
    applies later); an absent ``effective_to`` means "until further notice".
    """

    effective_from: Day = Field(description="First day this applies.")
    effective_to: Day | None = Field(
        None, description="Last day this applies (inclusive); open-ended if absent."
    )

    @field_validator("effective_to")
    @classmethod
    def _not_before_start(cls, effective_to: date | None, info: ValidationInfo) -> date | None:
        effective_from = info.data.get("effective_from")
        if effective_to is not None and effective_from is not None and effective_to < effective_from:
            raise ValueError("effective_to must not be before effective_from")
        return effective_to
