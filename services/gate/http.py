"""HTTP API served by every worker: event ingestion, read-model queries, contracts, health.

Ingestion status codes: 202 accepted; 200 duplicate (the id was accepted before); 400 the body is
not a JSON object (or array, for a batch); 401 missing or unknown API key; 403 the event's source
is not the key's; 409 the id was accepted before with different content; 413 too large; 422 a
field is invalid, the type is unknown or its version unsupported. Rejections name every bad field.
"""

from __future__ import annotations

import json
from typing import Any

import faust
from faust.web import Request, Response, View

from events import Envelope, Reason, Rejection
from services.admission import (
    ID_CONFLICT,
    RULE_VIOLATION,
    SOURCE_MISMATCH,
    admit,
    admit_document,
    count_outcomes,
    count_rejection,
)
from services.channels import Channels
from services.projector.service import Projector
from services.writemodel.outcomes import Appended, Outcome
from services.writemodel.recorder import Runtime

STATUS_BY_REASON = {
    Reason.TOO_LARGE: 413,
    Reason.NOT_JSON: 400,
    Reason.NOT_AN_OBJECT: 400,
    Reason.UNKNOWN_TYPE: 422,
    Reason.UNSUPPORTED_VERSION: 422,
    Reason.INVALID: 422,
}


class Unauthorized(Exception):
    """No valid API key on a request that needs one."""


def rejected(reason: str, message: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"status": "rejected", "reason": reason, "message": message, "errors": errors or []}


def outcome_body(event: Envelope, result: Appended) -> tuple[dict[str, Any], int]:
    if result.outcome is Outcome.ACCEPTED:
        return {"status": "accepted", "id": event.id}, 202
    if result.outcome is Outcome.DUPLICATE:
        return {"status": "duplicate", "id": event.id}, 200
    if result.outcome is Outcome.VIOLATION:
        body = rejected(
            RULE_VIOLATION, result.message or "", [{"field": "(process)", "message": result.message or ""}]
        )
        return {**body, "rule": result.rule, "id": event.id}, 422
    message = f"event id {event.id} was already accepted with different content"
    return {**rejected(ID_CONFLICT, message), "id": event.id}, 409


def source_error(event: Envelope, source: str | None) -> dict[str, Any] | None:
    """A rejection body when the key's source may not publish `event`, else None."""
    if source is None or event.source == source:
        return None
    message = f"this API key publishes as source {source!r}, not {event.source!r}"
    return rejected(SOURCE_MISMATCH, message, [{"field": "source", "message": message}])


def register_views(app: faust.App, channels: Channels, runtime: Runtime, projector: Projector) -> None:
    settings = runtime.settings

    class Ingestion(View):
        def authenticated_source(self, request: Request) -> str | None:
            """The source the request's key publishes as (None when keys are not required)."""
            if not settings.require_api_keys:
                return None
            scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
            key = credentials.strip() if scheme.lower() == "bearer" else ""
            key = key or request.headers.get("X-Api-Key", "")
            source = runtime.keys.source_of(key) if key else None
            if source is None:
                count_rejection("unknown", "unauthorized", "http")
                raise Unauthorized
            return source

        def unauthorized(self) -> Response:
            body = rejected("unauthorized", "missing or invalid API key (Authorization: Bearer <key>)")
            return self.json(body, status=401)

    @app.page("/v1/events")
    class EventsView(Ingestion):
        async def post(self, request: Request, **kwargs: Any) -> Response:
            try:
                source = self.authenticated_source(request)
            except Unauthorized:
                return self.unauthorized()
            try:
                event = admit(await request.read(), transport="http", max_bytes=settings.max_event_bytes)
            except Rejection as rejection:
                body = {"status": "rejected", **rejection.as_dict()}
                return self.json(body, status=STATUS_BY_REASON[rejection.reason])
            if (refusal := source_error(event, source)) is not None:
                count_rejection(event.type, SOURCE_MISMATCH, "http")  # type: ignore[attr-defined]
                return self.json(refusal, status=403)
            (result,) = await runtime.append([event])
            count_outcomes([event], [result], "http")
            body, status = outcome_body(event, result)
            return self.json(body, status=status)

    @app.page("/v1/events:batch")
    class EventsBatchView(Ingestion):
        async def post(self, request: Request, **kwargs: Any) -> Response:
            try:
                source = self.authenticated_source(request)
            except Unauthorized:
                return self.unauthorized()
            raw = await request.read()
            limit = settings.max_batch_events * settings.max_event_bytes
            if len(raw) > limit:
                return self.json(rejected("too_large", f"batch body over {limit} bytes"), status=413)
            try:
                items = json.loads(raw)
            except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than Python parses
                return self.json(rejected("not_json", f"body is not JSON: {exc}"), status=400)
            if isinstance(items, dict) and isinstance(items.get("events"), list):
                items = items["events"]
            if not isinstance(items, list):
                return self.json(rejected("not_an_array", "a batch is a JSON array of events"), status=400)
            if len(items) > settings.max_batch_events:
                message = f"{len(items)} events; a batch holds at most {settings.max_batch_events}"
                return self.json(rejected("too_many_events", message), status=413)
            return self.json(await self.ingest(items, source))

        async def ingest(self, items: list[Any], source: str | None) -> dict[str, Any]:
            results: list[dict[str, Any]] = [{} for _ in items]
            valid: list[tuple[int, Envelope]] = []
            for index, item in enumerate(items):
                try:
                    event = admit_document(item, transport="http", max_bytes=settings.max_event_bytes)
                except Rejection as rejection:
                    results[index] = {"status": "rejected", **rejection.as_dict()}
                    continue
                if (refusal := source_error(event, source)) is not None:
                    count_rejection(event.type, SOURCE_MISMATCH, "http")  # type: ignore[attr-defined]
                    results[index] = refusal
                    continue
                valid.append((index, event))
            stored = await runtime.append([event for _, event in valid]) if valid else []
            count_outcomes([event for _, event in valid], stored, "http")
            for (index, event), appended in zip(valid, stored, strict=True):
                results[index] = outcome_body(event, appended)[0]
            for index, body in enumerate(results):
                body["index"] = index
            tally = {
                status: sum(r["status"] == status for r in results)
                for status in ("accepted", "duplicate", "rejected")
            }
            return {"results": results, **tally}

    @app.page("/v1/health")
    class HealthView(View):
        async def get(self, request: Request, **kwargs: Any) -> Response:
            projecting = {f"{projector.topic}/{p}" for p in projector.owned()}
            assigned = sorted({f"{tp.topic}/{tp.partition}" for tp in app.consumer.assignment()} | projecting)
            ready = bool(assigned) and not app.rebalancing
            return self.json({"ready": ready, "assigned": assigned}, status=200 if ready else 503)
