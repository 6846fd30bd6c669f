"""Published contracts: OpenAPI 3.1 for the HTTP API, AsyncAPI 3.0 for the topics, a JSON Schema per event.

Everything is derived from code: the event schemas are the catalogue's own (`events.schema`, also
written to ``docs/schemas``), the response bodies and Kafka headers come from `services.api_models`,
limits and topic names from `Settings` and `services.topics`. Pure functions, no IO, so a new event
type or setting shows up in every document by itself. ``python -m services.contracts docs/`` writes
the committed copies (``docs/openapi.json``, ``docs/asyncapi.json``) from the default settings; a unit
test keeps them fresh.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from events import EVENT_TYPES, Envelope
from events.schema import catalogue_schema, event_json_schemas
from services import api_models as bodies
from services.settings import Settings
from services.topics import TopicSpec, topic_specs

API_VERSION = "1.0.0"
REF_TEMPLATE = "#/components/schemas/{model}"
CATALOGUE_REFS = "#/$defs/"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
KAFKA_BINDING_VERSION = "0.5.0"
Json = dict[str, Any]


def ref(name: str) -> Json:
    return {"$ref": REF_TEMPLATE.format(model=name)}


def component_schemas(inputs: Iterable[tuple[str, JsonSchemaMode, Any]]) -> Json:
    """`components/schemas`: the event catalogue (its union as `Event`) plus `inputs` (name, mode, type).

    The events' schemas are the catalogue's own published ones (`events.schema`, the same as
    ``docs/schemas``: the gate's version pinning included), so every document agrees on them.
    """
    catalogue = catalogue_schema()
    schemas: Json = {name: local_refs(schema) for name, schema in catalogue["$defs"].items()}
    schemas["Event"] = local_refs({key: catalogue[key] for key in ("description", "oneOf", "discriminator")})
    adapters = [(name, mode, TypeAdapter(type_)) for name, mode, type_ in inputs]
    top, definitions = TypeAdapter.json_schemas(adapters, ref_template=REF_TEMPLATE)
    own: Json = dict(definitions.get("$defs", {}))
    own.update({name: schema for (name, _), schema in top.items() if schema != ref(name)})
    if clash := sorted(schemas.keys() & own.keys()):
        raise ValueError(f"event schemas and API schemas share the names {clash}: rename the API models")
    return {**schemas, **own}


def local_refs(node: Any) -> Any:
    """`node` with the catalogue's `#/$defs/X` references (`$ref`s, discriminator mappings) made
    `#/components/schemas/X`."""
    if isinstance(node, str) and node.startswith(CATALOGUE_REFS):
        return REF_TEMPLATE.format(model=node.removeprefix(CATALOGUE_REFS))
    if isinstance(node, dict):
        return {key: local_refs(value) for key, value in node.items()}
    if isinstance(node, list):
        return [local_refs(item) for item in node]
    return node


def event_schemas() -> dict[str, Json]:
    """The JSON Schema (2020-12) of each event type, keyed by type name (as in ``docs/schemas``)."""
    return event_json_schemas()


def write(directory: Path, settings: Settings | None = None) -> list[Path]:
    """Write the OpenAPI and AsyncAPI documents into `directory` (default settings unless given)."""
    settings = settings or default_settings()
    written = []
    for name, document in (
        ("openapi.json", openapi_document(settings)),
        ("asyncapi.json", asyncapi_document(settings)),
    ):
        path = directory / name
        path.write_text(render(document))
        written.append(path)
    return written


def render(document: Json) -> str:
    """The committed form of a document: sorted keys, two-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def default_settings() -> Settings:
    """The defaults whatever the environment says, so the committed documents never depend on who ran it."""
    return Settings.model_construct()


# --- OpenAPI ------------------------------------------------------------------------------------
RESPONSE_MODELS: tuple[type[BaseModel], ...] = (
    bodies.Accepted,
    bodies.Duplicate,
    bodies.Rejected,
    bodies.BatchResult,
    bodies.AllRepsActivity,
    bodies.RepActivity,
    bodies.Health,
    bodies.Partials,
    bodies.Pipeline,
    bodies.Funnel,
    bodies.BadQuery,
    bodies.Kpis,
    bodies.Forecast,
    bodies.Leaderboard,
    bodies.SchemaIndex,
    bodies.NotFound,
)
INGESTION_TAG, QUERIES_TAG, OPERATIONS_TAG, CONTRACTS_TAG = "ingestion", "queries", "operations", "contracts"


def openapi_document(settings: Settings) -> Json:
    """OpenAPI 3.1 of every endpoint the worker serves (`services.worker.views` and `contract_views`)."""
    schemas = component_schemas((model.__name__, "serialization", model) for model in RESPONSE_MODELS)
    security: Json = {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "A key from `salesledger keys create --source SOURCE`; it publishes as SOURCE.",
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
        "paths": {**ingestion_paths(settings), **query_paths(), **contract_paths()},
        "components": {"schemas": schemas, "securitySchemes": security},
    }


def json_content(schema: Json) -> Json:
    return {"application/json": {"schema": schema}}


def response(description: str, model: str | None = None, schema: Json | None = None) -> Json:
    body = ref(model) if model else schema
    return {"description": description, **({"content": json_content(body)} if body is not None else {})}


def reasons_for(status: int) -> str:
    """The gate reasons `POST /v1/events` answers with `status`, from the views' own table."""
    # Imported here: services.worker's package imports its app, which serves this module's documents.
    from services.worker.views import STATUS_BY_REASON

    return ", ".join(f"`{reason.value}`" for reason, code in STATUS_BY_REASON.items() if code == status)


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
                "`source_mismatch`: the key may not publish as the event's `source`.", "Rejected"
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
            "413": response("`too_large`, `too_many_events`: over the batch limits.", "Rejected"),
        },
    }
    return {"/v1/events": {"post": single}, "/v1/events:batch": {"post": batch}}


def get(operation_id: str, tag: str, summary: str, responses: Json, **extra: Any) -> Json:
    return {
        "get": {
            "operationId": operation_id,
            "tags": [tag],
            "summary": summary,
            **extra,
            "responses": responses,
        }
    }


def path_parameter(name: str, description: str, schema: Json) -> Json:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


GROUP_BY = ("stage", "rep", "team", "territory")


def query_parameter(name: str, description: str, schema: Json) -> Json:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


SCOPE_PARAMETERS = [
    query_parameter(
        "scope", "org (default), rep, team or territory.", {"enum": ["org", "rep", "team", "territory"]}
    ),
    query_parameter("id", "The rep, team or territory id (not for org).", {"type": "string"}),
]
PERIOD_PARAMETER = query_parameter(
    "period", "2026-11-02, 2026-W45, 2026-11, 2026-Q4 or 2026 (default: this quarter).", {"type": "string"}
)


def query_paths() -> Json:
    rep = path_parameter("rep_id", "The rep's id.", {"type": "string", "minLength": 1})
    metrics = {"text/plain": {"schema": {"type": "string"}}}
    return {
        "/v1/reps/activity": get(
            "allRepsActivity",
            QUERIES_TAG,
            "Activity of every rep",
            {"200": response("Per rep.", "AllRepsActivity")},
        ),
        "/v1/reps/{rep_id}/activity": get(
            "repActivity",
            QUERIES_TAG,
            "Activity of one rep",
            {"200": response("Zeros for a rep with no activity.", "RepActivity")},
            parameters=[rep],
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
                query_parameter(
                    "as_of", "ISO 8601 instant with a time zone; default now.", {"type": "string"}
                ),
                query_parameter(
                    "stuck_after_days", "Days without a stage change (default 14).", {"type": "string"}
                ),
            ],
        ),
        "/v1/kpis": get(
            "kpis",
            QUERIES_TAG,
            "Every KPI of a scope over a period",
            {"200": response("The KPIs.", "Kpis"), "400": response("A bad parameter.", "BadQuery")},
            parameters=[*SCOPE_PARAMETERS, PERIOD_PARAMETER],
        ),
        "/v1/forecast": get(
            "forecast",
            QUERIES_TAG,
            "Weighted pipeline expected to close in the period, committed and won",
            {"200": response("The forecast.", "Forecast"), "400": response("A bad parameter.", "BadQuery")},
            parameters=[*SCOPE_PARAMETERS, PERIOD_PARAMETER],
        ),
        "/v1/leaderboards": get(
            "leaderboard",
            QUERIES_TAG,
            "One KPI ranked across reps or teams",
            {"200": response("The ranking.", "Leaderboard"), "400": response("A bad parameter.", "BadQuery")},
            parameters=[
                query_parameter("kpi", "The KPI to rank by, e.g. won_revenue.EUR.", {"type": "string"}),
                query_parameter("by", "rep (default) or team.", {"enum": ["rep", "team"]}),
                PERIOD_PARAMETER,
            ],
        ),
        "/v1/funnel": get(
            "funnel",
            QUERIES_TAG,
            "Funnel: per-stage conversion, skips, regressions, lead-to-won",
            {"200": response("The funnel of every deal and lead so far.", "Funnel")},
        ),
        "/v1/internal/partials/{name}": get(
            "readModelPartials",
            OPERATIONS_TAG,
            "This worker's partials of one read model (internal: used by the worker answering a query)",
            {
                "200": response("The partials of the partitions this worker owns.", "Partials"),
                "404": response("No such read model.", "NotFound"),
            },
            parameters=[path_parameter("name", "rep-activity, pipeline, funnel or org.", {"type": "string"})],
        ),
        "/v1/health": get(
            "health",
            OPERATIONS_TAG,
            "Readiness",
            {
                "200": response("Ready.", "Health"),
                "503": response("Not ready (no partitions yet).", "Health"),
            },
        ),
        "/metrics": get(
            "metrics",
            OPERATIONS_TAG,
            "Prometheus metrics",
            {"200": {"description": "Prometheus text exposition format.", "content": metrics}},
        ),
    }


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


# --- AsyncAPI -----------------------------------------------------------------------------------
def asyncapi_document(settings: Settings) -> Json:
    """AsyncAPI 3.0 of the topics: what Salesledger reads (inbound) and writes (events, dead letters)."""
    schemas = component_schemas(
        [
            ("CanonicalHeaders", "validation", bodies.CanonicalHeaders),
            ("DeadLetterHeaders", "validation", bodies.DeadLetterHeaders),
        ]
    )
    schemas["BinaryModeHeaders"] = binary_mode_headers()
    schemas["EventData"] = {"oneOf": [schemas[name]["properties"]["data"] for name in EVENT_TYPES]}
    schemas = asyncapi_discriminators(schemas)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Salesledger topics",
            "version": API_VERSION,
            "description": "Tools publish CloudEvents to the inbound topic; Salesledger validates them, "
            "writes the accepted ones to the canonical log and routes the rest to the dead-letter topic.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": settings.kafka_bootstrap_servers,
                "protocol": "kafka",
                "description": "Kafka bootstrap servers (`SALESLEDGER_KAFKA_BOOTSTRAP_SERVERS`).",
            }
        },
        "channels": channels(settings),
        "operations": operations(),
        "components": {"schemas": schemas, "messages": messages(settings)},
    }


def asyncapi_discriminators(node: Any) -> Any:
    """`node` with OpenAPI's `discriminator: {propertyName, mapping}` as AsyncAPI's `discriminator: name`."""
    if isinstance(node, dict):
        return {
            key: value["propertyName"]
            if key == "discriminator" and isinstance(value, dict) and "propertyName" in value
            else asyncapi_discriminators(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [asyncapi_discriminators(item) for item in node]
    return node


def topic_bindings(settings: Settings) -> dict[str, Json]:
    """The Kafka channel binding of each topic, from the same specs `salesledger topics` creates."""
    return {spec.name: {"kafka": topic_binding(spec)} for spec in topic_specs(settings)}


def topic_binding(spec: TopicSpec) -> Json:
    config: Json = {}
    for key, value in spec.config.items():
        # The binding types these: cleanup.policy is a list, sizes and times are integers.
        config[key] = value.split(",") if key == "cleanup.policy" else int(value)
    return {
        "topic": spec.name,
        "partitions": spec.partitions,
        "replicas": spec.replication_factor,
        "topicConfiguration": config,
        "bindingVersion": KAFKA_BINDING_VERSION,
    }


def message_ref(name: str) -> Json:
    return {"$ref": f"#/components/messages/{name}"}


def channels(settings: Settings) -> Json:
    bindings = topic_bindings(settings)
    return {
        "inbound": {
            "address": settings.topic_inbound,
            "title": "Inbound events",
            "description": "Raw events from tools publishing to Kafka directly, in either CloudEvents mode.",
            "messages": {"structured": message_ref("StructuredEvent"), "binary": message_ref("BinaryEvent")},
            "bindings": bindings[settings.topic_inbound],
        },
        "events": {
            "address": settings.topic_events,
            "title": "Canonical event log",
            "description": "Every accepted event, once, in acceptance order per aggregate; kept forever.",
            "messages": {"event": message_ref("CanonicalEvent")},
            "bindings": bindings[settings.topic_events],
        },
        "deadletter": {
            "address": settings.topic_deadletter,
            "title": "Dead letters",
            "description": "What could not be accepted or processed: original key, bytes and headers.",
            "messages": {"deadLetter": message_ref("DeadLetter")},
            "bindings": bindings[settings.topic_deadletter],
        },
    }


def operations() -> Json:
    def operation(action: str, channel: str, summary: str) -> Json:
        return {"action": action, "channel": {"$ref": f"#/channels/{channel}"}, "summary": summary}

    return {
        "ingestInbound": operation("receive", "inbound", "Validate inbound events into the intake."),
        "appendToLog": operation("send", "events", "Relay accepted events to the canonical log."),
        "deadLetter": operation("send", "deadletter", "Route what cannot be accepted, with the reason."),
    }


def kafka_key(description: str) -> Json:
    return {
        "kafka": {
            "key": {"type": "string", "description": description},
            "bindingVersion": KAFKA_BINDING_VERSION,
        }
    }


def messages(settings: Settings) -> Json:
    limit = f"At most {settings.max_event_bytes} bytes."
    return {
        "StructuredEvent": {
            "name": "StructuredEvent",
            "title": "CloudEvent, structured mode",
            "summary": "The whole event as JSON (`content-type: application/cloudevents+json`, or no "
            f"`ce_` headers). {limit}",
            "contentType": "application/cloudevents+json",
            "payload": ref("Event"),
            "bindings": kafka_key(
                "Any; the aggregate id (e.g. the lead id) keeps an aggregate's events in order."
            ),
        },
        "BinaryEvent": {
            "name": "BinaryEvent",
            "title": "CloudEvent, binary mode",
            "summary": "Attributes as `ce_<attribute>` headers (UTF-8 strings), the value is `data` alone "
            f"(`content-type: application/json`). {limit}",
            "contentType": "application/json",
            "headers": ref("BinaryModeHeaders"),
            "payload": ref("EventData"),
            "bindings": kafka_key(
                "Any; the aggregate id (e.g. the lead id) keeps an aggregate's events in order."
            ),
        },
        "CanonicalEvent": {
            "name": "CanonicalEvent",
            "title": "Accepted event",
            "summary": "A validated event as canonical JSON, stamped with `recordedtime`.",
            "contentType": "application/json",
            "headers": ref("CanonicalHeaders"),
            "payload": ref("Event"),
            "bindings": kafka_key("The aggregate id: the event's lead id (or subject, else id)."),
        },
        "DeadLetter": {
            "name": "DeadLetter",
            "title": "Dead letter",
            "summary": "The original message, untouched, with `salesledger.*` headers: why and from where.",
            "contentType": "application/octet-stream",
            "headers": ref("DeadLetterHeaders"),
            "payload": {"type": "string", "format": "binary", "description": "The original value bytes."},
            "bindings": kafka_key("The original key."),
        },
    }


def binary_mode_headers() -> Json:
    """`ce_<attribute>` for every envelope attribute but `data` (its media type is `content-type`)."""
    envelope = Envelope.model_json_schema()["properties"]
    required = ["type", *Envelope.model_json_schema()["required"]]
    properties: Json = {
        f"ce_{name}": {
            "type": "string",
            **({"description": spec["description"]} if "description" in spec else {}),
        }
        for name, spec in envelope.items()
        if name != "datacontenttype"
    }
    properties["ce_type"] = {"type": "string", "enum": sorted(EVENT_TYPES), "description": "The event type."}
    properties["content-type"] = {
        "type": "string",
        "const": "application/json",
        "description": "Media type of data.",
    }
    return {
        "type": "object",
        "description": "Header values are UTF-8 strings; `ce_schemaversion` is a decimal integer.",
        "properties": properties,
        "required": sorted(f"ce_{name}" for name in required),
    }


def main(argv: list[str]) -> int:
    """`python -m services.contracts DIR`: (re)write the committed OpenAPI and AsyncAPI documents."""
    if len(argv) != 1:
        print("usage: python -m services.contracts DIRECTORY", file=sys.stderr)
        return 2
    for path in write(Path(argv[0])):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
