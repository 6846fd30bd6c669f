"""HTTP API served by every worker: event ingestion, read-model queries, health.

Status codes: 202 accepted; 400 body is not a JSON object; 413 too large; 422 a field is invalid,
unknown type or unsupported version. A rejection body names the reason and each bad field.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.web import Request, Response, View

from events import Reason, Rejection, serialize_event
from projections import rep_activity
from projections.positions import split_partial_key
from services.gate import admit
from services.settings import Settings
from services.worker.channels import Channels
from services.worker.projector import decode_partial

STATUS_BY_REASON = {
    Reason.TOO_LARGE: 413,
    Reason.NOT_JSON: 400,
    Reason.NOT_AN_OBJECT: 400,
    Reason.UNKNOWN_TYPE: 422,
    Reason.UNSUPPORTED_VERSION: 422,
    Reason.INVALID: 422,
}


def rep_activity_view(channels: Channels) -> dict[str, rep_activity.RepActivity]:
    """Merged activity per rep from the partials this worker holds."""
    partials = []
    for table_key, stored in channels.rep_activity.items():
        _, rep = split_partial_key(table_key)
        partials.append((rep, decode_partial(stored).state))
    return rep_activity.merge_all(partials)


def register_views(app: faust.App, channels: Channels, settings: Settings) -> None:
    @app.page("/v1/events")
    class EventsView(View):
        async def post(self, request: Request, **kwargs: Any) -> Response:
            raw = await request.read()
            try:
                event = admit(raw, transport="http", max_bytes=settings.max_event_bytes)
            except Rejection as rejection:
                body = {"status": "rejected", **rejection.as_dict()}
                return self.json(body, status=STATUS_BY_REASON[rejection.reason])
            await app.producer.send_and_wait(
                settings.topic_events, event.partition_key.encode(), serialize_event(event), None, None, None
            )
            return self.json({"status": "accepted", "id": event.id}, status=202)

    @app.page("/v1/reps/activity")
    class AllRepsActivityView(View):
        async def get(self, request: Request, **kwargs: Any) -> Response:
            reps = rep_activity_view(channels)
            return self.json({"reps": {rep: state.to_dict() for rep, state in sorted(reps.items())}})

    @app.page("/v1/reps/{rep_id}/activity")
    class RepActivityView(View):
        async def get(self, request: Request, rep_id: str, **kwargs: Any) -> Response:
            state = rep_activity_view(channels).get(rep_id, rep_activity.RepActivity())
            return self.json({"rep_id": rep_id, **state.to_dict()})

    @app.page("/v1/health")
    class HealthView(View):
        async def get(self, request: Request, **kwargs: Any) -> Response:
            assigned = sorted(f"{tp.topic}/{tp.partition}" for tp in app.consumer.assignment())
            ready = bool(assigned) and not app.rebalancing
            return self.json({"ready": ready, "assigned": assigned}, status=200 if ready else 503)
