"""The Faust views the route table is served through (`services.web.faust`), called directly."""

from __future__ import annotations

import asyncio
import json
import logging

import faust
import pytest
from aiohttp.test_utils import make_mocked_request

from services.web.faust import _view
from services.web.routes import Call, Reply


async def full_disk(call: Call) -> Reply:
    raise OSError(28, "No space left on device")


async def fine(call: Call) -> Reply:
    return Reply(200, {"path": dict(call.path), "query": dict(call.query)})


def served(handler: object, path: str = "/v1/x?a=1") -> tuple[int, str, dict[str, object]]:
    async def run() -> tuple[int, str, dict[str, object]]:
        app = faust.App("views-test", broker="kafka://127.0.0.1:1", web_enabled=True)
        view = _view({"GET": handler})(app, app.web)  # type: ignore[dict-item]
        response = await view.get(make_mocked_request("GET", path), rep_id="rep-a")
        assert response.body is not None
        return response.status, response.content_type, json.loads(response.body)

    return asyncio.run(run())


def test_issue_15_a_failing_handler_is_answered_500_in_the_json_refusal_shape_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="services.web.faust"):
        status, content_type, body = served(full_disk)
    assert (status, content_type) == (500, "application/json")
    assert body["status"] == "rejected" and body["reason"] == "internal_error"
    assert "No space left" not in json.dumps(body), "internals stay in the log, not the answer"
    assert any("GET /v1/x failed" in record.getMessage() for record in caplog.records)
    assert "No space left on device" in caplog.text


def test_a_handler_sees_the_path_and_query_parameters() -> None:
    assert served(fine) == (200, "application/json", {"path": {"rep_id": "rep-a"}, "query": {"a": "1"}})
