"""At-least-once delivery through the projector's own code, for tests of the pure folds.

Each event goes to its source partition's `PartitionProjection` (the class the live projector
uses, over a memory store) twice, at the same offset, as a redelivery after a crash would bring
it. The states that come out are what queries merge, so a test of "partials per partition merge
to the fold of the whole history" exercises the production path, not a copy of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from events import Envelope
from services.projector.partition import PartitionProjection
from services.projector.readmodels import ReadModel
from services.projector.store import MemoryStore


def delivered_twice(routed: Iterable[tuple[Envelope, int]], model: ReadModel) -> list[tuple[str, Any]]:
    """(key, state) of every partial of ``model`` after folding each (event, partition) twice."""
    return [partial for partials in per_partition(routed, model).values() for partial in partials]


def per_partition(
    routed: Iterable[tuple[Envelope, int]], model: ReadModel
) -> dict[int, list[tuple[str, Any]]]:
    """As `delivered_twice`, the partials of each source partition apart."""
    projections: dict[int, PartitionProjection] = {}
    for event, partition in routed:
        projection = projections.get(partition)
        if projection is None:
            projection = projections[partition] = PartitionProjection(partition, [model], MemoryStore())
        offset = projection.position
        for _delivery in range(2):
            projection.fold(offset, event)
        projection.written(len(projection.pending()))
    return {
        partition: [(key, model.decode(key, stored).state) for key, stored in projection.partials(model.name)]
        for partition, projection in projections.items()
    }
