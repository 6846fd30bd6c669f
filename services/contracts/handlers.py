"""The published contracts, served by every worker: OpenAPI, AsyncAPI and a JSON Schema per event type.

Built once from the worker's own settings (so limits and topic names are the ones in force), then
served as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.refusals import Refusal
from services.web.routes import Call, Reply, refusal

SCHEMAS_PATH = "/v1/schemas"


@dataclass(frozen=True)
class Contracts:
    openapi: Mapping[str, Any]
    asyncapi: Mapping[str, Any]
    schemas: Mapping[str, Any]

    @property
    def index(self) -> dict[str, str]:
        return {event_type: f"{SCHEMAS_PATH}/{event_type}" for event_type in sorted(self.schemas)}


async def openapi(contracts: Contracts, call: Call) -> Reply:
    """`GET /v1/openapi.json`."""
    return Reply(200, contracts.openapi)


async def asyncapi(contracts: Contracts, call: Call) -> Reply:
    """`GET /v1/asyncapi.json`."""
    return Reply(200, contracts.asyncapi)


async def schema_index(contracts: Contracts, call: Call) -> Reply:
    """`GET /v1/schemas`: the catalogue, each event type with the path of its schema."""
    return Reply(200, contracts.index)


async def event_schema(contracts: Contracts, call: Call) -> Reply:
    """`GET /v1/schemas/{event_type}`: the JSON Schema of one event type."""
    event_type = call.path["event_type"]
    if event_type not in contracts.schemas:
        message = f"no event type {event_type!r}; see {SCHEMAS_PATH} for the catalogue"
        return refusal(Refusal.NOT_FOUND, message)
    return Reply(200, contracts.schemas[event_type])
