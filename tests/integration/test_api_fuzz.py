"""Schemathesis fuzzes the live worker from the OpenAPI document it serves.

Whatever the request, the worker never answers 5xx, and every answer is a status, content type
and body the document declares. Requests carry the API key of `/dialer/test`: most generated
events name another source and are refused (403, as documented); `test_valid_events_are_accepted`
pins the source so that schema-valid events actually get in.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case

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


def fuzz_config(worker: WorkerProcess) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": worker.url,
            "headers": {"Authorization": f"Bearer {worker.api_keys[SOURCE]}"},
            "generation": {"max-examples": MAX_EXAMPLES, "mode": "all"},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        }
    )


@pytest.fixture(scope="module")
def api_schema(worker: WorkerProcess) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{worker.url}/v1/openapi.json", config=fuzz_config(worker))


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_answer_is_documented_and_none_is_a_server_error(case: Case) -> None:
    case.call_and_validate()
