"""Local single-node Kafka broker (KRaft, loopback) for development and tests.

See ``services.broker.local`` for the rules; ``salesledger kafka {up,down,status,fetch}`` runs it.
"""

from services.broker.local import (
    KAFKA_VERSION,
    LOG4J_VERSION,
    BrokerError,
    BrokerStatus,
    down,
    ensure_jars,
    lib_dir,
    log_tail,
    new_cluster_id,
    server_properties,
    status,
    up,
)

__all__ = [
    "KAFKA_VERSION",
    "LOG4J_VERSION",
    "BrokerError",
    "BrokerStatus",
    "down",
    "ensure_jars",
    "lib_dir",
    "log_tail",
    "new_cluster_id",
    "server_properties",
    "status",
    "up",
]
