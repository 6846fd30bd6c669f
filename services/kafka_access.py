"""Who this process is to Kafka: the one place settings become client options and credentials.

Every Kafka client of the code base (the projector, the relay, the audit and replay readers, the
topic admin, the demo producer, the broker probe, Faust itself, and the tests' clients and kcat)
connects with the options built here, so switching the cluster to SASL/SCRAM (the default) or
back to PLAINTEXT is one setting, never a hunt for a forgotten client.

Credentials: ``SALESLEDGER_KAFKA_USERNAME``/``_PASSWORD`` when set; otherwise, for the local broker,
the password generated for that user in ``<kafka_data_dir>/credentials.json`` (0600, written by
``services.broker.storage`` when it formats the broker), so a fresh clone needs no configuration.
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from services.db import private_dir
from services.settings import Settings

if TYPE_CHECKING:  # faust is heavy to import; only a worker needs it, and imports it itself
    import faust

CREDENTIALS_FILE = "credentials.json"
"""In the local broker's data dir: every SCRAM user the broker was given, with its password."""


@dataclass(frozen=True)
class KafkaAccess:
    """Where the cluster is and who we are to it. ``str()`` is the bootstrap servers only (error
    messages), and the password is left out of ``repr`` so no log line can carry it."""

    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    ssl_cafile: str | None = None

    def __str__(self) -> str:
        return self.bootstrap_servers

    @property
    def secured(self) -> bool:
        return self.security_protocol != "PLAINTEXT"

    def as_user(self, username: str, password: str | SecretStr | None) -> KafkaAccess:
        """The same cluster as another principal (tests, the demo publisher, the broker's admin)."""
        secret = password if isinstance(password, SecretStr) or password is None else SecretStr(password)
        return replace(self, username=username, password=secret)

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of SASL_SSL (the system's CAs, or ``kafka_ssl_cafile``); None otherwise."""
        if not self.security_protocol.endswith("SSL"):
            return None
        return ssl.create_default_context(cafile=self.ssl_cafile)

    def security_options(self) -> dict[str, Any]:
        """aiokafka keyword arguments for authentication (no bootstrap servers): empty on PLAINTEXT."""
        if not self.secured:
            return {}
        options: dict[str, Any] = {
            "security_protocol": self.security_protocol,
            "sasl_mechanism": self.sasl_mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password.get_secret_value() if self.password else None,
        }
        context = self.ssl_context()
        if context is not None:
            options["ssl_context"] = context
        return options

    def options(self) -> dict[str, Any]:
        """Keyword arguments of every aiokafka client: bootstrap servers and authentication."""
        return {"bootstrap_servers": self.bootstrap_servers, **self.security_options()}

    def faust_credentials(self) -> faust.SASLCredentials | None:
        """Faust's ``broker_credentials`` (its consumer, producer and admin client), or None."""
        if not self.secured:
            return None
        import faust

        return faust.SASLCredentials(
            username=self.username,
            password=self.password.get_secret_value() if self.password else None,
            mechanism=self.sasl_mechanism,
            ssl_context=self.ssl_context(),
        )

    def kcat_args(self, mechanism: str | None = None) -> list[str]:
        """kcat's (librdkafka's) arguments for the same cluster and principal (another SASL
        ``mechanism`` if given: packaged librdkafka before 2.6.1 fails SCRAM with Kafka 4).

        The password goes on the command line, visible to local users in the process list: kcat
        has no other way short of a config file. Fine for tests on loopback; say so where used.
        """
        args = ["-b", self.bootstrap_servers]
        if self.secured:
            args += ["-X", f"security.protocol={self.security_protocol.lower()}"]
            args += ["-X", f"sasl.mechanisms={mechanism or self.sasl_mechanism}"]
            args += ["-X", f"sasl.username={self.username or ''}"]
            args += ["-X", f"sasl.password={self.password.get_secret_value() if self.password else ''}"]
            if self.ssl_cafile:
                args += ["-X", f"ssl.ca.location={self.ssl_cafile}"]
        return args


# --- the local broker's generated credentials ----------------------------------------------------


def credentials_path(settings: Settings) -> Path:
    """``<kafka_data_dir>/credentials.json`` (absolute, as the broker's own data dir)."""
    return Path(settings.kafka_data_dir).expanduser().resolve() / CREDENTIALS_FILE


def local_credentials(settings: Settings) -> dict[str, str]:
    """Every user of the local broker and its password; empty when there is no local broker."""
    try:
        document = json.loads(credentials_path(settings).read_text())
    except (OSError, ValueError):
        return {}
    users = document.get("users") if isinstance(document, dict) else None
    return {str(k): str(v) for k, v in users.items()} if isinstance(users, dict) else {}


def new_passwords(users: Iterable[str]) -> dict[str, str]:
    """A fresh random password for each of ``users`` (url-safe: no quoting in JAAS or tool args)."""
    return {user: secrets.token_urlsafe(24) for user in users}


def save_local_credentials(settings: Settings, users: dict[str, str]) -> None:
    """Write the credentials file whole (0600, then renamed into place): only once the broker
    has, or is about to be formatted with, every user in it."""
    path = credentials_path(settings)
    private_dir(path.parent)
    tmp = path.with_name(f".{CREDENTIALS_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"users": users}, out, indent=2, sort_keys=True)
    tmp.replace(path)


# --- settings to options ---------------------------------------------------------------------


def kafka_access(settings: Settings, username: str | None = None) -> KafkaAccess:
    """How to reach Kafka as ``username`` (default: ``kafka_username``, this process's principal).

    The password is ``kafka_password`` for this process's own principal when set, else the local
    broker's generated one for that user (none: the broker will refuse, and say so).
    """
    user = username or settings.kafka_username
    access = KafkaAccess(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        security_protocol=settings.kafka_security_protocol,
        sasl_mechanism=settings.kafka_sasl_mechanism if settings.kafka_secured else None,
        ssl_cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None,
    )
    if not settings.kafka_secured:
        return access
    password: SecretStr | str | None = settings.kafka_password if user == settings.kafka_username else None
    if password is None:
        password = local_credentials(settings).get(user)
    return access.as_user(user, password)


def aiokafka_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of an aiokafka client (producer, consumer, admin) of this process."""
    return kafka_access(settings).options()


def faust_credentials(settings: Settings) -> faust.SASLCredentials | None:
    """Faust's ``broker_credentials`` for this process (None on PLAINTEXT)."""
    return kafka_access(settings).faust_credentials()
