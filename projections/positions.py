"""Exactly-once effect on top of at-least-once delivery.

A read model is kept as *partials*, one per (source partition, key). Each partial records the
offset of the last event folded into it. Offsets only grow within a partition, so an event whose
offset is not beyond the recorded one has already been applied (redelivered after a crash between
the state write and the offset commit) and is skipped. A query merges the partials of a key.

Keying partials by source partition also keeps the changelog consistent: every partial is only
ever written while processing its own partition, so recovery can never restore a stale copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Positioned(Generic[S]):
    """A partial state and the source offset of the last event folded into it (-1: none)."""

    state: S
    offset: int = -1
