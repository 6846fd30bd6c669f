"""The bodies and headers Salesledger sends, as pydantic models: the published schemas come from here.

The handlers build plain dicts on the hot path; these models are the contract those dicts keep
(``services.contracts`` turns them into OpenAPI and AsyncAPI schemas, and the schemathesis fuzz
test checks every live response against them). Field names are the wire names.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Json, RootModel

from services.refusals import Refusal

REJECTION_REASONS: tuple[str, ...] = tuple(
    refusal.value
    for refusal in Refusal
    if refusal not in (Refusal.BAD_QUERY, Refusal.NOT_FOUND, Refusal.INTERNAL_ERROR)
)
"""Every `reason` the HTTP API can answer with: the gate's reasons plus the API's own."""


class Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldError(Body):
    field: str = Field(description="Dotted path of the bad field, e.g. `data.duration_seconds`.")
    message: str


class Accepted(Body):
    """The event is durably stored and will reach the canonical log."""

    status: Literal["accepted"]
    id: str = Field(description="The event id.")


class Duplicate(Body):
    """An event with this id and the same content was accepted before; nothing new is stored."""

    status: Literal["duplicate"]
    id: str = Field(description="The event id.")


class Rejected(Body):
    """Why an input was refused, naming every bad field."""

    status: Literal["rejected"]
    reason: str = Field(json_schema_extra={"enum": list(REJECTION_REASONS)})
    message: str
    errors: list[FieldError]
    id: str | None = Field(None, description="The event id, on an `id_conflict` or `rule_violation`.")
    rule: str | None = Field(
        None, description="On a `rule_violation`: the sales-process rule broken (docs/process.md)."
    )


class AcceptedItem(Accepted):
    index: int = Field(ge=0, description="Position of the event in the request array.")


class DuplicateItem(Duplicate):
    index: int = Field(ge=0, description="Position of the event in the request array.")


class RejectedItem(Rejected):
    index: int = Field(ge=0, description="Position of the event in the request array.")


BatchItem = Annotated[AcceptedItem | DuplicateItem | RejectedItem, Field(discriminator="status")]


class BatchResult(Body):
    """One result per event, in request order, and the tally of each outcome."""

    results: list[BatchItem]
    accepted: int = Field(ge=0)
    duplicate: int = Field(ge=0)
    rejected: int = Field(ge=0)


class RepActivityCounts(Body):
    """A rep's activity (mirrors `projections.rep_activity.RepActivity`; a unit test keeps them in step)."""

    calls: int = Field(ge=0, description="Calls logged.")
    connected_calls: int = Field(ge=0, description="Calls that connected.")
    talk_seconds: int = Field(ge=0, description="Talk time of all calls, in seconds.")
    leads_captured: int = Field(ge=0, description="Leads captured with this rep as owner.")


class Coverage(Body):
    """How much of the event log an answer covers: every partition, unless a rebalance is under way."""

    partitions_covered: int = Field(ge=0, description="Partitions of the event log whose partials answered.")
    partitions_total: int = Field(ge=1, description="Partitions of the event log.")


class Travelled(Body):
    """Which time axes an answer used (docs/audit.md, "What was known when")."""

    as_of: str | None = Field(None, description="The event time asked for (null: everything so far).")
    known_at: str | None = Field(None, description="The recorded time asked for (null: known now).")
    state: Literal["live", "as_of", "known_at"] = Field(
        "live",
        description="`live`: the read model now; `as_of`: as it stood at an event time; `known_at`: as"
        " the system knew it at a recorded time.",
    )


class RepActivity(RepActivityCounts, Coverage, Travelled):
    """One rep's activity (zeros for a rep with none)."""

    rep_id: str


class AllRepsActivity(Coverage, Travelled):
    reps: dict[str, RepActivityCounts] = Field(description="Activity per rep id, for reps with any.")


# The one rule for numbers (docs/api.md, "Numbers"; written by `projections.numbers`).
Ratio = Annotated[
    str,
    Field(
        pattern=r"^-?[0-9]+\.[0-9]{4}$",
        description="A ratio as a decimal fraction (never percent), exactly 4 places, rounded half-even:"
        ' `"0.2222"`, `"1.0000"`.',
    ),
]
Rate = Annotated[
    str,
    Field(
        pattern=r"^[0-9]+\.[0-9]{4,}$",
        description="A rate or share a plan or a deal sets, as an exact decimal fraction with at least 4"
        ' places (never rounded): 2.5 % is `"0.0250"`, 0.125 % is `"0.00125"`.',
    ),
]
Amount = Annotated[
    str,
    Field(
        pattern=r"^-?[0-9]+(\.[0-9]{2,4})?$",
        description="Money at its currency's ISO 4217 minor-unit scale, rounded half-even:"
        ' `"24000.00"` EUR, `"24000"` JPY, `"24.000"` KWD (2 places without a currency).',
    ),
]
Seconds = Annotated[int, Field(ge=0, description="A duration in whole seconds, rounded half-even.")]


class PipelineRow(Body):
    """Open deals of one group in one currency (`currency` null: deals not priced yet)."""

    group: str | None
    currency: str | None
    count: int = Field(ge=0)
    value: Amount
    weighted_value: Amount = Field(description="Sum of amount times stage probability (docs/kpis.md).")
    average_time_in_stage_seconds: Seconds | None = Field(
        description="Mean time the group's deals have spent in their stage as of `as_of`, in seconds"
        " (null: no deal's entry time is known)."
    )
    stuck: int = Field(ge=0)


class StuckDeal(Body):
    deal_id: str
    rep_id: str | None
    stage: str
    stage_entered_at: str
    time_in_stage_seconds: Seconds = Field(description="Seconds in the current stage as of `as_of`.")


AnsweredFrom = Literal["live", "as_of", "known_at"]
"""`live`: the read models now; `as_of`: as things stood at an event time; `known_at`: as the
system knew them at a recorded time (with `as_of` too, if asked): docs/audit.md."""

KNOWN_AT_FIELD = "The recorded time asked for: only facts recorded by then (null: known now)."


class Pipeline(Coverage):
    """The open pipeline as of an instant (event time), grouped, with the deals stuck in a stage."""

    as_of: str = Field(description="The instant time in stage is measured at: the `as_of` asked for, or now.")
    state: AnsweredFrom = Field(
        description="`live`: the current pipeline read model, aged at now (no `as_of` asked). `as_of`:"
        " the pipeline as it stood at `as_of`, rebuilt from the facts that had happened by then."
        " `known_at`: only the facts recorded by `known_at` (aged at `as_of`, or at `known_at`)."
    )
    known_at: str | None = Field(None, description=KNOWN_AT_FIELD)
    scope: Literal["org", "rep", "team", "territory"]
    id: str | None = Field(description="The rep, team or territory asked for (null: the whole organisation).")
    group_by: Literal["stage", "rep", "team", "territory"]
    rows: list[PipelineRow]
    stuck: list[StuckDeal]


class FunnelRow(Body):
    stage: str
    entered: int = Field(ge=0)
    advanced: int = Field(ge=0)
    skipped: int = Field(ge=0)
    regressed: int = Field(ge=0)
    lost: int = Field(ge=0)
    conversion: Ratio | None = Field(description="Advanced ÷ entered (null when none entered).")
    from_leads: Ratio | None = Field(description="Entered ÷ leads captured.")


class Funnel(Coverage):
    leads: int = Field(ge=0)
    qualified: int = Field(ge=0)
    disqualified: int = Field(ge=0)
    won: int = Field(ge=0)
    lost: int = Field(ge=0)
    reopened: int = Field(ge=0)
    lead_to_qualified: Ratio | None
    lead_to_won: Ratio | None
    rows: list[FunnelRow]
    as_of: str | None = Field(description="The event time asked for (null: everything so far).")
    state: AnsweredFrom = Field(
        description="`live`: the current funnel read model. `as_of`: the funnel of the facts that had"
        " happened by `as_of`. `known_at`: of those recorded by `known_at` too."
    )
    known_at: str | None = Field(None, description=KNOWN_AT_FIELD)


KpiNumber = Annotated[
    int | Amount,
    Field(
        description="By `unit`: `count` and `seconds` a JSON integer, `ratio` a 4-place fraction,"
        " `money` an amount at the currency's scale (docs/api.md, Numbers)."
    ),
]
KpiUnit = Literal["count", "ratio", "money", "seconds"]


class KpiValue(Body):
    """A KPI's value (null: undefined, e.g. a ratio over zero) and the terms it was computed from,
    each written as what it counts (a count, money, seconds, or a ratio for an objective's actual
    and target)."""

    value: KpiNumber | None
    unit: KpiUnit
    numerator: KpiNumber | None = None
    denominator: KpiNumber | None = None
    currency: str | None = None


class Kpis(Coverage):
    """Every KPI of one scope over one period (docs/kpis.md has each formula)."""

    scope: Literal["org", "rep", "team", "territory"]
    id: str | None
    period: str
    kpis: dict[str, KpiValue]
    as_of: str | None = Field(None, description="The event time asked for (null: everything so far).")
    known_at: str | None = Field(None, description=KNOWN_AT_FIELD)
    state: AnsweredFrom = "live"


class Forecast(Coverage):
    scope: Literal["org", "rep", "team", "territory"]
    id: str | None
    period: str
    forecast: dict[str, KpiValue]
    as_of: str | None = Field(None, description="The event time asked for (null: everything so far).")
    known_at: str | None = Field(None, description=KNOWN_AT_FIELD)
    state: AnsweredFrom = "live"


class Ranked(Body):
    id: str
    value: KpiNumber | None
    unit: KpiUnit | None = None
    numerator: KpiNumber | None = None
    denominator: KpiNumber | None = None
    currency: str | None = None


class Leaderboard(Coverage):
    """One KPI ranked across reps or teams, highest first, undefined values last."""

    kpi: str
    by: Literal["rep", "team"]
    period: str
    ranking: list[Ranked]
    as_of: str | None = Field(None, description="The event time asked for (null: everything so far).")
    known_at: str | None = Field(None, description=KNOWN_AT_FIELD)
    state: AnsweredFrom = "live"


class BadQuery(Body):
    status: Literal["rejected"]
    reason: Literal["bad_query"]
    message: str
    errors: list[FieldError] = Field(default_factory=list)


class Partials(Body):
    """One worker's partials of a read model, for the worker answering a query (internal)."""

    partials: list[list[Any]] = Field(
        description="(source partition, key, [offset of the last event folded in, state]) for the "
        "partitions this worker owns."
    )
    partitions: list[int] = Field(description="Event-log partitions this worker owns.")


class Live(Body):
    """The worker answers: its process and web server run."""

    live: bool


class Health(Body):
    """Ready once the worker has partitions assigned, is not rebalancing, a broker answers, a relay
    leads (here or elsewhere), its projector writes and its disk takes writes."""

    ready: bool
    assigned: list[Annotated[str, Field(pattern=r"^.+/[0-9]+$")]] = Field(
        description="Assigned partitions as `topic/partition`."
    )
    problems: list[str] = Field(
        default_factory=list,
        description="Why the worker is not ready: no partition yet, a rebalance, a projector that has"
        " failed to write for more than 5 s (a full disk, an unreachable broker), no broker answering"
        " for more than 5 s, no relay leading, a data directory that takes no write.",
    )


class SchemaIndex(RootModel[dict[str, str]]):
    """Event type -> URL of its JSON Schema."""


class NotFound(Body):
    status: Literal["rejected"]
    reason: Literal["not_found"]
    message: str
    errors: list[FieldError] = Field(default_factory=list)


# --- Kafka headers ------------------------------------------------------------------------------
HeaderText = Annotated[str, Field(min_length=1)]


class CanonicalHeaders(Body):
    """Headers the relay puts on every record of the canonical log."""

    model_config = ConfigDict(populate_by_name=True)

    seq: Annotated[str, Field(pattern=r"^[0-9]+$")] = Field(
        alias="salesledger.seq", description="Intake sequence number (decimal), increasing per intake store."
    )
    intake: HeaderText = Field(
        alias="salesledger.intake", description="Id of the intake store the record was relayed from."
    )


class DeadLetterHeaders(Body):
    """Headers added to a dead-lettered message (its original headers are kept before them)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    stage: HeaderText = Field(
        alias="salesledger.stage", description="Where it failed: `ingest` or a read model."
    )
    reason: HeaderText = Field(alias="salesledger.reason", description="Why, from a closed set of reasons.")
    message: str = Field(alias="salesledger.message", description="Human-readable explanation.")
    errors: Json[list[FieldError]] = Field(
        alias="salesledger.errors", description="JSON array of the bad fields, `[{field, message}]`."
    )
    source: Annotated[str, Field(pattern=r"^.+/[0-9]+/[0-9]+$")] = Field(
        alias="salesledger.source", description="Where the message was read: `topic/partition/offset`."
    )
