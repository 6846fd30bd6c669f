"""Attainment distribution by team: reps counted per (team, bucket), the numbers behind a gauge.

Events are built from the samples in ``tests/data/events``; times are Berlin wall-clock times,
the organisation's zone here. The period is 2026-Q4 unless a test says otherwise.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.envelope import Envelope
from projections import org
from projections.kpi_attainment import BUCKETS, COUNTED_METRICS, NO_TEAM, attainment_distribution, bucket
from projections.kpi_fold import fold
from projections.kpis import Scope, kpi_report
from sales.process import load_process
from tests.samples import money, sample_event

PROCESS = load_process(None)

TZ = "Europe/Berlin"


def make(type_name: str, day: str, **data: Any) -> Envelope:
    """The latest sample of ``type_name`` at 10:00 in Berlin on ``day``, with ``data`` replaced."""
    at = datetime.fromisoformat(day).replace(hour=10, tzinfo=ZoneInfo(TZ)).isoformat()
    return sample_event(type_name, at, **data)


def joined(rep: str, team: str | None, day: str = "2026-01-05") -> Envelope:
    return make("RepOnboarded", day, rep_id=rep, team_id=team, manager_id=None, started_on=day)


def won(deal: str, day: str, amount: int | str, splits: dict[str, int], currency: str = "EUR") -> Envelope:
    owner = next(iter(splits))
    shares = [{"rep_id": rep, "share_percent": str(share)} for rep, share in splits.items()]
    return make(
        "DealWon",
        day,
        deal_id=deal,
        rep_id=owner,
        customer_id=f"cust-{deal}",
        amount=money(amount, currency),
        credit_splits=shares,
    )


def quota(
    rep: str, amount: int | str, metric: str = "bookings", currency: str = "EUR", quarter: int = 4
) -> Envelope:
    first, last = {3: ("2026-07-01", "2026-09-30"), 4: ("2026-10-01", "2026-12-31")}[quarter]
    return make(
        "QuotaAssigned",
        "2026-09-20",
        quota_id=f"quota-{rep}-{metric}-{currency}-q{quarter}",
        assignee="rep",
        assignee_id=rep,
        period={"kind": "quarter", "start": first, "end": last},
        metric=metric,
        amount=money(amount, currency),
    )


def distribution(events: list[Envelope], on: date | None = None) -> dict[tuple[str, str], int]:
    return attainment_distribution(fold(events, TZ), org.fold(events), "2026-Q4", PROCESS, on=on)


def nonzero(counts: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    return {key: n for key, n in counts.items() if n}


def test_reps_are_counted_per_team_and_bucket_with_split_credit_and_exact_bounds() -> None:
    events = [
        joined("rep-ada", "team-emea"),
        joined("rep-sam", "team-emea"),
        joined("rep-lin", "team-apac"),
        joined("rep-kim", "team-apac"),
        joined("rep-eve", None),
        # Ada: 60 % of deal-1 (60,000) and deal-2 (100,000) = 160,000 of 200,000: exactly 80 %.
        won("deal-1", "2026-11-12", 100000, {"rep-ada": 60, "rep-sam": 40}),
        won("deal-2", "2026-12-01", 100000, {"rep-ada": 100}),
        quota("rep-ada", 200000),
        # Sam: 40 % of deal-1 = 40,000 of 40,000: exactly 100 %.
        quota("rep-sam", 40000),
        # Lin: 130 % of quota; Kim: no quota.
        won("deal-3", "2026-10-20", 130000, {"rep-lin": 100}),
        quota("rep-lin", 100000),
        # Eve, in no team: 49.99999 % (rounds to 50.0000) is still below 50.
        won("deal-4", "2026-10-21", "49999.99", {"rep-eve": 100}),
        quota("rep-eve", 100000),
    ]
    assert nonzero(distribution(events)) == {
        ("team-emea", "80_100"): 1,
        ("team-emea", "100_120"): 1,
        ("team-apac", "ge_120"): 1,
        ("team-apac", "no_quota"): 1,
        ("none", "lt_50"): 1,
    }


def test_every_team_counted_has_every_bucket_so_gauge_series_stay_put() -> None:
    counts = distribution([joined("rep-ada", "team-emea")])
    assert counts == {("team-emea", bucket): int(bucket == "no_quota") for bucket in BUCKETS}


def test_a_zero_quota_has_undefined_attainment_not_no_quota() -> None:
    events = [joined("rep-bob", "team-apac"), won("deal-1", "2026-11-02", 10000, {"rep-bob": 100})]
    assert nonzero(distribution([*events, quota("rep-bob", 0)])) == {("team-apac", "undefined"): 1}


def test_quotas_in_several_currencies_or_unmeasurable_metrics_are_undefined() -> None:
    events = [
        joined("rep-ann", "team-emea"),
        quota("rep-ann", 100000, currency="EUR"),
        quota("rep-ann", 100000, currency="USD"),
        joined("rep-arr", "team-emea"),
        quota("rep-arr", 100000, metric="annual_recurring_revenue"),
    ]
    assert nonzero(distribution(events)) == {("team-emea", "undefined"): 2}


def test_the_revenue_quota_counts_over_the_bookings_quota() -> None:
    events = [
        joined("rep-joe", "team-emea"),
        won("deal-1", "2026-11-02", 30000, {"rep-joe": 100}),
        quota("rep-joe", 100000, metric="bookings"),  # 30 %
        quota("rep-joe", 50000, metric="revenue"),  # 60 %
    ]
    assert nonzero(distribution(events)) == {("team-emea", "50_80"): 1}


def test_a_quota_of_another_period_is_no_quota_for_this_one() -> None:
    events = [joined("rep-ada", "team-emea"), quota("rep-ada", 100000, quarter=3)]
    assert nonzero(distribution(events)) == {("team-emea", "no_quota"): 1}


def test_membership_on_the_day_decides_the_team_and_who_is_counted() -> None:
    events = [
        joined("rep-max", "team-emea"),
        make(
            "RepMovedTeam",
            "2026-11-20",
            rep_id="rep-max",
            from_team_id="team-emea",
            to_team_id="team-apac",
            effective_from="2026-12-01",
        ),
        joined("rep-ray", "team-emea"),
        quota("rep-ray", 100000),
        make("RepLeft", "2026-11-20", rep_id="rep-ray", last_day="2026-11-30"),
        joined("rep-new", "team-apac", day="2026-12-15"),
    ]
    assert nonzero(distribution(events)) == {("team-apac", "no_quota"): 2}  # Max and the new rep
    # On 15 November Max is still in EMEA and Ray (no credit yet: 0 %) has not left.
    assert nonzero(distribution(events, on=date(2026, 11, 15))) == {
        ("team-emea", "no_quota"): 1,
        ("team-emea", "lt_50"): 1,
    }


def test_a_membership_day_outside_the_period_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the period"):
        distribution([joined("rep-ada", "team-emea")], on=date(2027, 1, 1))


REPS = [f"rep-{i}" for i in range(6)]


@st.composite
def histories(draw: st.DrawFn) -> list[Envelope]:
    events: list[Envelope] = []
    for i, rep in enumerate(REPS):
        team = draw(st.sampled_from([None, "team-a", "team-b"]))
        start = draw(st.sampled_from(["2026-01-05", "2026-11-01", "2027-02-01"]))  # the last: not yet
        events.append(joined(rep, team, day=start))
        if draw(st.booleans()):
            events.append(
                make(
                    "RepLeft",
                    "2026-10-01",
                    rep_id=rep,
                    last_day=draw(st.sampled_from(["2026-10-31", "2027-01-31"])),
                )
            )
        for metric in draw(st.lists(st.sampled_from(["bookings", "revenue", "gross_margin"]), max_size=2)):
            events.append(quota(rep, draw(st.integers(0, 200000)), metric=metric))
        for n, amount in enumerate(draw(st.lists(st.integers(1, 150000), max_size=2))):
            partner = REPS[(i + 1) % len(REPS)]
            split = draw(st.sampled_from([{rep: 100}, {rep: 50, partner: 50}]))
            day = draw(st.sampled_from(["2026-09-30", "2026-11-10"]))
            events.append(won(f"deal-{rep}-{n}", day, amount, split))
        if draw(st.booleans()):
            renewal = {"customer_id": f"cust-deal-{rep}-0", "rep_id": rep, "deal_id": None}
            events.append(make("CustomerRenewed", "2026-12-01", **renewal, amount=money(20000)))
    return events


def reference(events: list[Envelope]) -> dict[tuple[str, str], int]:
    """The distribution from each member's full `kpi_report` (slow, but the definition itself)."""
    state, book, last = org.fold(events), fold(events, TZ), date(2026, 12, 31)
    counts: dict[tuple[str, str], int] = {}
    for rep in sorted(state.reps):
        if org.is_member(state, rep, last):
            kpis = kpi_report(book, Scope("rep", rep), "2026-Q4", lambda r, d: (None, ()), PROCESS)
            quotas = [key for key in kpis if key.startswith("quota.")]
            metric = next(
                (m for m in COUNTED_METRICS if any(k.startswith(f"quota.{m}.") for k in quotas)), ""
            )
            found = [v for k, v in kpis.items() if k.startswith(f"quota_attainment.{metric}.")]
            label = bucket(found) if quotas else "no_quota"
            key = (org.team_of(state, rep, last) or NO_TEAM, label)
            counts[key] = counts.get(key, 0) + 1
    return counts


@settings(max_examples=40, deadline=None)
@given(histories())
def test_counts_add_up_to_the_members_counted_and_agree_with_each_reps_kpi_report(
    events: list[Envelope],
) -> None:
    state = org.fold(events)
    members = [rep for rep in REPS if org.is_member(state, rep, date(2026, 12, 31))]
    counts = distribution(events)
    assert sum(counts.values()) == len(members)
    assert {bucket for _, bucket in counts} <= set(BUCKETS)
    assert {team for team, _ in counts} <= {"team-a", "team-b", "none"}
    assert nonzero(counts) == reference(events)
