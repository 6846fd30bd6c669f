"""The funnel as it stood at an event time ("the funnel on 30 June"), from the KPI timelines.

The live funnel (`projections.funnel`) keeps one track per lead and per deal, folded in the order
events arrive. Every event a track reads is also a record in the KPI read model's timeline of the
same lead or deal (`projections.kpi_records`): `LeadCaptured` a `LeadEntered`, `LeadQualified`
and `LeadDisqualified` a `LeadDecided`, each deal event a `FactRecorded`, `ObjectionAnswered`,
`StageMoved` or `DealClosed`. So the funnel *as of* an instant X is the same tracks folded from
the timelines truncated at X (`KpiBook.as_of`), record by record in time order, through the same
moves (`funnel.moved_to`, `sales.stages.stage_reached`): `tracks_as_of` gives exactly the tracks
`funnel.fold` gives for the events that had happened by X, keyed the same way (``lead:<id>``,
``deal:<id>``), and `funnel.total` / `funnel.funnel_report` answer unchanged.

Facts count from when they happened (their event time), however late they were recorded: a deal
won after X is open at X, a reopening after X leaves it closed. As for the pipeline
(`projections.pipeline_as_of`), timelines are in event-time order (then event id) while the live
fold is in arrival order; they agree whenever each lead's and deal's events arrive in time order.
"""

from __future__ import annotations

from datetime import datetime

from projections.funnel import DealTrack, LeadTrack, Track, moved_to
from projections.kpi_fold import KpiBook
from projections.kpi_records import (
    DealClosed,
    FactRecorded,
    LeadDecided,
    LeadEntered,
    ObjectionAnswered,
    Record,
    StageMoved,
    Timeline,
)
from projections.pipeline_as_of import leads_and_deals
from sales.process import ProcessConfig
from sales.stages import stage_reached


def tracks_as_of(book: KpiBook, process: ProcessConfig, as_of: datetime | None = None) -> dict[str, Track]:
    """Every lead's and deal's funnel track at event time ``as_of`` (None: everything known)."""
    known = leads_and_deals(book, as_of)
    tracks: dict[str, Track] = {}
    for lead_id, timeline in known.timelines("lead"):
        tracks[f"lead:{lead_id}"] = lead_track(lead_id, timeline)
    for deal_id, timeline in known.timelines("deal"):
        track = deal_track(deal_id, timeline, process)
        if track is not None:
            tracks[f"deal:{deal_id}"] = track
    return dict(sorted(tracks.items()))


def lead_track(lead_id: str, timeline: Timeline) -> LeadTrack:
    """Captured, qualified, disqualified (and not requalified since), as `funnel.evolve` has it."""
    captured = qualified = disqualified = False
    for record in timeline.records:
        if isinstance(record, LeadEntered):
            captured = True
        elif isinstance(record, LeadDecided):
            qualified, disqualified = (True, False) if record.qualified else (qualified, True)
    return LeadTrack(lead_id, captured, qualified, disqualified)


def deal_track(deal_id: str, timeline: Timeline, process: ProcessConfig) -> DealTrack | None:
    """The deal's track, or None when it has no event of its own yet (only its opening, which
    the lead's track counts: the live funnel has no track for it either)."""
    track, seen = DealTrack(deal_id), False
    for record in timeline.records:
        after = _stage_after(track.stage or process.deal.open_stage, record, process)
        if after is not None:
            seen = True
            track = moved_to(track, after, process)
    return track if seen else None


def _stage_after(stage: str, record: Record, process: ProcessConfig) -> str | None:
    """Where a deal record leaves a deal in ``stage`` (`sales.stages.stage_after` for the event it
    records); None for a record that is not a deal event of its own (the opening)."""
    match record:
        case DealClosed():
            return "won" if record.won else "lost"
        case StageMoved():
            return record.to_stage
        case FactRecorded():
            return stage_reached(stage, record.fact, process)
        case ObjectionAnswered():
            return stage_reached(stage, "ObjectionResolved", process)
    return None
