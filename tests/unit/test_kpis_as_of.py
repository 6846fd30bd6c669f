"""KPIs as they stood at an event time (`KpiBook.as_of`: the fold of what had happened by then,
late-recorded facts included) and as known at a recorded time (`KpiBook.known_at`: the fold of what
had been recorded by then) (docs/audit.md, "What was known when")."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from projections.kpis import Scope, fold, kpi_report
from sales.process import load_process
from services.simulator import simulate_envelopes

TZ = "Europe/Berlin"
EVENTS = list(simulate_envelopes(5, reps=10, leads=500, start=date(2026, 1, 5), weeks=14))


def end_of(day: date) -> datetime:
    """The last instant of a local day: activity counters hold whole days, so a day's end is
    where the book as of an instant and the fold of the facts up to it agree exactly."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), ZoneInfo(TZ)) - timedelta(
        microseconds=1
    )


def test_the_book_as_of_a_day_is_the_fold_of_the_facts_that_had_happened_by_then() -> None:
    book = fold(EVENTS, TZ)
    for day in (date(2026, 1, 31), date(2026, 2, 17), date(2026, 3, 15)):
        at = end_of(day)
        happened = [event for event in EVENTS if event.time <= at]
        assert 0 < len(happened) < len(EVENTS)
        assert book.as_of(at).partials == fold(happened, TZ).partials, day


def test_a_fact_recorded_late_counts_from_when_it_happened_and_a_later_win_leaves_the_deal_open() -> None:
    process = load_process(None)
    book = fold(EVENTS, TZ)
    wins = sorted((e for e in EVENTS if e.type == "DealWon"), key=lambda e: e.time)
    assert len(wins) >= 3
    won = wins[len(wins) // 2]
    before, after = end_of(won.time.astimezone(ZoneInfo(TZ)).date() - timedelta(days=1)), won.time
    rep = won.data.rep_id  # type: ignore[attr-defined]
    scope = Scope("rep", rep)
    then, now = (
        kpi_report(book.as_of(at), scope, "2026-Q1", lambda r, d: (None, ()), process)
        for at in (before, after)
    )
    assert now["deals_won"].value is not None and then["deals_won"].value is not None
    assert now["deals_won"].value > then["deals_won"].value  # the win counts from when it happened
    # the whole history re-recorded a week late changes nothing about when things happened
    late = [event.recorded(event.time + timedelta(days=7)) for event in EVENTS]
    as_recorded_late = kpi_report(
        fold(late, TZ).as_of(before), scope, "2026-Q1", lambda r, d: (None, ()), process
    )
    assert as_recorded_late == then


LAGGED = [
    event.recorded(event.time + timedelta(hours=(index * 37) % 400)) for index, event in enumerate(EVENTS)
]
"""The history recorded with lags from none to 16 days (a dialer's backlog, a nightly CRM import)."""


def test_issue_11_the_book_known_at_a_days_end_is_the_fold_of_what_had_been_recorded_by_then() -> None:
    book = fold(LAGGED, TZ)
    for day in (date(2026, 1, 20), date(2026, 2, 17), date(2026, 3, 30)):
        at = end_of(day)
        recorded = [event for event in LAGGED if event.recordedtime is not None and event.recordedtime <= at]
        assert 0 < len(recorded) < len(LAGGED)
        assert book.known_at(at).partials == fold(recorded, TZ).partials, day


def test_issue_11_a_deal_won_but_recorded_late_is_open_in_what_was_known_before_it_arrived() -> None:
    process = load_process(None)
    won = next(e for e in LAGGED if e.type == "DealWon" and e.recordedtime - e.time > timedelta(days=5))
    rep, arrived = won.data.rep_id, won.recordedtime  # type: ignore[attr-defined]
    book = fold(LAGGED, TZ)
    scope, period = Scope("rep", rep), "2026"
    report = lambda b: kpi_report(b, scope, period, lambda r, d: (None, ()), process)  # noqa: E731
    known_before, known_after = (
        report(book.known_at(arrived - timedelta(seconds=1))),
        report(book.known_at(arrived)),
    )
    happened_by = report(book.as_of(arrived - timedelta(seconds=1)))
    assert known_after["deals_won"].value == known_before["deals_won"].value + 1
    assert happened_by["deals_won"].value >= known_after["deals_won"].value  # it had happened; not known
    # both axes at once: as of the win's own time, as known just before it arrived, it is not won
    both = report(book.known_at(arrived - timedelta(seconds=1)).as_of(won.time))
    assert both["deals_won"].value == known_before["deals_won"].value


def test_issue_11_both_axes_in_one_pass_are_the_fold_of_what_had_happened_and_been_recorded() -> None:
    """`KpiBook.travelled` decides whole timelines from their bounds when it can: at instants
    inside, before and after the history, on each axis and both, it equals the fold of exactly the
    facts that had happened by ``as_of`` and been recorded by ``known_at``."""
    book = fold(LAGGED, TZ)
    days = (date(2025, 12, 1), date(2026, 1, 20), date(2026, 2, 17), date(2026, 3, 30), date(2026, 9, 1))
    for as_of_day in (None, *days):
        for known_day in (None, *days):
            as_of = None if as_of_day is None else end_of(as_of_day)
            known_at = None if known_day is None else end_of(known_day)
            kept = [
                event
                for event in LAGGED
                if (as_of is None or event.time <= as_of)
                and (known_at is None or (event.recordedtime is not None and event.recordedtime <= known_at))
            ]
            assert book.travelled(as_of, known_at).partials == fold(kept, TZ).partials, (as_of_day, known_day)
