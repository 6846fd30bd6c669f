"""The auditor's room: proofs over what was recorded, read from the canonical log and the store.

Nothing here writes: `sources` reads the Kafka topic and the event store, `chain` and `crosscheck`
judge what was read with pure functions, and `report` says it for a person or a program
(docs/audit.md).
"""
