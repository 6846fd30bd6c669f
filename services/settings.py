"""All Salesledger settings, in one place.

Every field is overridable by an environment variable named ``SALESLEDGER_<FIELD>`` (upper case),
for example ``SALESLEDGER_KAFKA_BOOTSTRAP_SERVERS``. The same names are used in
``docker-compose.yml`` and documented in ``docs/configuration.md``; a test keeps the three in step.
Nothing here connects to anything: settings are read once, at start-up, by the process entry points.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SALESLEDGER_"
ROLES = ("gate", "ingestor", "relay", "projector", "queries")
"""What a worker can do (`services.bootstrap`): each a room of `services/` with one entry function."""
CACHE_ROOT = Path.home() / ".cache" / "salesledger"
REDACTED = "***"
SECRET_NAME = re.compile(r"(^|_)(password|passwd|secret|token|credentials?|private_key)($|_)")
"""Fields whose whole value is a secret, by name (besides any `SecretStr` field)."""
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*):\S*@")
"""``scheme://user:password@``; greedy up to the last ``@``, as URL parsers split the host off."""


def redact_url(text: str) -> str:
    """`text` with the password of every URL in it masked: ``postgresql://user:***@host/db``."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}:{REDACTED}@", text)


def shown(name: str, value: Any) -> str:
    """A setting's value as it may be printed or logged: secrets and URL passwords masked."""
    if isinstance(value, SecretStr) or (SECRET_NAME.search(name) and value not in (None, "")):
        return REDACTED
    return redact_url(str(value))


PeerEntry = tuple[str | None, str, int | None]
"""An allowed peer: (scheme or None for http and https, host, port or None for any port)."""


def peer_allowlist(text: str) -> tuple[PeerEntry, ...]:
    """`SALESLEDGER_PEER_URLS` parsed: each entry ``host``, ``host:port`` or ``http[s]://host[:port]``."""
    entries: list[PeerEntry] = []
    for raw in (item.strip() for item in text.split(",")):
        if not raw:
            continue
        scheme = None
        rest = raw
        if "://" in raw:
            scheme, rest = raw.split("://", 1)
            scheme = scheme.lower()
            if scheme not in ("http", "https"):
                raise ValueError(f"peer_urls: {raw!r} is not http or https")
        parts = urlsplit(f"//{rest.rstrip('/')}")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"peer_urls: {raw!r} has a bad port") from exc
        if not parts.hostname or parts.username or parts.password or parts.path or parts.query:
            raise ValueError(f"peer_urls: {raw!r} is not host, host:port or http[s]://host[:port]")
        entries.append((scheme, parts.hostname.lower(), port))
    return tuple(entries)


PRINCIPAL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""A publisher principal: also the last part of its inbound topic's name, so no dots."""


def parse_publishers(text: str) -> dict[str, tuple[str, ...]]:
    """`SALESLEDGER_KAFKA_PUBLISHERS` parsed: ``dialer=/dialer/eu,/dialer/us*;crm=/crm/*`` into
    ``{"dialer": ("/dialer/eu", "/dialer/us*"), "crm": ("/crm/*",)}`` (empty text: no publishers)."""
    bound: dict[str, tuple[str, ...]] = {}
    for entry in (part.strip() for part in text.split(";")):
        if not entry:
            continue
        principal, _, sources_text = (piece.strip() for piece in entry.partition("="))
        sources = tuple(source for source in (s.strip() for s in sources_text.split(",")) if source)
        if not PRINCIPAL_NAME.fullmatch(principal):
            raise ValueError(f"kafka_publishers: {principal!r} is not a principal name ([A-Za-z0-9_-], 1-64)")
        if not sources:
            raise ValueError(
                f"kafka_publishers: {principal!r} is bound to no source (`{principal}=/its/source`)"
            )
        if principal in bound:
            raise ValueError(f"kafka_publishers: {principal!r} is listed twice")
        bound[principal] = sources
    return bound


class Settings(BaseSettings):
    """Process configuration; see ``docs/configuration.md`` for each variable."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True, hide_input_in_errors=True
    )
    """Errors name the setting and the rule, never the value given (it may be a secret)."""

    # --- Kafka -------------------------------------------------------------------------------
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092",
        description="Kafka bootstrap servers. If a broker already answers there it is used as is; "
        "otherwise `salesledger kafka up` starts a local one on that (loopback) port.",
    )
    kafka_home: Path = Field(
        CACHE_ROOT / "kafka",
        description="Where the local broker's jars (lib/) are cached, fetched once with Maven.",
    )
    kafka_data_dir: Path = Field(
        CACHE_ROOT / "kafka-data",
        description="Log and metadata directory of the local broker (formatted on first start).",
    )
    kafka_controller_port: int = Field(9093, description="KRaft controller port of the local broker.")
    kafka_heap: str = Field("512m", description="JVM heap (-Xms/-Xmx) of the local broker.")
    kafka_start_timeout: float = Field(90.0, description="Seconds to wait for the local broker.")

    # --- Kafka security (services.kafka_access, services.broker.acls; docs/security.md) --------
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "SASL_PLAINTEXT",
        description="How every Kafka client of this process connects. The local broker listens with "
        "SASL/SCRAM and ACLs unless this is PLAINTEXT (then: no credentials, no ACLs, and no binding "
        "of publishers to sources).",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = Field(
        "SCRAM-SHA-512", description="SASL mechanism of the Kafka clients (and of the local broker)."
    )
    kafka_username: str = Field(
        "worker",
        description="The Kafka principal this process connects as. The local broker creates it as the "
        "worker principal: reads inbound, writes the events topic, joins the worker groups.",
    )
    kafka_password: SecretStr | None = Field(
        None,
        description="Password of `SALESLEDGER_KAFKA_USERNAME`. Unset: the local broker's, generated once "
        "in `<kafka_data_dir>/credentials.json` (0600).",
    )
    kafka_admin_username: str = Field(
        "admin",
        description="The local broker's super user: the broker itself and the tooling that creates its "
        "users and ACLs (never a worker or publisher).",
    )
    kafka_ssl_cafile: Path | None = Field(
        None, description="CA bundle that signs the brokers' certificates (SASL_SSL); unset: the system's."
    )
    kafka_publishers: str = Field(
        "publisher=*",
        description="The Kafka publisher principals and the event sources each may publish as: "
        "`principal=source[,source...][;principal=...]`, a source ending in `*` a prefix (`*` alone: any). "
        "Each principal writes only its own topic `<prefix>.inbound.<principal>` (ACLs); the ingestor "
        "dead-letters an event whose source its principal is not bound to (`source_mismatch`).",
    )

    # --- Topics ------------------------------------------------------------------------------
    topic_prefix: str = Field("salesledger", description="Prefix of every topic the project owns.")
    topic_partitions: int = Field(4, ge=1, description="Partitions of the project's topics.")
    topic_replication_factor: int = Field(1, ge=1, description="Replication factor of its topics.")
    deadletter_retention_ms: int = Field(
        -1, description="Retention of the dead-letter topic in ms (-1 keeps rejects forever)."
    )
    inbound_retention_ms: int = Field(
        7 * 24 * 3600 * 1000, description="Retention of the raw inbound topic in ms."
    )

    # --- Worker (Faust) ----------------------------------------------------------------------
    app_id: str = Field("salesledger", description="Faust application id (consumer group).")
    store: Literal["rocksdb://", "memory://"] = Field(
        "rocksdb://",
        description="Where a worker keeps its read-model partials: durable RocksDB (memory bounded by "
        "its cache) or in memory (rebuilt from the changelog at every start).",
    )
    data_dir: Path = Field(Path(".data"), description="Data directory (read-model state, Faust's files).")
    projection_batch_max: int = Field(
        4000,
        ge=1,
        description="Most events the projector folds per batch (one changelog write per "
        "touched partial per batch).",
    )
    gauge_refresh_seconds: float = Field(
        15.0,
        gt=0,
        description="How often the relay leader recomputes the business gauges (pipeline by "
        "stage, attainment by team) from the merged read models: a full pass over them.",
    )
    projection_cache_size: int = Field(
        10_000, ge=0, description="Decoded read-model partials kept in memory per source partition."
    )
    consumer_session_timeout: float = Field(
        20.0, ge=6.0, description="Seconds before the group evicts a silent worker (Faust's default is 60)."
    )
    worker_instance_id: str | None = Field(
        None,
        description="Static group membership id (unique per worker): a restarted worker with the same id "
        "gets its partitions back without a rebalance. Unset, each worker derives one from its host name, "
        "HTTP port and data directory (services.outbox.identity); set it where host names repeat.",
    )
    web_host: str = Field("127.0.0.1", description="HTTP address the worker binds.")
    web_port: int = Field(6066, description="HTTP port of the worker (API, queries, /metrics).")
    web_header_timeout: float = Field(
        15.0,
        gt=0,
        le=3600,
        description="Seconds a connection may go without a complete request head (from when it opens, "
        "and between requests on a kept-alive connection) before the worker closes it.",
    )
    web_max_connections: int = Field(
        1000,
        ge=1,
        description="Open HTTP connections a worker holds; past it, a new one is answered 503 and closed.",
    )
    log_level: str = Field("info", description="Log level of Salesledger processes.")
    log_format: Literal["json", "text"] = Field(
        "json",
        description="Worker log lines: JSON objects (one per line, with event id, source, type, aggregate "
        "and outcome on every event's line) or text for humans (`make run` sets text). "
        "docs/operations.md#logs.",
    )
    roles: str = Field(
        ",".join(ROLES),
        description="The roles this worker runs, comma-separated, from "
        + ", ".join(ROLES)
        + " (all by default; `queries` needs `projector`, whose partials it serves).",
    )

    # --- Between workers (services.queries.peers) --------------------------------------------
    peer_secret: SecretStr | None = Field(
        None,
        description="Secret shared by the workers of one application (16 characters or more): a worker "
        "asks its peers for their read-model partials, and answers theirs, only with requests and "
        "answers signed with it (HMAC-SHA256; the secret itself never crosses the network). Unset: "
        "this machine's secret, made once in `<data_dir>/peer.secret` (0600), so a worker and the "
        "audit commands sharing a data directory trust each other with no set-up; workers on "
        "several machines (or with their own data directories) must set the same secret here.",
    )
    peer_urls: str = Field(
        "127.0.0.1,localhost,[::1]",
        description="Which peer URLs announced in the projector group a worker may ask, comma-separated: "
        "`host` (any port), `host:port`, or `http[s]://host[:port]`. Any other URL announced by a group "
        "member is logged once and ignored. The default (loopback only) suits workers on one machine; "
        "list the other machines' workers when running on several.",
    )
    peer_body_max: int = Field(
        256 * 1024 * 1024,
        ge=1024,
        description="Largest partials answer, in bytes, read from a peer; past it the answer is dropped "
        "(that peer counts as not answered). Raise it for read models larger than this per worker.",
    )
    peer_timeout: float = Field(
        30.0, gt=0, le=600, description="Seconds a worker waits for a peer's whole partials answer."
    )

    # --- Ingestion ---------------------------------------------------------------------------
    max_event_bytes: int = Field(
        64 * 1024, ge=1024, description="Largest accepted event, in bytes, over HTTP and Kafka."
    )
    max_batch_events: int = Field(
        1000, ge=1, le=10_000, description="Most events in one `POST /v1/events:batch` request."
    )
    require_api_keys: bool = Field(
        True,
        description="Require an API key with a role that allows it on every request but health, metrics "
        "and the contracts (docs/access.md); `false` opens everything: a laptop sandbox only.",
    )
    ingest_batch_size: int = Field(
        500, ge=1, description="Inbound Kafka messages validated and stored per intake transaction."
    )

    # --- Intake store and relay ----------------------------------------------------------------
    database_url: str = Field(
        "sqlite:///.data/salesledger.sqlite3",
        repr=False,  # may hold the PostgreSQL password: `shown` masks it wherever settings are printed
        description="Event store and API keys: `sqlite:///<path>` (relative), `sqlite:////<abs path>` or "
        "`postgresql://user:password@host:port/dbname[?schema=name]`.",
    )
    org_timezone: str = Field(
        "UTC", description="The organisation's time zone (IANA name): KPI days, weeks, months, quarters."
    )
    process_file: Path | None = Field(
        None,
        description="The organisation's sales process (TOML, docs/process.md); empty: the shipped default.",
    )
    aggregate_cache_size: int = Field(
        20_000, ge=0, description="Aggregates kept in memory by the write model (hot leads and deals)."
    )
    relay_batch_size: int = Field(2000, ge=1, description="Intake rows the relay sends per Kafka round trip.")

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: str) -> str:
        chosen = [role.strip() for role in value.split(",") if role.strip()]
        unknown = sorted(set(chosen) - set(ROLES))
        if unknown or not chosen:
            raise ValueError(f"roles: {', '.join(unknown) or 'none given'}; choose from {', '.join(ROLES)}")
        if "queries" in chosen and "projector" not in chosen:
            raise ValueError(
                "roles: queries needs projector (a worker answers from the partials it projects)"
            )
        return ",".join(role for role in ROLES if role in chosen)

    @field_validator("peer_secret", mode="before")
    @classmethod
    def _peer_secret(cls, value: Any) -> Any:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text is None or text == "":
            return None  # an empty variable is unset, never an empty key
        if not isinstance(text, str) or len(text) < 16:
            raise ValueError("peer_secret: use 16 characters or more (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("kafka_publishers")
    @classmethod
    def _kafka_publishers(cls, value: str) -> str:
        parse_publishers(value)  # raises on a bad principal name or an entry without sources
        return value

    @field_validator("peer_urls")
    @classmethod
    def _peer_urls(cls, value: str) -> str:
        peer_allowlist(value)  # raises on an entry that is not a host, host:port or URL
        return value

    @property
    def role_set(self) -> frozenset[str]:
        """The roles this worker runs."""
        return frozenset(self.roles.split(","))

    @property
    def database_path(self) -> Path:
        """Filesystem path of the SQLite database named by `database_url` (SQLite only)."""
        if not self.database_url.startswith("sqlite:///"):
            raise ValueError(f"{self.database_url!r} is not a SQLite URL (sqlite:///<path>)")
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def topic_inbound(self) -> str:
        return f"{self.topic_prefix}.inbound"

    @property
    def topic_events(self) -> str:
        return f"{self.topic_prefix}.events"

    def topic_inbound_of(self, principal: str) -> str:
        """The inbound topic only `principal` may write (SASL): where its sources are known."""
        return f"{self.topic_prefix}.inbound.{principal}"

    @property
    def publisher_topics(self) -> dict[str, str]:
        """Each publisher principal's own inbound topic; none on PLAINTEXT, where no client has a
        principal and only the shared `topic_inbound` is used."""
        if not self.kafka_secured:
            return {}
        return {principal: self.topic_inbound_of(principal) for principal in self.publisher_sources}

    @property
    def kafka_secured(self) -> bool:
        """Whether Kafka clients authenticate (and the local broker enforces ACLs)."""
        return self.kafka_security_protocol != "PLAINTEXT"

    @property
    def publisher_sources(self) -> dict[str, tuple[str, ...]]:
        """`kafka_publishers` parsed: each publisher principal and the source patterns it is bound to."""
        return parse_publishers(self.kafka_publishers)

    @property
    def topic_deadletter(self) -> str:
        return f"{self.topic_prefix}.deadletter"

    @property
    def topic_projection_changelog(self) -> str:
        """The read models' changelog: per application id, as it is the workers' own state."""
        return f"{self.topic_prefix}.{self.app_id}.projections-changelog"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()


def settings_table(settings: Settings | None = None) -> str:
    """Markdown table of every setting: its variable, default, description (and current value).

    Secrets never appear: values and defaults go through `shown` (passwords in URLs, secret fields).
    """
    rows = [
        "| Variable | Default | Description |" + (" Current |" if settings else ""),
        "| --- | --- | --- |" + (" --- |" if settings else ""),
    ]
    for name, field in Settings.model_fields.items():
        default = shown(name, field.default).replace(str(Path.home()), "~")
        row = f"| `{ENV_PREFIX}{name.upper()}` | `{default}` | {field.description or ''} |"
        if settings is not None:
            row += f" `{shown(name, getattr(settings, name))}` |"
        rows.append(row)
    return "\n".join(rows)


def write_settings_table(markdown: Path) -> None:
    """Rewrite the settings table at the end of `markdown` (docs/configuration.md) from the code."""
    text = markdown.read_text()
    head = text[: text.index("| Variable |")] if "| Variable |" in text else text
    markdown.write_text(head + settings_table() + "\n")


if __name__ == "__main__":
    import sys

    write_settings_table(Path(sys.argv[1]))
