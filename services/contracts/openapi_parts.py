"""The building blocks of the OpenAPI document: operations, parameters, responses, tags."""

from __future__ import annotations

from typing import Any

from services.contracts.common import Json, ref

INGESTION_TAG, QUERIES_TAG, OPERATIONS_TAG, CONTRACTS_TAG = "ingestion", "queries", "operations", "contracts"


def json_content(schema: Json) -> Json:
    return {"application/json": {"schema": schema}}


def response(description: str, model: str | None = None, schema: Json | None = None) -> Json:
    body = ref(model) if model else schema
    return {"description": description, **({"content": json_content(body)} if body is not None else {})}


def response_or_text(description: str, model: str, media_type: str) -> Json:
    """A response in JSON (``model``) or, asked by ``Accept`` or ``format``, as ``media_type`` text
    (a statement's CSV, a review's Markdown)."""
    return {
        "description": description,
        "content": {**json_content(ref(model)), media_type: {"schema": {"type": "string"}}},
    }


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


def query_parameter(name: str, description: str, schema: Json) -> Json:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}
