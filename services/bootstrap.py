"""Wiring of the Faust application: one factory, nothing connects at import time."""

from __future__ import annotations

import asyncio

import faust
from faust.sensors.prometheus import setup_prometheus_sensors

from services import faust_tuning
from services.channels import Channels
from services.contracts.views import register_contract_views
from services.gate.http import register_views
from services.gauges.export import register_gauges
from services.ingestor.agent import register_ingestor
from services.metrics import REGISTRY
from services.projector.readmodels import read_models
from services.projector.service import Projector
from services.queries.views import register_kpi_views, register_query_views
from services.settings import Settings
from services.writemodel.recorder import Runtime


def create_app(settings: Settings) -> faust.App:
    """A Faust app with the ingestor, the relay, the projector and the HTTP API registered."""
    faust_tuning.use_idempotent_producer()
    faust_tuning.share_the_interpreter_finely()
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
        web_application_options={"client_max_size": settings.max_batch_events * settings.max_event_bytes + 1},
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger=0.01,  # batch table changelog writes: one produce request per message otherwise
        broker_commit_interval=1.0,
        table_standby_replicas=0,
        broker_session_timeout=settings.consumer_session_timeout,
        broker_heartbeat_interval=min(3.0, settings.consumer_session_timeout / 3),
        consumer_group_instance_id=settings.worker_instance_id,
    )
    runtime = Runtime.from_settings(settings)
    channels = Channels.declare(app, settings)
    models = read_models(runtime.store.process, settings.org_timezone)
    projector = Projector(settings, models, str(app.conf.canonical_url))
    register_ingestor(app, channels, runtime)
    register_views(app, channels, runtime, projector)
    register_query_views(app, projector, runtime)
    register_kpi_views(app, projector, runtime)
    register_gauges(app, projector, runtime)
    register_contract_views(app, settings)
    setup_prometheus_sensors(app, pattern="/metrics", registry=REGISTRY, name_prefix="salesledger_faust")

    @app.task  # type: ignore[untyped-decorator]
    async def relay_intake() -> None:
        await runtime.relay.run(asyncio.Event())  # runs until the worker cancels it on shutdown

    @app.task  # type: ignore[untyped-decorator]
    async def project_read_models() -> None:
        faust_tuning.freeze_startup_objects()
        await projector.run()  # runs until the worker cancels it on shutdown, then leaves the group

    return app
