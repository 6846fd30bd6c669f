"""The topics and tables the worker uses, declared once per app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust
from faust.types import TopicT
from faust.types.tables import TableT

from services.settings import Settings


@dataclass(frozen=True)
class Channels:
    inbound: TopicT
    events: TopicT
    deadletter: TopicT
    rep_activity: TableT[str, dict[str, Any]]

    @classmethod
    def declare(cls, app: faust.App, settings: Settings) -> Channels:
        def raw_topic(name: str) -> TopicT:
            # Project-owned topics are created by `services.topics.ensure_topics`, not by Faust.
            return app.topic(name, key_serializer="raw", value_serializer="raw", internal=False)

        return cls(
            inbound=raw_topic(settings.topic_inbound),
            events=raw_topic(settings.topic_events),
            deadletter=raw_topic(settings.topic_deadletter),
            rep_activity=app.Table(
                "rep-activity",
                default=None,
                partitions=settings.topic_partitions,
                help="Per-(partition, rep) activity partials; keys and values are JSON.",
            ),
        )
