"""The projector's assignor: round-robin, plus a directory every member receives."""

from __future__ import annotations

import json

from aiokafka.cluster import ClusterMetadata
from aiokafka.coordinator.protocol import ConsumerProtocol, ConsumerProtocolMemberMetadata

from services.projector.assignor import DirectoryAssignor


class Cluster(ClusterMetadata):  # type: ignore[misc]
    """Just enough metadata: one topic with ``partitions`` partitions."""

    def __init__(self, partitions: int) -> None:
        super().__init__()
        self._count = partitions

    def partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(self._count))


def join(assignor: DirectoryAssignor) -> ConsumerProtocolMemberMetadata:
    """The member metadata as the broker hands it to the leader (encoded and decoded again)."""
    encoded = assignor.metadata(["sl.events"]).encode()
    return ConsumerProtocol.METADATA.decode(encoded)


def test_every_member_gets_the_whole_directory_and_its_own_partitions() -> None:
    members = {f"m{i}": DirectoryAssignor(f"http://127.0.0.1:80{i}0") for i in range(3)}
    leader = members["m0"]
    given = leader.assign(Cluster(4), {member: join(a) for member, a in members.items()})
    directory = {
        "http://127.0.0.1:8000": [0, 3],
        "http://127.0.0.1:8010": [1],
        "http://127.0.0.1:8020": [2],
    }
    for member, assignor in members.items():
        assignor.on_assignment(given[member])
        assert assignor.directory == directory
        own = sorted(p for _, parts in given[member].assignment for p in parts)
        assert own == directory[assignor.url]
    assert members["m1"].peers() == ["http://127.0.0.1:8000", "http://127.0.0.1:8020"]
    assert json.loads(given["m2"].user_data) == directory


def test_a_lone_member_has_no_peers_and_owns_everything() -> None:
    alone = DirectoryAssignor("http://127.0.0.1:9000")
    given = alone.assign(Cluster(4), {"only": join(alone)})
    alone.on_assignment(given["only"])
    assert alone.peers() == []
    assert alone.directory == {"http://127.0.0.1:9000": [0, 1, 2, 3]}
