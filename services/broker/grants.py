"""The local broker given its principals and ACLs (``services.broker.acls``), idempotently.

Run by ``up`` on every call that finds or starts our secured broker, so a changed configuration
(a new publisher, another topic prefix or app id, a test session's own prefix) is granted without
a restart. Two steps, as the admin (the super user):

* users: those formatted into the broker are in ``credentials.json``; one named in the settings
  since is created with Kafka's ``ConfigCommand`` (a JVM: only when a user is new), its password
  then saved;
* ACLs: one CreateAcls request per rule over aiokafka's client (aiokafka's admin has no ACL call);
  creating an ACL that exists is a no-op, so nothing is read first. ACLs of an older configuration
  are left in place (Kafka has no "desired state"; remove them with ``kafka-acls.sh --remove``).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import for_code
from aiokafka.protocol.admin import CreateAclsRequest

from services.broker.acls import ALLOW, Acl, acls, users
from services.broker.base import BrokerError, data_dir, locked
from services.broker.jars import lib_dir
from services.broker.jvm import find_java, java_cmd
from services.broker.logs import tail_text
from services.broker.probe import run_coro
from services.kafka_access import (
    KafkaAccess,
    kafka_access,
    local_credentials,
    new_passwords,
    save_local_credentials,
)
from services.settings import Settings

TOOL_TIMEOUT = 120.0
REQUEST_TIMEOUT_MS = 30_000
SCRAM_ITERATIONS = 8192


def admin_access(settings: Settings) -> KafkaAccess | None:
    """The local broker's admin, or None when this machine holds no admin password (an
    external cluster, or PLAINTEXT): then there is nothing for us to grant."""
    if not settings.kafka_secured:
        return None
    password = local_credentials(settings).get(settings.kafka_admin_username)
    if password is None:
        return None
    return kafka_access(settings).as_user(settings.kafka_admin_username, password)


def grant(settings: Settings) -> list[str]:
    """Create the missing users and every ACL of ``settings`` on our local broker; return the
    users created. Does nothing without local admin credentials."""
    admin = admin_access(settings)
    if admin is None:
        return []
    with locked(data_dir(settings) / ".grants.lock"):  # one writer of credentials.json at a time
        known = local_credentials(settings)
        created = new_passwords(user for user in users(settings) if user not in known)
        for user, password in created.items():
            _add_scram_user(settings, admin, user, password)
            save_local_credentials(settings, known | {user: password})
            known[user] = password
    run_coro(create_acls(admin, acls(settings)))
    return sorted(created)


async def create_acls(admin: KafkaAccess, rules: list[Acl]) -> None:
    """Send one CreateAcls request per rule; raise on the first refused one."""
    client = AIOKafkaClient(**admin.options(), request_timeout_ms=REQUEST_TIMEOUT_MS, client_id="grants")
    await client.bootstrap()
    try:
        for rule in rules:
            request = CreateAclsRequest(
                rule.resource, rule.name, rule.pattern, f"User:{rule.principal}", "*", rule.operation, ALLOW
            )
            response = await client.send(client.get_random_node(), request)
            for code, message in response.creation_responses:
                if code:
                    error = for_code(code)
                    raise BrokerError(f"creating ACL {rule.as_command()}: {message or error.__name__}")
    finally:
        await client.close()


def _add_scram_user(settings: Settings, admin: KafkaAccess, user: str, password: str) -> None:
    """Create ``user`` with a credential for the configured SCRAM mechanism, with Kafka's
    ConfigCommand. The admin's login goes through a 0600 file; the new password is on the tool's
    command line while it runs (a few seconds, as for the storage tool at format): the tool reads
    SCRAM credentials from ``--add-config`` only. Until the broker restarts, the user has no PLAIN
    login (those are written into server.properties at start)."""
    with tempfile.TemporaryDirectory(prefix="salesledger-grants-") as tmp:
        command_config = _private(Path(tmp) / "admin.properties", _client_properties(admin))
        # One mechanism, the configured one: Kafka refuses two credentials of a user in one request.
        scram = f"{settings.kafka_sasl_mechanism}=[iterations={SCRAM_ITERATIONS},password={password}]"
        main = [
            "kafka.admin.ConfigCommand", "--bootstrap-server", admin.bootstrap_servers,
            "--command-config", str(command_config), "--alter", "--add-config", scram,
            "--entity-type", "users", "--entity-name", user,
        ]  # fmt: skip
        cmd = java_cmd(find_java(), lib_dir(settings), "128m", main)
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=TOOL_TIMEOUT, stdin=subprocess.DEVNULL
        )
    if done.returncode != 0:
        tail = tail_text(done.stdout + done.stderr, 20)
        raise BrokerError(f"creating Kafka user {user!r} failed (exit {done.returncode}):\n{tail}")


def _client_properties(admin: KafkaAccess) -> str:
    """A Java client's properties for the admin's SCRAM login."""
    password = admin.password.get_secret_value() if admin.password else ""
    module = "org.apache.kafka.common.security.scram.ScramLoginModule"
    login = f'{module} required username="{admin.username}" password="{password}";'
    return (
        f"security.protocol={admin.security_protocol}\n"
        f"sasl.mechanism={admin.sasl_mechanism}\n"
        f"sasl.jaas.config={login}\n"
    )


def _private(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    return path
