"""What both published documents share: JSON Schema references, the catalogue's schemas, rendering.

Everything is derived from code: the event schemas are the catalogue's own (`events.schema`, also
written to ``docs/schemas``), the response bodies and Kafka headers come from
`services.contracts.models`, limits and topic names from `Settings` and `services.topics`. Pure
functions, no I/O, so a new event type or setting shows up in every document by itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from events.schema import catalogue_schema, event_json_schemas
from services.settings import Settings

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


def render(document: Json) -> str:
    """The committed form of a document: sorted keys, two-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def default_settings() -> Settings:
    """The defaults whatever the environment says, so the committed documents never depend on who ran it."""
    return Settings.model_construct()
