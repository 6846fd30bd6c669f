"""The outbox: the relay that copies recorded events onto the canonical log, in order and once,
and the lease that lets one relay run per event store."""
