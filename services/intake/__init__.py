"""Intake: where an accepted event becomes durable before it reaches the event log.

Every transport appends validated events here first (`IntakeStore.append`): a unique event id
makes a repeat a reported duplicate, across restarts. The relay then copies the intake, in order,
onto the canonical Kafka topic without gaps or duplicates (see `services.intake.relay`).
"""

from services.intake.store import Appended, IntakeRow, IntakeStore, Outcome, open_store

__all__ = ["Appended", "IntakeRow", "IntakeStore", "Outcome", "open_store"]
