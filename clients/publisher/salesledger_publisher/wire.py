"""Requests as sent and replies as received: pure functions, shared by both clients."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeGuard

from salesledger_publisher.events import BATCH_PATH, EVENTS_PATH, encode
from salesledger_publisher.results import FieldError, Result


@dataclass(frozen=True, slots=True)
class Prepared:
    """A request ready to send as often as needed: the body is fixed bytes."""

    path: str
    body: bytes
    headers: Mapping[str, str]
    ids: tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer reduced to what interpretation needs, whichever client produced it."""

    status: int
    body: bytes
    retry_after: str | None = None


def _headers(api_key: str, content_type: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {api_key}",
        "Content-Type": content_type,
        "Accept": "application/json",
        "User-Agent": "salesledger-publisher/1",
    }


def _event_id(event: Mapping[str, Any]) -> str | None:
    value = event.get("id")
    return value if isinstance(value, str) else None


def single_request(event: Mapping[str, Any], api_key: str) -> Prepared:
    headers = _headers(api_key, "application/cloudevents+json; charset=utf-8")
    return Prepared(EVENTS_PATH, encode(event), headers, (_event_id(event),))


def batch_requests(events: Sequence[Mapping[str, Any]], api_key: str, size: int) -> Iterator[Prepared]:
    """One request per chunk of at most `size` events, in order (so the log keeps their order)."""
    headers = _headers(api_key, "application/cloudevents-batch+json; charset=utf-8")
    for start in range(0, len(events), size):
        chunk = events[start : start + size]
        yield Prepared(BATCH_PATH, encode(list(chunk)), headers, tuple(_event_id(e) for e in chunk))


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _field_errors(value: object) -> tuple[FieldError, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        FieldError(str(item.get("field", "")), str(item.get("message", "")))
        for item in value
        if isinstance(item, dict)
    )


def _outcome(document: Mapping[str, Any], sent_id: str | None, attempts: int, fallback: str) -> Result:
    """The decision `document` reports (`{"status", "id"?, "reason"?, "message"?, "errors"?}`)."""
    status = document.get("status")
    if status in ("accepted", "duplicate"):
        return Result(status, _text(document.get("id")) or sent_id, attempts=attempts)
    return Result(
        "rejected",
        _text(document.get("id")) or sent_id,
        reason=_text(document.get("reason")) or fallback,
        message=_text(document.get("message")),
        errors=_field_errors(document.get("errors")),
        attempts=attempts,
    )


def single_result(reply: Reply, sent_id: str | None, attempts: int = 1) -> Result:
    """The `Result` of a final (non-retryable) answer to `POST /v1/events`."""
    document = _json_object(reply.body)
    if reply.status not in (200, 202):
        document = {**document, "status": "rejected"}  # only 200 and 202 mean "recorded"
    return _outcome(document, sent_id, attempts, fallback=f"http_{reply.status}")


def _matches(items: object, count: int) -> TypeGuard[list[dict[str, Any]]]:
    """Whether `items` is one result object per event sent, in order."""
    return (
        isinstance(items, list)
        and len(items) == count
        and all(isinstance(item, dict) and item.get("index", n) == n for n, item in enumerate(items))
    )


def batch_results(reply: Reply, sent_ids: Sequence[str | None], attempts: int = 1) -> list[Result]:
    """Per-event results of a final answer to `POST /v1/events:batch`.

    A whole-request refusal (401, 413 too many events, ...) applies to every event in it.
    """
    document = _json_object(reply.body)
    if reply.status == 200:
        items = document.get("results")
        if _matches(items, len(sent_ids)):
            return [
                _outcome(item, sent, attempts, "rejected") for item, sent in zip(items, sent_ids, strict=True)
            ]
        document = {"reason": "unexpected_response", "message": "batch results do not match the events sent"}
    whole = _outcome({**document, "status": "rejected"}, None, attempts, fallback=f"http_{reply.status}")
    return [replace(whole, id=sent) for sent in sent_ids]
