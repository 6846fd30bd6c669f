"""The topics and tables the worker uses, declared once per app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust
from faust.types import TopicT
from faust.types.tables import TableT

from services.settings import Settings
from services.worker.readmodels import ReadModel

Table = TableT[str, dict[str, Any]]


@dataclass(frozen=True)
class Channels:
    inbound: TopicT
    events: TopicT
    deadletter: TopicT
    read_models: tuple[tuple[ReadModel, Table], ...]

    def table(self, name: str) -> tuple[ReadModel, Table]:
        return next((model, table) for model, table in self.read_models if model.name == name)

    @classmethod
    def declare(cls, app: faust.App, settings: Settings, models: tuple[ReadModel, ...]) -> Channels:
        def raw_topic(name: str) -> TopicT:
            # Project-owned topics are created by `services.topics.ensure_topics`, not by Faust.
            return app.topic(name, key_serializer="raw", value_serializer="raw", internal=False)

        tables = tuple(
            (
                model,
                app.Table(
                    model.name,
                    default=None,
                    partitions=settings.topic_partitions,
                    help=f"Per-(source partition, key) partials of the {model.name} read model (JSON).",
                ),
            )
            for model in models
        )
        return cls(
            inbound=raw_topic(settings.topic_inbound),
            events=raw_topic(settings.topic_events),
            deadletter=raw_topic(settings.topic_deadletter),
            read_models=tables,
        )
