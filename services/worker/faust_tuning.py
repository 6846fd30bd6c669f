"""Adjustments to Faust's Kafka producer, kept in one place.

Faust only turns on producer idempotence inside transactions. Every event we forward must not be
lost nor reordered by a retry, so the aiokafka producer is always idempotent (which forces
``acks=all``). See ../shared/STACK-NOTES.md: aiokafka's default is ``acks=1`` without idempotence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka


def _idempotent_settings(self: Any) -> Mapping[str, Any]:
    return {"acks": "all", "enable_idempotence": True}


def use_idempotent_producer() -> None:
    """Make every Faust aiokafka producer idempotent (safe to call repeatedly)."""
    faust_aiokafka.Producer._settings_extra = _idempotent_settings  # type: ignore[method-assign]
