"""A deal's path through the pipeline, traced from its timeline under the organisation's process.

The trace replays the deal's records in time order (then event id) the way the write model moved
the deal (`sales.deal`): `LeadQualified` opens it in ``deal.open_stage``; a stage change
moves it (or reopens it); a fact a later stage is ``reached_by`` moves an open deal forward, never
back; `DealWon` / `DealLost` close it. It yields every stage entry with its owner, every close with
the owner to credit, the current stage, and the amount the pipeline expects.

**Owner.** The deal's owner follows `LeadQualified`, `DealStageChanged` and `DealWon` (the process
does not require the rep on other facts to be the owner: sales engineers present, managers
negotiate). As in the write model (`sales.deal`), a `DealStageChanged` naming the stage the deal is
already in (a deal announcing the stage it opened in) moves nothing and changes no owner. A loss
is the owner's at the time; only a deal with no known owner falls back to the rep named on
`DealLost`.

**Expected amount.** The latest amount pitched (`SolutionPresented`) or proposed (`ProposalSent`),
else the budget stated at qualification, else unknown. The pitched amount alone (no budget) is
kept too, as ``pitched_amount``: it is what the pipeline values a deal at
(`projections.pipeline_as_of`).

**Stage entry.** ``stage_entered_at`` is when the deal entered its current stage: its opening, a
move, a reopening, or its close (``entries`` holds open stages only, ``closes`` the closes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from events.deals import CLOSED_STAGES
from projections.kpi_records import DealClosed, DealOpened, FactRecorded, Record, StageMoved, Timeline
from sales.process import ProcessConfig
from sales.stages import stage_reached


@dataclass(frozen=True, slots=True)
class Entry:
    """The deal entered ``stage`` at ``at``, owned by ``owner``."""

    stage: str
    at: datetime
    owner: str | None


@dataclass(frozen=True, slots=True)
class Close:
    """A `DealWon` or `DealLost`, with the rep it is attributed to."""

    record: DealClosed
    owner: str


@dataclass(frozen=True, slots=True)
class DealPath:
    deal_id: str
    opened_at: datetime | None
    decision_by: date | None
    entries: tuple[Entry, ...]
    closes: tuple[Close, ...]
    stage: str | None
    owner: str | None
    amount: Decimal | None
    currency: str | None
    pitched_amount: Decimal | None = None
    pitched_currency: str | None = None
    stage_entered_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.stage is not None and self.stage not in CLOSED_STAGES

    @property
    def first_win(self) -> Close | None:
        """The win that counts for revenue and quota: the first (a deal won again counts once)."""
        return next((close for close in self.closes if close.record.won), None)


@dataclass
class _Trace:
    process: ProcessConfig
    opened_at: datetime | None = None
    decision_by: date | None = None
    stage: str | None = None
    owner: str | None = None
    pitched: tuple[Decimal, str] | None = None
    budget: tuple[Decimal, str] | None = None
    stage_entered_at: datetime | None = None
    entries: list[Entry] = field(default_factory=list)
    closes: list[Close] = field(default_factory=list)

    def step(self, record: Record) -> None:
        match record:
            case DealOpened():
                self._opened(record)
            case StageMoved():
                if record.to_stage != self.stage:  # announcing the stage it is in moves nothing
                    self.owner = record.rep_id
                    self._enter(record.to_stage, record.at)
            case FactRecorded():
                self._fact(record)
            case DealClosed():
                self.owner = record.rep_id if record.won else self.owner
                self.closes.append(Close(record, self.owner or record.rep_id))
                outcome = "won" if record.won else "lost"
                if outcome != self.stage:
                    self.stage, self.stage_entered_at = outcome, record.at

    def _opened(self, record: DealOpened) -> None:
        self.opened_at, self.decision_by = self.opened_at or record.at, record.decision_by
        self.owner = self.owner or record.rep_id
        if record.amount is not None and record.currency is not None:
            self.budget = (record.amount, record.currency)
        if self.stage is None:
            self._enter(self.process.deal.open_stage, record.at)

    def _fact(self, record: FactRecorded) -> None:
        if record.amount is not None and record.currency is not None:
            self.pitched = (record.amount, record.currency)
        if self.stage is not None:
            self._enter(stage_reached(self.stage, record.fact, self.process), record.at)

    def _enter(self, stage: str, at: datetime) -> None:
        if stage != self.stage:
            self.stage, self.stage_entered_at = stage, at
            self.entries.append(Entry(stage, at, self.owner))


def trace(deal_id: str, timeline: Timeline, process: ProcessConfig) -> DealPath:
    """The deal's path, from every record known about it."""
    path = _Trace(process)
    for record in timeline.records:
        path.step(record)
    amount = path.pitched or path.budget
    return DealPath(
        deal_id,
        path.opened_at,
        path.decision_by,
        tuple(path.entries),
        tuple(path.closes),
        path.stage,
        path.owner,
        amount[0] if amount else None,
        amount[1] if amount else None,
        path.pitched[0] if path.pitched else None,
        path.pitched[1] if path.pitched else None,
        path.stage_entered_at,
    )
