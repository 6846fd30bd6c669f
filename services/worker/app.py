"""Wiring of the Faust application: one factory, nothing connects at import time."""

from __future__ import annotations

import faust
from faust.sensors.prometheus import setup_prometheus_sensors

from services.metrics import REGISTRY
from services.settings import Settings
from services.worker import faust_tuning
from services.worker.channels import Channels
from services.worker.ingestor import register_ingestor
from services.worker.projector import register_projector
from services.worker.views import register_views


def create_app(settings: Settings) -> faust.App:
    """A Faust app with the ingestor, the projections and the HTTP API registered."""
    faust_tuning.use_idempotent_producer()
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{server.strip()}" for server in settings.kafka_bootstrap_servers.split(",")],
        store=settings.store,
        datadir=str(settings.data_dir),
        autodiscover=False,
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_commit_interval=1.0,
        table_standby_replicas=0,
    )
    channels = Channels.declare(app, settings)
    register_ingestor(app, channels, settings)
    register_projector(app, channels)
    register_views(app, channels, settings)
    setup_prometheus_sensors(app, pattern="/metrics", registry=REGISTRY, name_prefix="salesledger_faust")
    return app
