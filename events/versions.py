"""Schema versions: released event shapes are never edited, older documents are upcast on the way in.

When an event type needs a new shape, its model becomes version N+1 and a pure function turns a
version-N document into a version-N+1 document. `Upcasters.upcast` chains these steps, so a
document from any released version reaches the latest one *before* validation, and the event log,
projections and replays only ever see the latest shape. Samples of every released version are
kept under ``tests/data/events`` and must keep parsing forever.

An upcaster receives the whole JSON document (envelope and ``data``), must not mutate it, and
returns the reshaped document; the registry bumps ``schemaversion``. It reshapes only what it
recognises and leaves everything else for validation to judge, except when it cannot do its job:
then it raises `UpcastError` naming the field *as the publisher sent it*, so the rejection speaks
the publisher's version.

A missing ``schemaversion`` means 1: publishers that predate versioning keep working.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeAlias

Document: TypeAlias = dict[str, Any]
Upcaster: TypeAlias = Callable[[Document], Document]


class UpcastError(ValueError):
    """An older document lacks something its upcaster needs (reported as an invalid event)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def version_of(document: Mapping[str, Any]) -> int | None:
    """The document's schema version (1 when absent), or None when it is not a whole number."""
    version = document.get("schemaversion", 1)
    if isinstance(version, int) and not isinstance(version, bool):
        return version
    return None


@dataclass(frozen=True)
class Upcasters:
    """Registry of upcasting steps keyed by ``(event type, version it upcasts from)``."""

    steps: Mapping[tuple[str, int], Upcaster] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for event_type in {name for name, _ in self.steps}:
            versions = sorted(v for name, v in self.steps if name == event_type)
            if versions != list(range(1, len(versions) + 1)):
                raise ValueError(f"{event_type} upcasters must step from 1, 2, ... with no gap: {versions}")
        object.__setattr__(self, "steps", MappingProxyType(dict(self.steps)))

    def latest(self, event_type: str) -> int:
        """The newest version of a type: one past its last upcasting step (1 if it has none)."""
        return 1 + sum(1 for name, _ in self.steps if name == event_type)

    def upcast(self, document: Document) -> Document:
        """The document raised step by step to the latest version of its type (a new dict if changed)."""
        event_type, version = document.get("type"), version_of(document)
        while version is not None and isinstance(event_type, str) and (event_type, version) in self.steps:
            document = {**self.steps[(event_type, version)](document), "schemaversion": version + 1}
            version += 1
        return document
