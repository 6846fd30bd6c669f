"""Reporting periods in an organisation's time zone: which period an instant belongs to, and back.

Business rule: a fact belongs to the period in which it happened *on the organisation's wall
clock*. An event at 23:30 UTC on Sunday 1 November 2026 happened at 00:30 on Monday 2 November in
Europe/Berlin, so it counts for that Monday, ISO week 2026-W45, November and Q4.

Period keys (strings, so they sort and serialise as they read):

=========  ==============  ===============================================================
kind       key             span
=========  ==============  ===============================================================
day        ``2026-11-02``  one local calendar day
week       ``2026-W45``    an ISO 8601 week: Monday to Sunday; week 1 holds the year's first
                           Thursday, so 2027-01-01 (a Friday) is in ``2026-W53``
month      ``2026-11``     a calendar month
quarter    ``2026-Q4``     three calendar months from January, April, July or October
year       ``2026``        a calendar year (annual quotas and objectives)
=========  ==============  ===============================================================

Time zones are IANA names handled by `zoneinfo`, so daylight saving time is the zone's own: a
local day lasts 23 or 25 hours on the days the clocks change, and a period starts at the first
instant of its first local day (where midnight does not exist, as in America/Santiago on the
day summer time starts, that is 01:00). Bounds are half-open: ``start <= instant < end``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

PeriodKind = Literal["day", "week", "month", "quarter", "year"]
PERIOD_KINDS: tuple[str, ...] = get_args(PeriodKind)
FIRST_YEAR, LAST_YEAR = 1970, 9998
"""The years period keys may name (`period_days` refuses others)."""

_KEY_PATTERNS: tuple[tuple[PeriodKind, re.Pattern[str]], ...] = (
    ("day", re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")),
    ("week", re.compile(r"([0-9]{4})-W([0-9]{2})")),
    ("month", re.compile(r"([0-9]{4})-([0-9]{2})")),
    ("quarter", re.compile(r"([0-9]{4})-Q([1-4])")),
    ("year", re.compile(r"([0-9]{4})")),
)


def local_day(at: datetime, tz: str) -> date:
    """The calendar day ``at`` falls on in time zone ``tz``; a naive datetime is refused."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no time zone: an instant must be timezone-aware")
    return at.astimezone(ZoneInfo(tz)).date()


def day_period_key(kind: PeriodKind, day: date) -> str:
    """The key of the ``kind`` period that contains the local calendar ``day``."""
    if kind == "day":
        return day.isoformat()
    if kind == "week":
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if kind == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if kind == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if kind == "year":
        return f"{day.year:04d}"
    raise ValueError(f"unknown period kind {kind!r} (kinds: {', '.join(PERIOD_KINDS)})")


def period_key(kind: PeriodKind, at: datetime, tz: str) -> str:
    """The key of the ``kind`` period in which the instant ``at`` falls, on ``tz``'s wall clock."""
    return day_period_key(kind, local_day(at, tz))


def period_kind(key: str) -> PeriodKind:
    """The kind of period a key names (``2026-W45`` is a week)."""
    return _parse(key)[0]


def period_days(key: str) -> tuple[date, date]:
    """First and last local calendar day of the period (both inclusive)."""
    return _parse(key)[1:]


def period_bounds(key: str, tz: str) -> tuple[datetime, datetime]:
    """The period on ``tz``'s wall clock as UTC instants: ``start <= instant < end``."""
    first, last = period_days(key)
    return day_bounds(first, last, tz)


def day_bounds(first: date, last: date, tz: str) -> tuple[datetime, datetime]:
    """Local days ``first`` to ``last`` (inclusive) in ``tz`` as half-open UTC instants."""
    if last < first:
        raise ValueError(f"a period cannot end ({last}) before it starts ({first})")
    return start_of_day(first, tz), start_of_day(last + timedelta(days=1), tz)


def start_of_day(day: date, tz: str) -> datetime:
    """The first instant of local ``day`` in ``tz``, in UTC.

    ``fold=0`` picks the earlier of two midnights when clocks go back at midnight, and for a
    midnight skipped by clocks going forward `zoneinfo` yields the instant just after the gap.
    """
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def _parse(key: str) -> tuple[PeriodKind, date, date]:
    for kind, pattern in _KEY_PATTERNS:
        match = pattern.fullmatch(key)
        if match is not None:
            if not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
                break
            try:
                return (kind, *_span(kind, tuple(int(group) for group in match.groups())))
            except ValueError:
                break
    raise ValueError(
        f"{key!r} is not a period key (2026-11-02, 2026-W45, 2026-11, 2026-Q4 or 2026;"
        f" years {FIRST_YEAR} to {LAST_YEAR})"
    )


def _span(kind: PeriodKind, parts: tuple[int, ...]) -> tuple[date, date]:
    if kind == "day":
        day = date(*parts)
        return day, day
    if kind == "week":
        monday = date.fromisocalendar(parts[0], parts[1], 1)
        return monday, monday + timedelta(days=6)
    if kind == "year":
        return date(parts[0], 1, 1), date(parts[0], 12, 31)
    year, index = parts
    first_month = index if kind == "month" else (index - 1) * 3 + 1
    months = 1 if kind == "month" else 3
    first = date(year, first_month, 1)
    following = date(year + (first_month + months - 1) // 12, (first_month + months - 1) % 12 + 1, 1)
    return first, following - timedelta(days=1)
