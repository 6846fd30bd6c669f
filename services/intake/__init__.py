"""Intake: how an accepted event travels from the write model to the canonical Kafka log.

The write model (`services.writemodel`) records accepted events; the relay
(`services.intake.relay`) copies them, in order, onto the canonical topic without gaps or
duplicates, and `services.intake.keys` holds the publishers' API keys.
"""

from services.intake.store import Appended, IntakeRow, IntakeStore, Outcome

__all__ = ["Appended", "IntakeRow", "IntakeStore", "Outcome"]
