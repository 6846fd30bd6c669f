"""The Kafka ingestor: a batch consumer of the inbound topics, hosted by the Faust app.

Why not a Faust agent: Faust hands a stream one message at a time through queues, event contexts,
acknowledgements and sensors (about 200 µs of Python per message here), which held the inbound
path to a few percent of raw produce (docs/performance.md). Like the projector
(`services.projector.service`), this is one plain loop over aiokafka's ``getmany``:

1. fetch up to ``ingest_batch_size`` records from the inbound partitions this worker owns (the
   shared ``<prefix>.inbound`` and, with SASL, each publisher's ``<prefix>.inbound.<principal>``);
2. admit each record (`services.ingestor.triage`: the gate's verdict, plus the binding of the
   topic's principal to its sources); refused ones become dead letters with their reason;
3. record the admitted events in one write-model transaction (`Recorder.append_until_stored`:
   a failing store is retried, never skipped), and dead-letter what the write model refused
   (id conflict, rule violation with its rule);
4. send the dead letters and wait for their acknowledgements, and only then commit the offsets
   after the batch.

Exactly once in effect: a worker killed anywhere before the commit re-reads the batch, and the
write model recognises every event it already recorded (``source`` + ``id``) as a duplicate, so
nothing is lost and nothing is recorded twice. Only a dead letter can repeat (at least once).

The consumer group is ``<app id>-ingestor`` (the worker's ACLs allow groups prefixed by the app
id, docs/security.md). A rebalance waits for the batch in flight to be committed before the
partitions move (`_Rebalance`), so a new owner normally starts after it. A partition this group
never committed starts where the Faust agent of earlier versions stopped (its group was the app
id, `handed_over`), so an upgrade does not read a week of inbound again (all duplicates, but
every refused record dead-lettered a second time); without either, from the earliest record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

from events import Envelope
from services.admission import count_outcomes
from services.deadletter import reason_headers
from services.ingestor.principals import SourceBindings
from services.ingestor.triage import TRANSPORT, DeadLetter, admit_record, refused_by_write_model
from services.kafka_access import aiokafka_options
from services.logs import log_deadletter, log_outcomes
from services.metrics import DEADLETTERED
from services.settings import Settings
from services.writemodel.recorder import Recorder

log = logging.getLogger(__name__)
STAGE = "ingest"
FETCH_TIMEOUT_MS = 200
Fetched = Mapping[TopicPartition, Sequence[ConsumerRecord[bytes, bytes]]]


class Ingestor:
    """Consumes the inbound topics in batches into the write model, at least once, in order per
    partition; bad input goes to the dead-letter topic with its reason."""

    def __init__(
        self, settings: Settings, recorder: Recorder, kafka: Mapping[str, Any] | None = None
    ) -> None:
        self.settings = settings
        self.recorder = recorder
        self.topics = (settings.topic_inbound, *settings.publisher_topics.values())
        self.group_id = f"{settings.app_id}-ingestor"
        self._kafka = dict(kafka if kafka is not None else aiokafka_options(settings))
        self._bindings = SourceBindings.of(settings)
        self._lock = asyncio.Lock()
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None

    def owned(self) -> set[str]:
        """The inbound partitions assigned to this worker, as ``topic/partition`` (for readiness)."""
        if self._consumer is None:
            return set()
        return {f"{tp.topic}/{tp.partition}" for tp in self._consumer.assignment()}

    # --- life cycle --------------------------------------------------------------------------

    async def run(self, stopping: asyncio.Event | None = None) -> None:
        """Consume until cancelled (or ``stopping`` is set), then leave the group cleanly."""
        await self._start()
        try:
            while stopping is None or not stopping.is_set():
                try:
                    await self._step()
                except asyncio.CancelledError:
                    raise
                except Exception:  # never stop ingesting quietly while the worker looks healthy
                    log.exception("ingestor step failed; retrying in 1 s")
                    await asyncio.sleep(1.0)
        finally:
            await self._stop()

    async def _start(self) -> None:
        settings, instance = self.settings, self.settings.worker_instance_id
        self._producer = AIOKafkaProducer(**self._kafka, enable_idempotence=True, acks="all", linger_ms=5)
        self._consumer = AIOKafkaConsumer(
            **self._kafka,
            group_id=self.group_id,
            group_instance_id=f"{instance}-ingestor" if instance else None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=int(settings.consumer_session_timeout * 1000),
            heartbeat_interval_ms=int(min(3.0, settings.consumer_session_timeout / 3) * 1000),
        )
        await self._producer.start()
        await self._consumer.start()
        self._consumer.subscribe(list(self.topics), listener=_Rebalance(self))

    async def _stop(self) -> None:
        for client in (self._consumer, self._producer):
            if client is not None:
                try:
                    await client.stop()
                except Exception:  # stopping must not hide what stopped us
                    log.exception("stopping a Kafka client of the ingestor failed")

    # --- the loop ----------------------------------------------------------------------------

    async def _step(self) -> None:
        assert self._consumer is not None
        fetched = await self._consumer.getmany(
            timeout_ms=FETCH_TIMEOUT_MS, max_records=self.settings.ingest_batch_size
        )
        if fetched:
            async with self._lock:
                await self.ingest(fetched)

    async def ingest(self, fetched: Fetched) -> None:
        """Admit, record, dead-letter, then commit one fetched batch (the lock is held)."""
        admitted: list[tuple[ConsumerRecord[bytes, bytes], Envelope]] = []
        dead: list[DeadLetter] = []
        for records in fetched.values():
            for record in records:
                verdict = admit_record(record, self._bindings, self.settings.max_event_bytes)
                if isinstance(verdict, DeadLetter):
                    dead.append(verdict)
                else:
                    admitted.append((record, verdict))
        if admitted:
            events = [event for _, event in admitted]
            results = await self.recorder.append_until_stored(events)
            count_outcomes(events, results, TRANSPORT)
            log_outcomes(events, results, TRANSPORT)
            for (record, event), result in zip(admitted, results, strict=True):
                refused = refused_by_write_model(record, event, result)
                if refused is not None:
                    dead.append(refused)
        if dead:
            await self._send_until_acknowledged(dead)
        await self._commit({tp: records[-1].offset + 1 for tp, records in fetched.items() if records})

    async def _send_until_acknowledged(self, dead: Sequence[DeadLetter]) -> None:
        """Every dead letter acknowledged by the broker, retrying while it is unreachable: the
        batch's offsets are committed only after, so a refused record is never lost."""
        delay = 0.1
        while True:
            try:
                await self._send(dead)
                break
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dead-lettering failed; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        for letter in dead:
            DEADLETTERED.labels(STAGE, str(letter.reason)).inc()
            log_deadletter(STAGE, str(letter.reason), letter.record.value)

    async def _send(self, dead: Sequence[DeadLetter]) -> None:
        assert self._producer is not None
        sent = []
        for letter in dead:
            headers = reason_headers(
                stage=STAGE,
                reason=str(letter.reason),
                message=letter.message,
                errors=letter.errors,
                origin=letter.origin,
                headers=letter.record.headers,
                rule=letter.rule,
            )
            sent.append(
                await self._producer.send(
                    self.settings.topic_deadletter,
                    key=letter.record.key,
                    value=letter.record.value,
                    headers=headers,
                )
            )
        for future in sent:
            await future

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit the positions after a recorded batch. A failure (the group rebalanced meanwhile)
        only means the new owner reads the batch again: the write model reports it as duplicates."""
        assert self._consumer is not None
        try:
            await self._consumer.commit(offsets)
        except Exception as exc:
            log.warning("committing ingestor offsets failed (the batch will be read again): %s", exc)

    async def assigned(self, partitions: Sequence[TopicPartition]) -> None:
        """Seek each newly assigned partition this group never committed to the agent's offset."""
        assert self._consumer is not None
        # No record of these partitions may be taken before the seek: the loop's `getmany` runs
        # while this listener awaits the offsets below (found by the hand-over test).
        self._consumer.pause(*partitions)
        try:
            for tp, offset in (await self.handed_over(partitions)).items():
                self._consumer.seek(tp, offset)
                log.info(
                    "ingesting %s/%d from offset %d, where the Faust agent stopped",
                    tp.topic,
                    tp.partition,
                    offset,
                )
        except Exception:  # nothing handed over: from the earliest record, all duplicates
            log.exception("reading the Faust agent's offsets failed; those partitions start at the earliest")
        finally:
            self._consumer.resume(*partitions)

    async def handed_over(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        """The offsets the Faust agent's group (the app id) committed for the partitions this
        group has not committed yet."""
        if not partitions:
            return {}
        admin = AIOKafkaAdminClient(**self._kafka, client_id=f"{self.group_id}-handover")
        await admin.start()
        try:
            ours = await admin.list_consumer_group_offsets(self.group_id, partitions=list(partitions))
            fresh = [tp for tp in partitions if tp not in ours or ours[tp].offset < 0]
            if not fresh:
                return {}
            agents = await admin.list_consumer_group_offsets(self.settings.app_id, partitions=fresh)
        finally:
            await admin.close()
        return {tp: agents[tp].offset for tp in fresh if tp in agents and agents[tp].offset >= 0}

    async def revoked(self) -> None:
        """Wait for the batch in flight: its offsets are committed before the partitions move."""
        async with self._lock:
            pass


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, ingestor: Ingestor) -> None:
        self.ingestor = ingestor

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self.ingestor.revoked()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        log.info("ingesting %s", sorted(f"{tp.topic}/{tp.partition}" for tp in assigned))
        await self.ingestor.assigned(list(assigned))


def register_ingestor(app: faust.App, recorder: Recorder, settings: Settings) -> Ingestor:
    """The ingestor as a task of the Faust app: started with the worker, stopped (leaving its
    group after the batch in flight) when the worker stops."""
    ingestor = Ingestor(settings, recorder)

    @app.task  # type: ignore[untyped-decorator]
    async def ingest_inbound() -> None:
        await ingestor.run()  # runs until the worker cancels it on shutdown

    return ingestor
