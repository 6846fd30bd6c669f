"""The local broker's configuration, as data: addresses, ports, server.properties, cluster id.

Everything here is pure (no file, socket or process is touched), so the rules that decide what
gets started, and on which address, are unit-tested without a JVM.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets

from services.broker.base import BrokerError, data_dir
from services.settings import Settings

NODE_ID = 1
#: The SCRAM mechanisms the local broker accepts; every user gets a credential for each.
SCRAM_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256")
#: First line of the written server.properties, so nobody edits a file ``up`` rewrites.
PROPERTIES_HEADER = "# Written by services/broker/properties.py on every `up`; edits are overwritten."


def parse_servers(servers: str) -> list[tuple[str, int]]:
    """``"h1:p1,h2:p2"`` into ``[(h1, p1), ...]`` (``[::1]:p`` accepted); port defaults to 9092."""
    result: list[tuple[str, int]] = []
    for item in (part.strip() for part in servers.split(",")):
        if not item:
            continue
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = rest.lstrip(":") or "9092"
        else:
            host, _, port = item.rpartition(":") if ":" in item else (item, "", "9092")
        try:
            result.append((host, int(port)))
        except ValueError as exc:
            raise BrokerError(f"bad bootstrap server {item!r} (expected host:port)") from exc
    if not result:
        raise BrokerError("kafka_bootstrap_servers is empty")
    return result


def local_listener_host(settings: Settings) -> tuple[str, int]:
    """The (IPv4 loopback host, port) to bind a local broker to, or why we must not start one.

    Only a single loopback bootstrap server qualifies: starting a broker for any other address
    would hide a misconfiguration (the real broker is down) behind a surprise local one.
    """
    servers = parse_servers(settings.kafka_bootstrap_servers)
    if len(servers) != 1:
        raise BrokerError(
            f"no broker answers at {settings.kafka_bootstrap_servers}; a local broker is only "
            "started for a single loopback address such as 127.0.0.1:9092"
        )
    host, port = servers[0]
    if host == "localhost":
        return "127.0.0.1", port
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or address.version != 4 or not address.is_loopback:
        raise BrokerError(
            f"no broker answers at {settings.kafka_bootstrap_servers}, and {host} is not an IPv4 "
            "loopback address (127.0.0.1 or localhost): not starting a local broker for it"
        )
    return host, port


def new_cluster_id() -> str:
    """A KRaft cluster id, as ``kafka-storage random-uuid`` makes: url-safe base64 of 16 random
    bytes, without padding (22 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def jaas(module: str, username: str, password: str, **users: str) -> str:
    """A JAAS line of a listener: the broker's own login (``username``), and for PLAIN the
    accounts it accepts (``user_<name>``). Passwords are generated url-safe, so never need quoting
    beyond the double quotes."""
    extra = "".join(f' user_{name}="{secret}"' for name, secret in users.items())
    return f'{module} required username="{username}" password="{password}"{extra};'


def security_properties(settings: Settings, credentials: dict[str, str]) -> dict[str, str]:
    """SASL and ACLs: clients authenticate with SCRAM on the client listener (or PLAIN, for the
    users known at start: librdkafka before 2.6.1, so kcat as packaged, cannot do SCRAM with Kafka
    4, librdkafka#4895; PLAIN sends the password in clear, so loopback only); the controller
    listener (the broker talking to its own controller) with PLAIN as the admin, because KRaft
    controllers cannot check SCRAM (their users live in the metadata they serve); every request
    is checked by the StandardAuthorizer, and what no ACL allows is denied. The admin is the one
    super user. The passwords make server.properties a secret: it is written 0600."""
    if settings.kafka_security_protocol != "SASL_PLAINTEXT":
        raise BrokerError(
            f"the local broker listens on loopback with SASL_PLAINTEXT or PLAINTEXT, not "
            f"{settings.kafka_security_protocol} (that is for an external cluster)"
        )
    if settings.kafka_sasl_mechanism not in SCRAM_MECHANISMS:
        raise BrokerError(f"the local broker authenticates with {' or '.join(SCRAM_MECHANISMS)} only")
    admin = settings.kafka_admin_username
    admin_password = credentials[admin]
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule"
    plain = "org.apache.kafka.common.security.plain.PlainLoginModule"
    return {
        "sasl.enabled.mechanisms": ",".join((*SCRAM_MECHANISMS, "PLAIN")),
        "sasl.mechanism.inter.broker.protocol": SCRAM_MECHANISMS[0],
        "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": jaas(scram, admin, admin_password),
        "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config": jaas(scram, admin, admin_password),
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": jaas(
            plain, admin, admin_password, **credentials
        ),
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": jaas(
            plain, admin, admin_password, **{admin: admin_password}
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{admin}",
    }


def server_properties(
    settings: Settings, host: str, port: int, credentials: dict[str, str] | None = None
) -> dict[str, str]:
    """The broker's configuration: one combined broker+controller node on loopback, every
    internal topic at replication factor 1, and small thread pools and internal topics so it
    starts fast and stays light on a 2-core machine. With ``kafka_secured`` (the default) its one
    client listener is SASL_PLAINTEXT with ACLs (``security_properties``), given the users'
    passwords (``credentials.json``); otherwise PLAINTEXT, open to anyone who reaches the port."""
    data = data_dir(settings)
    controller = f"{host}:{settings.kafka_controller_port}"
    protocol = "SASL_PLAINTEXT" if settings.kafka_secured else "PLAINTEXT"
    security: dict[str, str] = {}
    if settings.kafka_secured:
        if not credentials or settings.kafka_admin_username not in credentials:
            raise BrokerError("a secured local broker needs its admin's password (credentials.json)")
        security = security_properties(settings, credentials)
    return {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{controller}",
        "listeners": f"{protocol}://{host}:{port},CONTROLLER://{controller}",
        "advertised.listeners": f"{protocol}://{host}:{port}",
        "inter.broker.listener.name": protocol,
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": f"CONTROLLER:{protocol},{protocol}:{protocol}",
        **security,
        "log.dirs": str(data / "logs"),
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        # Light on threads: this broker serves one developer or one test run.
        "num.network.threads": "2",
        "num.io.threads": "2",
        "background.threads": "2",
        "num.recovery.threads.per.data.dir": "1",
        "log.cleaner.threads": "1",
        # Faster registration and unfencing of the broker with its own controller.
        "broker.heartbeat.interval.ms": "500",
        "broker.session.timeout.ms": "6000",
    }


def render_properties(props: dict[str, str]) -> str:
    """The text of a Java properties file (values here need no escaping but backslashes)."""
    lines = [PROPERTIES_HEADER]
    lines += [f"{key}={value.replace(chr(92), chr(92) * 2)}" for key, value in props.items()]
    return "\n".join(lines) + "\n"
