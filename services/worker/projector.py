"""The projector: folds the canonical event log into read models, exactly once in effect.

Thin by design: parse, pick the partial for (partition, rep), `apply_once` the pure fold, save.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC

import faust
from faust.types import StreamT

from events import Rejection, parse_event
from events.envelope import Envelope
from projections import rep_activity
from projections.positions import Positioned, apply_once, partial_key
from services.metrics import PROJECTED, PROJECTION_LATENCY
from services.worker.channels import Channels
from services.worker.deadletter import send_to_deadletter

log = logging.getLogger(__name__)
READ_MODEL = "rep_activity"


def decode_partial(stored: dict[str, object] | None) -> Positioned[rep_activity.RepActivity]:
    if stored is None:
        return Positioned(rep_activity.RepActivity())
    return Positioned(rep_activity.RepActivity.from_dict(stored["state"]), int(stored["offset"]))  # type: ignore[arg-type, call-overload]


def encode_partial(partial: Positioned[rep_activity.RepActivity]) -> dict[str, object]:
    return {"state": partial.state.to_dict(), "offset": partial.offset}


def _observe_latency(event: Envelope) -> None:
    if event.recordedtime is not None:
        lag = time.time() - event.recordedtime.astimezone(UTC).timestamp()
        PROJECTION_LATENCY.labels(READ_MODEL).observe(max(lag, 0.0))


def register_projector(app: faust.App, channels: Channels) -> None:
    table = channels.rep_activity

    @app.agent(channels.events, name="project-rep-activity", concurrency=1)
    async def project_rep_activity(stream: StreamT[bytes]) -> None:
        async for source in stream.events():
            msg = source.message
            try:
                event = parse_event(msg.value or b"", max_bytes=1 << 30)
                rep = rep_activity.rep_of(event)
                if rep is None:
                    PROJECTED.labels(READ_MODEL, "ignored").inc()
                    continue
                key = partial_key(msg.partition, rep)
                updated = apply_once(decode_partial(table.get(key)), msg.offset, event, rep_activity.evolve)
                if updated is None:
                    PROJECTED.labels(READ_MODEL, "duplicate").inc()
                    continue
                table[key] = encode_partial(updated)
                PROJECTED.labels(READ_MODEL, "applied").inc()
                _observe_latency(event)
            except Rejection as rejection:
                await send_to_deadletter(
                    channels.deadletter,
                    source,
                    stage=READ_MODEL,
                    reason=rejection.reason.value,
                    message=str(rejection),
                )
            except Exception as exc:  # route, never lose: Faust would ack and drop it
                log.exception("projection failed at %s@%s", msg.tp, msg.offset)
                await send_to_deadletter(
                    channels.deadletter, source, stage=READ_MODEL, reason="internal_error", message=repr(exc)
                )
