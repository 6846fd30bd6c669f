"""The published contracts, served by every worker: OpenAPI, AsyncAPI and a JSON Schema per event type.

Built once at registration from the worker's own settings (so limits and topic names are the ones
in force), then served as they are.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.web import Request, Response, View

from services.contracts import asyncapi_document, event_schemas, openapi_document
from services.settings import Settings

SCHEMAS_PATH = "/v1/schemas"


def register_contract_views(app: faust.App, settings: Settings) -> None:
    openapi, asyncapi, schemas = openapi_document(settings), asyncapi_document(settings), event_schemas()
    index = {event_type: f"{SCHEMAS_PATH}/{event_type}" for event_type in sorted(schemas)}

    @app.page("/v1/openapi.json")
    class OpenApiView(View):
        async def get(self, request: Request, **kwargs: Any) -> Response:
            return self.json(openapi)

    @app.page("/v1/asyncapi.json")
    class AsyncApiView(View):
        async def get(self, request: Request, **kwargs: Any) -> Response:
            return self.json(asyncapi)

    @app.page(SCHEMAS_PATH)
    class SchemaIndexView(View):
        async def get(self, request: Request, **kwargs: Any) -> Response:
            return self.json(index)

    @app.page(SCHEMAS_PATH + "/{event_type}")
    class EventSchemaView(View):
        async def get(self, request: Request, event_type: str, **kwargs: Any) -> Response:
            if event_type not in schemas:
                message = f"no event type {event_type!r}; see {SCHEMAS_PATH} for the catalogue"
                return self.json({"status": "not_found", "message": message}, status=404)
            return self.json(schemas[event_type])
