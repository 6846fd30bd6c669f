"""`salesledger audit verify`: read the chosen sources, check their chains, compare them.

The order of reading matters when both sources are checked on a live system: the relay's saved
position is read first, then the log, then the store. Everything up to that position was on Kafka
before the log was read, so only what the relay had not yet sent can be pending; and the store is
read last, so every event on the log is already in it.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from services.audit.chain import Link, check_links, seal
from services.audit.crosscheck import cross_check
from services.audit.findings import Finding
from services.audit.report import Examined, Report
from services.audit.sources import log_records, open_store, relay_position, store_records
from services.db import parse_database_url
from services.kafka_access import KafkaAccess

Which = Literal["kafka", "store", "both"]


def verify(which: Which, kafka: KafkaAccess, topic: str, database_url: str, *, chains: bool = True) -> Report:
    """The audit of `topic` on `kafka` and/or the store at `database_url`; without
    ``chains``, only the two sources against each other (`salesledger audit completeness`:
    every event missing on either side, named).

    Raises `services.audit.sources.SourceError` when a source cannot be read at all.
    """
    model = open_store(database_url) if which != "kafka" else None
    try:
        relayed = relay_position(model) if model is not None else None
        log = asyncio.run(_sealed_log(kafka, topic)) if which != "store" else None
        store = [seal(record) for record in store_records(model)] if model is not None else None
    finally:
        if model is not None:
            model.close()

    examined: list[Examined] = []
    findings: list[Finding] = []
    if log is not None:
        examined.append(Examined("kafka", topic, len(log), _aggregates(log)))
        findings += check_links(log, "kafka", at_least_once=True) if chains else []
    if store is not None:
        where = parse_database_url(database_url).url()
        examined.append(Examined("store", where, len(store), _aggregates(store)))
        findings += check_links(store, "store", at_least_once=False) if chains else []
    if log is not None and store is not None and relayed is not None:
        findings += cross_check(log, store, relayed)
    return Report(tuple(examined), tuple(findings), relayed)


async def _sealed_log(kafka: KafkaAccess, topic: str) -> list[Link]:
    return [seal(record) async for record in log_records(kafka, topic)]


def _aggregates(links: list[Link]) -> int:
    return len({link.aggregate for link in links})
