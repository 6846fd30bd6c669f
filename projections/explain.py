"""Every KPI and payout figure of one rep for one period, with the events behind it (for auditors).

The KPI figures are the rep's KPI report (`projections.kpis.report_of`, rep scope), each listed
with the events it counts. The explanation walks **the same records with the same tests** as the
KPI functions (the period's window, the rep-scope filter, first win, last close in the period,
first capture, first raise), so what it lists is what the report counted; a test recomputes every
explained figure from its listed events alone and compares it with the report
(``tests/unit/test_explain.py``).

===========================================  =========================================================
figure                                       events listed (role)
===========================================  =========================================================
``deals_won``, ``won_revenue.<cur>``,        each deal's first `DealWon` in the period owned by the
``average_deal_size.<cur>``                  rep (``won``, with the deal's amount and currency)
``credited_revenue.<cur>``                   each deal's first `DealWon` in the period whose credit
                                             splits name the rep (``credited``, with the share)
``win_rate``, ``deals_lost``                 each deal's last close in the period owned by the rep
                                             (``won`` / ``lost``)
``sales_cycle_days``                         the won closes above of deals whose opening is known
                                             (``won``, with the days) and each opening
                                             `LeadQualified` (``opened``)
``new_leads``, ``new_leads.<source>``        each lead's first `LeadCaptured` in the period, the
                                             rep's (``captured``, with the source)
``lead_to_opportunity_rate``                 those captures, and for each lead qualified since its
                                             first `LeadQualified` (``qualified``)
``objections``, ``objections.<category>``    each objection's first `ObjectionRaised` in the period
                                             by the rep (``raised``, with the category)
``objection_resolution_rate[.<category>]``   those raises and each one's `ObjectionResolved`
                                             (``resolved``)
activity counters (``calls``, ``meetings``,  no event ids: the fold keeps one counter per (rep,
``talk_seconds``, ...)                       local day), so the figure lists the rep's days in the
                                             period with that day's amount
===========================================  =========================================================

The other KPIs (per-stage conversion, forecast, customers and retention, repeat sales, quota,
attainment, objectives) are listed with their value and the reason no events are given.

The payout figures are the rep's final statement (`projections.incentives.approvals.final_statement`,
frozen if approved): each line with its rule, plan, version, rate, base, earning and event ids;
the manual adjustments on no plan's statement; and credit no plan rated (earning nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from projections import org
from projections.incentives.approvals import final_statement
from projections.incentives.books import RepStatement
from projections.incentives.context import context_of
from projections.incentives.facts import book_of
from projections.incentives.ledger import Entries
from projections.kpi_counters import KpiCounters
from projections.kpi_deal_path import Close, DealPath
from projections.kpi_fold import KpiBook
from projections.kpi_records import DealOpened, FactRecorded, LeadDecided, LeadEntered, ObjectionAnswered
from projections.kpi_scope import Includes, KpiValue, Scope, Window, scope_filter
from projections.kpis import PreparedBook, prepare, report_of
from sales.process import ProcessConfig

Role = Literal["won", "lost", "credited", "opened", "captured", "qualified", "raised", "resolved"]

COUNTED_ACTIVITIES = frozenset(
    {"calls", "connected_calls", "emails_sent", "emails_replied", "meetings", "social_touches"}
)
"""Activity counters that count events (one per event); the others sum durations or minutes."""

BASES: Mapping[str, str] = {
    "deals_won": "count of the first wins, in the period, of deals the rep owned",
    "won_revenue": "sum of the amounts of those first wins, in the currency",
    "average_deal_size": "won revenue / deals won, in the currency",
    "credited_revenue": "sum of amount x share / 100 of the first wins whose splits name the rep",
    "win_rate": "won / (won + lost), each deal's last close in the period",
    "deals_lost": "count of the deals whose last close in the period is a loss",
    "sales_cycle_days": "mean days from the deal's opening to its won close",
    "new_leads": "count of the leads' first captures in the period",
    "lead_to_opportunity_rate": "qualified / captured, of the leads captured in the period",
    "objections": "count of the objections' first raises in the period",
    "objection_resolution_rate": "resolved / raised, of the objections raised in the period",
}
"""How each explained figure (by the part of its name before a dot) follows from its events."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """One event a KPI figure counts, in the role it plays there."""

    event_id: str
    role: Role
    entity: str
    """The deal, lead or objection (``<deal id>/<objection id>``) the event is about."""
    at: datetime
    amount: Decimal | None = None
    currency: str | None = None
    share_percent: Decimal | None = None
    """``credited``: the rep's share of the deal's credit."""
    cycle_days: int | None = None
    """``won`` in ``sales_cycle_days``: whole local days from the deal's opening to this close."""
    label: str | None = None
    """``captured``: the lead's source; ``raised``: the objection's category."""


@dataclass(frozen=True, slots=True)
class ActivityDay:
    """The rep's activity counter for one local day: what it adds to the figure."""

    day: date
    amount: int


@dataclass(frozen=True, slots=True)
class KpiFigure:
    name: str
    value: KpiValue
    explained: bool
    basis: str
    """How the figure follows from what is listed, or why nothing is listed."""
    events: tuple[Evidence, ...] = ()
    days: tuple[ActivityDay, ...] = ()


@dataclass(frozen=True, slots=True)
class PayoutFigure:
    """A statement line, an adjustment on no plan's statement, or credit no plan rated."""

    kind: str
    rule_id: str | None
    plan_id: str | None
    plan_version: int | None
    deal_id: str | None
    rate_percent: Decimal | None
    base: Decimal
    earning: Decimal
    currency: str
    event_ids: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class Explanation:
    rep_id: str
    period: str
    first: date
    last: date
    timezone: str
    kpis: tuple[KpiFigure, ...]
    payouts: tuple[PayoutFigure, ...]
    totals: Mapping[str, Decimal]
    """The statement's total per currency."""


def explain(
    kpis: KpiBook,
    organisation: org.OrgState,
    ledger: Mapping[str, Entries],
    process: ProcessConfig,
    rep_id: str,
    period: str,
) -> Explanation:
    """Every KPI and payout figure of ``rep_id`` for ``period`` (a key such as ``2026-Q3``) over the
    merged read models, each with the events behind it."""
    window = Window.of(period, kpis.tz)
    context = context_of(organisation, kpis, process)
    result = final_statement(ledger, kpis.tz, rep_id, period, book_of(ledger, kpis.tz), context=context)
    return Explanation(
        rep_id,
        period,
        window.first,
        window.last,
        kpis.tz,
        explain_kpis(prepare(kpis, process), rep_id, period),
        explain_payouts(result),
        result.totals(),
    )


def _nobody(rep_id: str, day: date) -> tuple[str | None, tuple[str, ...]]:
    """Membership is not consulted for a rep's own figures (`kpi_scope.scope_filter`)."""
    return None, ()


def explain_kpis(prepared: PreparedBook, rep_id: str, period: str) -> tuple[KpiFigure, ...]:
    """Each figure of the rep's KPI report, in the report's order, with its events."""
    scope = Scope("rep", rep_id)
    report = report_of(prepared, scope, period, _nobody)
    window = Window.of(period, prepared.book.tz)
    includes = scope_filter(scope, _nobody)
    found: dict[str, tuple[Evidence, ...]] = {}
    found |= _deal_figures(prepared, window, includes)
    found |= _lead_figures(prepared.book, window, includes)
    found |= _objection_figures(prepared.book, window, includes)
    days = _activity_days(prepared.book, window, includes)
    figures = []
    for name, value in report.items():
        family = name.split(".", 1)[0]
        if family in BASES:
            figures.append(KpiFigure(name, value, True, BASES[family], _ordered(found.get(name, ()))))
        elif name in days:
            figures.append(KpiFigure(name, value, True, _activity_basis(name, days[name]), (), days[name]))
        else:
            figures.append(KpiFigure(name, value, False, _not_explained(name)))
    return tuple(figures)


def _ordered(events: Iterable[Evidence]) -> tuple[Evidence, ...]:
    """In time order, each entity's events together (an opening beside its close), whatever the
    order the book's partials came in."""
    listed = tuple(events)
    began: dict[str, datetime] = {}
    for one in listed:
        began[one.entity] = min(one.at, began.get(one.entity, one.at))
    return tuple(sorted(listed, key=lambda e: (began[e.entity], e.entity, e.at, e.event_id, e.role)))


def explain_payouts(result: RepStatement) -> tuple[PayoutFigure, ...]:
    """Every line of the statement, then adjustments on no plan's statement, then unrated credit."""
    figures = [
        PayoutFigure(
            str(line.kind),
            line.rule_id,
            line.plan_id,
            line.plan_version,
            line.deal_id,
            line.rate_percent,
            line.base,
            line.earning,
            one.currency,
            line.event_ids,
            line.explanation,
        )
        for one in result.statements
        for line in one.lines
    ]
    for adjustment in result.adjustments:
        figures.append(
            PayoutFigure(
                "adjustment",
                None,
                None,
                None,
                adjustment.deal_id,
                None,
                adjustment.earning,
                adjustment.earning,
                adjustment.currency,
                (adjustment.event_id,),
                adjustment.explanation,
            )
        )
    for credit in result.unrated:
        figures.append(
            PayoutFigure(
                "unrated",
                None,
                None,
                None,
                credit.deal_id,
                None,
                credit.amount,
                Decimal(0),
                credit.currency,
                credit.event_ids,
                f"credited on {credit.credited_on} with no plan in force that day: earns nothing",
            )
        )
    return tuple(figures)


# -- deals: the tests of kpi_deals.booked_kpis and decided_kpis --------------------------------------


def _close(close: Close, path: DealPath, role: Role) -> Evidence:
    record = close.record
    return Evidence(record.event_id, role, path.deal_id, record.at, record.amount, record.currency or "")


def _last_close_in(path: DealPath, window: Window) -> Close | None:
    closes = [close for close in path.closes if window.holds(close.record.at)]
    return closes[-1] if closes else None


def _by_label(
    evidence: Iterable[Evidence], prefix: str, label: Callable[[Evidence], str | None]
) -> dict[str, tuple[Evidence, ...]]:
    grouped: dict[str, list[Evidence]] = {}
    for one in evidence:
        grouped.setdefault(f"{prefix}.{label(one) or ''}", []).append(one)
    return {name: tuple(mine) for name, mine in grouped.items()}


def _deal_figures(
    prepared: PreparedBook, window: Window, includes: Includes
) -> dict[str, tuple[Evidence, ...]]:
    openings = {deal_id: timeline.of(DealOpened) for deal_id, timeline in prepared.book.timelines("deal")}
    won: list[Evidence] = []
    credited: list[Evidence] = []
    decided: list[Evidence] = []
    cycle: list[Evidence] = []
    for path in prepared.paths:
        win = path.first_win
        if win is not None and window.holds(win.record.at):
            day = window.day(win.record.at)
            if includes(win.owner, day):
                won.append(_close(win, path, "won"))
            for rep_id, share in win.record.splits:
                if includes(rep_id, day):
                    credited.append(replace(_close(win, path, "credited"), share_percent=share))
        close = _last_close_in(path, window)
        if close is None or not includes(close.owner, window.day(close.record.at)):
            continue
        decided.append(_close(close, path, "won" if close.record.won else "lost"))
        if close.record.won and path.opened_at is not None:
            days = (window.day(close.record.at) - window.day(path.opened_at)).days
            opened: DealOpened = openings[path.deal_id][0]  # the one `trace` opened the deal with
            cycle.append(Evidence(opened.event_id, "opened", path.deal_id, opened.at))
            cycle.append(replace(_close(close, path, "won"), cycle_days=days))
    return {
        "deals_won": tuple(won),
        "win_rate": tuple(decided),
        "deals_lost": tuple(e for e in decided if e.role == "lost"),
        "sales_cycle_days": tuple(cycle),
        **_by_label(won, "won_revenue", lambda e: e.currency),
        **_by_label(won, "average_deal_size", lambda e: e.currency),
        **_by_label(credited, "credited_revenue", lambda e: e.currency),
    }


# -- leads: the tests of kpi_conversion.lead_kpis ----------------------------------------------------


def _lead_figures(book: KpiBook, window: Window, includes: Includes) -> dict[str, tuple[Evidence, ...]]:
    captured: list[Evidence] = []
    cohort: list[Evidence] = []
    for lead_id, timeline in book.timelines("lead"):
        captures: tuple[LeadEntered, ...] = timeline.of(LeadEntered)
        if not captures or not window.holds(captures[0].at):
            continue
        first = captures[0]
        decisions: tuple[LeadDecided, ...] = timeline.of(LeadDecided)
        owner = first.rep_id or (decisions[0].rep_id if decisions else None)
        if not includes(owner, window.day(first.at)):
            continue
        capture = Evidence(first.event_id, "captured", lead_id, first.at, label=first.source)
        captured.append(capture)
        cohort.append(capture)
        qualified = next((d for d in decisions if d.qualified), None)
        if qualified is not None:
            cohort.append(Evidence(qualified.event_id, "qualified", lead_id, qualified.at))
    return {
        "new_leads": tuple(captured),
        "lead_to_opportunity_rate": tuple(cohort),
        **_by_label(captured, "new_leads", lambda e: e.label),
    }


# -- objections: the tests of kpi_objections.objection_kpis ------------------------------------------


def _objection_figures(book: KpiBook, window: Window, includes: Includes) -> dict[str, tuple[Evidence, ...]]:
    raised: list[Evidence] = []
    cohort: list[Evidence] = []
    for deal_id, timeline in book.timelines("deal"):
        answers: dict[str, ObjectionAnswered] = {}
        for answer in timeline.of(ObjectionAnswered):
            answers.setdefault(answer.objection_id, answer)
        first_raises: dict[str, FactRecorded] = {}
        for record in timeline.of(FactRecorded):
            if record.objection_id is not None:
                first_raises.setdefault(record.objection_id, record)
        for objection_id, record in first_raises.items():
            if not (window.holds(record.at) and includes(record.rep_id, window.day(record.at))):
                continue
            entity = f"{deal_id}/{objection_id}"
            first = Evidence(record.event_id, "raised", entity, record.at, label=record.category or "")
            raised.append(first)
            cohort.append(first)
            if objection_id in answers:
                answer = answers[objection_id]
                cohort.append(Evidence(answer.event_id, "resolved", entity, answer.at, label=first.label))
    return {
        "objections": tuple(raised),
        "objection_resolution_rate": tuple(cohort),
        **_by_label(raised, "objections", lambda e: e.label),
        **_by_label(cohort, "objection_resolution_rate", lambda e: e.label),
    }


# -- activity: the tests of kpis.activity_kpis (counters per rep and day, no event ids) --------------


def _activity_days(book: KpiBook, window: Window, includes: Includes) -> dict[str, tuple[ActivityDay, ...]]:
    """Per activity counter, the rep's days in the period with what each adds (days adding 0 left out)."""
    by_day: dict[date, KpiCounters] = {}
    for rep_id, day, counters in book.activity():
        if window.holds_day(day) and includes(rep_id, day):
            by_day[day] = by_day[day].merge(counters) if day in by_day else counters
    ordered = sorted(by_day.items())
    return {
        name: tuple(ActivityDay(day, c.to_dict()[name]) for day, c in ordered if c.to_dict()[name])
        for name in KpiCounters().to_dict()
    }


def _activity_basis(name: str, days: tuple[ActivityDay, ...]) -> str:
    if name in COUNTED_ACTIVITIES:
        total = sum(day.amount for day in days)
        return f"counted from {total} activity events on {len(days)} day(s); the counters keep no event ids"
    return f"summed over {len(days)} day(s) of the rep's activity counters, which keep no event ids"


_NOT_EXPLAINED: tuple[tuple[str, str], ...] = (
    ("stage_conversion.", "a cohort of first stage entries; its deals are not itemised yet"),
    ("forecast_", "computed over the open pipeline's expected amounts; not itemised yet"),
    ("quota", "the latest quota revision for the period and the credited revenue; not itemised yet"),
    ("objective", "set against another figure of this report; not itemised yet"),
)


def _not_explained(name: str) -> str:
    for prefix, reason in _NOT_EXPLAINED:
        if name.startswith(prefix):
            return f"not explained: {reason}"
    return "not explained: customer and repeat-sale figures are not itemised yet"
