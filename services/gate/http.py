"""The HTTP gate: `POST /v1/events` and `POST /v1/events:batch`, through admission into the write
model.

Status codes: 202 accepted; 200 duplicate (the id was accepted before); 400 the body is not a JSON
object (or array, for a batch); 401 missing, unknown, revoked or expired API key; 403 the event's
source is not one of the key's, or the key's role publishes nothing; 409 the id was accepted before
with different content; 413 too large; 422 a field is invalid, the type is unknown or its version
unsupported, or the sales process forbids the event (with the rule's name). Rejections name every
bad field (`services.refusals`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from events import Envelope, Rejection
from services.access.guard import bearer_key
from services.admission import admit, admit_decoded, count_outcomes, count_rejection
from services.auth.keys import ApiKeys
from services.auth.roles import MAY_PUBLISH
from services.gate.batch import BatchRefused, split_batch
from services.logs import log_outcomes, log_refused, log_rejected
from services.refusals import HTTP_STATUS, Refusal, of_reason, refused
from services.web.routes import Call, Reply, refusal
from services.writemodel.outcomes import Appended, Outcome
from services.writemodel.recorder import Recorder


@dataclass(frozen=True)
class Gate:
    """What the gate's handlers need: the write side, the keys, and the limits in force."""

    recorder: Recorder
    keys: ApiKeys
    require_api_keys: bool
    max_event_bytes: int
    max_batch_events: int


class Unauthorized(Exception):
    """No valid API key on a request that needs one."""


class Forbidden(Exception):
    """A valid key whose role publishes nothing (a rep's, a manager's, an auditor's)."""


def authenticated_sources(gate: Gate, call: Call) -> frozenset[str] | None:
    """The sources the request's key publishes as (None when keys are not required)."""
    if not gate.require_api_keys:
        return None
    key = bearer_key(call)
    principal = gate.keys.principal_of(key) if key else None
    if principal is None:
        count_rejection("unknown", Refusal.UNAUTHORIZED, "http")
        raise Unauthorized
    if principal.role not in MAY_PUBLISH or not principal.sources:
        count_rejection("unknown", Refusal.FORBIDDEN, "http")
        raise Forbidden(principal.role)
    return principal.sources


def unauthorized() -> Reply:
    return refusal(
        Refusal.UNAUTHORIZED, "missing, invalid, expired or revoked API key (Authorization: Bearer <key>)"
    )


def forbidden(role: str) -> Reply:
    return refusal(
        Refusal.FORBIDDEN, f"a {role} key publishes nothing: use a publisher key of the event's source"
    )


def who_publishes(gate: Gate, call: Call) -> frozenset[str] | Reply | None:
    """The key's sources (None when keys are not required), or the refusal to answer with."""
    try:
        return authenticated_sources(gate, call)
    except Unauthorized:
        return unauthorized()
    except Forbidden as role:
        return forbidden(str(role))


def outcome_body(event: Envelope, result: Appended) -> tuple[dict[str, Any], int]:
    """The answer for one event the write model decided, and its status."""
    if result.outcome is Outcome.ACCEPTED:
        return {"status": "accepted", "id": event.id}, 202
    if result.outcome is Outcome.DUPLICATE:
        return {"status": "duplicate", "id": event.id}, 200
    if result.outcome is Outcome.VIOLATION:
        message = result.message or ""
        body = refused(Refusal.RULE_VIOLATION, message, [{"field": "(process)", "message": message}])
        return {**body, "rule": result.rule, "id": event.id}, HTTP_STATUS[Refusal.RULE_VIOLATION]
    message = f"event id {event.id} was already accepted with different content"
    return {**refused(Refusal.ID_CONFLICT, message), "id": event.id}, HTTP_STATUS[Refusal.ID_CONFLICT]


def source_error(event: Envelope, sources: frozenset[str] | None) -> dict[str, Any] | None:
    """A rejection body when the key may not publish `event` as its source, else None."""
    if sources is None or event.source in sources:
        return None
    named = " or ".join(repr(source) for source in sorted(sources))
    message = f"this API key publishes as source {named}, not {event.source!r}"
    count_rejection(event.type, Refusal.SOURCE_MISMATCH, "http")  # type: ignore[attr-defined]
    log_refused(event, Refusal.SOURCE_MISMATCH, "http")
    return refused(Refusal.SOURCE_MISMATCH, message, [{"field": "source", "message": message}])


async def post_event(gate: Gate, call: Call) -> Reply:
    """`POST /v1/events`: one event, answered once the write model has decided it."""
    source = who_publishes(gate, call)
    if isinstance(source, Reply):
        return source
    try:
        event = admit(call.body, transport="http", max_bytes=gate.max_event_bytes)
    except Rejection as rejection:
        log_rejected(rejection, "http", call.body)
        return Reply(HTTP_STATUS[of_reason(rejection.reason)], {"status": "rejected", **rejection.as_dict()})
    if (refusal_body := source_error(event, source)) is not None:
        return Reply(HTTP_STATUS[Refusal.SOURCE_MISMATCH], refusal_body)
    (result,) = await gate.recorder.append([event])
    count_outcomes([event], [result], "http")
    log_outcomes([event], [result], "http")
    body, status = outcome_body(event, result)
    return Reply(status, body)


async def post_batch(gate: Gate, call: Call) -> Reply:
    """`POST /v1/events:batch`: up to ``max_batch_events`` events, one write-model transaction.

    The body's size is checked before anything is decoded; decoding and validating the events
    (`admit_batch`) runs off the event loop, so a large batch never holds up other requests.
    """
    source = who_publishes(gate, call)
    if isinstance(source, Reply):
        return source
    limit = batch_limit(gate)
    if len(call.body) > limit:
        return refusal(Refusal.TOO_LARGE, f"batch body is {len(call.body)} bytes; the limit is {limit}")
    try:
        verdicts = await asyncio.to_thread(admit_batch, gate, call.body, source)
    except BatchRefused as refused_whole:
        return refusal(refused_whole.reason, refused_whole.message)
    return Reply(200, await record_batch(gate, verdicts))


def batch_limit(gate: Gate) -> int:
    """The largest batch body: as many events as a batch holds, each as large as an event may be."""
    return gate.max_batch_events * gate.max_event_bytes


Verdict = Envelope | dict[str, Any]
"""An admitted event, or the rejection body of an item that was not."""


def admit_batch(gate: Gate, body: bytes, source: frozenset[str] | None) -> list[Verdict]:
    """Each item of a batch body admitted or refused, in order; raises `BatchRefused` (synchronous)."""
    verdicts: list[Verdict] = []
    for item in split_batch(body, gate.max_batch_events):
        try:
            event = admit_decoded(
                item.document,
                size=item.size,
                problems=item.problems,
                transport="http",
                max_bytes=gate.max_event_bytes,
            )
        except Rejection as rejection:
            log_rejected(rejection, "http", item.document)
            verdicts.append({"status": "rejected", **rejection.as_dict()})
            continue
        refusal_body = source_error(event, source)
        verdicts.append(event if refusal_body is None else refusal_body)
    return verdicts


async def record_batch(gate: Gate, verdicts: list[Verdict]) -> dict[str, Any]:
    """Record the admitted events together, and answer item by item (with its index)."""
    valid = [(index, event) for index, event in enumerate(verdicts) if isinstance(event, Envelope)]
    results: list[dict[str, Any]] = [v if isinstance(v, dict) else {} for v in verdicts]
    stored = await gate.recorder.append([event for _, event in valid]) if valid else []
    count_outcomes([event for _, event in valid], stored, "http")
    log_outcomes([event for _, event in valid], stored, "http")
    for (index, event), appended in zip(valid, stored, strict=True):
        results[index] = outcome_body(event, appended)[0]
    for index, body in enumerate(results):
        body["index"] = index
    tally = {
        status: sum(r["status"] == status for r in results)
        for status in ("accepted", "duplicate", "rejected")
    }
    return {"results": results, **tally}
