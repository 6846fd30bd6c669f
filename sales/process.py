"""The sales process an organisation follows, read from a TOML file (format: `docs/process.md`).

The process is data: ordered open stages with forecast probabilities and entry rules, which BANT
criteria qualify a lead, how deals may move between stages, from where they close and whether
they reopen. Whatever the file does not grant is forbidden: with a key left out, a deal cannot
skip a stage, move back or reopen. ``won`` and ``lost`` are not configured: they are the outcomes
of `DealWon` and `DealLost`, with probabilities 1 and 0.

Decimals (probabilities) are read exactly: TOML floats are parsed as `Decimal`, never as binary
floats, so ``0.1`` is exactly one tenth.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    model_validator,
)

from events.deals import CLOSED_STAGES, StageName
from sales.coaching import CoachingRules

DEFAULT_PROCESS_FILE = Path(__file__).with_name("default_process.toml")

Condition = Literal["bant", "needs_assessed", "solution_presented", "proposal_sent", "objections_resolved"]
"""What must hold of a deal to enter a stage or to record a fact (see `sales.deal_state`)."""
CONDITIONS: tuple[str, ...] = get_args(Condition)

BantCriterion = Literal["budget", "authority", "need", "timeline"]
BANT_CRITERIA: tuple[str, ...] = get_args(BantCriterion)

DealFact = Literal[
    "NeedsAssessed",
    "SolutionPresented",
    "ObjectionRaised",
    "ObjectionResolved",
    "ProposalSent",
    "DealWon",
    "DealLost",
]
"""Deal events that may have prerequisites."""

StageFact = Literal["NeedsAssessed", "SolutionPresented", "ObjectionRaised", "ProposalSent"]
"""Deal events that may move a deal forward into a stage (`reached_by`)."""

Backward = Literal["none", "one_step", "any"]
AnyStage = Literal["any"]


class ProcessConfigError(ValueError):
    """A process file that cannot be used, with every problem found."""


def _parse_move(value: object) -> object:
    if not isinstance(value, str):
        return value
    parts = tuple(part.strip() for part in value.split("->"))
    if len(parts) != 2 or not all(parts):
        raise ValueError(f'a move is written "from_stage -> to_stage", not {value!r}')
    return parts


Move = Annotated[tuple[StageName, StageName], BeforeValidator(_parse_move)]
"""An extra allowed move, written ``"closing -> needs_assessed"``."""

Probability = Annotated[Decimal, Field(ge=0, le=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StageConfig(_Frozen):
    """One open stage of the pipeline."""

    name: StageName
    probability: Probability = Field(description="Chance a deal in this stage is won (weighted pipeline).")
    requires: tuple[Condition, ...] = Field((), description="Conditions that must hold to enter the stage.")
    optional: StrictBool = Field(False, description="A forward move may pass over this stage.")
    reached_by: StageFact | None = Field(None, description="A fact that moves an earlier deal here.")
    description: str = ""


class LeadRules(_Frozen):
    """How a lead is qualified."""

    bant_required: tuple[BantCriterion, ...] = ("budget", "authority", "need", "timeline")
    requalify_disqualified: StrictBool = False


class DealRules(_Frozen):
    """How a deal opens, moves, closes and reopens."""

    open_stage: StageName
    allow_skip_ahead: StrictBool = False
    backward: Backward = "none"
    extra_moves: tuple[Move, ...] = ()
    won_from: tuple[StageName, ...] | AnyStage = "any"
    lost_from: tuple[StageName, ...] | AnyStage = "any"
    reopen_lost: StrictBool = False
    reopen_won: StrictBool = False
    reopen_window_days: Annotated[int, Field(strict=True, ge=1)] | None = None
    prerequisites: dict[DealFact, tuple[Condition, ...]] = Field(default_factory=dict)


class ProcessConfig(_Frozen):
    """A whole sales process: stages in order, and the lead and deal rules."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    description: str = ""
    stages: tuple[StageConfig, ...] = Field(min_length=1)
    lead: LeadRules = Field(default_factory=LeadRules)
    deal: DealRules
    coaching: CoachingRules = Field(
        default_factory=CoachingRules, description="Weak-area and coaching thresholds (docs/coaching.md)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> ProcessConfig:
        problems = list(_problems(self))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.stages)

    def position(self, stage: str) -> int | None:
        """Where an open stage sits in the order (0 first), or None if the process lacks it."""
        names = self.stage_names
        return names.index(stage) if stage in names else None

    def stage(self, name: str) -> StageConfig:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"stage {name!r} is not in the {self.name!r} process")

    def stage_reached_by(self, event_type: str) -> StageConfig | None:
        """The stage a fact of this type moves an earlier deal into, if any."""
        return next((stage for stage in self.stages if stage.reached_by == event_type), None)

    def prerequisites_of(self, event_type: str) -> tuple[Condition, ...]:
        """Conditions that must hold before a deal fact of this type is recorded."""
        return next((need for fact, need in self.deal.prerequisites.items() if fact == event_type), ())


def _problems(process: ProcessConfig) -> Iterator[str]:
    yield from _stage_problems(process)
    yield from _reference_problems(process)
    yield from _rule_problems(process)


def _stage_problems(process: ProcessConfig) -> Iterator[str]:
    names = process.stage_names
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        yield f"stage names must be unique: {', '.join(duplicates)} repeated"
    for name in sorted({name for name in names if name in CLOSED_STAGES}):
        yield f"{name!r} is an outcome (DealWon/DealLost), not a stage to configure"
    facts = [stage.reached_by for stage in process.stages if stage.reached_by is not None]
    for fact in sorted({fact for fact in facts if facts.count(fact) > 1}):
        yield f"stages: {fact} reaches more than one stage"


def _reference_problems(process: ProcessConfig) -> Iterator[str]:
    deal, names = process.deal, process.stage_names
    referenced = [("deal.open_stage", deal.open_stage)]
    for key, stages in (("deal.won_from", deal.won_from), ("deal.lost_from", deal.lost_from)):
        if not stages:
            yield f'{key} lists no stage: write "any" or the stages deals close from'
        referenced += [(key, stage) for stage in stages] if stages != "any" else []
    referenced += [("deal.extra_moves", stage) for move in deal.extra_moves for stage in move]
    for key, stage in referenced:
        if stage not in names:
            yield f"{key}: unknown stage {stage!r} (stages: {', '.join(names)})"


def _rule_problems(process: ProcessConfig) -> Iterator[str]:
    deal = process.deal
    yield from (f"deal.extra_moves: {a} -> {b} is not a move" for a, b in deal.extra_moves if a == b)
    if deal.open_stage in process.stage_names and set(process.stage(deal.open_stage).requires) - {"bant"}:
        yield f"deal.open_stage {deal.open_stage!r} may only require 'bant': a deal opens at qualification"
    if len(set(process.lead.bant_required)) != len(process.lead.bant_required):
        yield "lead.bant_required lists a criterion twice"


def parse_process(text: str, source: str = "<process>") -> ProcessConfig:
    """A process from TOML text; `ProcessConfigError` names the source and every problem."""
    try:
        document = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ProcessConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        return ProcessConfig.model_validate(document)
    except ValidationError as exc:
        details = "; ".join(_describe(error["loc"], error["msg"]) for error in exc.errors())
        raise ProcessConfigError(f"{source}: invalid sales process: {details}") from None


def _describe(loc: tuple[int | str, ...], message: str) -> str:
    where = ".".join(str(part) for part in loc)
    message = message.removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def load_process(path: Path | None = None) -> ProcessConfig:
    """The process in ``path``, or the shipped default (`default_process.toml`) when None."""
    if path is None:
        return default_process()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProcessConfigError(f"{path}: cannot read the process file: {exc.strerror}") from None
    return parse_process(text, str(path))


@cache
def default_process() -> ProcessConfig:
    """The default sales process of DOMAIN.md, shipped as `sales/default_process.toml`."""
    return parse_process(DEFAULT_PROCESS_FILE.read_text(encoding="utf-8"), DEFAULT_PROCESS_FILE.name)


def stage_probability(process: ProcessConfig, stage: str) -> Decimal:
    """Chance that a deal in ``stage`` is won: the configured one, 1 when won, 0 when lost."""
    if stage == "won":
        return Decimal(1)
    if stage == "lost":
        return Decimal(0)
    try:
        return process.stage(stage).probability
    except KeyError:
        raise ValueError(f"stage {stage!r} is not in the {process.name!r} process") from None
