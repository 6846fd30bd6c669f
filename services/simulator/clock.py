"""Calendar arithmetic for the simulator: business days, working hours, quarters, months.

Business days are Monday to Friday (public holidays are not modelled); work happens between
08:30 and 17:30 local time. Every team has a fixed UTC offset (no daylight saving), so the same
seed always yields the same instants and the same ``time`` strings.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

WORK_START = 8 * 60 + 30
"""First working minute of the day (08:30)."""
WORK_END = 17 * 60 + 30
"""Last working minute of the day (17:30)."""
ONE_DAY = timedelta(days=1)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5


def on_or_after(day: date) -> date:
    """``day`` if it is a business day, else the next one."""
    while not is_business_day(day):
        day += ONE_DAY
    return day


def add_business_days(day: date, count: int) -> date:
    """The business day ``count`` business days after (or, if negative, before) ``day``."""
    step = ONE_DAY if count >= 0 else -ONE_DAY
    for _ in range(abs(count)):
        day += step
        while not is_business_day(day):
            day += step
    return day


def business_days(first: date, last: date) -> list[date]:
    """Every business day from ``first`` to ``last``, both included."""
    days, day = [], first
    while day <= last:
        if is_business_day(day):
            days.append(day)
        day += ONE_DAY
    return days


def local(day: date, minute: int, tz: timezone, second: int = 0) -> datetime:
    """``day`` at ``minute`` past midnight (and ``second``) in the fixed-offset zone ``tz``."""
    return datetime.combine(day, time(minute // 60, minute % 60, second), tz)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def month_start_after(day: date) -> date:
    """The 1st of the month after ``day``'s month."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def add_months(first: date, months: int) -> date:
    """The 1st of the month ``months`` after ``first``'s month."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def quarter_label(first: date) -> str:
    """``2026q4`` for a quarter starting in October 2026."""
    return f"{first.year}q{(first.month - 1) // 3 + 1}"
