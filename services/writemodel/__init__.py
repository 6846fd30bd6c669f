"""The command side: eventsourcing aggregates that enforce the sales process.

Every accepted event is recorded in exactly one aggregate's sequence (a lead, a deal, a customer,
a rep, ...), after the pure rules in `sales` have allowed it; the relay then copies
the recorded events, in notification order, onto the canonical Kafka topic.
"""
