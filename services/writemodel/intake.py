"""The recorded events as the relay sends them: `IntakeRow`s from the store's notifications.

The relay needs five strings of each `Ledger.Recorded` event (its key, partition key, envelope and
its two chain hashes), not the domain event: rebuilding one per row (the transcoder's object hook
on every nested dict of the stored state, a dataclass, a UUID) was a sixth of the writer's time
per event (docs/performance.md, "The write model without aggregate objects"). So the stored state
is decrypted and decompressed as the library's mapper would, then read as the plain JSON the
library's `JSONTranscoder` wrote, with orjson. A store configured with another transcoder is read
through the mapper, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, Mapper, Notification

from services.writemodel.outcomes import IntakeRow


def intake_rows(notifications: Iterable[Notification], mapper: Mapper[Any]) -> list[IntakeRow]:
    """One row per recorded event, in the notifications' order."""
    plain_json = isinstance(mapper.transcoder, JSONTranscoder)
    rows = []
    for notification in notifications:
        fields = _fields(notification, mapper) if plain_json else vars(mapper.to_domain_event(notification))
        headers = (
            ("salesledger.aggregate", str(notification.originator_id).encode()),
            ("salesledger.version", str(notification.originator_version).encode()),
            ("salesledger.prevhash", fields["prev_hash"].encode()),
            ("salesledger.hash", fields["hash"].encode()),
        )
        event_id = fields["event_key"].split("\n", 1)[1]
        body = fields["envelope"].encode()
        rows.append(IntakeRow(notification.id, event_id, fields["partition_key"], body, headers))
    return rows


def _fields(notification: Notification, mapper: Mapper[Any]) -> dict[str, Any]:
    state = notification.state
    if mapper.cipher:
        state = mapper.cipher.decrypt(state)
    if mapper.compressor:
        state = mapper.compressor.decompress(state)
    fields: dict[str, Any] = orjson.loads(state)
    return fields
