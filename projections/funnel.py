"""The funnel: how many leads and deals reach each stage, move on, skip, fall back, win or lose.

Counting rules (each count is of *distinct* leads or deals, so a deal bouncing between two stages
is still one deal in each):

- **Leads** = leads captured; **qualified** = leads qualified into a deal; **disqualified** =
  leads disqualified and not (re)qualified since.
- **Entered** a stage: deals that were in it at least once. The stage a deal opens in is entered
  by its qualification; later entries are by a forward move (a `DealStageChanged` or a fact the
  stage is ``reached_by``), a move back, or a reopening.
- **Advanced** from a stage: deals that left it forward at least once: to a later stage, or won
  while in it. **Conversion** of a stage = advanced / entered (None when nobody entered).
- **Skipped**: deals that passed over the stage on a forward move (optional stages included), and
  for a deal won early, every stage after the one it was won from.
- **Regressed**: deals that moved back out of the stage at least once. Backward moves do not undo
  an advance: a deal that advanced, fell back and never advanced again still advanced.
- **Won** / **lost**: deals whose *current* outcome is won / lost (lost per stage: the stage it
  was lost from). A reopened deal counts in neither until it closes again, then once, so a deal
  won twice is one win. **Reopened** = deals reopened at least once; a reopening is an entry into
  the stage it reopens in, neither an advance nor a regression.
- A move from or to a stage the process no longer defines is only an entry.
- **Lead to won** = won / leads captured: the whole funnel in one number, not the product of the
  stage conversions (skips and regressions make that product meaningless).

**Partitioning.** Like `projections.pipeline`: one `LeadTrack` per lead (``lead:<id>``) and one
`DealTrack` per deal (``deal:<id>``), each fed by the one partition of its aggregate; a deal's
track starts in ``open_stage`` without waiting for the qualification, whose entry the lead's track
counts. `counts` turns a track into `FunnelCounts`, which add up across tracks and partitions
(`FunnelCounts.merge`), so the report is the same whatever the order of independent events.

**As of a past instant.** The tracks as they stood at an event time are folded from the KPI
timelines truncated there (`projections.funnel_as_of`), through the same moves (`moved_to`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, TypeAlias

from events.deals import CLOSED_STAGES
from events.envelope import Envelope
from events.prospecting import LeadCaptured
from events.qualification import LeadDisqualified, LeadQualified
from projections.pipeline import DEAL_EVENTS
from sales.process import ProcessConfig
from sales.stages import stage_after

PerStage: TypeAlias = Mapping[str, int]
_STAGE_COUNTS = ("entered", "advanced", "skipped", "regressed", "lost_in")
_DEAL_SETS = ("entered", "advanced", "skipped", "regressed")
_TOTALS = ("leads", "qualified", "disqualified", "won", "lost", "reopened")


@dataclass(frozen=True, slots=True)
class FunnelCounts:
    """Counts that add up: per stage (stage name -> deals) and for the funnel as a whole."""

    leads: int = 0
    qualified: int = 0
    disqualified: int = 0
    won: int = 0
    lost: int = 0
    reopened: int = 0
    entered: PerStage = field(default_factory=dict)
    advanced: PerStage = field(default_factory=dict)
    skipped: PerStage = field(default_factory=dict)
    regressed: PerStage = field(default_factory=dict)
    lost_in: PerStage = field(default_factory=dict)

    def merge(self, other: FunnelCounts) -> FunnelCounts:
        return FunnelCounts(
            self.leads + other.leads,
            self.qualified + other.qualified,
            self.disqualified + other.disqualified,
            self.won + other.won,
            self.lost + other.lost,
            self.reopened + other.reopened,
            *(_add(getattr(self, name), getattr(other, name)) for name in _STAGE_COUNTS),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            name: dict(value) if isinstance(value, Mapping) else value
            for name, value in ((name, getattr(self, name)) for name in self.__dataclass_fields__)
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FunnelCounts:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


def _add(a: PerStage, b: PerStage) -> PerStage:
    return {stage: a.get(stage, 0) + b.get(stage, 0) for stage in sorted(a.keys() | b.keys())}


def _ones(stages: Iterable[str]) -> PerStage:
    return dict.fromkeys(sorted(stages), 1)


@dataclass(frozen=True, slots=True)
class LeadTrack:
    lead_id: str
    captured: bool = False
    qualified: bool = False
    disqualified: bool = False

    def to_dict(self) -> dict[str, Any]:
        flags = {"captured": self.captured, "qualified": self.qualified, "disqualified": self.disqualified}
        return {"kind": "lead", "lead_id": self.lead_id, **flags}


@dataclass(frozen=True, slots=True)
class DealTrack:
    """Where one deal has been. ``stage`` None: still where it opened; ``entered`` leaves out the
    opening stage (the qualification counts it); ``closed_from``: the stage it closed from."""

    deal_id: str
    stage: str | None = None
    entered: frozenset[str] = frozenset()
    advanced: frozenset[str] = frozenset()
    skipped: frozenset[str] = frozenset()
    regressed: frozenset[str] = frozenset()
    closed_from: str | None = None
    reopened: bool = False

    def to_dict(self) -> dict[str, Any]:
        sets = {name: sorted(getattr(self, name)) for name in _DEAL_SETS}
        closed = {"closed_from": self.closed_from, "reopened": self.reopened}
        return {"kind": "deal", "deal_id": self.deal_id, "stage": self.stage, **sets, **closed}


Track: TypeAlias = LeadTrack | DealTrack


def track_from_dict(data: Mapping[str, Any]) -> Track:
    if data["kind"] == "lead":
        return LeadTrack(data["lead_id"], data["captured"], data["qualified"], data["disqualified"])
    entered, advanced, skipped, regressed = (frozenset(data[name]) for name in _DEAL_SETS)
    return DealTrack(
        data["deal_id"],
        data["stage"],
        entered,
        advanced,
        skipped,
        regressed,
        data["closed_from"],
        data["reopened"],
    )


def key_of(event: Envelope) -> str | None:
    """The track ``event`` folds into: ``lead:<lead_id>`` or ``deal:<deal_id>`` (its own aggregate)."""
    if isinstance(event, LeadCaptured | LeadQualified | LeadDisqualified):
        return f"lead:{event.data.lead_id}"
    if isinstance(event, DEAL_EVENTS):
        return f"deal:{event.data.deal_id}"
    return None


def empty(key: str) -> Track:
    kind, _, aggregate_id = key.partition(":")
    return LeadTrack(aggregate_id) if kind == "lead" else DealTrack(aggregate_id)


def evolve(track: Track, event: Envelope, process: ProcessConfig) -> Track:
    """The track after ``event`` (an event of another aggregate leaves it as it is)."""
    if isinstance(track, LeadTrack):
        return _evolve_lead(track, event)
    if not isinstance(event, DEAL_EVENTS) or event.data.deal_id != track.deal_id:
        return track
    return moved_to(track, stage_after(track.stage or process.deal.open_stage, event, process), process)


def moved_to(track: DealTrack, after: str, process: ProcessConfig) -> DealTrack:
    """The track after a deal event leaves the deal in ``after`` (unchanged when it stays where it
    is). `projections.funnel_as_of` folds a deal's KPI timeline through it."""
    before = track.stage or process.deal.open_stage
    return track if after == before else _moved(track, before, after, process)


def _evolve_lead(track: LeadTrack, event: Envelope) -> LeadTrack:
    if isinstance(event, LeadCaptured) and event.data.lead_id == track.lead_id:
        return replace(track, captured=True)
    if isinstance(event, LeadQualified) and event.data.lead_id == track.lead_id:
        return replace(track, qualified=True, disqualified=False)
    if isinstance(event, LeadDisqualified) and event.data.lead_id == track.lead_id:
        return replace(track, disqualified=True)
    return track


def _moved(track: DealTrack, before: str, after: str, process: ProcessConfig) -> DealTrack:
    track = replace(track, stage=after)
    if after not in CLOSED_STAGES and after != process.deal.open_stage:
        track = replace(track, entered=track.entered | {after})
    if before in CLOSED_STAGES:  # a reopening (or, in a history no process accepts, a flipped outcome)
        return track if after in CLOSED_STAGES else replace(track, closed_from=None, reopened=True)
    if after in CLOSED_STAGES:
        track = replace(track, closed_from=before)
    if after == "lost":
        return track
    here = process.position(before)
    there = len(process.stages) if after == "won" else process.position(after)
    if here is None or there is None:
        return track
    if there < here:
        return replace(track, regressed=track.regressed | {before})
    passed = process.stage_names[here + 1 : there]
    return replace(track, advanced=track.advanced | {before}, skipped=track.skipped | set(passed))


def counts(track: Track, process: ProcessConfig) -> FunnelCounts:
    """What one lead or deal adds to the funnel."""
    if isinstance(track, LeadTrack):
        return FunnelCounts(
            leads=int(track.captured),
            qualified=int(track.qualified),
            disqualified=int(track.disqualified),
            entered={process.deal.open_stage: 1} if track.qualified else {},
        )
    outcome = track.stage if track.stage in CLOSED_STAGES else None
    return FunnelCounts(
        won=int(outcome == "won"),
        lost=int(outcome == "lost"),
        reopened=int(track.reopened),
        entered=_ones(track.entered),
        advanced=_ones(track.advanced),
        skipped=_ones(track.skipped),
        regressed=_ones(track.regressed),
        lost_in=_ones([track.closed_from]) if outcome == "lost" and track.closed_from else {},
    )


def total(tracks: Iterable[Track], process: ProcessConfig) -> FunnelCounts:
    """The funnel counts of many tracks (from any partitions) added up."""
    totals = dict.fromkeys(_TOTALS, 0)
    per_stage: dict[str, dict[str, int]] = {name: {} for name in _STAGE_COUNTS}
    for track in tracks:  # summed in place: one FunnelCounts per track, none per partial sum
        one = counts(track, process)
        for name in _TOTALS:
            totals[name] += getattr(one, name)
        for name in _STAGE_COUNTS:
            into = per_stage[name]
            for stage, n in getattr(one, name).items():
                into[stage] = into.get(stage, 0) + n
    entered, advanced, skipped, regressed, lost_in = (
        dict(sorted(per_stage[name].items())) for name in _STAGE_COUNTS
    )
    return FunnelCounts(
        totals["leads"],
        totals["qualified"],
        totals["disqualified"],
        totals["won"],
        totals["lost"],
        totals["reopened"],
        entered,
        advanced,
        skipped,
        regressed,
        lost_in,
    )


def fold(events: Iterable[Envelope], process: ProcessConfig) -> dict[str, Track]:
    """Every track from a whole history (what a replay computes; live agents keep them per partition)."""
    tracks: dict[str, Track] = {}
    for event in events:
        key = key_of(event)
        if key is not None:
            tracks[key] = evolve(tracks.get(key) or empty(key), event, process)
    return tracks


@dataclass(frozen=True, slots=True)
class FunnelRow:
    stage: str
    entered: int
    advanced: int
    skipped: int
    regressed: int
    lost: int
    conversion: Decimal | None
    """Advanced / entered."""
    from_leads: Decimal | None
    """Entered / leads captured: how far down the funnel the leads got."""


@dataclass(frozen=True, slots=True)
class FunnelReport:
    leads: int
    qualified: int
    disqualified: int
    won: int
    lost: int
    reopened: int
    lead_to_qualified: Decimal | None
    lead_to_won: Decimal | None
    rows: tuple[FunnelRow, ...]


def funnel_report(counts: FunnelCounts, process: ProcessConfig) -> FunnelReport:
    """Per-stage rows in process order (then stages the process no longer has), and the totals."""
    known = set(process.stage_names)
    seen = {stage for name in _STAGE_COUNTS for stage in getattr(counts, name)}
    stages = (*process.stage_names, *sorted(seen - known))
    rows = tuple(
        FunnelRow(
            stage,
            entered=counts.entered.get(stage, 0),
            advanced=counts.advanced.get(stage, 0),
            skipped=counts.skipped.get(stage, 0),
            regressed=counts.regressed.get(stage, 0),
            lost=counts.lost_in.get(stage, 0),
            conversion=_ratio(counts.advanced.get(stage, 0), counts.entered.get(stage, 0)),
            from_leads=_ratio(counts.entered.get(stage, 0), counts.leads),
        )
        for stage in stages
    )
    return FunnelReport(
        counts.leads,
        counts.qualified,
        counts.disqualified,
        counts.won,
        counts.lost,
        counts.reopened,
        lead_to_qualified=_ratio(counts.qualified, counts.leads),
        lead_to_won=_ratio(counts.won, counts.leads),
        rows=rows,
    )


def _ratio(part: int, whole: int) -> Decimal | None:
    return None if whole == 0 else Decimal(part) / Decimal(whole)
