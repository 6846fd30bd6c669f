"""Which sources a Kafka publisher may publish as, known by the topic its record came from.

A consumer cannot see who produced a record, and a header saying so would be written by the
publisher itself. So with SASL each publisher principal has its own inbound topic
(``<prefix>.inbound.<principal>``) that ACLs let only that principal write
(``services.broker.acls``): the topic names the principal, and ``SALESLEDGER_KAFKA_PUBLISHERS`` the
sources it is bound to. An event claiming any other source is refused (``source_mismatch``).

The shared ``<prefix>.inbound`` topic carries no principal: on PLAINTEXT anyone may write it and
no binding is possible (documented); with SASL only the worker and the admin may.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.settings import Settings

ANY_SOURCE = "*"


def may_publish_as(patterns: tuple[str, ...], source: str) -> bool:
    """Whether ``source`` is one of ``patterns``: equal, or starting with a pattern's text before
    its trailing ``*`` (``/dialer/*`` covers ``/dialer/eu-1``; ``*`` covers every source)."""
    for pattern in patterns:
        if pattern.endswith(ANY_SOURCE):
            if source.startswith(pattern[:-1]):
                return True
        elif source == pattern:
            return True
    return False


@dataclass(frozen=True)
class Publisher:
    """A publisher principal and the source patterns it is bound to."""

    principal: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class SourceBindings:
    """Inbound topic -> its publisher; a topic not in it (the shared one) is unbound."""

    by_topic: dict[str, Publisher]

    @classmethod
    def of(cls, settings: Settings) -> SourceBindings:
        sources = settings.publisher_sources
        return cls(
            {
                topic: Publisher(principal, sources[principal])
                for principal, topic in settings.publisher_topics.items()
            }
        )

    def refusal(self, topic: str, source: str) -> str | None:
        """Why an event from ``topic`` may not claim ``source``, or None when it may."""
        publisher = self.by_topic.get(topic)
        if publisher is None or may_publish_as(publisher.sources, source):
            return None
        return (
            f"Kafka principal {publisher.principal!r} (topic {topic}) may not publish as source "
            f"{source!r}; it is bound to {', '.join(publisher.sources)} (SALESLEDGER_KAFKA_PUBLISHERS)"
        )


def publisher_for(settings: Settings, source: str) -> str | None:
    """The first publisher principal bound to ``source`` (the demo picks its principal so)."""
    for principal, patterns in settings.publisher_sources.items():
        if may_publish_as(patterns, source):
            return principal
    return None
