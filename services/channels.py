"""The topics the Faust app itself uses, declared once per app.

The canonical log is read by the projector's own batch consumer (`services.projector`), not by a
Faust agent, so it is not declared here.
"""

from __future__ import annotations

from dataclasses import dataclass

import faust
from faust.types import TopicT

from services.settings import Settings


@dataclass(frozen=True)
class Channels:
    inbound: TopicT
    deadletter: TopicT

    @classmethod
    def declare(cls, app: faust.App, settings: Settings) -> Channels:
        def raw_topic(name: str) -> TopicT:
            # Project-owned topics are created by `services.topics.ensure_topics`, not by Faust.
            return app.topic(name, key_serializer="raw", value_serializer="raw", internal=False)

        # The shared inbound topic and, with SASL, each publisher principal's own
        # (`services.ingestor.principals`).
        inbound = app.topic(
            settings.topic_inbound,
            *settings.publisher_topics.values(),
            key_serializer="raw",
            value_serializer="raw",
            internal=False,
        )
        return cls(inbound=inbound, deadletter=raw_topic(settings.topic_deadletter))
