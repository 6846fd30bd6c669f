"""Prometheus metrics, declared once.

Labels are bounded: event types come from the catalogue (anything else is ``unknown``), reasons
from `events.Reason`, transports are ``http`` or ``kafka``. Never a rep, lead or event id.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

from events.catalogue import EVENT_TYPES

disable_created_metrics()  # type: ignore[no-untyped-call]  # (prometheus_client leaves it unannotated)
"""No ``*_created`` series (one per counter, histogram and label set, which nobody asked for, issue
16): prometheus_client's switch is process-wide, so it also covers Faust's sensor metrics."""

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_ACCEPTED = Counter(
    "salesledger_events_accepted_total",
    "Events accepted into the canonical log.",
    ["type", "transport"],
    registry=REGISTRY,
)
EVENTS_REJECTED = Counter(
    "salesledger_events_rejected_total",
    "Inputs rejected, by event type (or unknown) and reason.",
    ["type", "reason", "transport"],
    registry=REGISTRY,
)
DEADLETTERED = Counter(
    "salesledger_deadletter_total",
    "Messages written to the dead-letter topic, by stage and reason.",
    ["stage", "reason"],
    registry=REGISTRY,
)
DUPLICATES = Counter(
    "salesledger_events_duplicate_total",
    "Events whose id was already accepted: reported as duplicates, not appended again.",
    ["type", "transport"],
    registry=REGISTRY,
)
RELAYED = Counter(
    "salesledger_relay_events_total",
    "Events copied from the event store onto the canonical topic.",
    registry=REGISTRY,
)
RELAY_IMPOSSIBLE_TAILS = Counter(
    "salesledger_relay_impossible_tails_total",
    "Records at a partition's end that claim to come from this store's relay but cannot have "
    "(forged or foreign): refused at start-up, never a reason to skip a row.",
    registry=REGISTRY,
)
ACCESS_REFUSED = Counter(
    "salesledger_access_refused_total",
    "Query requests refused by the access guard (reason: unauthorized, forbidden).",
    ["reason"],
    registry=REGISTRY,
)
RELAY_POSITION = Gauge(
    "salesledger_relay_position",
    "Intake sequence number of the last event the relay has on Kafka.",
    registry=REGISTRY,
)
PROJECTED = Counter(
    "salesledger_projection_events_total",
    "Events folded into a read model (outcome: applied, duplicate, ignored).",
    ["read_model", "outcome"],
    registry=REGISTRY,
)
PROJECTION_LATENCY = Histogram(
    "salesledger_projection_latency_seconds",
    "Time from an event's recorded time to its read model being updated.",
    ["read_model"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


CONSUMER_LAG = Gauge(
    "salesledger_consumer_lag",
    "Messages not yet processed on the partitions this worker owns, per topic.",
    ["topic"],
    registry=REGISTRY,
)
PIPELINE_OPEN_VALUE = Gauge(
    "salesledger_pipeline_open_value",
    "Value of open deals by stage and currency (exported by the relay leader only).",
    ["stage", "currency"],
    registry=REGISTRY,
)
PIPELINE_WEIGHTED_VALUE = Gauge(
    "salesledger_pipeline_weighted_value",
    "Probability-weighted value of open deals by stage and currency (relay leader only).",
    ["stage", "currency"],
    registry=REGISTRY,
)
PIPELINE_OPEN_DEALS = Gauge(
    "salesledger_pipeline_open_deals",
    "Open deals by stage (relay leader only).",
    ["stage"],
    registry=REGISTRY,
)
COMMISSION_EARNED = Gauge(
    "salesledger_commission_earned",
    "Commission earned this quarter (statement totals, org time zone) by currency and the rep's team "
    "today (relay leader only).",
    ["currency", "team"],
    registry=REGISTRY,
)
COMMISSION_PAID = Gauge(
    "salesledger_commission_paid",
    "Payouts approved for periods ending this quarter, by currency and the rep's team today "
    "(relay leader only).",
    ["currency", "team"],
    registry=REGISTRY,
)
DEALS_WON = Gauge(
    "salesledger_deals_won",
    "Deals won this quarter (closing day in the org time zone), by currency and the team of the "
    "deal's rep on that day (relay leader only).",
    ["currency", "team"],
    registry=REGISTRY,
)
WON_REVENUE = Gauge(
    "salesledger_won_revenue",
    "Won amount of the deals won this quarter, by currency and the team of the deal's rep on its "
    "closing day (relay leader only).",
    ["currency", "team"],
    registry=REGISTRY,
)
PROJECTION_FAILING = Gauge(
    "salesledger_projection_failing_seconds",
    "How long the projector has been failing to step or to write its changelog (0 while it "
    "writes): a retried write resets it, so a value that keeps growing means nothing is written.",
    registry=REGISTRY,
)
ATTAINMENT_REPS = Gauge(
    "salesledger_attainment_reps",
    "Reps by team and quota attainment bucket (lt_50, 50_80, 80_100, 100_120, ge_120, no_quota, "
    "undefined) for the current quarter in the org time zone (exported by the relay leader only).",
    ["team", "bucket"],
    registry=REGISTRY,
)


def type_label(event_type: str) -> str:
    """The event type as a metric label, or ``unknown`` for anything outside the catalogue."""
    return event_type if event_type in EVENT_TYPES else "unknown"
