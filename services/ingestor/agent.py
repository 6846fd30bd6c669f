"""The Kafka ingestor: inbound messages (structured or binary mode) validated into the write model.

Messages are taken in batches (one write-model transaction per batch). A valid event the sales
process allows is recorded (a repeat of an accepted id is counted as a duplicate); anything else
goes to the dead-letter topic with its reason (and rule), original bytes and headers; so does an
event whose source its Kafka principal is not bound to (``services.ingestor.principals``). One poison
message never stalls a partition. Offsets are acknowledged only after the batch is recorded.
"""

from __future__ import annotations

import logging
from typing import Any

import faust
from faust.types import EventT, StreamT

from events import Envelope, Rejection
from services.admission import admit, count_outcomes, count_rejection
from services.channels import Channels
from services.deadletter import send_to_deadletter
from services.ingestor.binding import as_structured
from services.ingestor.principals import SourceBindings
from services.refusals import Refusal
from services.settings import Settings
from services.writemodel.outcomes import Outcome
from services.writemodel.recorder import Recorder

log = logging.getLogger(__name__)
STAGE = "ingest"


def register_ingestor(app: faust.App, channels: Channels, recorder: Recorder, settings: Settings) -> None:
    """The ingestor agent on ``channels.inbound``: one write-model transaction per batch taken.
    An event from a publisher's own topic must claim a source that publisher is bound to
    (`services.ingestor.principals`), or it is dead-lettered as ``source_mismatch``."""
    bindings = SourceBindings.of(settings)

    async def validate(source: EventT[Any]) -> Envelope | None:
        """The admitted event, or None after routing the message to the dead-letter topic."""
        msg = source.message
        try:
            try:
                raw = as_structured(msg.value, msg.headers)  # type: ignore[arg-type]
            except Rejection as rejection:
                count_rejection(rejection.event_type, rejection.reason.value, "kafka")
                raise
            event = admit(raw, transport="kafka", max_bytes=settings.max_event_bytes)
            mismatch = bindings.refusal(msg.topic, str(event.source))
            if mismatch is None:
                return event
            count_rejection(event.type, Refusal.SOURCE_MISMATCH, "kafka")  # type: ignore[attr-defined]
            await send_to_deadletter(
                channels.deadletter, source, stage=STAGE, reason=Refusal.SOURCE_MISMATCH, message=mismatch
            )
        except Rejection as rejection:
            await send_to_deadletter(
                channels.deadletter,
                source,
                stage=STAGE,
                reason=rejection.reason.value,
                message=rejection.message,
                errors=rejection.as_dict()["errors"],  # type: ignore[arg-type]
            )
        except Exception as exc:  # a bug here must not lose the message
            log.exception("ingestor failed on %s", msg.tp)
            await send_to_deadletter(
                channels.deadletter, source, stage=STAGE, reason=Refusal.INTERNAL_ERROR, message=repr(exc)
            )
        return None

    @app.agent(channels.inbound, name="ingest-inbound", concurrency=1)
    async def ingest_inbound(stream: StreamT[bytes]) -> None:
        async for batch in stream.take_events(  # type: ignore[attr-defined]
            settings.ingest_batch_size, within=0.05
        ):
            admitted = [(source, event) for source in batch if (event := await validate(source)) is not None]
            if not admitted:
                continue
            events = [event for _, event in admitted]
            results = await recorder.append_until_stored(events)
            count_outcomes(events, results, "kafka")
            for (source, event), result in zip(admitted, results, strict=True):
                if result.outcome is Outcome.CONFLICT:
                    await send_to_deadletter(
                        channels.deadletter,
                        source,
                        stage=STAGE,
                        reason=Refusal.ID_CONFLICT,
                        message=f"event id {event.id} was already accepted with different content",
                    )
                elif result.outcome is Outcome.VIOLATION:
                    await send_to_deadletter(
                        channels.deadletter,
                        source,
                        stage=STAGE,
                        reason=Refusal.RULE_VIOLATION,
                        message=result.message or "",
                        rule=result.rule,
                    )
