"""How a period's quota attainment is spread over reps, per team: the numbers behind a gauge.

A dashboard wants "how many reps in team EMEA are at 80-100 % of quota this quarter", not one time
series per rep: labels must stay bounded (a team and a fixed bucket, never a rep id), so this
counts reps per ``(team, bucket)`` instead of exporting each rep's attainment.

Business rules (docs/kpis.md, "Attainment distribution by team"):

- **Who counts**: every rep who is a member of the organisation on the day ``on`` (default: the
  period's last day), in the team they are in that day; ``none`` when they are in no team. A rep
  who left before ``on`` is not counted, whatever their quota.
- **Which attainment**: the rep's own ``quota_attainment.<metric>.<currency>``, composed from the
  same functions as in `kpi_report` (a test holds the two equal), so credited revenue (the rep's
  share of split credit), revisions and period matching follow the quota KPI exactly. Of the
  measurable metrics the rep has a quota in, ``revenue`` counts, else ``bookings``.
- **Buckets**: percent of quota, half-open ``[low, high)`` on the exact amounts (49.99999 % is
  ``lt_50`` although it rounds to 50.0000): ``lt_50``, ``50_80``, ``80_100``, ``100_120``,
  ``ge_120``. ``no_quota``: no rep quota for exactly this period. ``undefined``: a quota whose
  attainment cannot be computed: a zero quota, quotas of the counted metric in several currencies
  (no exchange rates), or only metrics the events cannot measure (ARR, gross margin).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from projections.kpi_customers import repeat_sales
from projections.kpi_deal_path import DealPath, trace
from projections.kpi_deals import booked_kpis
from projections.kpi_fold import KpiBook
from projections.kpi_records import CustomerSale, Timeline
from projections.kpi_scope import KpiValue, Membership, Scope, Window, scope_filter
from projections.kpi_targets import quota_kpis
from projections.kpis import measured_by_quota_metric
from projections.org import OrgState, is_member, team_of, territories_of
from sales.process import ProcessConfig

BANDS: tuple[tuple[Decimal, str], ...] = (
    (Decimal(50), "lt_50"),
    (Decimal(80), "50_80"),
    (Decimal(100), "80_100"),
    (Decimal(120), "100_120"),
)
"""Each band's exclusive upper bound (percent of quota) and label; at or above 120: ``ge_120``."""
BUCKETS: tuple[str, ...] = (*(label for _, label in BANDS), "ge_120", "no_quota", "undefined")
"""Every bucket label, in display order: the label set is fixed."""
NO_TEAM = "none"
"""The team label of a rep in no team on the day."""
COUNTED_METRICS: tuple[str, ...] = ("revenue", "bookings")
"""Quota metrics whose attainment counts, in order of preference."""


def attainment_distribution(
    book: KpiBook,
    org: OrgState,
    period: str | tuple[date, date],
    process: ProcessConfig,
    on: date | None = None,
) -> dict[tuple[str, str], int]:
    """Reps per ``(team, bucket)`` over ``period`` (a key like ``2026-Q4``, or first and last day).

    Every team with a rep counted has every bucket, zeros included, so a gauge's series do not
    come and go as reps change bucket; counts add up to the members counted. ``on`` (within the
    period) dates membership; the default is the period's last day. ``process`` decides which win
    of a reopened deal counts, as in `kpi_report`.
    """
    window = Window.of(period, book.tz)
    day = window.last if on is None else on
    if not window.first <= day <= window.last:
        raise ValueError(f"membership day {day} is outside the period {window.first} to {window.last}")
    facts = _Facts.of(book, window, process)
    membership = _membership(org)
    counts: Counter[tuple[str, str]] = Counter()
    for rep_id in sorted(org.reps):
        if is_member(org, rep_id, day):
            team = team_of(org, rep_id, day) or NO_TEAM
            counts[team, facts.bucket_of(rep_id, membership)] += 1
    teams = sorted({team for team, _ in counts})
    return {(team, bucket): counts[team, bucket] for team in teams for bucket in BUCKETS}


@dataclass(frozen=True, slots=True)
class _Facts:
    """What quota attainment reads, narrowed once to the period (a rep's pass is then short).

    Per rep, the same composition as `kpi_report` gives ``quota_attainment.*``: credited revenue of
    the deals first won in the period, renewals and expansions, against the rep's quotas.
    """

    window: Window
    wins: tuple[DealPath, ...]
    customers: tuple[Timeline, ...]
    quotas: tuple[Timeline, ...]

    @classmethod
    def of(cls, book: KpiBook, window: Window, process: ProcessConfig) -> _Facts:
        paths = (trace(deal_id, timeline, process) for deal_id, timeline in book.timelines("deal"))
        wins = tuple(p for p in paths if p.first_win is not None and window.holds(p.first_win.record.at))
        customers = tuple(
            timeline
            for _, timeline in book.timelines("customer")
            if any(window.holds(sale.at) for sale in timeline.of(CustomerSale))
        )
        return cls(window, wins, customers, tuple(timeline for _, timeline in book.timelines("quota")))

    def bucket_of(self, rep_id: str, membership: Membership) -> str:
        scope = Scope("rep", rep_id)
        if not quota_kpis(self.quotas, scope, self.window, {}):  # cheap: no quota, nothing to measure
            return "no_quota"
        includes = scope_filter(scope, membership)
        booked = booked_kpis(self.wins, self.window, includes)
        measured = measured_by_quota_metric(booked, repeat_sales(self.customers, self.window, includes))
        return bucket(_counted(quota_kpis(self.quotas, scope, self.window, measured)))


def _membership(org: OrgState) -> Membership:
    return lambda rep_id, day: (team_of(org, rep_id, day), territories_of(org, rep_id, day))


def _counted(report: Mapping[str, KpiValue]) -> list[KpiValue]:
    """The attainments of the first counted metric the rep has a quota in (one per currency)."""
    for metric in COUNTED_METRICS:
        prefix = f"quota_attainment.{metric}."
        found = [value for key, value in report.items() if key.startswith(prefix)]
        if found:
            return found
    return []


def bucket(attainments: Sequence[KpiValue]) -> str:
    """The bucket of a rep's attainment in the counted metric (one value per currency)."""
    if len(attainments) != 1:
        return "undefined"
    (attainment,) = attainments
    achieved, quota = attainment.numerator, attainment.denominator
    if achieved is None or quota is None or quota <= 0:
        return "undefined"
    # achieved / quota x 100 < upper, without dividing: the exact amounts decide, not a rounding.
    return next((label for upper, label in BANDS if achieved * 100 < upper * quota), "ge_120")
