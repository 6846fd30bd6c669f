"""`projections.explain`: every explained KPI figure, recomputed from the events it lists alone,
equals the rep's KPI report; payout figures are the final statement's lines with their events."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest

from events import parse_event, serialize_event
from projections import kpi_fold, org
from projections.explain import (
    BASES,
    COUNTED_ACTIVITIES,
    Evidence,
    Explanation,
    KpiFigure,
    explain,
    explain_kpis,
)
from projections.incentives import ledger
from projections.incentives.approvals import final_statement
from projections.incentives.context import context_of
from projections.kpi_counters import KpiCounters
from projections.kpi_records import DealClosed, DealOpened, StageMoved, Timeline
from projections.kpi_scope import KpiValue, count, money, ratio
from projections.kpis import ACTIVITY_UNITS, prepare
from sales.process import load_process
from services.audit import explain as audit_explain
from services.outbox.relay import partition_for
from services.projector.partition import PartitionProjection
from services.projector.readmodels import read_models
from services.projector.store import MemoryStore
from services.simulator import simulate_envelopes

TZ = "Europe/Berlin"
PROCESS = load_process(None)
RECORDED = datetime(2027, 1, 1, tzinfo=UTC)
HISTORY = [
    parse_event(serialize_event(e.recorded(RECORDED)))
    for e in simulate_envelopes(11, reps=6, leads=160, start=date(2026, 1, 5), weeks=26)
]
BY_ID = {event.id: event for event in HISTORY}
BOOK = kpi_fold.fold(HISTORY, TZ)
PREPARED = prepare(BOOK, PROCESS)
ORG = org.fold(HISTORY)
LEDGER = ledger.fold(HISTORY)
REPS = sorted(ORG.reps)
PERIODS = ("2026-01", "2026-Q1", "2026-Q2", "2026-W14", "2026")

ROLE_TYPES = {
    "won": "DealWon",
    "credited": "DealWon",
    "lost": "DealLost",
    "opened": "LeadQualified",
    "captured": "LeadCaptured",
    "qualified": "LeadQualified",
    "raised": "ObjectionRaised",
    "resolved": "ObjectionResolved",
}


def _with(events: tuple[Evidence, ...], *roles: str) -> list[Evidence]:
    return [e for e in events if e.role in roles]


def _amount(e: Evidence) -> Decimal:
    return e.amount or Decimal(0)


def recomputed(figure: KpiFigure) -> KpiValue:
    """The figure from its listed events (or activity days) alone, by the rule docs/kpis.md gives."""
    family, _, detail = figure.name.partition(".")
    events = figure.events
    if figure.name in KpiCounters().to_dict():
        return count(sum(day.amount for day in figure.days), ACTIVITY_UNITS.get(figure.name, "count"))
    rules: dict[str, Callable[[], KpiValue]] = {
        "deals_won": lambda: count(len(events)),
        "deals_lost": lambda: count(len(events)),
        "won_revenue": lambda: money(sum(map(_amount, events), Decimal(0)), detail),
        "average_deal_size": lambda: ratio(
            sum(map(_amount, events), Decimal(0)), len(events), "money", detail
        ),
        "credited_revenue": lambda: money(
            sum((_amount(e) * (e.share_percent or 0) / 100 for e in events), Decimal(0)), detail
        ),
        "win_rate": lambda: ratio(len(_with(events, "won")), len(events)),
        "sales_cycle_days": lambda: ratio(
            sum(e.cycle_days or 0 for e in _with(events, "won")), len(_with(events, "won")), "days"
        ),
        "new_leads": lambda: count(len(events)),
        "lead_to_opportunity_rate": lambda: ratio(
            len(_with(events, "qualified")), len(_with(events, "captured"))
        ),
        "objections": lambda: count(len(events)),
        "objection_resolution_rate": lambda: ratio(
            len(_with(events, "resolved")), len(_with(events, "raised"))
        ),
    }
    return rules[family]()


@pytest.mark.parametrize("period", PERIODS)
def test_every_explained_kpi_recomputed_from_its_events_equals_the_report(period: str) -> None:
    listed: defaultdict[str, int] = defaultdict(int)
    for rep in REPS:
        for figure in explain_kpis(PREPARED, rep, period):
            family = figure.name.partition(".")[0]
            explainable = family in BASES or figure.name in KpiCounters().to_dict()
            assert figure.explained == explainable, figure.name
            if not figure.explained:
                assert figure.basis.startswith("not explained:") and not figure.events and not figure.days
                continue
            assert recomputed(figure) == figure.value, (rep, period, figure)
            listed[family] += len(figure.events) + len(figure.days)
            for evidence in figure.events:
                assert type(BY_ID[evidence.event_id]).__name__ == ROLE_TYPES[evidence.role], evidence
                if evidence.role == "won" and family != "sales_cycle_days":
                    assert BY_ID[evidence.event_id].data.rep_id == rep  # type: ignore[attr-defined]
    if period in ("2026-Q1", "2026"):  # the check above is not vacuous: every kind lists something
        assert set(listed) >= {*BASES, "calls", "meetings"} - {"objection_resolution_rate"}
        assert all(listed[family] for family in ("deals_won", "win_rate", "sales_cycle_days", "calls"))


def test_activity_figures_list_days_not_events_and_say_so() -> None:
    reports = [{f.name: f for f in explain_kpis(PREPARED, rep, "2026-Q1")} for rep in REPS]
    figures = max(reports, key=lambda figures: figures["calls"].value.value or 0)
    calls = figures["calls"]
    assert calls.days and not calls.events and calls.value.value == sum(d.amount for d in calls.days)
    assert calls.basis.startswith(
        f"counted from {calls.value.value} activity events on {len(calls.days)} day"
    )
    assert "no event ids" in figures["talk_seconds"].basis
    assert "calls" in COUNTED_ACTIVITIES and "talk_seconds" not in COUNTED_ACTIVITIES
    assert all(date(2026, 1, 1) <= d.day <= date(2026, 3, 31) for d in calls.days)


def _explained(rep: str, period: str) -> Explanation:
    return explain(BOOK, ORG, LEDGER, PROCESS, rep, period)


@pytest.mark.parametrize("period", ("2026-Q1", "2026-Q2"))
def test_payout_figures_are_the_final_statement_lines_with_their_events(period: str) -> None:
    paid_somebody = False
    for rep in REPS:
        explanation = _explained(rep, period)
        context = context_of(ORG, BOOK, PROCESS)
        statement = final_statement(LEDGER, TZ, rep, period, context=context)
        lines = [line for one in statement.statements for line in one.lines]
        figures = [f for f in explanation.payouts if f.kind not in ("unrated", "adjustment")]
        assert [(f.kind, f.rule_id, f.plan_id, f.plan_version, f.deal_id, f.earning) for f in figures] == [
            (str(ln.kind), ln.rule_id, ln.plan_id, ln.plan_version, ln.deal_id, ln.earning) for ln in lines
        ]
        assert [f.event_ids for f in figures] == [line.event_ids for line in lines]
        totals: defaultdict[str, Decimal] = defaultdict(Decimal)
        for figure in explanation.payouts:
            totals[figure.currency] += figure.earning
        assert {c: t for c, t in totals.items() if t or c in explanation.totals} == explanation.totals
        # each commission line of a deal names the deal's first DealWon, the one credited_revenue lists
        kpis = {f.name: f for f in explanation.kpis}
        credited = {
            e.entity: e.event_id
            for f in kpis.values()
            if f.name.startswith("credited_revenue.")
            for e in f.events
        }
        for figure in explanation.payouts:
            if figure.kind == "commission" and figure.deal_id in credited:
                assert credited[figure.deal_id] in figure.event_ids
                paid_somebody = paid_somebody or figure.earning > 0
            for event_id in figure.event_ids:
                assert event_id in BY_ID
    assert paid_somebody, "a simulated quarter pays commission on some deal"


def test_the_explanation_names_rep_period_and_window() -> None:
    explanation = _explained(REPS[1], "2026-Q2")
    assert (explanation.rep_id, explanation.period, explanation.timezone) == (REPS[1], "2026-Q2", TZ)
    assert (explanation.first, explanation.last) == (date(2026, 4, 1), date(2026, 6, 30))
    names = [figure.name for figure in explanation.kpis]
    assert names == sorted(names) and "deals_won" in names


def _at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00+00:00")


def test_a_reopened_deal_is_decided_by_its_last_close_in_the_period_and_booked_on_its_first_win() -> None:
    """Lost in October, reopened, won in November, reopened and won again in December (docs/kpis.md)."""
    records = (
        DealOpened(_at("2026-09-01"), "e-open", "ada", None, None, None),
        DealClosed(_at("2026-10-05"), "e-lost", "ada", False),
        StageMoved(_at("2026-10-20"), "e-reopen", "ada", "closing"),
        DealClosed(_at("2026-11-10"), "e-won", "ada", True, Decimal("1000"), "EUR", (("ada", Decimal(100)),)),
        StageMoved(_at("2026-12-01"), "e-reopen-2", "ada", "closing"),
        DealClosed(
            _at("2026-12-09"), "e-won-2", "ada", True, Decimal("9000"), "EUR", (("ada", Decimal(100)),)
        ),
    )
    book = kpi_fold.KpiBook(TZ, {"deal|d-1": Timeline(records)})
    prepared = prepare(book, PROCESS)

    def ids(period: str, name: str) -> list[tuple[str, str]]:
        figure = next(f for f in explain_kpis(prepared, "ada", period) if f.name == name)
        assert recomputed(figure) == figure.value
        return [(e.role, e.event_id) for e in figure.events]

    assert ids("2026-10", "win_rate") == [("lost", "e-lost")]
    assert ids("2026-Q4", "win_rate") == [("won", "e-won-2")]
    assert ids("2026-Q4", "deals_won") == [("won", "e-won")]
    assert ids("2026-12", "deals_won") == []
    assert ids("2026-Q4", "sales_cycle_days") == [("opened", "e-open"), ("won", "e-won-2")]
    assert ids("2026-Q4", "won_revenue.EUR") == [("won", "e-won")]
    assert ids("2026-Q4", "credited_revenue.EUR") == [("credited", "e-won")]
    assert explain_kpis(prepared, "bob", "2026-Q4")[0].events == ()


def live_partials(events: list[Any], partitions: int = 2) -> dict[str, dict[tuple[int, str], Any]]:
    """Every read model's partials as the workers serve them: ``(partition, key) -> [offset, state]``."""
    live: dict[str, dict[tuple[int, str], Any]] = {}
    for model in MODELS:
        projections: dict[int, PartitionProjection] = {}
        for event in events:
            partition = partition_for(event.partition_key, partitions)
            projection = projections.setdefault(
                partition, PartitionProjection(partition, [model], MemoryStore())
            )
            projection.fold(projection.position, event)
            projection.written(len(projection.pending()))
        live[model.name] = {
            (p, key): orjson.loads(stored)
            for p, projection in projections.items()
            for key, stored in projection.partials(model.name)
        }
    return live


MODELS = [model for model in read_models(PROCESS, TZ) if model.name in audit_explain.MODELS]
LIVE = live_partials(HISTORY)


def test_the_shell_merges_the_live_partials_as_the_queries_do() -> None:
    rep = REPS[2]
    assert audit_explain.explanation_of(LIVE, MODELS, PROCESS, TZ, rep, "2026-Q1") == _explained(
        rep, "2026-Q1"
    )


def test_csv_has_a_row_per_figure_and_event_and_json_the_same_events() -> None:
    rep = max(REPS, key=lambda rep: len(next(f for f in _explained(rep, "2026-Q1").kpis).events))
    explanation = _explained(rep, "2026-Q1")
    rows = list(csv.DictReader(io.StringIO(audit_explain.render(explanation, "csv"))))
    assert tuple(rows[0]) == audit_explain.CSV_COLUMNS
    body = json.loads(audit_explain.render(explanation, "json"))
    assert (body["rep_id"], body["period"], body["first"]) == (rep, "2026-Q1", "2026-01-01")
    for figure, as_json in zip(explanation.kpis, body["kpis"], strict=True):
        mine = [r for r in rows if r["figure"] == "kpi" and r["name"] == figure.name]
        assert [r["event_id"] for r in mine if r["event_id"]] == [e.event_id for e in figure.events]
        assert [r["entity"] for r in mine if r["role"] == "day"] == [d.day.isoformat() for d in figure.days]
        assert len(mine) == max(1, len(figure.events) + len(figure.days))
        assert as_json["name"] == figure.name and as_json["value"] == (
            None if figure.value.value is None else str(figure.value.value)
        )
        assert [e["event_id"] for e in as_json["events"]] == [e.event_id for e in figure.events]
    payout_rows = [r for r in rows if r["figure"] == "payout"]
    assert len(payout_rows) == sum(max(1, len(f.event_ids)) for f in explanation.payouts)
    assert [p["event_ids"] for p in body["payouts"]] == [list(f.event_ids) for f in explanation.payouts]
    text = audit_explain.render(explanation, "text")
    assert text.startswith(f"{rep}, 2026-Q1: 2026-01-01 to 2026-03-31 (Europe/Berlin)")
    for figure in explanation.kpis:
        assert f"  {figure.name} = " in text
        assert all(e.event_id in text for e in figure.events)
