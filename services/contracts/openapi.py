"""The OpenAPI 3.1 document of every endpoint a worker serves (`services.bootstrap.routes`)."""

from __future__ import annotations

from pydantic import BaseModel

from events import EVENT_TYPES, Reason
from services.access.policies import POLICIES, ROLES, Policy
from services.contracts import coaching_models, drilldown_models, statement_models
from services.contracts import models as bodies
from services.contracts.common import API_VERSION, JSON_SCHEMA_DIALECT, Json, component_schemas, ref
from services.contracts.openapi_coaching import coaching_paths
from services.contracts.openapi_drilldown import drilldown_paths
from services.contracts.openapi_parts import (
    CONTRACTS_TAG,
    INGESTION_TAG,
    OPERATIONS_TAG,
    QUERIES_TAG,
    get,
    json_content,
    path_parameter,
    response,
)
from services.contracts.openapi_queries import RETRY_AFTER, query_paths
from services.refusals import HTTP_STATUS, of_reason
from services.settings import Settings

RESPONSE_MODELS: tuple[type[BaseModel], ...] = (
    bodies.Accepted,
    bodies.Duplicate,
    bodies.Rejected,
    bodies.BatchResult,
    bodies.AllRepsActivity,
    bodies.RepActivity,
    bodies.Health,
    bodies.Live,
    bodies.Partials,
    bodies.Pipeline,
    bodies.Funnel,
    bodies.BadQuery,
    bodies.Kpis,
    bodies.Forecast,
    bodies.Leaderboard,
    statement_models.RepStatement,
    statement_models.Payouts,
    statement_models.RestatedStatement,
    statement_models.WhatIf,
    statement_models.WhatIfRequest,
    bodies.SchemaIndex,
    bodies.NotFound,
    drilldown_models.DealList,
    drilldown_models.LeadList,
    drilldown_models.DealDetail,
    drilldown_models.LeadDetail,
    drilldown_models.EventHistory,
    coaching_models.Flags,
    coaching_models.Development,
    coaching_models.Review,
)


def openapi_document(settings: Settings) -> Json:
    """OpenAPI 3.1 of every endpoint the worker serves (`services.bootstrap.routes`)."""
    schemas = component_schemas((model.__name__, "serialization", model) for model in RESPONSE_MODELS)
    security: Json = {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "A key from `salesledger keys create`: its role says what it may publish and "
            "read (docs/api.md, Access).",
        },
        "apiKeyHeader": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Key",
            "description": "The same key.",
        },
    }
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "info": {
            "title": "Salesledger HTTP API",
            "version": API_VERSION,
            "description": "Publish sales events (CloudEvents 1.0, structured mode) and query read models.",
        },
        "servers": [{"url": "/", "description": "The worker serving this document."}],
        "tags": [{"name": tag} for tag in (INGESTION_TAG, QUERIES_TAG, OPERATIONS_TAG, CONTRACTS_TAG)],
        "paths": with_access(
            {
                **ingestion_paths(settings),
                **query_paths(),
                **coaching_paths(),
                **drilldown_paths(),
                **contract_paths(),
            },
            settings,
        ),
        "components": {"schemas": schemas, "securitySchemes": security},
    }


def with_access(paths: Json, settings: Settings) -> Json:
    """Each operation with its access policy and the roles it admits (``x-salesledger-access``,
    `services.access.policies`) and, where a key is needed, its security and 401/403 answers."""
    for path, operations in paths.items():
        for method, operation in operations.items():
            policy = POLICIES[(method.upper(), path)]
            operation["x-salesledger-access"] = {
                "policy": policy.value,
                "roles": [role.value for role in ROLES[policy]],
            }
            if policy not in (Policy.PUBLIC, Policy.PEER, Policy.PUBLISH):  # answers from read models
                operation["responses"]["503"] = response(
                    "`not_ready`: the answer would cover no partition of the event log (the worker is"
                    " starting, or its group rebalancing); retry after `Retry-After` seconds.",
                    "Rejected",
                ) | {"headers": RETRY_AFTER}
            if policy not in GUARDED or not settings.require_api_keys:
                operation["responses"] = dict(sorted(operation["responses"].items()))
                continue
            operation["security"] = [{"bearerAuth": []}, {"apiKeyHeader": []}]
            operation["responses"] |= {
                "401": response("`unauthorized`: missing, unknown, revoked or expired API key.", "Rejected"),
                "403": response(f"`forbidden`: {FORBIDDEN[policy]}", "Rejected"),
            }
            operation["responses"] = dict(sorted(operation["responses"].items()))
    return paths


GUARDED = frozenset({Policy.ORG, Policy.REP, Policy.SCOPE, Policy.FILTERED, Policy.OWNED, Policy.TEAM})
FORBIDDEN = {
    Policy.ORG: "the answer covers the whole organisation; only auditor and admin keys read it.",
    Policy.REP: "the key does not see this rep (a rep key sees itself, a manager key the reps of its "
    "teams on the days they are in them).",
    Policy.SCOPE: "the key does not see this scope (rep and manager keys name a rep, team or territory "
    "in their reach; `scope=org` needs an auditor or admin key).",
    Policy.FILTERED: "rep and manager keys filter the list by a rep, team or territory in their reach.",
    Policy.OWNED: "the key does not see the rep this belongs to.",
    Policy.TEAM: "the key does not see this team (a manager key sees the teams it manages and those "
    "rolling up into them; rep keys read no team's review).",
}


def reasons_for(status: int) -> str:
    """The parse gate's reasons `POST /v1/events` answers with `status` (`services.refusals.HTTP_STATUS`)."""
    return ", ".join(f"`{reason.value}`" for reason in Reason if HTTP_STATUS[of_reason(reason)] == status)


def ingestion_paths(settings: Settings) -> Json:
    secured: Json = (
        {"security": [{"bearerAuth": []}, {"apiKeyHeader": []}]} if settings.require_api_keys else {}
    )
    unauthorized = (
        {"401": response("`unauthorized`: missing, unknown or revoked API key.", "Rejected")}
        if settings.require_api_keys
        else {}
    )
    event_body = {
        "application/json": {"schema": ref("Event")},
        "application/cloudevents+json": {"schema": ref("Event")},
    }
    batch_schema = {"type": "array", "items": ref("Event"), "maxItems": settings.max_batch_events}
    single = {
        "operationId": "publishEvent",
        "tags": [INGESTION_TAG],
        "summary": "Publish one event",
        "description": f"One CloudEvent of any catalogue type, at most {settings.max_event_bytes} bytes. "
        "`source` + `id` is the idempotency key: a retry with the same content is a `duplicate`.",
        **secured,
        "requestBody": {"required": True, "content": event_body},
        "responses": {
            "200": response("A duplicate of an event accepted before; nothing new stored.", "Duplicate"),
            "202": response("Validated and durably stored; it will reach the canonical log.", "Accepted"),
            "400": response(f"{reasons_for(400)}: the body is not a JSON object.", "Rejected"),
            **unauthorized,
            "403": response(
                "`source_mismatch`: the key may not publish as the event's `source`; `forbidden`: the "
                "key's role publishes nothing.",
                "Rejected",
            ),
            "409": response("`id_conflict`: the id was accepted before with different content.", "Rejected"),
            "413": response(
                f"{reasons_for(413)}: the body is over {settings.max_event_bytes} bytes.", "Rejected"
            ),
            "422": response(
                f"{reasons_for(422)}: a field is invalid, or the type or version unknown; `rule_violation`: "
                "the sales process forbids it now (`rule` names the rule).",
                "Rejected",
            ),
        },
    }
    batch = {
        "operationId": "publishEvents",
        "tags": [INGESTION_TAG],
        "summary": "Publish a batch of events",
        "description": f"Up to {settings.max_batch_events} events in one durable transaction; each gets its "
        'own verdict (as `POST /v1/events` would give it). `{"events": [...]}` is also accepted.',
        **secured,
        "requestBody": {"required": True, "content": json_content(batch_schema)},
        "responses": {
            "200": response("A result per event, in request order.", "BatchResult"),
            "400": response("`not_json`, `not_an_array`: the body is not a JSON array.", "Rejected"),
            **unauthorized,
            **(
                {"403": response("`forbidden`: the key's role publishes nothing.", "Rejected")}
                if settings.require_api_keys
                else {}
            ),
            "413": response("`too_large`, `too_many_events`: over the batch limits.", "Rejected"),
        },
    }
    return {"/v1/events": {"post": single}, "/v1/events:batch": {"post": batch}}


def contract_paths() -> Json:
    any_object = {"type": "object"}
    event_type = path_parameter(
        "event_type",
        "An event type name.",
        {"type": "string", "minLength": 1, "examples": sorted(EVENT_TYPES)},
    )
    return {
        "/v1/openapi.json": get(
            "openapi", CONTRACTS_TAG, "This document", {"200": response("OpenAPI 3.1.", schema=any_object)}
        ),
        "/v1/asyncapi.json": get(
            "asyncapi",
            CONTRACTS_TAG,
            "The Kafka topics",
            {"200": response("AsyncAPI 3.0.", schema=any_object)},
        ),
        "/v1/schemas": get(
            "eventSchemaIndex",
            CONTRACTS_TAG,
            "Event types and their schema URLs",
            {"200": response("Event type -> URL of its JSON Schema.", "SchemaIndex")},
        ),
        "/v1/schemas/{event_type}": get(
            "eventSchema",
            CONTRACTS_TAG,
            "JSON Schema of one event type",
            {
                "200": response("JSON Schema 2020-12.", schema=any_object),
                "404": response("Not an event type.", "NotFound"),
            },
            parameters=[event_type],
        ),
    }
