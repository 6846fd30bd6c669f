"""The published contracts: generated from code, committed fresh, covering every route and event type."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import jsonschema
import pytest
from openapi_spec_validator import validate

from events import EVENT_TYPES, parse_event
from projections.rep_activity import RepActivity
from services import contracts
from services.bootstrap import create_app
from services.contracts.models import (
    REJECTION_REASONS,
    CanonicalHeaders,
    DeadLetterHeaders,
    RepActivityCounts,
)
from services.deadletter import deadletter_headers
from services.ingestor.binding import as_structured
from services.outbox.relay import SEQ_HEADER, STORE_HEADER
from services.settings import Settings
from tests.samples import call_logged, lead_captured

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = "python -m services.contracts docs/"
SAMPLES = [call_logged(), lead_captured()]


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return contracts.openapi_document(contracts.default_settings())


@pytest.fixture(scope="module")
def asyncapi() -> dict[str, Any]:
    return contracts.asyncapi_document(contracts.default_settings())


@pytest.mark.parametrize("name", ["openapi.json", "asyncapi.json"])
def test_committed_documents_are_the_generated_ones(name: str, tmp_path: Path) -> None:
    assert contracts.main([str(tmp_path)]) == 0
    committed = ROOT / "docs" / name
    assert committed.exists(), f"docs/{name} is missing: generate it with `{REGENERATE}`"
    assert committed.read_text() == (tmp_path / name).read_text(), (
        f"docs/{name} is stale: regenerate it with `{REGENERATE}` and commit it"
    )


def test_every_route_the_worker_serves_is_documented_and_nothing_else(
    openapi: dict[str, Any], tmp_path: Path
) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/x.sqlite3"))
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in cast(Any, app.web).web_app.router.routes()
        if route.method != "HEAD"
        and route.resource is not None  # aiohttp adds HEAD to every GET
        and not route.resource.canonical.startswith("/ui/")  # the browser dashboard: HTML, docs/dashboard.md
    }
    documented = {(method, path) for path, item in openapi["paths"].items() for method in item}
    assert served == documented


def test_the_openapi_document_is_valid_openapi_3_1(openapi: dict[str, Any]) -> None:
    validate(openapi)


def test_every_event_type_is_in_the_event_union_of_both_documents(
    openapi: dict[str, Any], asyncapi: dict[str, Any]
) -> None:
    expected = {f"#/components/schemas/{event_type}" for event_type in EVENT_TYPES}
    for document in (openapi, asyncapi):
        schemas = document["components"]["schemas"]
        assert {option["$ref"] for option in schemas["Event"]["oneOf"]} == expected
        for event_type in EVENT_TYPES:
            assert schemas[event_type]["properties"]["type"]["const"] == event_type
    assert set(openapi["components"]["schemas"]["Event"]["discriminator"]["mapping"].values()) == expected
    assert asyncapi["components"]["schemas"]["Event"]["discriminator"] == "type"  # AsyncAPI's form
    assert set(contracts.event_schemas()) == set(EVENT_TYPES)


def test_every_ref_points_at_a_schema(openapi: dict[str, Any], asyncapi: dict[str, Any]) -> None:
    for document in (openapi, asyncapi):
        for target in refs(document):
            node: Any = document
            for part in target.removeprefix("#/").split("/"):
                assert isinstance(node, dict) and part in node, f"dangling $ref {target}"
                node = node[part]


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: event["type"])
def test_the_published_schema_of_each_event_type_accepts_what_the_gate_accepts(event: dict[str, Any]) -> None:
    schema = contracts.event_schemas()[event["type"]]
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(event, schema, cls=jsonschema.Draft202012Validator)
    parse_event(json.dumps(event))


@pytest.mark.parametrize("event", SAMPLES, ids=lambda event: event["type"])
def test_a_binary_mode_message_with_the_documented_headers_is_the_structured_event(
    event: dict[str, Any], asyncapi: dict[str, Any]
) -> None:
    documented = asyncapi["components"]["schemas"]["BinaryModeHeaders"]
    attributes = {k: v for k, v in event.items() if k != "data"}
    headers = [(f"ce_{name}", str(value).encode()) for name, value in attributes.items()]
    assert {name for name, _ in headers} <= set(documented["properties"])
    assert set(documented["required"]) <= {name for name, _ in headers}
    structured = as_structured(
        json.dumps(event["data"]).encode(), [*headers, ("content-type", b"application/json")]
    )
    assert parse_event(structured) == parse_event(json.dumps(event))


def test_the_dead_letter_headers_the_worker_writes_are_the_documented_ones() -> None:
    message = SimpleNamespace(headers=[("trace", b"1")], topic="salesledger.inbound", partition=2, offset=41)
    errors = [{"field": "data.duration_seconds", "message": "Input should be greater than or equal to 0"}]
    headers = deadletter_headers(
        stage="ingest",
        reason="invalid",
        message="bad",
        errors=errors,
        source=cast(Any, SimpleNamespace(message=message)),
    )
    parsed = DeadLetterHeaders.model_validate({name: value.decode() for name, value in headers})
    assert parsed.source == "salesledger.inbound/2/41"
    assert [error.model_dump() for error in parsed.errors] == errors


def test_the_canonical_log_headers_are_the_relays() -> None:
    documented = {field.alias for field in CanonicalHeaders.model_fields.values()}
    assert documented == {SEQ_HEADER, STORE_HEADER}


def test_the_rep_activity_body_has_the_read_models_fields() -> None:
    read_model = [field.name for field in dataclasses.fields(RepActivity)]
    assert list(RepActivityCounts.model_fields) == read_model, (
        "projections.rep_activity.RepActivity changed: update RepActivityCounts in services/api_models.py"
    )


def test_every_rejection_reason_is_documented(openapi: dict[str, Any]) -> None:
    reason = openapi["components"]["schemas"]["Rejected"]["properties"]["reason"]
    assert reason["enum"] == list(REJECTION_REASONS)


def refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [target for value in node.values() for target in refs(value)]
    if isinstance(node, list):
        return [target for value in node for target in refs(value)]
    return []
