"""The live read models' partials, gathered from every worker as queries gather them.

Each worker serves the partials of the source partitions it owns at
`GET /v1/internal/partials/{name}` (`services.queries.fanout`). The workers are found the way they
find each other: the directory ``{url: [partitions]}`` the projector group's leader hands every
member (`services.projector.assignor`), read here from the group's description on the broker; or
given as URLs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from services.queries.fanout import PARTIALS, read_body

log = logging.getLogger(__name__)


class LiveError(Exception):
    """A worker did not answer, or the answers do not cover the log."""


async def directory(bootstrap: str, group: str) -> dict[str, list[int]]:
    """The projector group's current directory (empty when the group has no members)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
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
                    return {str(u): list(p) for u, p in json.loads(assignment.user_data).items()}
    return {}


async def gather(
    urls: Sequence[str], models: Sequence[str]
) -> tuple[dict[str, dict[tuple[int, str], Any]], set[int]]:
    """Every read model's partials from every worker, and the source partitions they cover."""
    live: dict[str, dict[tuple[int, str], Any]] = {name: {} for name in models}
    covered: set[int] = set()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as http:
        for name in models:
            for url in urls:
                target = f"{url.rstrip('/')}{PARTIALS.format(name=name)}"
                try:
                    async with http.get(target) as response:
                        response.raise_for_status()
                        body = await response.read()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    raise LiveError(f"{target}: {exc}") from exc
                partials, partitions = read_body(body)
                live[name].update(((p, key), stored) for p, key, stored in partials)
                covered |= partitions
    return live, covered


def check_coverage(covered: set[int], partitions: int) -> None:
    """Raise unless the workers answered for every partition of the log."""
    missing = sorted(set(range(partitions)) - covered)
    if missing:
        raise LiveError(
            f"no worker asked owns partitions {missing}: pass every worker's --url, "
            "or wait for the projector group to settle"
        )
