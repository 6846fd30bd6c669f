"""The projector: folds the canonical event log into every read model, exactly once in effect.

Thin by design: parse once, then for each read model pick the partial for (partition, key),
`apply_once` the pure fold, save. A failure is routed to the dead-letter topic, never raised
(Faust would ack and drop the message).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC
from functools import cache

import faust
from faust.types import StreamT
from prometheus_client import Counter

from events import Rejection, parse_event
from events.envelope import Envelope
from projections.positions import partial_key
from services.metrics import PROJECTED, PROJECTION_LATENCY
from services.worker.channels import Channels, Table
from services.worker.deadletter import send_to_deadletter
from services.worker.readmodels import ReadModel

log = logging.getLogger(__name__)
STAGE = "projection"


def _observe_latency(event: Envelope) -> None:
    if event.recordedtime is not None:
        lag = time.time() - event.recordedtime.astimezone(UTC).timestamp()
        PROJECTION_LATENCY.labels("all").observe(max(lag, 0.0))


@cache
def _counted(read_model: str, outcome: str) -> Counter:
    """The metric child for (read model, outcome), looked up once: this runs for every event."""
    return PROJECTED.labels(read_model, outcome)


def project(model: ReadModel, table: Table, partition: int, offset: int, event: Envelope) -> None:
    """Fold one event into the read model's partials it changes (none for events it ignores)."""
    keys = model.keys_of(event)
    if not keys:
        _counted(model.name, "ignored").inc()
        return
    for key in keys:
        stored_key = partial_key(partition, key)
        updated = model.apply(key, table.get(stored_key), offset, event)
        if updated is None:
            _counted(model.name, "duplicate").inc()
            continue
        table[stored_key] = updated
        _counted(model.name, "applied").inc()


def register_projector(app: faust.App, channels: Channels) -> None:
    @app.agent(channels.events, name="project-read-models", concurrency=1)
    async def project_read_models(stream: StreamT[bytes]) -> None:
        async for source in stream.events():
            msg = source.message
            try:
                event = parse_event(msg.value or b"", max_bytes=1 << 30)
                for model, table in channels.read_models:
                    project(model, table, msg.partition, msg.offset, event)
                _observe_latency(event)
            except Rejection as rejection:
                await send_to_deadletter(
                    channels.deadletter,
                    source,
                    stage=STAGE,
                    reason=rejection.reason.value,
                    message=str(rejection),
                )
            except Exception as exc:  # route, never lose: Faust would ack and drop it
                log.exception("projection failed at %s@%s", msg.tp, msg.offset)
                await send_to_deadletter(
                    channels.deadletter, source, stage=STAGE, reason="internal_error", message=repr(exc)
                )
