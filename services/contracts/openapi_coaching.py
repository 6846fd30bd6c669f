"""The OpenAPI paths of the coaching endpoints (`services.queries.coaching`, docs/coaching.md)."""

from __future__ import annotations

from services.contracts.common import Json
from services.contracts.openapi_parts import (
    QUERIES_TAG,
    get,
    path_parameter,
    query_parameter,
    response,
    response_or_text,
)
from services.contracts.openapi_queries import KNOWN_AT, PERIOD_PARAMETER

COACHING_AS_OF = query_parameter(
    "as_of",
    "Event time (ISO 8601 with a time zone): the KPIs, trainings and coaching sessions of the facts"
    " that had happened by then. Absent: everything so far.",
    {"type": "string"},
)
TRAVEL = [COACHING_AS_OF, KNOWN_AT]


def coaching_paths() -> Json:
    return {
        "/v1/coaching/flags": get(
            "coachingFlags",
            QUERIES_TAG,
            "Weak areas: reps whose KPIs fall below their peers' by the configured margin",
            {"200": response("The flags.", "Flags"), "400": response("A bad parameter.", "BadQuery")},
            parameters=[
                query_parameter(
                    "scope", "team, territory or org (default).", {"enum": ["org", "team", "territory"]}
                ),
                query_parameter("id", "The team or territory id (not for org).", {"type": "string"}),
                PERIOD_PARAMETER,
                *TRAVEL,
            ],
        ),
        "/v1/reps/{rep_id}/development": get(
            "repDevelopment",
            QUERIES_TAG,
            "A rep's trainings and coaching, weak-area checks and before/after of each focused session",
            {
                "200": response("The rep's development.", "Development"),
                "400": response("A bad parameter.", "BadQuery"),
            },
            parameters=[
                path_parameter("rep_id", "The rep's id.", {"type": "string", "minLength": 1}),
                PERIOD_PARAMETER,
                *TRAVEL,
            ],
        ),
        "/v1/reviews/{team_id}/{period}": get(
            "teamReview",
            QUERIES_TAG,
            "A team's review of a period: objectives, KPIs, flags raised and cleared, coaching done",
            {
                "200": response_or_text(
                    "The review (Markdown with `Accept: text/markdown` or `format=markdown`).",
                    "Review",
                    "text/markdown",
                ),
                "400": response("A bad parameter.", "BadQuery"),
            },
            parameters=[
                path_parameter("team_id", "The team's id.", {"type": "string", "minLength": 1}),
                path_parameter("period", "2026-11, 2026-Q4, 2026, ...", {"type": "string", "minLength": 1}),
                query_parameter("format", "json (default) or markdown.", {"enum": ["json", "markdown"]}),
                *TRAVEL,
            ],
        ),
    }
