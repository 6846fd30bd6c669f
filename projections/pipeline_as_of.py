"""The pipeline as it stood at an event time ("the pipeline on 30 June"), from the KPI timelines.

The live pipeline (`projections.pipeline`) keeps only the current state of each deal, folded in
the order events arrive, so it cannot say where a deal stood on a past date. The KPI read model
keeps, per lead and per deal, every fact that matters in time order (`projections.kpi_records`),
so the pipeline *as of* an instant X is rebuilt from those timelines truncated at X
(`KpiBook.as_of`): a fact counts from when it happened (its event time), however late it was
recorded; a deal won after X is open at X; a deal reopened after X is still closed at X.

`deal_views_as_of` gives exactly the `pipeline.DealView`s the live pipeline gives for the events
that had happened by X, so `pipeline.pipeline_summary` and `pipeline.stuck_deals` answer
unchanged. Per deal, `kpi_deal_path.trace` replays its timeline the way the write model moves a
deal, and the view takes from the path:

- **stage**: the path's stage (its opening stage until something moves it);
- **owner**: the path's owner (the qualifying rep, then the rep of each `DealStageChanged` that
  moves the deal and of `DealWon`), as the live pipeline's;
- **expected amount**: the latest amount *pitched* (`SolutionPresented`) or proposed
  (`ProposalSent`); never the budget stated at qualification (which the KPI forecast falls back to);
- **won amount, closed at**: those of the deal's last close while it is closed; none while it is
  open (a reopening clears them, as live);
- **stage entered at**: when the path entered its current stage (its opening, a move, a
  reopening, or its close).

The deal's lead (id, source, opening time, qualifying rep) is joined through the qualification:
`LeadQualified` makes both the lead's `LeadDecided` and the deal's `DealOpened`, with the same
event id and time. As live, a lead counts with the deal of its latest qualification, and a deal
appears once it is qualified or has a fact of its own.

**When the two differ.** The live pipeline folds events in the order they arrive; the timelines are
in event-time order (then event id). The two agree whenever a deal's and a lead's events arrive in
time order (the tests check this over simulated histories). A fact recorded late but dated
earlier is placed where it happened here, where it arrived live; a fact dated before its deal's
qualification (which the write model never accepts in time order) moves nothing here.

Cost: truncating the book and tracing every deal's timeline, linear in the records kept; see
docs/performance.md ("Pipeline and funnel as of").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from events.deals import CLOSED_STAGES
from events.money import Money
from projections.kpi_deal_path import DealPath, trace
from projections.kpi_fold import KpiBook
from projections.kpi_records import DealOpened, LeadDecided, LeadEntered, Timeline
from projections.pipeline import DealView, LeadPart
from sales.process import ProcessConfig


@dataclass(frozen=True, slots=True)
class _Qualification:
    """A lead's latest qualification, as the deal it opened sees it."""

    lead_id: str
    source: str | None
    at: datetime
    rep_id: str


def deal_views_as_of(
    book: KpiBook, process: ProcessConfig, as_of: datetime | None = None
) -> dict[str, DealView]:
    """Every deal as the pipeline saw it at event time ``as_of`` (None: everything known), by id."""
    known = leads_and_deals(book, as_of)
    qualifications = _qualifications(known)
    views: dict[str, DealView] = {}
    for deal_id, timeline in known.timelines("deal"):
        view = _view(deal_id, timeline, qualifications, process)
        if view is not None:
            views[deal_id] = view
    return dict(sorted(views.items()))


def lead_parts_as_of(book: KpiBook, as_of: datetime | None = None) -> dict[str, LeadPart]:
    """Every lead as the pipeline's `LeadPart` saw it at event time ``as_of``, by id: its source,
    and the deal, rep and time of its latest qualification."""
    known = leads_and_deals(book, as_of)
    opened = {
        record.event_id: deal_id
        for deal_id, timeline in known.timelines("deal")
        for record in timeline.records
        if isinstance(record, DealOpened)
    }
    parts = {}
    for lead_id, timeline in known.timelines("lead"):
        source, qualified = _lead(timeline)
        part = LeadPart(lead_id, source)
        if qualified is not None:
            deal_id = opened.get(qualified.event_id)
            part = LeadPart(lead_id, source, deal_id, qualified.rep_id, qualified.at)
        parts[lead_id] = part
    return dict(sorted(parts.items()))


KINDS = ("lead", "deal")
"""The timelines the pipeline and the funnel are rebuilt from."""


def leads_and_deals(book: KpiBook, as_of: datetime | None = None) -> KpiBook:
    """The book's lead and deal timelines only (activity counters, customers, quotas and
    objectives left out: a third of the partials), truncated at ``as_of`` by `KpiBook.as_of`."""
    prefixes = tuple(f"{kind}|" for kind in KINDS)
    narrowed = KpiBook(book.tz, {k: v for k, v in book.partials.items() if k.startswith(prefixes)})
    return narrowed if as_of is None else narrowed.as_of(as_of)


def _lead(timeline: Timeline) -> tuple[str | None, LeadDecided | None]:
    """The lead's source (its latest capture) and its latest qualification."""
    source, qualified = None, None
    for record in timeline.records:
        if isinstance(record, LeadEntered):
            source = record.source
        elif isinstance(record, LeadDecided) and record.qualified:
            qualified = record
    return source, qualified


def _qualifications(book: KpiBook) -> dict[str, _Qualification]:
    """Each lead's latest qualification, by the id of the `LeadQualified` event."""
    found = {}
    for lead_id, timeline in book.timelines("lead"):
        source, qualified = _lead(timeline)
        if qualified is not None:
            found[qualified.event_id] = _Qualification(lead_id, source, qualified.at, qualified.rep_id)
    return found


def _view(
    deal_id: str, timeline: Timeline, qualifications: dict[str, _Qualification], process: ProcessConfig
) -> DealView | None:
    lead, own_facts = None, False
    for record in timeline.records:
        if isinstance(record, DealOpened):
            joined = qualifications.get(record.event_id)
            if joined is not None and joined.at == record.at:
                lead = joined
        else:
            own_facts = True
    if lead is None and not own_facts:
        return None  # opened by a qualification its lead has since replaced
    path = trace(deal_id, timeline, process)
    opened_at = lead.at if lead else None
    closed = path.stage in CLOSED_STAGES and path.closes
    last = path.closes[-1].record if closed else None
    return DealView(
        deal_id,
        stage=path.stage or process.deal.open_stage,
        rep_id=path.owner or (lead.rep_id if lead else None),
        lead_id=lead.lead_id if lead else None,
        lead_source=lead.source if lead else None,
        opened_at=opened_at,
        stage_entered_at=path.stage_entered_at if _moved(path) else opened_at,
        expected_amount=_money(path.pitched_amount, path.pitched_currency),
        won_amount=_money(last.amount, last.currency) if last and last.won else None,
        closed_at=last.at if last else None,
    )


def _moved(path: DealPath) -> bool:
    """Whether anything moved the deal since it opened (else it is where its qualification put it)."""
    return bool(path.closes) or len(path.entries) > (1 if path.opened_at is not None else 0)


def _money(amount: Decimal | None, currency: str | None) -> Money | None:
    return None if amount is None or currency is None else Money(amount=amount, currency=currency)
