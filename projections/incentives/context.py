"""What a statement reads beyond the incentive ledger: the organisation and the reps' KPI reports.

Both come from other read models (`projections.org`, `projections.kpis`), which the query side
merges; the incentive engine only asks them questions. Without them a statement still answers,
and the rules that need them say why they paid nothing: a SPIFF limited to teams and an overlay
credit nothing without the organisation, a KPI bonus pays nothing without the KPI report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from projections import org
from projections.incentives.readings import bonus_report
from projections.kpi_fold import KpiBook
from projections.kpi_scope import KpiValue, Membership, Scope
from projections.kpis import PreparedBook, prepare, prepare_for_rep
from sales.process import ProcessConfig

ONE_REP_BOOKS = 2
"""Reps whose KPI reports are prepared from their own deals only; past it, every deal is traced
once for all (a payout run): tracing one rep's deals is cheap, every deal's is the bulk of a
single statement's time."""

KpiReports = Callable[[str, str, frozenset[str]], Mapping[str, KpiValue]]
"""A rep's KPI report for a period (a key such as ``2026-Q3``), given the plan KPIs wanted."""

KpiReport = Callable[[frozenset[str]], Mapping[str, KpiValue]]
"""One rep's KPI report for one period, given the plan KPIs wanted."""


@dataclass(frozen=True)
class Context:
    """The organisation (effective-dated teams and territories) and the KPI reports, if known."""

    organisation: org.OrgState | None = None
    kpi_reports: KpiReports | None = None
    _teams: dict[tuple[str, date], str | None] = field(default_factory=dict, compare=False, repr=False)
    _territories: dict[tuple[str, date], tuple[str, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )
    """Answers already looked up: a payout run asks about the same reps and days many times."""
    known_then: Callable[[datetime], Context] | None = field(default=None, compare=False, repr=False)
    """This context as the system knew it at a recorded time (None: it cannot travel, and reads
    the same then as now): set by `context_of` when it reads a KPI book."""

    @property
    def knows_organisation(self) -> bool:
        return self.organisation is not None

    def team_of(self, rep_id: str, day: date) -> str | None:
        """The rep's team on ``day`` (None: no team, or the organisation is not known)."""
        if self.organisation is None:
            return None
        if (rep_id, day) not in self._teams:
            self._teams[rep_id, day] = org.team_of(self.organisation, rep_id, day)
        return self._teams[rep_id, day]

    def territories_of(self, rep_id: str, day: date) -> tuple[str, ...]:
        """The territories the rep owns on ``day`` (none when the organisation is not known)."""
        if self.organisation is None:
            return ()
        if (rep_id, day) not in self._territories:
            self._territories[rep_id, day] = org.territories_of(self.organisation, rep_id, day)
        return self._territories[rep_id, day]

    def known_at(self, recorded: datetime) -> Context:
        """The context as known at ``recorded``: an approved period is frozen with the KPI
        readings the system had when it was approved, so a late fact changes the period as known
        now (and lands on the next open one as a correction) but never the approved statement."""
        return self if self.known_then is None else self.known_then(recorded)

    def report(self, rep_id: str, period: str) -> KpiReport | None:
        """``rep_id``'s KPI report for ``period``, or None when the KPIs are not known."""
        reports = self.kpi_reports
        if reports is None:
            return None

        def of(wanted: frozenset[str]) -> Mapping[str, KpiValue]:
            return reports(rep_id, period, wanted)

        return of


NOTHING_AROUND = Context()
"""The incentive ledger alone: no organisation, no KPI reports."""


def context_of(
    organisation: org.OrgState | None, kpis: KpiBook | None = None, process: ProcessConfig | None = None
) -> Context:
    """The context over merged read models: the organisation, and KPI reports read from ``kpis``
    under ``process`` (the deals' paths traced when first asked: a rep's own for the first
    ``ONE_REP_BOOKS`` reps, `kpis.prepare_for_rep`, then every deal once, `kpis.prepare`)."""
    if kpis is None or process is None:
        return Context(organisation)
    membership = membership_in(organisation or org.OrgState())
    whole: list[PreparedBook] = []
    one_rep: dict[str, PreparedBook] = {}

    def reports(rep_id: str, period: str, wanted: frozenset[str]) -> Mapping[str, KpiValue]:
        if not whole and rep_id not in one_rep and len(one_rep) >= ONE_REP_BOOKS:
            whole.append(prepare(kpis, process))  # many reps asked: trace every deal once
        if whole:
            prepared = whole[0]
        elif rep_id in one_rep:
            prepared = one_rep[rep_id]
        else:
            prepared = one_rep[rep_id] = prepare_for_rep(kpis, process, rep_id)
        return bonus_report(prepared, Scope("rep", rep_id), period, membership, wanted)

    earlier: dict[datetime, Context] = {}

    def known_then(recorded: datetime) -> Context:
        if recorded not in earlier:  # a period's corrections ask about the same approvals again
            earlier[recorded] = context_of(organisation, kpis.known_at(recorded), process)
        return earlier[recorded]

    return Context(organisation, reports, known_then=known_then)


def membership_in(organisation: org.OrgState) -> Membership:
    """A rep's team and territories on a day, as the organisation's history says."""
    return lambda rep, day: (org.team_of(organisation, rep, day), org.territories_of(organisation, rep, day))
