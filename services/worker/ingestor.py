"""The Kafka ingestor: the inbound topic's raw messages, validated, onto the canonical event log.

A valid event goes on to the event log keyed by its aggregate; anything else goes to the dead-letter
topic with its reason, its original bytes and headers. One poison message never stalls a partition.
"""

from __future__ import annotations

import logging

import faust
from faust.types import StreamT

from events import Rejection, serialize_event
from services.gate import admit
from services.settings import Settings
from services.worker.channels import Channels
from services.worker.deadletter import send_to_deadletter

log = logging.getLogger(__name__)


def register_ingestor(app: faust.App, channels: Channels, settings: Settings) -> None:
    @app.agent(channels.inbound, name="ingest-inbound", concurrency=1)
    async def ingest_inbound(stream: StreamT[bytes]) -> None:
        async for source in stream.events():
            raw = source.message.value
            try:
                event = admit(raw or b"", transport="kafka", max_bytes=settings.max_event_bytes)
            except Rejection as rejection:
                await send_to_deadletter(
                    channels.deadletter,
                    source,
                    stage="ingest",
                    reason=rejection.reason.value,
                    message=rejection.message,
                    errors=rejection.as_dict()["errors"],  # type: ignore[arg-type]
                )
                continue
            except Exception as exc:  # a bug here must not lose the message
                log.exception("ingestor failed on %s", source.message.tp)
                await send_to_deadletter(
                    channels.deadletter, source, stage="ingest", reason="internal_error", message=repr(exc)
                )
                continue
            await channels.events.send(key=event.partition_key.encode(), value=serialize_event(event))
