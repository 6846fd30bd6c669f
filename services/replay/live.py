"""The live read models' partials, gathered from every worker as queries gather them.

Each worker serves the partials of the source partitions it owns at
`GET /v1/internal/partials/{name}` (`services.queries.fanout`). The workers are found the way they
find each other: the directory ``{url: [partitions]}`` the projector group's leader hands every
member (`services.projector.assignor`), read here from the group's description on the broker (only
the URLs ``SALESLEDGER_PEER_URLS`` allows: any Kafka client can join the group and announce one);
or given as URLs. They are read as a worker reads its peers (`services.queries.peers`): requests
signed with the workers' shared ``SALESLEDGER_PEER_SECRET`` and answers checked against it, no
redirects, at most ``SALESLEDGER_PEER_BODY_MAX`` bytes an answer, every partial decoded with its
read model's decoder, each partition taken from the first worker that covers it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from sales.process import load_process
from services.kafka_access import KafkaAccess
from services.projector.readmodels import read_models
from services.queries.fanout import PARTIALS, PeerError, fetch_checked, peer_session
from services.queries.peers import Malformed, PeerAuth, allowed, taken, validated
from services.settings import Settings, get_settings, peer_allowlist

log = logging.getLogger(__name__)


class LiveError(Exception):
    """A worker did not answer, or the answers do not cover the log."""


GATHER_TIMEOUT = 300.0
"""Seconds the audit commands wait for one worker's answer (an operator's tool: patient)."""


async def directory(kafka: KafkaAccess, group: str, settings: Settings | None = None) -> dict[str, list[int]]:
    """The projector group's current directory (empty when the group has no members), less the URLs
    ``settings.peer_urls`` (the process settings by default) does not allow, each logged."""
    allowlist = peer_allowlist((settings or get_settings()).peer_urls)
    admin = AIOKafkaAdminClient(**kafka.options())
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    for described in response.groups:
        members = next((item for item in described if isinstance(item, list)), [])
        for member in members:
            if member[-1]:
                assignment = ConsumerProtocolMemberAssignment.decode(member[-1])
                if assignment.user_data:
                    return _allowed(assignment.user_data, allowlist)
    return {}


def _allowed(
    user_data: bytes, allowlist: Sequence[tuple[str | None, str, int | None]]
) -> dict[str, list[int]]:
    try:
        found = json.loads(user_data)
    except ValueError:
        log.warning("the projector group's directory is not JSON: ignored")
        return {}
    if not isinstance(found, dict):
        return {}
    kept = {}
    for url, parts in found.items():
        if not allowed(url, allowlist):
            log.warning(
                "ignoring worker %r of the projector group: not allowed by SALESLEDGER_PEER_URLS", url[:200]
            )
        elif isinstance(parts, list):
            kept[url] = [p for p in parts if type(p) is int]  # a bool is not a partition
    return kept


async def gather(
    urls: Sequence[str], models: Sequence[str], settings: Settings | None = None
) -> tuple[dict[str, dict[tuple[int, str], Any]], set[int]]:
    """Every read model's partials from every worker, and the source partitions they cover (a
    partition is taken from the first worker in ``urls`` covering it). ``settings`` (the process
    settings by default) give the shared secret, the body cap and the partition count."""
    settings = settings or get_settings()
    auth = PeerAuth.of(settings)
    if auth is None:
        raise LiveError("reading the workers' partials needs SALESLEDGER_PEER_SECRET, the secret they share")
    known = {
        model.name: model for model in read_models(load_process(settings.process_file), settings.org_timezone)
    }
    live: dict[str, dict[tuple[int, str], Any]] = {name: {} for name in models}
    covered: set[int] = set()
    total = settings.topic_partitions
    async with peer_session(GATHER_TIMEOUT) as http:
        for name in models:
            if name not in known:
                raise LiveError(f"no read model {name!r}")
            taken_here: set[int] = set()
            for url in urls:
                base, path = url.rstrip("/"), PARTIALS.format(name=name)
                try:
                    body = await fetch_checked(http, base, path, auth, settings.peer_body_max)
                    answer = validated(body, known[name], total)
                except (PeerError, Malformed) as exc:
                    raise LiveError(f"{base}{path}: {exc}") from None
                got = taken(answer, range(total), taken_here)
                live[name].update(((p, key), stored) for p, key, stored, _ in got.partials)
                covered |= got.partitions
    return live, covered


def check_coverage(covered: set[int], partitions: int) -> None:
    """Raise unless the workers answered for every partition of the log."""
    missing = sorted(set(range(partitions)) - covered)
    if missing:
        raise LiveError(
            f"no worker asked owns partitions {missing}: pass every worker's --url, "
            "or wait for the projector group to settle"
        )
