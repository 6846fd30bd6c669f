"""The one place a worker is composed: the roles it runs (`SALESLEDGER_ROLES`, all by default),
their dependencies, and the route table its web server serves. Nothing connects at import time.

The path of an event, read off the rooms: the HTTP gate (`services.gate`) or the Kafka ingestor
(`services.ingestor`) admits it (`services.admission`), the write model (`services.writemodel`)
decides it under the sales process (`sales`) and records it, the outbox relay (`services.outbox`)
copies it onto the canonical log, the projector (`services.projector`) folds it with the pure folds
of `projections`, and the query API (`services.queries`) answers from the merged partials.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import partial

import faust

from projections.org import OrgState
from sales.process import ProcessConfig, load_process
from services import faust_tuning
from services.access.guard import Guard, guarded
from services.access.policies import POLICIES, Policy
from services.auth.keys import ApiKeys
from services.contracts import asyncapi_document, event_schemas, openapi_document
from services.contracts import handlers as contracts
from services.db import SqliteConfig, parse_database_url, private_dir
from services.gate import http as gate
from services.gauges.export import BusinessGauges, register_gauges
from services.ingestor.consumer import Ingestor, register_ingestor
from services.kafka_access import faust_credentials, kafka_access
from services.outbox.identity import with_instance_id
from services.outbox.lease import lease_for
from services.outbox.relay import Relay
from services.outbox.watch import Watch, road_problems
from services.projector.readmodels import read_models
from services.projector.service import Projector
from services.queries import coaching, drilldown, statements, what_if
from services.queries import handlers as queries
from services.queries.fanout import PARTIALS, FannedOut, own_partials
from services.sensors import install_sensor
from services.settings import Settings
from services.ui.live import serve_events
from services.ui.routes import browsed, dashboard_routes
from services.web.faust import bounded_app, serve
from services.web.health import health, live
from services.web.routes import Handler, Route
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from services.writemodel.history import StoreHistory
from services.writemodel.recorder import Recorder


@dataclass
class Worker:
    """The parts one worker runs (None for a role it does not run)."""

    settings: Settings
    process: ProcessConfig
    recorder: Recorder | None
    relay: Relay | None
    projector: Projector | None
    store: StoreHistory | None = field(default=None)
    """The event store read back for drill-down histories (workers that answer queries)."""
    ingestor: Ingestor | None = field(default=None)
    """The inbound batch consumer, once `create_app` has registered it (workers with the ingestor role)."""
    watch: Watch | None = field(default=None)
    """The relay backlog, the broker and the disk, watched for readiness and `/metrics`."""


def compose(settings: Settings, canonical_url: str) -> Worker:
    """Build the parts of the roles in ``settings.roles``: the sales process is loaded once, here."""
    roles, process = settings.role_set, load_process(settings.process_file)
    writes = bool(roles & {"gate", "ingestor", "relay"})
    reads_history = "queries" in roles and "projector" in roles
    model = WriteModel(process, write_model_env(settings)) if writes or reads_history else None
    relay = None
    if model is not None and "relay" in roles:
        lease = lease_for(parse_database_url(settings.database_url), "relay")
        relay = Relay(model, kafka_access(settings), settings.topic_events, lease, settings.relay_batch_size)
    recorder = None
    if model is not None and roles & {"gate", "ingestor"}:
        recorder = Recorder(model, relay.wake if relay is not None else lambda: None)
    projector = None
    if "projector" in roles:
        projector = Projector(settings, read_models(process, settings.org_timezone), canonical_url)
    store = StoreHistory(model) if model is not None and reads_history else None
    database = parse_database_url(settings.database_url)
    state_dirs = [settings.data_dir] + ([database.path.parent] if isinstance(database, SqliteConfig) else [])
    watch = Watch(model, settings.kafka_bootstrap_servers, kafka_access(settings), state_dirs)
    return Worker(settings, process, recorder, relay, projector, store, watch=watch)


def routes(worker: Worker, app: faust.App) -> list[Route]:
    """Every endpoint this worker serves, one table (`/metrics` is Faust's Prometheus sensor)."""
    ready = partial(health, partial(readiness, worker, app))
    settings, table = (
        worker.settings,
        [
            Route("GET", "/v1/health", ready),
            Route("GET", "/v1/health/ready", ready),
            Route("GET", "/v1/health/live", live),
        ],
    )
    reads = (
        queries.Queries(FannedOut(worker.projector), worker.process, settings.org_timezone)
        if worker.projector is not None and "queries" in settings.role_set
        else None
    )
    guard = access_guard(settings, reads)
    if worker.recorder is not None and "gate" in settings.role_set:
        bound = gate.Gate(
            worker.recorder,
            ApiKeys.from_url(settings.database_url),
            settings.require_api_keys,
            settings.max_event_bytes,
            settings.max_batch_events,
        )
        table += [
            Route("POST", "/v1/events", partial(gate.post_event, bound)),
            Route("POST", "/v1/events:batch", partial(gate.post_batch, bound)),
        ]
    if worker.projector is not None and reads is not None:
        table += [
            Route("GET", PARTIALS, partial(own_partials, worker.projector)),
            Route("GET", "/v1/reps/activity", partial(queries.all_reps_activity, reads)),
            Route("GET", "/v1/reps/{rep_id}/activity", partial(queries.rep_activity, reads)),
            Route("GET", "/v1/pipeline", partial(queries.pipeline, reads)),
            Route("GET", "/v1/funnel", partial(queries.funnel, reads)),
            Route("GET", "/v1/kpis", partial(queries.kpis, reads)),
            Route("GET", "/v1/forecast", partial(queries.forecast, reads)),
            Route("GET", "/v1/leaderboards", partial(queries.leaderboard, reads)),
            Route("GET", "/v1/statements/{rep_id}/{period}", partial(statements.statement, reads)),
            Route(
                "GET",
                "/v1/statements/{rep_id}/{period}/restated",
                partial(statements.restated_statement, reads),
            ),
            Route("GET", "/v1/payouts", partial(statements.payout_list, reads)),
            Route("POST", "/v1/what-if", partial(what_if.what_if, reads)),
            Route("GET", "/v1/coaching/flags", partial(coaching.coaching_flags, reads)),
            Route("GET", "/v1/reps/{rep_id}/development", partial(coaching.rep_development, reads)),
            Route("GET", "/v1/reviews/{team_id}/{period}", partial(coaching.team_review, reads)),
        ]
    if reads is not None and worker.store is not None:
        drill = drilldown.Drilldown(reads, worker.store)
        table += [
            Route("GET", "/v1/deals", partial(drilldown.list_deals, drill)),
            Route("GET", "/v1/deals/{deal_id}", partial(drilldown.deal, drill)),
            Route("GET", "/v1/leads", partial(drilldown.list_leads, drill)),
            Route("GET", "/v1/leads/{lead_id}", partial(drilldown.lead, drill)),
            Route("GET", "/v1/events/{event_id}/history", partial(drilldown.event_history, drill)),
        ]
        table += dashboard_routes(drill, guard)  # the browser dashboard (docs/dashboard.md)
    published = contracts.Contracts(openapi_document(settings), asyncapi_document(settings), event_schemas())
    table += [
        Route("GET", "/v1/openapi.json", partial(contracts.openapi, published)),
        Route("GET", "/v1/asyncapi.json", partial(contracts.asyncapi, published)),
        Route("GET", contracts.SCHEMAS_PATH, partial(contracts.schema_index, published)),
        Route("GET", contracts.SCHEMAS_PATH + "/{event_type}", partial(contracts.event_schema, published)),
    ]
    return [
        browsed(Route(r.method, r.path, guarded(guard, POLICIES[(r.method, r.path)], covered(r))))
        for r in table
    ]


UNCOVERED = frozenset({Policy.PUBLIC, Policy.PEER, Policy.PUBLISH})
"""Routes that answer from no read model (health, contracts, the peers' partials, ingestion)."""


def covered(route: Route) -> Handler:
    """A read route's handler answering 503 while it covers no partition of the log
    (`services.queries.handlers.when_covered`); any other route's as it is."""
    return (
        route.handler
        if POLICIES[(route.method, route.path)] in UNCOVERED
        else queries.when_covered(route.handler)
    )


def access_guard(settings: Settings, reads: queries.Queries | None) -> Guard:
    """The guard of every route: the configured keys (none when keys are not required), and the
    organisation the query side reads (an empty one on workers that answer no queries)."""
    keys = ApiKeys.from_url(settings.database_url) if settings.require_api_keys else None
    return Guard(keys, reads.organisation if reads is not None else _no_organisation, settings.org_timezone)


async def _no_organisation() -> OrgState:
    return OrgState()


def readiness(worker: Worker, app: faust.App) -> tuple[bool, list[str], list[str]]:
    """Ready when the worker holds partitions (Faust's, the ingestor's, the projector's), is not rebalancing,
    and its projector is not failing (`Projector.problem`); with the problems, if any."""
    projector = worker.projector
    projecting = {f"{projector.topic}/{p}" for p in projector.owned()} if projector is not None else set()
    ingesting = worker.ingestor.owned() if worker.ingestor is not None else set()
    assigned = sorted(
        {f"{tp.topic}/{tp.partition}" for tp in app.consumer.assignment()} | projecting | ingesting
    )
    problems = [problem] if projector is not None and (problem := projector.problem()) else []
    problems += road_problems(worker.relay, worker.watch)
    if not assigned:
        problems.append("no partition assigned yet")
    if app.rebalancing:
        problems.append("the consumer group is rebalancing")
    return not problems, assigned, problems


def progress(projector: Projector) -> int:
    """How far the projector has folded (the sum of its partitions' next offsets): what the
    dashboard's live stream polls to know when to recompute (`services.ui.live`)."""
    return sum(projector.positions().values())


def faust_app(settings: Settings) -> faust.App:
    """The Faust application that hosts the roles: its consumer, producer, web server and timers."""
    faust_tuning.use_idempotent_producer()
    faust_tuning.share_the_interpreter_finely()
    private_dir(settings.data_dir, tighten=True)  # read-model state: 0700 before Faust fills it
    return bounded_app(settings.web_max_connections)(
        settings.app_id,
        broker=[f"kafka://{server.strip()}" for server in settings.kafka_bootstrap_servers.split(",")],
        broker_credentials=faust_credentials(settings),  # the worker principal (services.kafka_access)
        datadir=str(settings.data_dir),
        autodiscover=False,
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_application_options={
            "client_max_size": settings.max_batch_events * settings.max_event_bytes + 1,
            # aiohttp closes a connection idle this long, also one that never completes a request head
            "handler_args": {"keepalive_timeout": settings.web_header_timeout},
        },
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_linger=0.01,
        broker_commit_interval=1.0,
        broker_session_timeout=settings.consumer_session_timeout,
        broker_heartbeat_interval=min(3.0, settings.consumer_session_timeout / 3),
        consumer_group_instance_id=settings.worker_instance_id,
    )


def create_app(settings: Settings) -> faust.App:
    """A Faust app running the roles in ``settings.roles``, with their routes, tasks and timers."""
    settings = with_instance_id(settings)  # a restarted worker is known again at once (issue 15)
    app = faust_app(settings)
    worker = compose(settings, str(app.conf.canonical_url))
    if worker.recorder is not None and "ingestor" in settings.role_set:
        worker.ingestor = register_ingestor(app, worker.recorder, settings)
    table = routes(worker, app)
    serve(app, table)
    if worker.projector is not None:  # the dashboard's live numbers, on the projector's progress
        serve_events(app, table, partial(progress, worker.projector))
    install_sensor(app, pattern="/metrics")  # Faust's numbers under our naming (services.sensors)
    relay, projector, watch = worker.relay, worker.projector, worker.watch
    if watch is not None:

        @app.task  # type: ignore[untyped-decorator]
        async def watch_the_road() -> None:
            await watch.run()  # runs until the worker cancels it on shutdown

    if relay is not None:

        @app.task  # type: ignore[untyped-decorator]
        async def relay_intake() -> None:
            await relay.run(asyncio.Event())  # runs until the worker cancels it on shutdown

    if projector is not None:
        leads = relay.lease.held if relay is not None else (lambda: False)
        gauges = BusinessGauges(projector, leads, worker.process, settings.org_timezone)
        register_gauges(app, gauges, settings.gauge_refresh_seconds)

        @app.task  # type: ignore[untyped-decorator]
        async def project_read_models() -> None:
            faust_tuning.freeze_startup_objects()
            await projector.run()  # runs until the worker cancels it on shutdown, then leaves the group

    return app
