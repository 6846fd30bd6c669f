"""Local single-node Kafka broker (KRaft, loopback) for development and tests.

Why it exists: Salesledger needs a real Kafka to run and to test against, and the machines it runs
on have Java and Maven but no Docker and no Kafka download site. So the broker's jars are fetched
from Maven Central with ``pom.xml`` (beside this file, the only place the Kafka version is written)
and run with the installed ``java``, in combined broker+controller mode, bound to 127.0.0.1.

See ``services.broker.lifecycle`` for the rules; ``salesledger kafka {up,down,status,fetch}`` runs
it. The parts, each small: ``base`` (error, file names, versions), ``jars`` (Maven fetch, cache),
``properties`` (addresses, server.properties; pure), ``probe`` (is a broker answering, ports
free), ``jvm`` (java, its command line, class-data sharing), ``storage`` (properties file, KRaft
format with its SCRAM users), ``process`` (spawn, pid file, stop), ``logs`` (the broker log and
failure reports), ``acls`` (who may do what; pure) and ``grants`` (users and ACLs applied as the
admin). By default it listens with SASL and enforces ACLs (docs/security.md).
"""

from services.broker.base import KAFKA_VERSION, LOG4J_VERSION, BrokerError
from services.broker.jars import ensure_jars, lib_dir
from services.broker.lifecycle import BrokerStatus, down, status, up
from services.broker.logs import log_tail
from services.broker.properties import new_cluster_id, server_properties

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
