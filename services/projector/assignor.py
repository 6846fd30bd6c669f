"""Partition assignment for the projector's consumer group that also tells every worker who owns what.

Round-robin, as aiokafka's default, plus a directory: each member announces its web URL in its
join metadata; the group leader hands every member the whole map ``{url: [partitions]}`` with its
assignment. A query answered by any worker asks exactly the workers in the map, and the map comes
from the very group that owns the partitions, so it cannot disagree with who holds the partials.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from aiokafka.cluster import ClusterMetadata
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment, ConsumerProtocolMemberMetadata


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
        directory = {
            members[member].user_data.decode(): sorted(p for _, parts in given.assignment for p in parts)
            for member, given in plain.items()
        }
        shared = json.dumps(directory, sort_keys=True).encode()
        return {
            member: ConsumerProtocolMemberAssignment(self.version, given.assignment, shared)
            for member, given in plain.items()
        }

    def on_assignment(self, assignment: ConsumerProtocolMemberAssignment) -> None:
        self.directory = {str(url): list(parts) for url, parts in json.loads(assignment.user_data).items()}

    def peers(self) -> list[str]:
        """The other members' URLs."""
        return sorted(url for url in self.directory if url != self.url)
