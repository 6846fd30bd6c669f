"""Partition assignment for the projector's consumer group that also tells every worker who owns what.

Round-robin, as aiokafka's default, plus a directory: each member announces its web URL in its
join metadata; the group leader hands every member the whole map ``{url: [partitions]}`` with its
assignment. A query answered by any worker asks exactly the workers in the map, and the map comes
from the very group that owns the partitions, so it cannot disagree with who holds the partials.
It is not trusted either: any Kafka client able to join the group can announce a URL, so readers
ask only the URLs `SALESLEDGER_PEER_URLS` allows, authenticate them, and check what they answer
(`services.queries.peers`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping

from aiokafka.cluster import ClusterMetadata
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment, ConsumerProtocolMemberMetadata

log = logging.getLogger(__name__)


class DirectoryAssignor(RoundRobinPartitionAssignor):  # type: ignore[misc]
    """Round-robin assignment that shares every member's URL and partitions with the whole group."""

    name = "salesledger-directory"
    version = 0

    def __init__(self, url: str) -> None:
        self.url = url
        self.directory: dict[str, list[int]] = {}
        """The latest assignment: each member's URL and the partitions it owns."""

    def metadata(self, topics: Iterable[str]) -> ConsumerProtocolMemberMetadata:
        return ConsumerProtocolMemberMetadata(self.version, list(topics), self.url.encode())

    def assign(
        self, cluster: ClusterMetadata, members: Mapping[str, ConsumerProtocolMemberMetadata]
    ) -> dict[str, ConsumerProtocolMemberAssignment]:
        plain = RoundRobinPartitionAssignor.assign(cluster, members)
        directory: dict[str, list[int]] = {}
        for member, given in plain.items():
            # Any client that joins the group writes this (readers allow only some URLs,
            # `services.queries.peers`): it never breaks the assignment, and a URL announced twice
            # lists the partitions of both members, so neither hides the other's.
            url = (members[member].user_data or b"").decode("utf-8", "replace")
            owned = {p for _, parts in given.assignment for p in parts}
            directory[url] = sorted(owned | set(directory.get(url, ())))
        shared = json.dumps(directory, sort_keys=True).encode()
        return {
            member: ConsumerProtocolMemberAssignment(self.version, given.assignment, shared)
            for member, given in plain.items()
        }

    def on_assignment(self, assignment: ConsumerProtocolMemberAssignment) -> None:
        try:
            found = json.loads(assignment.user_data)
            self.directory = {
                str(url): [p for p in parts if type(p) is int]  # a bool is not a partition
                for url, parts in found.items()
                if isinstance(parts, list)
            }
        except (ValueError, TypeError, AttributeError):  # a leader that is not one of ours
            log.warning("the projector group's leader sent a directory that is not one: no peers asked")
            self.directory = {}

    def peers(self) -> list[str]:
        """The other members' URLs."""
        return sorted(url for url in self.directory if url != self.url)
