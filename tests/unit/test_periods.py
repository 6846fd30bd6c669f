"""Period bucketing in the organisation's time zone: keys, bounds, ISO weeks, DST days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.periods import (
    PERIOD_KINDS,
    PeriodKind,
    day_period_key,
    local_day,
    period_bounds,
    period_days,
    period_key,
    period_kind,
    start_of_day,
)

BERLIN = "Europe/Berlin"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_event_at_2330_utc_on_sunday_belongs_to_monday_in_berlin() -> None:
    at = utc("2026-11-01T23:30:00")
    assert period_key("day", at, BERLIN) == "2026-11-02"
    assert period_key("week", at, BERLIN) == "2026-W45"
    assert period_key("day", at, "UTC") == "2026-11-01"
    assert period_key("week", at, "UTC") == "2026-W44"


def test_last_evening_of_september_utc_is_already_q4_in_berlin_summer_time() -> None:
    at = utc("2026-09-30T22:30:00")  # 00:30 CEST on 1 October
    assert [period_key(kind, at, BERLIN) for kind in ("month", "quarter", "year")] == [
        "2026-10",
        "2026-Q4",
        "2026",
    ]
    assert period_key("quarter", at, "UTC") == "2026-Q3"


def test_iso_weeks_start_on_monday_and_new_year_may_belong_to_the_old_year() -> None:
    assert period_days("2026-W45") == (date(2026, 11, 2), date(2026, 11, 8))
    assert day_period_key("week", date(2027, 1, 1)) == "2026-W53"  # a Friday; 2026 has 53 weeks
    assert day_period_key("week", date(2027, 1, 4)) == "2027-W01"
    assert day_period_key("week", date(2025, 12, 29)) == "2026-W01"


def test_quarter_and_month_bounds_follow_the_local_clock_across_a_dst_change() -> None:
    start, end = period_bounds("2026-Q4", BERLIN)
    assert start == datetime(2026, 10, 1, tzinfo=ZoneInfo(BERLIN))
    assert start.astimezone(UTC) == utc("2026-09-30T22:00:00")  # CEST, UTC+2
    assert end.astimezone(UTC) == utc("2026-12-31T23:00:00")  # CET, UTC+1
    assert period_days("2026-Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert period_days("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_days("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))


@pytest.mark.parametrize(
    ("day", "hours"),
    [("2026-03-29", 23), ("2026-10-25", 25), ("2026-10-26", 24)],
)
def test_dst_days_in_berlin_last_23_or_25_hours(day: str, hours: int) -> None:
    start, end = period_bounds(day, BERLIN)
    assert end - start == timedelta(hours=hours)


def test_both_instants_of_the_repeated_hour_belong_to_the_fall_back_day() -> None:
    first = datetime(2026, 10, 25, 2, 30, tzinfo=ZoneInfo(BERLIN))
    second = first.replace(fold=1)
    assert first.astimezone(UTC) != second.astimezone(UTC)
    assert {period_key("day", at.astimezone(UTC), BERLIN) for at in (first, second)} == {"2026-10-25"}


def test_a_day_whose_midnight_is_skipped_starts_at_one_in_the_morning() -> None:
    start = start_of_day(date(2026, 9, 6), "America/Santiago")  # clocks jump from 00:00 to 01:00
    assert start.astimezone(UTC) == utc("2026-09-06T04:00:00")
    assert local_day(start - timedelta(microseconds=1), "America/Santiago") == date(2026, 9, 5)


def test_keys_name_their_kind() -> None:
    assert [period_kind(key) for key in ("2026-11-02", "2026-W45", "2026-11", "2026-Q4", "2026")] == list(
        PERIOD_KINDS
    )


@pytest.mark.parametrize("key", ["2026-13", "2026-Q5", "2026-W54", "2025-W53", "26-11", "2026-11-31", "Q4"])
def test_malformed_or_impossible_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="not a period key"):
        period_days(key)


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        period_key("day", datetime(2026, 11, 2, 9, 0), BERLIN)


ZONES = ["Europe/Berlin", "America/Santiago", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham", "UTC"]
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


@given(instants, st.sampled_from(PERIOD_KINDS), st.sampled_from(ZONES))
def test_every_instant_lies_within_the_bounds_of_its_own_period(
    at: datetime, kind: PeriodKind, tz: str
) -> None:
    key = period_key(kind, at, tz)
    start, end = period_bounds(key, tz)
    assert start <= at < end
    assert period_key(kind, start, tz) == key
    assert period_key(kind, end, tz) != key
    assert period_key(kind, start - timedelta(microseconds=1), tz) != key
