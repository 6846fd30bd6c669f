"""Who may do what on the broker, as data: the principals and the ACLs Salesledger needs.

Pure (settings in, ACLs out), so the rules are read and unit-tested here, applied to the local
broker by ``services.broker.grants`` and printed for an external cluster by
``salesledger kafka acls`` (as ``kafka-acls.sh`` lines). What no ACL allows is denied
(``allow.everyone.if.no.acl.found=false``):

* the **worker** principal (``kafka_username``): everything on the topics under ``topic_prefix``
  (it creates them, the ingestor reads inbound, the relay writes the events topic, the projector
  its changelog) and under ``app_id`` (Faust's own topics), and the consumer groups under
  ``app_id`` (Faust's group, ``<app id>-ingestor``, ``<app id>-projector``). The relay runs in the
  worker, so "only the relay writes the events topic" is "only the worker principal does":
  publishers cannot;
* each **publisher** principal (``kafka_publishers``): WRITE (and DESCRIBE, for metadata) on its own
  topic ``<prefix>.inbound.<principal>``, nothing else: it cannot read, join a group, write the
  events topic or another publisher's topic;
* the **admin** (``kafka_admin_username``): the super user; no ACL needed, none given.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from enum import IntEnum

from services.settings import Settings

CLUSTER = "kafka-cluster"


class Resource(IntEnum):
    """Kafka's ``ResourceType`` codes (as on the wire)."""

    TOPIC = 2
    GROUP = 3
    CLUSTER = 4


class Pattern(IntEnum):
    """Kafka's ``PatternType`` codes."""

    LITERAL = 3
    PREFIXED = 4


class Operation(IntEnum):
    """Kafka's ``AclOperation`` codes (those used here)."""

    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DESCRIBE = 8
    IDEMPOTENT_WRITE = 12


ALLOW = 3
"""Kafka's ``AclPermissionType.ALLOW``: the only kind granted (nothing is allowed by default)."""


@dataclass(frozen=True, order=True)
class Acl:
    """One ALLOW rule: ``principal`` may ``operation`` on the resource, from any host."""

    principal: str
    resource: Resource
    name: str
    pattern: Pattern
    operation: Operation

    def as_command(self) -> str:
        """The same rule as a ``kafka-acls.sh`` argument list (for an external cluster)."""
        target = {
            Resource.TOPIC: ["--topic", self.name],
            Resource.GROUP: ["--group", self.name],
            Resource.CLUSTER: ["--cluster"],
        }[self.resource]
        operation = "".join(word.capitalize() for word in self.operation.name.split("_"))
        args = ["--add", "--allow-principal", f"User:{self.principal}", "--operation", operation]
        return shlex.join([*args, "--resource-pattern-type", self.pattern.name.lower(), *target])


def worker_acls(settings: Settings) -> list[Acl]:
    """The worker's rights: its topics and groups, by prefix, and idempotent produce."""
    user = settings.kafka_username
    prefixes = sorted({settings.topic_prefix, settings.app_id})
    rules = [Acl(user, Resource.TOPIC, prefix, Pattern.PREFIXED, Operation.ALL) for prefix in prefixes]
    rules.append(Acl(user, Resource.GROUP, settings.app_id, Pattern.PREFIXED, Operation.ALL))
    rules += [
        Acl(user, Resource.CLUSTER, CLUSTER, Pattern.LITERAL, operation)
        for operation in (Operation.IDEMPOTENT_WRITE, Operation.DESCRIBE)
    ]
    return rules


def publisher_acls(settings: Settings, principal: str) -> list[Acl]:
    """A publisher's rights: write its own inbound topic (DESCRIBE to find its partitions)."""
    topic = settings.topic_inbound_of(principal)
    return [
        Acl(principal, Resource.TOPIC, topic, Pattern.LITERAL, operation)
        for operation in (Operation.WRITE, Operation.DESCRIBE)
    ]


def acls(settings: Settings) -> list[Acl]:
    """Every ACL the configuration needs (none without SASL: PLAINTEXT has no principals)."""
    if not settings.kafka_secured:
        return []
    rules = worker_acls(settings)
    for principal in settings.publisher_sources:
        rules += publisher_acls(settings, principal)
    return sorted(set(rules))


def users(settings: Settings) -> list[str]:
    """The SCRAM users the configuration names: the admin, the worker, each publisher."""
    named = [settings.kafka_admin_username, settings.kafka_username, *settings.publisher_sources]
    return list(dict.fromkeys(named))


def acl_commands(settings: Settings) -> list[str]:
    """``kafka-acls.sh`` argument lists creating ``acls(settings)`` on an external cluster."""
    return [rule.as_command() for rule in acls(settings)]
