"""The OpenAPI paths of the query endpoints (`services.queries.handlers`)."""

from __future__ import annotations

from services.contracts.common import Json
from services.contracts.openapi_parts import (
    OPERATIONS_TAG,
    QUERIES_TAG,
    get,
    json_content,
    path_parameter,
    query_parameter,
    response,
    response_or_text,
)

GROUP_BY = ("stage", "rep", "team", "territory")
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before asking again.",
        "schema": {"type": "integer", "minimum": 1},
    }
}
"""The header every 503 carries (`services.web.faust`): a retry helps."""
READY_RESPONSES = {
    "200": response("Ready.", "Health"),
    "503": response(
        "Not ready: no partition yet, a rebalance, no broker answering, no relay leading, a projector"
        " failing to write, or a disk that takes no write (`problems` says which).",
        "Health",
    )
    | {"headers": RETRY_AFTER},
}
SCOPE_PARAMETERS = [
    query_parameter(
        "scope", "org (default), rep, team or territory.", {"enum": ["org", "rep", "team", "territory"]}
    ),
    query_parameter("id", "The rep, team or territory id (not for org).", {"type": "string"}),
]
TIME_TRAVEL = [
    query_parameter(
        "as_of",
        "Event time: only facts that happened by this instant (ISO 8601 with a time zone).",
        {"type": "string"},
    ),
    query_parameter(
        "known_at",
        "Recorded time: only facts recorded by this instant, as the system knew them then.",
        {"type": "string"},
    ),
]
"""The time-travel parameters of the incentive queries (docs/audit.md)."""

KPI_AS_OF = query_parameter(
    "as_of",
    "Event time: the KPIs as they stood at this instant (ISO 8601 with a time zone; records up to"
    " it, activity counters of the days up to its day).",
    {"type": "string"},
)

PIPELINE_AS_OF = query_parameter(
    "as_of",
    "Event time (ISO 8601 with a time zone): the pipeline as it stood then, rebuilt from the facts"
    " that had happened by then, time in stage measured at it. Absent: the live pipeline, at now.",
    {"type": "string"},
)
FUNNEL_AS_OF = query_parameter(
    "as_of",
    "Event time (ISO 8601 with a time zone): the funnel of the facts that had happened by then."
    " Absent: the live funnel.",
    {"type": "string"},
)
KNOWN_AT = query_parameter(
    "known_at",
    "Recorded time (ISO 8601 with a time zone): only the facts recorded by then, as the system knew"
    " them (timelines to the instant, activity counts to the local day); with `as_of`, what had"
    " happened by `as_of` as known at `known_at`. Absent: everything recorded.",
    {"type": "string"},
)

PERIOD_PARAMETER = query_parameter(
    "period",
    "2026-11-02, 2026-W45, 2026-11, 2026-Q4 or 2026, of a year from 1970 to 9998 (default: this quarter).",
    {"type": "string"},
)


def query_paths() -> Json:
    rep = path_parameter("rep_id", "The rep's id.", {"type": "string", "minLength": 1})
    metrics = {"text/plain": {"schema": {"type": "string"}}}
    return {
        "/v1/reps/activity": get(
            "allRepsActivity",
            QUERIES_TAG,
            "Activity of every rep",
            {"200": response("Per rep.", "AllRepsActivity"), "400": response("A bad parameter.", "BadQuery")},
            parameters=[KPI_AS_OF, KNOWN_AT],
        ),
        "/v1/reps/{rep_id}/activity": get(
            "repActivity",
            QUERIES_TAG,
            "Activity of one rep",
            {
                "200": response("Zeros for a rep with no activity.", "RepActivity"),
                "400": response("A bad parameter.", "BadQuery"),
            },
            parameters=[rep, KPI_AS_OF, KNOWN_AT],
        ),
        "/v1/pipeline": get(
            "pipeline",
            QUERIES_TAG,
            "Open pipeline by stage, rep, team or territory, with stuck deals",
            {
                "200": response("The pipeline as of `as_of`.", "Pipeline"),
                "400": response("A bad parameter.", "BadQuery"),
            },
            parameters=[
                query_parameter(
                    "group_by", "stage (default), rep, team or territory.", {"enum": list(GROUP_BY)}
                ),
                *SCOPE_PARAMETERS,
                PIPELINE_AS_OF,
                KNOWN_AT,
                query_parameter(
                    "stuck_after_days",
                    "Days without a stage change: 1 to 3650 (default 14).",
                    {"type": "string"},
                ),
            ],
        ),
        "/v1/kpis": get(
            "kpis",
            QUERIES_TAG,
            "Every KPI of a scope over a period",
            {"200": response("The KPIs.", "Kpis"), "400": response("A bad parameter.", "BadQuery")},
            parameters=[*SCOPE_PARAMETERS, PERIOD_PARAMETER, KPI_AS_OF, KNOWN_AT],
        ),
        "/v1/forecast": get(
            "forecast",
            QUERIES_TAG,
            "Weighted pipeline expected to close in the period, committed and won",
            {"200": response("The forecast.", "Forecast"), "400": response("A bad parameter.", "BadQuery")},
            parameters=[*SCOPE_PARAMETERS, PERIOD_PARAMETER, KPI_AS_OF, KNOWN_AT],
        ),
        "/v1/leaderboards": get(
            "leaderboard",
            QUERIES_TAG,
            "One KPI ranked across reps or teams",
            {"200": response("The ranking.", "Leaderboard"), "400": response("A bad parameter.", "BadQuery")},
            parameters=[
                query_parameter(
                    "kpi",
                    "The KPI to rank by: a key of the KPI answer (docs/kpis.md), e.g. win_rate or"
                    " won_revenue.EUR (money KPIs: <name>.<ISO 4217 currency>; durations in seconds:"
                    " sales_cycle_seconds, talk_seconds).",
                    {"type": "string"},
                ),
                query_parameter("by", "rep (default) or team.", {"enum": ["rep", "team"]}),
                PERIOD_PARAMETER,
                KPI_AS_OF,
                KNOWN_AT,
            ],
        ),
        "/v1/statements/{rep_id}/{period}": get(
            "statement",
            QUERIES_TAG,
            "A rep's commission statement: every line with its rule, plan version and events",
            {
                "200": response_or_text(
                    "The statement (CSV with `Accept: text/csv` or `format=csv`).", "RepStatement", "text/csv"
                ),
                "400": response("A bad parameter.", "BadQuery"),
            },
            parameters=[
                rep,
                path_parameter("period", "2026-11, 2026-Q4, 2026, ...", {"type": "string", "minLength": 1}),
                query_parameter("format", "json (default) or csv.", {"enum": ["json", "csv"]}),
                *TIME_TRAVEL,
            ],
        ),
        "/v1/statements/{rep_id}/{period}/restated": get(
            "restatedStatement",
            QUERIES_TAG,
            "A period as approved beside the same period as known now, with the lines that differ",
            {
                "200": response("Both statements, the differences and the late events.", "RestatedStatement"),
                "400": response("A bad parameter.", "BadQuery"),
            },
            parameters=[
                rep,
                path_parameter("period", "2026-11, 2026-Q4, 2026, ...", {"type": "string", "minLength": 1}),
            ],
        ),
        "/v1/what-if": {
            "post": {
                "operationId": "whatIf",
                "tags": [QUERIES_TAG],
                "summary": "A proposed plan over a recorded period, beside the plan in force",
                "requestBody": {
                    "required": True,
                    "content": json_content({"$ref": "#/components/schemas/WhatIfRequest"}),
                },
                "responses": {
                    "200": response("Per rep and in total: as recorded and under the proposal.", "WhatIf"),
                    "400": response(
                        "Not a JSON object, or a bad period.",
                        schema={
                            "oneOf": [
                                {"$ref": "#/components/schemas/Rejected"},
                                {"$ref": "#/components/schemas/BadQuery"},
                            ]
                        },
                    ),
                    "422": response("The plan is not valid in the published schema.", "Rejected"),
                },
            }
        },
        "/v1/payouts": get(
            "payouts",
            QUERIES_TAG,
            "Every rep's statement totals for a period",
            {
                "200": response("Totals per rep and currency.", "Payouts"),
                "400": response("A bad parameter.", "BadQuery"),
            },
            parameters=[PERIOD_PARAMETER, *TIME_TRAVEL],
        ),
        "/v1/funnel": get(
            "funnel",
            QUERIES_TAG,
            "Funnel: per-stage conversion, skips, regressions, lead-to-won",
            {
                "200": response("The funnel of every deal and lead so far, or as of `as_of`.", "Funnel"),
                "400": response("A bad parameter, or `known_at`.", "BadQuery"),
            },
            parameters=[FUNNEL_AS_OF, KNOWN_AT],
        ),
        "/v1/internal/partials/{name}": get(
            "readModelPartials",
            OPERATIONS_TAG,
            "This worker's partials of one read model (internal: for a peer worker only)",
            {
                "200": {
                    **response("The partials of the partitions this worker owns.", "Partials"),
                    "headers": {
                        "X-Salesledger-Peer-Mac": {
                            "description": "HMAC-SHA256, with the workers' shared secret, of the "
                            "request's nonce and this body (`services.queries.peers`).",
                            "schema": {"type": "string"},
                        }
                    },
                },
                "401": response(
                    "`unauthorized`: no valid `X-Salesledger-Peer` signature, or this worker has no "
                    "`SALESLEDGER_PEER_SECRET`.",
                    "Rejected",
                ),
                "404": response("No such read model (asked with a valid signature).", "NotFound"),
            },
            parameters=[
                path_parameter("name", "rep-activity, pipeline, funnel or org.", {"type": "string"}),
                {
                    "name": "X-Salesledger-Peer",
                    "in": "header",
                    "required": True,
                    "description": "`t=<unix time>;n=<32 hex nonce>;m=<HMAC-SHA256 hex>`, signed with "
                    "the workers' shared `SALESLEDGER_PEER_SECRET` (`services.queries.peers`).",
                    "schema": {"type": "string"},
                },
            ],
        ),
        "/v1/health": get(
            "health",
            OPERATIONS_TAG,
            "Readiness (the same as /v1/health/ready)",
            READY_RESPONSES,
        ),
        "/v1/health/ready": get("health_ready", OPERATIONS_TAG, "Readiness", READY_RESPONSES),
        "/v1/health/live": get(
            "health_live",
            OPERATIONS_TAG,
            "Liveness: the worker answers (whatever its broker, disk or partitions)",
            {"200": response("Live.", "Live")},
        ),
        "/metrics": get(
            "metrics",
            OPERATIONS_TAG,
            "Prometheus metrics",
            {"200": {"description": "Prometheus text exposition format.", "content": metrics}},
        ),
    }
