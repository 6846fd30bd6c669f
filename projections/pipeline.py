"""The open pipeline: deals by stage, rep, team and territory; value, weighted value, stuck deals.

Business rules:

- **Stages** move as the write model moves them (`sales.deal.evolve`), from the same
  `ProcessConfig`: a deal opens in ``deal.open_stage`` when its lead is qualified; a fact a later
  stage is ``reached_by`` moves it forward there (never back); `DealStageChanged` moves it to
  ``to_stage`` (from ``won``/``lost``: a reopening); `DealWon` / `DealLost` close it.
- **Owner**: the qualifying rep, then the rep of each `DealStageChanged` that moves the deal and of
  `DealWon` (as in the write model). The whole open deal is in its owner's pipeline: credit
  splits only exist on a win, and won deals are not pipeline.
- **Value**: the latest amount pitched (`SolutionPresented`) or proposed (`ProposalSent`).
  **Weighted value** = value * the stage's probability from the process file; a deal in a stage
  the file no longer defines weighs 0. Money in different currencies is never added: every row
  is for one currency, and deals with no amount yet are counted in a row whose currency is None.
- **Time in stage** = ``as_of`` minus the time of the event that moved the deal into its stage (the
  qualification if it never moved). Only event times count, never a clock: ``as_of`` is an
  instant the caller supplies. A deal is **stuck** when it has been in its stage for longer than
  ``stuck_after``. Events timed after ``as_of`` give a time in stage of zero, not negative.
- **Attribution**: team and territories are those of the owner *as of* ``as_of`` (membership on
  the calendar date of ``as_of`` in its own timezone), not when the deal opened: the pipeline is
  who holds the deals now. A rep owning several territories puts their deals in each one's row
  (territory rows can overlap); a deal whose owner has no team or territory that day is in the
  None row.

**Partitioning.** A deal's events are keyed by the deal, except `LeadQualified`, which lives in
the lead's stream with `LeadCaptured`. So the fold keeps two kinds of part, each fed by exactly
one source partition: a `LeadPart` per lead (``lead:<id>``: source, the deal it became, owner,
qualification time) and a `DealPart` per deal (``deal:<id>``: everything after). A `DealPart`
starts in ``open_stage`` without waiting for the qualification, so the two never depend on each
other's order; `deal_views` joins them on ``deal_id``. The projector stores
``[offset, part.to_dict()]`` per source partition and ``key_of(event)``.

**As of a past instant.** These parts are current state only. The pipeline as it stood at an
event time is rebuilt from the KPI timelines instead (`projections.pipeline_as_of`), giving the
same `DealView`s, which the functions below summarise unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, TypeAlias

from events.deals import CLOSED_STAGES, DealLost, DealStageChanged, DealWon, ProposalSent
from events.envelope import Envelope
from events.money import Money
from events.presentation import ObjectionRaised, ObjectionResolved, SolutionPresented
from events.prospecting import LeadCaptured
from events.qualification import LeadQualified, NeedsAssessed
from projections.org import OrgState, team_of, territories_of
from sales.process import ProcessConfig, stage_probability
from sales.stages import stage_after

DEAL_EVENTS = (
    NeedsAssessed,
    SolutionPresented,
    ObjectionRaised,
    ObjectionResolved,
    ProposalSent,
    DealStageChanged,
    DealWon,
    DealLost,
)
GroupBy: TypeAlias = Literal["stage", "rep", "team", "territory"]


@dataclass(frozen=True, slots=True)
class LeadPart:
    """What a lead's stream says about the deal it became."""

    lead_id: str
    source: str | None = None
    deal_id: str | None = None
    owner: str | None = None
    qualified_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "lead",
            "lead_id": self.lead_id,
            "source": self.source,
            "deal_id": self.deal_id,
            "owner": self.owner,
            "qualified_at": _time_out(self.qualified_at),
        }


@dataclass(frozen=True, slots=True)
class DealPart:
    """What a deal's own stream says. ``stage`` None: still in the stage it opened in (since the
    qualification); ``owner`` None: still the qualifying rep."""

    deal_id: str
    stage: str | None = None
    stage_entered_at: datetime | None = None
    owner: str | None = None
    expected_amount: Money | None = None
    won_amount: Money | None = None
    closed_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "deal",
            "deal_id": self.deal_id,
            "stage": self.stage,
            "stage_entered_at": _time_out(self.stage_entered_at),
            "owner": self.owner,
            "expected_amount": _money_out(self.expected_amount),
            "won_amount": _money_out(self.won_amount),
            "closed_at": _time_out(self.closed_at),
        }


Part: TypeAlias = LeadPart | DealPart


def part_from_dict(data: Mapping[str, Any]) -> Part:
    if data["kind"] == "lead":
        qualified_at = _time_in(data["qualified_at"])
        return LeadPart(data["lead_id"], data["source"], data["deal_id"], data["owner"], qualified_at)
    return DealPart(
        data["deal_id"],
        data["stage"],
        _time_in(data["stage_entered_at"]),
        data["owner"],
        _money_in(data["expected_amount"]),
        _money_in(data["won_amount"]),
        _time_in(data["closed_at"]),
    )


def key_of(event: Envelope) -> str | None:
    """The part ``event`` folds into: ``lead:<lead_id>`` or ``deal:<deal_id>`` (its own aggregate)."""
    if isinstance(event, LeadCaptured | LeadQualified):
        return f"lead:{event.data.lead_id}"
    if isinstance(event, DEAL_EVENTS):
        return f"deal:{event.data.deal_id}"
    return None


def empty(key: str) -> Part:
    kind, _, aggregate_id = key.partition(":")
    return LeadPart(aggregate_id) if kind == "lead" else DealPart(aggregate_id)


def evolve(part: Part, event: Envelope, process: ProcessConfig) -> Part:
    """The part after ``event`` (an event of another aggregate leaves it as it is)."""
    if isinstance(part, LeadPart):
        return _evolve_lead(part, event)
    return _evolve_deal(part, event, process)


def _evolve_lead(part: LeadPart, event: Envelope) -> LeadPart:
    if isinstance(event, LeadCaptured) and event.data.lead_id == part.lead_id:
        return replace(part, source=event.data.source.value)
    if isinstance(event, LeadQualified) and event.data.lead_id == part.lead_id:
        return replace(part, deal_id=event.data.deal_id, owner=event.data.rep_id, qualified_at=event.time)
    return part


def _evolve_deal(part: DealPart, event: Envelope, process: ProcessConfig) -> DealPart:
    if not isinstance(event, DEAL_EVENTS) or event.data.deal_id != part.deal_id:
        return part
    before = part.stage or process.deal.open_stage
    after = stage_after(before, event, process)
    match event:
        case SolutionPresented(data=data):
            part = replace(part, expected_amount=data.proposed_amount)
        case ProposalSent(data=data):
            part = replace(part, expected_amount=data.amount)
        case DealWon(data=data):
            part = replace(part, owner=data.rep_id, won_amount=data.amount, closed_at=event.time)
        case DealLost():
            part = replace(part, closed_at=event.time)
        case DealStageChanged(data=data) if after != before:
            part = replace(part, owner=data.rep_id)
            if before in CLOSED_STAGES:  # reopened: no outcome until it closes again
                part = replace(part, won_amount=None, closed_at=None)
    return part if after == before else replace(part, stage=after, stage_entered_at=event.time)


def fold(events: Iterable[Envelope], process: ProcessConfig) -> dict[str, Part]:
    """Every part from a whole history (what a replay computes; live agents keep them per partition)."""
    parts: dict[str, Part] = {}
    for event in events:
        key = key_of(event)
        if key is not None:
            parts[key] = evolve(parts.get(key) or empty(key), event, process)
    return parts


@dataclass(frozen=True, slots=True)
class DealView:
    """One deal as the pipeline sees it: its lead's part joined with its own."""

    deal_id: str
    stage: str
    rep_id: str | None
    lead_id: str | None = None
    lead_source: str | None = None
    opened_at: datetime | None = None
    stage_entered_at: datetime | None = None
    expected_amount: Money | None = None
    won_amount: Money | None = None
    closed_at: datetime | None = None

    @property
    def status(self) -> Literal["open", "won", "lost"]:
        return "won" if self.stage == "won" else "lost" if self.stage == "lost" else "open"


def deal_views(parts: Iterable[Part], process: ProcessConfig) -> dict[str, DealView]:
    """Join lead parts and deal parts on ``deal_id`` (either may be missing while agents catch up:
    a deal without its lead part has no opening time, so no time in stage until it moves)."""
    all_parts = list(parts)
    leads = {p.deal_id: p for p in all_parts if isinstance(p, LeadPart) and p.deal_id is not None}
    deals = {p.deal_id: p for p in all_parts if isinstance(p, DealPart)}
    return {d: _view(d, leads.get(d), deals.get(d), process) for d in sorted(leads.keys() | deals.keys())}


def _view(deal_id: str, lead: LeadPart | None, deal: DealPart | None, process: ProcessConfig) -> DealView:
    opened_at = lead.qualified_at if lead else None
    moved = deal is not None and deal.stage is not None
    return DealView(
        deal_id,
        stage=deal.stage if deal and deal.stage else process.deal.open_stage,
        rep_id=(deal.owner if deal else None) or (lead.owner if lead else None),
        lead_id=lead.lead_id if lead else None,
        lead_source=lead.source if lead else None,
        opened_at=opened_at,
        stage_entered_at=deal.stage_entered_at if deal and moved else opened_at,
        expected_amount=deal.expected_amount if deal else None,
        won_amount=deal.won_amount if deal else None,
        closed_at=deal.closed_at if deal else None,
    )


@dataclass(frozen=True, slots=True)
class PipelineRow:
    """Open deals of one group in one currency (None: not priced yet)."""

    group: str | None
    currency: str | None
    count: int
    value: Decimal
    weighted_value: Decimal
    average_time_in_stage: timedelta | None
    stuck: int


@dataclass(frozen=True, slots=True)
class StuckDeal:
    deal_id: str
    rep_id: str | None
    stage: str
    stage_entered_at: datetime
    time_in_stage: timedelta


def time_in_stage(deal: DealView, as_of: datetime) -> timedelta | None:
    """How long the deal has been in its stage at ``as_of`` (None when its entry time is unknown)."""
    if deal.stage_entered_at is None:
        return None
    return max(as_of - deal.stage_entered_at, timedelta(0))


def is_stuck(deal: DealView, as_of: datetime, stuck_after: timedelta) -> bool:
    """An open deal with no stage change for longer than ``stuck_after`` at ``as_of``."""
    spent = time_in_stage(deal, as_of)
    return deal.status == "open" and spent is not None and spent > stuck_after


def weighted_value(deal: DealView, process: ProcessConfig) -> Decimal:
    """Value * stage probability (0 without an amount, or in a stage the process no longer has)."""
    if deal.expected_amount is None or (deal.status == "open" and process.position(deal.stage) is None):
        return Decimal(0)
    return deal.expected_amount.amount * stage_probability(process, deal.stage)


def stuck_deals(deals: Iterable[DealView], as_of: datetime, stuck_after: timedelta) -> list[StuckDeal]:
    """Open deals stuck at ``as_of``, longest in their stage first."""
    _require_aware(as_of)
    stuck = [
        StuckDeal(
            d.deal_id, d.rep_id, d.stage, d.stage_entered_at, max(as_of - d.stage_entered_at, timedelta(0))
        )
        for d in deals
        if d.stage_entered_at is not None and is_stuck(d, as_of, stuck_after)
    ]
    return sorted(stuck, key=lambda s: (-s.time_in_stage, s.deal_id))


def pipeline_summary(
    deals: Iterable[DealView],
    org: OrgState,
    process: ProcessConfig,
    as_of: datetime,
    group_by: GroupBy,
    stuck_after: timedelta,
) -> list[PipelineRow]:
    """Open deals per group and currency: count, value, weighted value, time in stage, stuck."""
    _require_aware(as_of)
    buckets: dict[tuple[str | None, str | None], list[DealView]] = {}
    for deal in deals:
        if deal.status == "open":
            currency = deal.expected_amount.currency if deal.expected_amount else None
            for group in _groups(deal, group_by, org, as_of):
                buckets.setdefault((group, currency), []).append(deal)
    rows = [_row(g, c, members, process, as_of, stuck_after) for (g, c), members in buckets.items()]
    return sorted(rows, key=lambda row: _row_order(row, group_by, process))


def _groups(deal: DealView, group_by: GroupBy, org: OrgState, as_of: datetime) -> tuple[str | None, ...]:
    if group_by == "stage":
        return (deal.stage,)
    if group_by == "rep" or deal.rep_id is None:
        return (deal.rep_id,)
    if group_by == "team":
        return (team_of(org, deal.rep_id, as_of.date()),)
    return territories_of(org, deal.rep_id, as_of.date()) or (None,)


def _row(
    group: str | None,
    currency: str | None,
    deals: list[DealView],
    process: ProcessConfig,
    as_of: datetime,
    stuck_after: timedelta,
) -> PipelineRow:
    times = [t for t in (time_in_stage(d, as_of) for d in deals) if t is not None]
    return PipelineRow(
        group,
        currency,
        count=len(deals),
        value=sum((d.expected_amount.amount for d in deals if d.expected_amount), Decimal(0)),
        weighted_value=sum((weighted_value(d, process) for d in deals), Decimal(0)),
        average_time_in_stage=sum(times, timedelta(0)) / len(times) if times else None,
        stuck=sum(is_stuck(d, as_of, stuck_after) for d in deals),
    )


def _row_order(row: PipelineRow, group_by: GroupBy, process: ProcessConfig) -> tuple[Any, ...]:
    """Stages in process order, other groups by name; None (no group, no currency) last."""
    position = process.position(row.group) if group_by == "stage" and row.group else None
    rank = len(process.stages) if position is None else position
    return (row.group is None, rank, row.group or "", row.currency is None, row.currency or "")


def _require_aware(as_of: datetime) -> None:
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must carry a timezone, like event times")


def _time_out(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _time_in(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _money_out(money: Money | None) -> dict[str, str] | None:
    return None if money is None else {"amount": str(money.amount), "currency": money.currency}


def _money_in(data: Mapping[str, str] | None) -> Money | None:
    return None if data is None else Money.model_validate(data)
