"""The OpenAPI paths of the drill-down endpoints (`services.queries.drilldown`)."""

from __future__ import annotations

from services.contracts.common import Json
from services.contracts.openapi_parts import QUERIES_TAG, get, path_parameter, query_parameter, response

AS_OF = query_parameter(
    "as_of",
    "ISO 8601 instant with a time zone, an event time: the deals and leads as they stood then, rebuilt"
    " from the KPI timelines (`state: as_of`; times in UTC), and team and territories as of then."
    " Absent: the live read models, teams as of now.",
    {"type": "string"},
)
KNOWN_AT = query_parameter(
    "known_at",
    "ISO 8601 instant with a time zone, a recorded time: only the facts recorded by then"
    " (`state: known_at`); with `as_of`, as they stood at `as_of` as known at `known_at`.",
    {"type": "string"},
)


def list_parameters(stage: str) -> list[Json]:
    text = {"type": "string"}
    return [
        query_parameter("stage", stage, text),
        query_parameter("rep", "Only those of this rep.", text),
        query_parameter("team", "Only those whose rep is in this team (as of `as_of`).", text),
        query_parameter("territory", "Only those whose rep owns this territory (as of `as_of`).", text),
        query_parameter("source", "Only those from this lead source (referral, web, ...).", text),
        query_parameter("changed_from", "Last change at or after this instant (ISO 8601, with zone).", text),
        query_parameter("changed_to", "Last change before this instant (ISO 8601, with zone).", text),
        query_parameter("limit", "Items per page: 1 to 1000 (default 100).", {"type": "integer"}),
        query_parameter("cursor", "The `next_cursor` of the previous page (absent: the first).", text),
        AS_OF,
        KNOWN_AT,
    ]


def drilldown_paths() -> Json:
    bad = response("A bad parameter.", "BadQuery")
    return {
        "/v1/deals": get(
            "listDeals",
            QUERIES_TAG,
            "Deals, filtered and paged by id",
            {"200": response("One page of deals, ordered by id.", "DealList"), "400": bad},
            parameters=list_parameters("Only deals in this stage (won and lost included)."),
        ),
        "/v1/deals/{deal_id}": get(
            "deal",
            QUERIES_TAG,
            "One deal: its current state and every event of its aggregate in order, with hashes",
            {
                "200": response("The deal and its recorded history.", "DealDetail"),
                "400": bad,
                "404": response("No such deal.", "NotFound"),
            },
            parameters=[
                path_parameter("deal_id", "The deal's id.", {"type": "string", "minLength": 1}),
                AS_OF,
                KNOWN_AT,
            ],
        ),
        "/v1/leads": get(
            "listLeads",
            QUERIES_TAG,
            "Leads, filtered and paged by id",
            {"200": response("One page of leads, ordered by id.", "LeadList"), "400": bad},
            parameters=list_parameters("Only leads with this status: captured, qualified or disqualified."),
        ),
        "/v1/leads/{lead_id}": get(
            "lead",
            QUERIES_TAG,
            "One lead: its current state and every event of its aggregate in order, with hashes",
            {
                "200": response("The lead and its recorded history.", "LeadDetail"),
                "400": bad,
                "404": response("No such lead.", "NotFound"),
            },
            parameters=[
                path_parameter("lead_id", "The lead's id.", {"type": "string", "minLength": 1}),
                AS_OF,
                KNOWN_AT,
            ],
        ),
        "/v1/events/{event_id}/history": get(
            "eventHistory",
            QUERIES_TAG,
            "The recorded history of the aggregate an event belongs to",
            {
                "200": response("The aggregate's history.", "EventHistory"),
                "400": response("No `source`.", "BadQuery"),
                "404": response("No such event from that source.", "NotFound"),
            },
            parameters=[
                path_parameter("event_id", "The event's CloudEvents id.", {"type": "string", "minLength": 1}),
                {
                    **query_parameter(
                        "source",
                        "The event's CloudEvents source (ids are unique per source).",
                        {"type": "string"},
                    ),
                    "required": True,
                },
            ],
        ),
    }
