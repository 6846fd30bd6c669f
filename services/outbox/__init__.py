"""The outbox: the relay that copies recorded events, in order and once, onto the canonical log, and the lease that lets one relay run per event store."""
