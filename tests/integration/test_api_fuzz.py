"""Schemathesis fuzzes the live worker from the OpenAPI document it serves.

Whatever the request, the worker never answers 5xx, and every answer is a status, content type
and body the document declares. Reads carry an auditor's key; events carry the API key of
`/dialer/test`: most generated events name another source and are refused (403, as documented),
so a second test pins the source
(and a content-derived id) to show that what the schema allows actually gets in. A few hostile
bodies the generator would not think of (nesting deeper than Python parses, lone surrogates) are
sent by hand.

The schema is loaded at collection time from `services.contracts` (schemathesis' lazy
`from_fixture` loader does not run under pytest 9), and the first test checks that the worker
serves exactly that document, so what is fuzzed is what is served.

Bounded: a fixed seed, at most `MAX_EXAMPLES` generated cases per operation, and no coverage phase
(it sends ~25k boundary cases and takes about 45 s; enable it in `CONFIG` for a deep run).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any, cast

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from pydantic import AwareDatetime, TypeAdapter, ValidationError
from schemathesis import Case, GenerationMode

from events.parse import TIME_WINDOW
from services import contracts
from services.settings import Settings
from tests.support import WorkerProcess

pytestmark = pytest.mark.integration

SOURCE = "/dialer/test"
SEED = 20261102
MAX_EXAMPLES = 50
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "mode": "all"},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "phases": {"coverage": {"enabled": False}},
    }
)
DOCUMENT = contracts.openapi_document(Settings())
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


def auth(worker: WorkerProcess) -> dict[str, str]:
    return {"Authorization": f"Bearer {worker.api_keys[SOURCE]}"}


def auth_for(case: Case[Any], worker: WorkerProcess) -> dict[str, str]:
    """The publisher key for the ingestion operations, an auditor's (reads everything) for the rest:
    so every operation is fuzzed past the access guard (the guard has its own matrix test)."""
    return (
        auth(worker)
        if case.operation.path.startswith("/v1/events:") or case.operation.path == "/v1/events"
        else worker.reader()
    )


def test_the_worker_serves_the_document_fuzzed_here(worker: WorkerProcess) -> None:
    response = worker.get("/v1/openapi.json")
    assert response.status_code == 200, "are the contract routes in services.bootstrap.routes?"
    assert response.json() == DOCUMENT


@schema.parametrize()
def test_every_answer_is_documented_and_none_is_a_server_error(
    case: Case[Any], worker: WorkerProcess
) -> None:
    case.call_and_validate(base_url=worker.url, headers=auth_for(case, worker))


def in_the_window(time: Any) -> Any:
    """A generated event time moved into the gate's window (`events.parse.TimeWindow`, relative to
    the recorded time: a bound JSON Schema cannot state) by changing its year; kept if unreadable."""
    try:
        parsed = TypeAdapter(AwareDatetime).validate_python(time)
    except ValidationError:
        return time
    now = datetime.now(UTC)
    if TIME_WINDOW.earliest <= parsed <= TIME_WINDOW.latest(now):
        return time
    return (
        datetime(2026, 1, 1, tzinfo=parsed.tzinfo)
        .replace(month=parsed.month, day=min(parsed.day, 28), hour=parsed.hour, minute=parsed.minute)
        .isoformat()
    )


def from_own_source(case: Case[Any]) -> Case[Any]:
    """The case's event as published by `SOURCE`, its id derived from its content (a retry is a
    duplicate), its time in the gate's window."""
    event = cast(dict[str, Any], case.body)
    event["source"] = SOURCE
    if "time" in event:
        event["time"] = in_the_window(event["time"])
    content = json.dumps({k: v for k, v in event.items() if k != "id"}, sort_keys=True, default=str)
    event["id"] = "fuzz-" + hashlib.sha256(content.encode()).hexdigest()[:32]
    return case


valid_events = schema["/v1/events"]["POST"].as_strategy(GenerationMode.POSITIVE).map(from_own_source)


def test_schema_valid_events_from_the_keys_own_source_get_in_or_break_a_rule_json_schema_cannot_say(
    worker: WorkerProcess,
) -> None:
    """Schema-valid events are accepted, or refused only as `invalid` (422) for what JSON Schema cannot
    express: cross-field rules (a period's end before its start), decimal digit limits, strict
    integers (JSON Schema counts 1.0 as an integer). Never another reason, and some do get in."""
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=valid_events)
    def publish(case: Case[Any]) -> None:
        response = case.call_and_validate(base_url=worker.url, headers=auth(worker))
        statuses[response.status_code] += 1
        if response.status_code == 422:
            assert response.json()["reason"] in {"invalid", "rule_violation"}, response.text
        else:
            assert response.status_code in (200, 202), (
                f"{response.status_code} {response.text} for {case.body!r}"
            )

    publish()
    assert statuses[202] >= MAX_EXAMPLES // 10, f"too few schema-valid events were accepted: {statuses}"


DEEP = b"[" * 20_000 + b"]" * 20_000  # valid JSON, nested deeper than Python's parser recurses
SURROGATE = rb'"source": "\ud800"'  # a lone surrogate: valid JSON escape, not encodable as UTF-8


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("/v1/events", DEEP, id="event-nested-too-deep"),
        pytest.param("/v1/events:batch", DEEP, id="batch-nested-too-deep"),
        pytest.param("/v1/events", b'{"type": "CallLogged", ' + SURROGATE + b"}", id="event-lone-surrogate"),
        pytest.param(
            "/v1/events:batch", b'[{"type": "CallLogged", ' + SURROGATE + b"}]", id="batch-lone-surrogate"
        ),
    ],
)
def test_hostile_bodies_are_refused_as_documented(path: str, body: bytes, worker: WorkerProcess) -> None:
    response = worker.post(path, content=body, headers=auth(worker))
    assert str(response.status_code) in DOCUMENT["paths"][path]["post"]["responses"], response.text
    schema[path]["POST"].validate_response(response)


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/v1/kpis?scope=org&period=9999", "period"),
        ("/v1/kpis?period=9999-12-31", "period"),
        ("/v1/forecast?period=9999-W52", "period"),
        ("/v1/pipeline?stuck_after_days=999999999999", "stuck_after_days"),
        ("/v1/pipeline?stuck_after_days=%D9%A3", "stuck_after_days"),  # ٣, an Arabic-Indic digit
        ("/v1/pipeline?as_of=9999-12-31T23:59:59-01:00", "as_of"),
        ("/v1/leaderboards?kpi=nope", "kpi"),
        ("/v1/statements/rep-1/9999-W52", "period"),
    ],
)
def test_issue12_item2_out_of_range_parameters_are_bad_query_on_a_live_worker(
    path: str, named: str, worker: WorkerProcess
) -> None:
    response = worker.get(path)
    assert response.status_code == 400, response.text
    assert response.json()["reason"] == "bad_query" and response.json()["message"].startswith(f"{named}:")
