"""The AsyncAPI 3.0 document of the project's Kafka topics: messages, keys, headers, bindings."""

from __future__ import annotations

from typing import Any

from events import EVENT_TYPES, Envelope
from services.contracts import models as bodies
from services.contracts.common import (
    API_VERSION,
    KAFKA_BINDING_VERSION,
    Json,
    component_schemas,
    ref,
)
from services.settings import Settings
from services.topics import TopicSpec, topic_specs


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
                "description": "Kafka bootstrap servers (`SALESLEDGER_KAFKA_BOOTSTRAP_SERVERS`), SASL/SCRAM "
                "with ACLs unless configured PLAINTEXT (docs/security.md).",
                "security": [{"$ref": "#/components/securitySchemes/scram"}],
            }
        },
        "channels": channels(settings),
        "operations": operations(),
        "components": {
            "schemas": schemas,
            "messages": messages(settings),
            "securitySchemes": {
                "scram": {
                    "type": "scramSha512",
                    "description": "A publisher principal (`SALESLEDGER_KAFKA_PUBLISHERS`) may write only "
                    "its own inbound topic; the worker principal owns the rest (docs/security.md).",
                }
            },
        },
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


def publisher_topic_binding(settings: Settings) -> Json:
    """The binding every publisher's topic shares: configured as the shared inbound topic, with
    no one topic name (the channel's address names it per principal)."""
    shared = next(spec for spec in topic_specs(settings) if spec.name == settings.topic_inbound)
    binding = topic_binding(shared)
    del binding["topic"]
    return binding


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
        "publisherInbound": {
            "address": f"{settings.topic_inbound}.{{principal}}",
            "title": "A publisher's own inbound events",
            "description": "With SASL, each publisher principal writes only its own topic (ACLs), so the "
            "ingestor knows who published: an event whose `source` the principal is not bound to "
            "(`SALESLEDGER_KAFKA_PUBLISHERS`) goes to the dead-letter topic as `source_mismatch`.",
            "parameters": {"principal": {"description": "The publisher's Kafka principal (SCRAM user)."}},
            "messages": {"structured": message_ref("StructuredEvent"), "binary": message_ref("BinaryEvent")},
            "bindings": {"kafka": publisher_topic_binding(settings)},
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
        "ingestPublisherInbound": operation(
            "receive", "publisherInbound", "Validate a publisher's events, and its sources, into the intake."
        ),
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
            "summary": "The original key and value as they came, its own `salesledger.*` headers "
            "removed and ours added: why and from where.",
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
