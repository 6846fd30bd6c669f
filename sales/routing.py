"""Which aggregate each event belongs to, and one entry point to judge an event and fold it in.

**Aggregates.** Every event type belongs to one aggregate, ``(kind, key)``, whose key is the
event's partition key (`Envelope.partition_key`): leads (prospecting, activities and the
qualification decision), deals, customers, reps, teams, territories, objectives, quotas, plans and
SPIFFs. Kinds in `KINDS_WITH_RULES` have a state and rules (`sales.lead`, ...); the
others only count their events: their state is ``{"events": n}``.

**Cross-aggregate effects.** Two events also change an aggregate they are not keyed by:

- `LeadQualified` (keyed by the lead) **opens the deal** it names;
- `DealWon` (keyed by the deal) **opens or updates the customer** it names.

`opens(event)` lists those aggregates and `targets(event)` lists the event's own aggregate first,
then them. The write model records the event **once**, in its own aggregate's stream, and stores
the new state of **every** target. `apply_event` decides the event for all targets before it
returns anything, so a rule broken on any target rejects the event everywhere (a qualification
naming an already open deal is rejected on the lead too).

**Stored state.** A state is the JSON-safe dict a kind's ``to_dict`` writes (with a
``state_version``), or ``None`` for an aggregate that has seen nothing. It is derived only from
the events applied to it, in the order the write model accepted them. Because a deal's first
event lives in its lead's stream (and a customer's in a deal's), **rebuild states in the write
model's own acceptance order** (a global position), not one Kafka partition at a time.

**Replay.** Recorded events were judged when they were accepted: rebuild with `evolve_event`
(folds only, never decides), so history stays valid after the process file changes. `apply` and
`apply_event` are for new events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

from events.deals import DealWon
from events.envelope import Envelope
from events.qualification import LeadQualified
from sales import customer, deal, lead, plan, quota, rep
from sales.customer import CustomerState
from sales.deal_state import DealState
from sales.lead import LeadState
from sales.names import event_type, payload
from sales.plan import PlanState
from sales.process import ProcessConfig
from sales.quota import QuotaState
from sales.rep import RepState

Aggregate: TypeAlias = tuple[str, str]
"""``(kind, key)``, e.g. ``("deal", "deal-001")``."""
StateDict: TypeAlias = dict[str, Any]

ROUTES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "RepOnboarded": ("rep", "rep_id"),
        "RepMovedTeam": ("rep", "rep_id"),
        "RepLeft": ("rep", "rep_id"),
        "TeamFormed": ("team", "team_id"),
        "TerritoryDefined": ("territory", "territory_id"),
        "TerritoryAssigned": ("territory", "territory_id"),
        "ObjectiveSet": ("objective", "objective_id"),
        "QuotaAssigned": ("quota", "quota_id"),
        "LeadCaptured": ("lead", "lead_id"),
        "ProspectResearchLogged": ("lead", "lead_id"),
        "CallLogged": ("lead", "lead_id"),
        "EmailSent": ("lead", "lead_id"),
        "EmailReplied": ("lead", "lead_id"),
        "MeetingHeld": ("lead", "lead_id"),
        "SocialTouch": ("lead", "lead_id"),
        "LeadQualified": ("lead", "lead_id"),
        "LeadDisqualified": ("lead", "lead_id"),
        "NeedsAssessed": ("deal", "deal_id"),
        "SolutionPresented": ("deal", "deal_id"),
        "ObjectionRaised": ("deal", "deal_id"),
        "ObjectionResolved": ("deal", "deal_id"),
        "ProposalSent": ("deal", "deal_id"),
        "DealStageChanged": ("deal", "deal_id"),
        "DealWon": ("deal", "deal_id"),
        "DealLost": ("deal", "deal_id"),
        "FollowUpDone": ("customer", "customer_id"),
        "NurtureTouch": ("customer", "customer_id"),
        "CustomerRenewed": ("customer", "customer_id"),
        "CustomerChurned": ("customer", "customer_id"),
        "CustomerExpanded": ("customer", "customer_id"),
        "CompPlanPublished": ("plan", "plan_id"),
        "CompPlanAssigned": ("rep", "rep_id"),
        "SpiffAnnounced": ("spiff", "spiff_id"),
        "CommissionAdjusted": ("rep", "rep_id"),
        "PayoutApproved": ("rep", "rep_id"),
        "TrainingCompleted": ("rep", "rep_id"),
        "CoachingSessionHeld": ("rep", "rep_id"),
    }
)
"""Event type -> (aggregate kind, the ``data`` field holding its key)."""

KINDS = ("lead", "deal", "customer", "rep", "team", "territory", "objective", "quota", "plan", "spiff")
KINDS_WITH_RULES = frozenset({"lead", "deal", "customer", "rep", "plan", "quota"})


def aggregate_of(event: Envelope) -> Aggregate:
    """The aggregate ``event`` is keyed by (its key is the event's partition key)."""
    kind, field = ROUTES[event_type(event)]
    return kind, str(getattr(payload(event), field))


def opens(event: Envelope) -> list[Aggregate]:
    """Other aggregates the event opens or updates, without being recorded in their stream."""
    if isinstance(event, LeadQualified):
        return [("deal", event.data.deal_id)]
    if isinstance(event, DealWon):
        return [("customer", event.data.customer_id)]
    return []


def targets(event: Envelope) -> list[Aggregate]:
    """Every aggregate whose state the event changes: its own first, then those it opens."""
    return [aggregate_of(event), *opens(event)]


def handled_by(kind: str) -> frozenset[str]:
    """Event types that change an aggregate of ``kind`` (its own, and those that open it)."""
    own = {name for name, (k, _) in ROUTES.items() if k == kind}
    opening = {"LeadQualified"} if kind == "deal" else {"DealWon"} if kind == "customer" else set()
    return frozenset(own | opening)


class _State(Protocol):
    def to_dict(self) -> StateDict: ...


S = TypeVar("S", bound=_State)


@dataclass(frozen=True, slots=True)
class _Rules(Generic[S]):
    load: Callable[[Mapping[str, Any]], S]
    decide: Callable[[S | None, Envelope, ProcessConfig], None]
    evolve: Callable[[S | None, Envelope, ProcessConfig], S]

    def decide_dict(self, state: Mapping[str, Any] | None, event: Envelope, process: ProcessConfig) -> None:
        self.decide(None if state is None else self.load(state), event, process)

    def evolve_dict(
        self, state: Mapping[str, Any] | None, event: Envelope, process: ProcessConfig
    ) -> StateDict:
        return self.evolve(None if state is None else self.load(state), event, process).to_dict()


_KINDS: Mapping[str, _Rules[Any]] = MappingProxyType(
    {
        "lead": _Rules(LeadState.from_dict, lead.decide, lead.evolve),
        "deal": _Rules(DealState.from_dict, deal.decide, deal.evolve),
        "customer": _Rules(CustomerState.from_dict, customer.decide, customer.evolve),
        "rep": _Rules(RepState.from_dict, rep.decide, rep.evolve),
        "plan": _Rules(PlanState.from_dict, plan.decide, plan.evolve),
        "quota": _Rules(QuotaState.from_dict, quota.decide, quota.evolve),
    }
)

DecideFn: TypeAlias = Callable[[Mapping[str, Any] | None, Envelope, ProcessConfig], None]
EvolveFn: TypeAlias = Callable[[Mapping[str, Any] | None, Envelope, ProcessConfig], StateDict]


def _no_rules(state: Mapping[str, Any] | None, event: Envelope, process: ProcessConfig) -> None:
    """Kinds without rules accept every event of theirs."""


def _count(state: Mapping[str, Any] | None, event: Envelope, process: ProcessConfig) -> StateDict:
    return {"events": (0 if state is None else int(state["events"])) + 1}


def _checked(kind: str, event: Envelope) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown aggregate kind {kind!r}; kinds: {', '.join(KINDS)}")
    if event_type(event) not in handled_by(kind):
        raise TypeError(f"{event_type(event)} does not change a {kind} (it changes {targets(event)})")


def decide_for(kind: str) -> DecideFn:
    """The rules of ``kind`` on stored states: raise `RuleViolation` or return None."""
    rules = _KINDS.get(kind)
    return _no_rules if rules is None else rules.decide_dict


def evolve_for(kind: str) -> EvolveFn:
    """The fold of ``kind`` on stored states (no rules checked)."""
    rules = _KINDS.get(kind)
    return _count if rules is None else rules.evolve_dict


def apply(kind: str, state: Mapping[str, Any] | None, event: Envelope, process: ProcessConfig) -> StateDict:
    """Decide ``event`` on one aggregate's stored state, then fold it: the new stored state.

    Raises `RuleViolation` (the state is untouched: states are values) when the process forbids it.
    """
    _checked(kind, event)
    decide_for(kind)(state, event, process)
    return evolve_for(kind)(state, event, process)


def apply_event(
    event: Envelope, states: Mapping[Aggregate, Mapping[str, Any] | None], process: ProcessConfig
) -> dict[Aggregate, StateDict]:
    """Decide ``event`` on every aggregate it changes, then fold it into each: all or nothing.

    ``states`` holds the current stored state of each of `targets(event)` (missing = None). The
    result holds the new state of each target; a `RuleViolation` from any target means none changes.
    """
    for kind, key in targets(event):
        _checked(kind, event)
        decide_for(kind)(states.get((kind, key)), event, process)
    return evolve_event(event, states, process)


def evolve_event(
    event: Envelope, states: Mapping[Aggregate, Mapping[str, Any] | None], process: ProcessConfig
) -> dict[Aggregate, StateDict]:
    """Fold an already accepted event into every aggregate it changes (replay: no rules checked)."""
    return {
        (kind, key): evolve_for(kind)(states.get((kind, key)), event, process) for kind, key in targets(event)
    }
