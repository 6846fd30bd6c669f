"""Pipeline fold: worked examples (weighted pipeline, stuck deals, team moves, currencies), the
write model's stages mirrored, and order, partitioning and redelivery not changing anything.

Also home of the helpers `test_funnel` and `test_org` use: `accepted_histories` (random
histories the write model accepts, one stream per aggregate), `interleave` and `fold_in_partitions`.
"""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.envelope import Envelope
from projections import org as org_fold
from projections import pipeline
from projections.pipeline import DealView, PipelineRow, StuckDeal
from sales import ProcessConfig, RuleViolation
from sales.deal_state import DealState
from services.projector.readmodels import read_models
from tests.delivery import delivered_twice
from tests.unit.test_process_config import FOUR_STAGES
from tests.unit.test_process_story import DEFAULT, Ledger, all_samples, make, process_from

S = TypeVar("S")
E = TypeVar("E")
FOUR_STEP = process_from(FOUR_STAGES)
START = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
FORECAST = process_from(
    """
name = "forecast"

[[stages]]
name = "proposal"
probability = 0.5

[[stages]]
name = "commit"
probability = 1

[deal]
open_stage = "proposal"
"""
)
"""Two stages weighted 50 % and 100 %: the weighted pipeline example of DOMAIN.md."""


def at(days: float) -> str:
    return (START + timedelta(days=days)).isoformat()


def eur(amount: str, currency: str = "EUR") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


def opened(deal: str, rep: str = "rep-ada", day: float = 0, lead: str | None = None) -> list[Envelope]:
    """``deal`` opened for ``rep`` on ``day``: its lead (``lead-<n>``) captured and qualified."""
    lead = lead or deal.replace("deal", "lead")
    return [
        make("LeadCaptured", at=at(day), lead_id=lead, rep_id=rep),
        make("LeadQualified", at=at(day), lead_id=lead, deal_id=deal, rep_id=rep),
    ]


def priced(deal: str, amount: str, currency: str = "EUR", day: float = 1) -> Envelope:
    return make("SolutionPresented", at=at(day), deal_id=deal, proposed_amount=eur(amount, currency))


def views(events: Iterable[Envelope], process: ProcessConfig = DEFAULT) -> dict[str, DealView]:
    return pipeline.deal_views(pipeline.fold(events, process).values(), process)


# --- worked examples -----------------------------------------------------------------------------


def weighted_example_rows() -> list[PipelineRow]:
    """docs/kpis.md's weighted pipeline example, by stage (also `test_issue12_numbers`: as answered)."""
    deals = views(weighted_example_history(), FORECAST).values()
    return pipeline.pipeline_summary(deals, org_fold.OrgState(), FORECAST, START, "stage", timedelta(30))


def weighted_example_history() -> list[Envelope]:
    return [
        *opened("deal-1", "rep-a"),
        priced("deal-1", "100000"),
        *opened("deal-2", "rep-b"),
        priced("deal-2", "100000"),
        *opened("deal-3", "rep-c"),
        priced("deal-3", "100000"),
        make(
            "DealStageChanged",
            at=at(2),
            deal_id="deal-3",
            rep_id="rep-c",
            from_stage="proposal",
            to_stage="commit",
        ),
    ]


def test_weighted_pipeline_of_three_100k_deals_at_50_50_and_100_percent() -> None:
    deals = views(weighted_example_history(), FORECAST).values()
    by_rep = pipeline.pipeline_summary(deals, org_fold.OrgState(), FORECAST, START, "rep", timedelta(days=30))
    assert [(r.group, r.weighted_value) for r in by_rep] == [
        ("rep-a", Decimal("50000")),
        ("rep-b", Decimal("50000")),
        ("rep-c", Decimal("100000")),
    ]
    by_stage = pipeline.pipeline_summary(deals, org_fold.OrgState(), FORECAST, START, "stage", timedelta(30))
    assert [(r.group, r.count, r.value, r.weighted_value) for r in by_stage] == [
        ("proposal", 2, Decimal("200000"), Decimal("100000")),
        ("commit", 1, Decimal("100000"), Decimal("100000")),
    ]


def test_sample_deal_moves_by_facts_and_one_explicit_move_then_leaves_the_pipeline_when_won() -> None:
    samples = [e for e in all_samples() if e.partition_key in {"lead-001", "deal-001"}]
    before_win = [e for e in samples if getattr(e, "type") != "DealWon"]  # noqa: B009
    deal = views(before_win)["deal-001"]
    assert (deal.stage, deal.rep_id, deal.lead_source, str(deal.expected_amount)) == (
        "closing",
        "rep-ada",
        "referral",
        "112500.00 EUR",  # the proposal replaced the pitched 120000.00
    )
    assert deal.opened_at == datetime.fromisoformat("2026-10-05T16:00:00+02:00")
    assert deal.stage_entered_at == datetime.fromisoformat("2026-10-22T09:05:00+02:00")
    won = views(samples)["deal-001"]
    assert (won.status, str(won.won_amount)) == ("won", "112500.00 EUR")
    as_of = datetime(2026, 12, 1, tzinfo=UTC)
    assert pipeline.pipeline_summary([won], org_fold.OrgState(), DEFAULT, as_of, "stage", timedelta(1)) == []


def test_no_deals_no_rows() -> None:
    assert pipeline.pipeline_summary([], org_fold.OrgState(), DEFAULT, START, "team", timedelta(1)) == []
    assert pipeline.stuck_deals([], START, timedelta(1)) == []


def test_stuck_deals_are_measured_from_event_times_as_of_the_given_instant() -> None:
    history = [
        *opened("deal-1", day=0),
        make("NeedsAssessed", at=at(1), deal_id="deal-1"),  # needs_assessed since day 1
        *opened("deal-2", day=0),
        make("NeedsAssessed", at=at(1), deal_id="deal-2"),
        make("SolutionPresented", at=at(12), deal_id="deal-2", proposed_amount=eur("5000")),
        *opened("deal-3", day=2),  # never moved: in qualified since its qualification
    ]
    deals = views(history).values()
    as_of = START + timedelta(days=16)
    assert pipeline.stuck_deals(deals, as_of, stuck_after=timedelta(days=14)) == [
        StuckDeal("deal-1", "rep-ada", "needs_assessed", START + timedelta(days=1), timedelta(days=15)),
    ]
    assert [s.deal_id for s in pipeline.stuck_deals(deals, as_of, timedelta(days=3))] == [
        "deal-1",
        "deal-3",
        "deal-2",
    ]
    exactly = pipeline.stuck_deals(deals, START + timedelta(days=15), timedelta(days=14))
    assert exactly == []  # stuck is *longer* than the threshold; exactly 14 days is not yet
    rows = pipeline.pipeline_summary(deals, org_fold.OrgState(), DEFAULT, as_of, "stage", timedelta(14))
    assert [(r.group, r.currency, r.count, r.average_time_in_stage, r.stuck) for r in rows] == [
        ("qualified", None, 1, timedelta(days=14), 0),
        ("needs_assessed", None, 1, timedelta(days=15), 1),
        ("solution_presented", "EUR", 1, timedelta(days=4), 0),
    ]


def test_deal_is_attributed_to_the_team_its_owner_is_in_as_of_the_query_date() -> None:
    org = org_fold.fold(
        [
            make("RepOnboarded", rep_id="rep-ada", team_id="team-emea-mm", started_on="2026-01-05"),
            make(
                "RepMovedTeam",
                rep_id="rep-ada",
                from_team_id="team-emea-mm",
                to_team_id="team-emea-ent",
                effective_from="2026-07-01",
            ),
            make(
                "TerritoryAssigned", territory_id="terr-dach", rep_id="rep-ada", effective_from="2026-01-05"
            ),
            make("TerritoryAssigned", territory_id="terr-uk", rep_id="rep-ada", effective_from="2026-07-01"),
        ]
    )
    deal = DealView("deal-1", "qualified", "rep-ada", opened_at=START, stage_entered_at=START)

    def groups(as_of: datetime, group_by: pipeline.GroupBy) -> list[str | None]:
        rows = pipeline.pipeline_summary([deal], org, DEFAULT, as_of, group_by, timedelta(days=365))
        return [row.group for row in rows]

    june, july = datetime(2026, 6, 30, 12, tzinfo=UTC), datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert (groups(june, "team"), groups(july, "team")) == (["team-emea-mm"], ["team-emea-ent"])
    assert groups(june, "territory") == ["terr-dach"]
    assert groups(july, "territory") == ["terr-dach", "terr-uk"]  # one deal in both rows
    assert groups(datetime(2026, 1, 4, tzinfo=UTC), "team") == [None]  # before ada started


def test_amounts_in_different_currencies_are_never_added() -> None:
    history = [
        *opened("deal-1"),
        priced("deal-1", "1000", "EUR"),
        *opened("deal-2"),
        priced("deal-2", "3000", "USD"),
        *opened("deal-3"),
        priced("deal-3", "500", "EUR"),
        *opened("deal-4"),  # no amount yet
    ]
    rows = pipeline.pipeline_summary(
        views(history).values(), org_fold.OrgState(), DEFAULT, START + timedelta(days=3), "rep", timedelta(9)
    )
    assert [(r.group, r.currency, r.count, r.value, r.weighted_value) for r in rows] == [
        ("rep-ada", "EUR", 2, Decimal("1500"), Decimal("600.00")),  # solution_presented: 40 %
        ("rep-ada", "USD", 1, Decimal("3000"), Decimal("1200.00")),
        ("rep-ada", None, 1, Decimal("0"), Decimal("0")),
    ]


def test_reopened_deal_is_back_in_the_pipeline_without_its_outcome() -> None:
    history = [
        *opened("deal-1"),
        priced("deal-1", "800", day=0),  # no needs assessed: the write model would refuse, the fold folds
        make("DealLost", at=at(2), deal_id="deal-1"),
        make(
            "DealStageChanged",
            at=at(5),
            deal_id="deal-1",
            rep_id="rep-sam",
            from_stage="lost",
            to_stage="closing",
        ),
    ]
    deal = views(history)["deal-1"]
    assert (deal.status, deal.stage, deal.rep_id, deal.closed_at) == ("open", "closing", "rep-sam", None)
    assert deal.stage_entered_at == START + timedelta(days=5)


def test_deal_events_before_their_lead_part_arrives_still_show_the_deal() -> None:
    deal_only = [make("NeedsAssessed", at=at(1), deal_id="deal-1"), priced("deal-1", "900", day=2)]
    deal = views(deal_only)["deal-1"]
    assert (deal.stage, deal.rep_id, deal.opened_at) == ("solution_presented", None, None)
    assert deal.stage_entered_at == START + timedelta(days=2)
    unmoved = views([make("ObjectionRaised", deal_id="deal-2")])["deal-2"]
    assert (unmoved.stage, unmoved.stage_entered_at) == ("qualified", None)  # entry time unknown: never stuck
    assert pipeline.stuck_deals([unmoved], START, timedelta(0)) == []


def test_as_of_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone"):
        pipeline.stuck_deals([], datetime(2026, 10, 1), timedelta(1))


def test_rows_are_plain_values() -> None:
    row = PipelineRow("qualified", "EUR", 1, Decimal(1), Decimal("0.1"), None, 0)
    assert row == PipelineRow("qualified", "EUR", 1, Decimal(1), Decimal("0.1"), None, 0)


# --- helpers for properties ---------------------------------------------------------------------


def interleave(streams: Iterable[list[E]], rng: random.Random) -> list[E]:
    """One random order of all events that keeps each stream's own order."""
    queues = [list(stream) for stream in streams if stream]
    merged: list[E] = []
    while queues:
        index = rng.randrange(len(queues))
        merged.append(queues[index].pop(0))
        if not queues[index]:
            del queues[index]
    return merged


def routed_by_key(
    events: Iterable[Envelope], key_of: Callable[[Envelope], str | None], partitions: int, salt: int
) -> list[tuple[Envelope, int]]:
    """Each event with its source partition: a key's events all go to one partition."""
    return [
        (event, zlib.crc32(f"{salt}|{key}".encode()) % partitions)
        for event in events
        if (key := key_of(event)) is not None
    ]


REPS = ("rep-ada", "rep-sam")
PROPOSALS = (
    *("progress",) * 10,
    "capture",
    "qualify",
    "disqualify",
    "NeedsAssessed",
    "SolutionPresented",
    "ProposalSent",
    "ObjectionRaised",
    "ObjectionResolved",
    "forward",
    "move",
    "move",
    "won",
    "lost",
)


def _propose(draw: st.DrawFn, ledger: Ledger, pair: int, when: datetime) -> Envelope:
    """A plausible next event for lead-<pair> / deal-<pair>; the ledger decides if it is accepted."""
    kind, rep = draw(st.sampled_from(PROPOSALS)), draw(st.sampled_from(REPS))
    lead, deal, time = f"lead-{pair}", f"deal-{pair}", when.isoformat()
    if kind == "progress":
        kind = _progress(ledger, lead, deal)
    amount = eur(str(draw(st.integers(1, 9)) * 1000), draw(st.sampled_from(["EUR", "USD"])))
    if kind == "capture":
        return make("LeadCaptured", at=time, lead_id=lead, rep_id=rep)
    if kind == "qualify":
        return make("LeadQualified", at=time, lead_id=lead, deal_id=deal, rep_id=rep)
    if kind == "disqualify":
        return make("LeadDisqualified", at=time, lead_id=lead, rep_id=rep)
    if kind in {"won", "lost"}:
        splits = [{"rep_id": rep, "share_percent": "100"}]
        if kind == "won":
            return make("DealWon", at=time, deal_id=deal, rep_id=rep, amount=amount, credit_splits=splits)
        return make("DealLost", at=time, deal_id=deal, rep_id=rep)
    if kind in {"forward", "move"}:
        state = ledger.states.get(("deal", deal))
        current = DealState.from_dict(state).stage if state else None
        names = ledger.process.stage_names
        targets = [s for s in names if s != current]
        position = ledger.process.position(current) if current else None
        forward = names[position + 1] if position is not None and position + 1 < len(names) else None
        to_stage = forward if kind == "forward" and forward else draw(st.sampled_from(targets))
        return make(
            "DealStageChanged", at=time, deal_id=deal, rep_id=rep, from_stage=current, to_stage=to_stage
        )
    fields: dict[str, Any] = {"deal_id": deal, "rep_id": rep}
    fields |= {"SolutionPresented": {"proposed_amount": amount}, "ProposalSent": {"amount": amount}}.get(
        kind, {}
    )
    if kind.startswith("Objection"):
        fields["objection_id"] = f"obj-{pair}-{draw(st.integers(0, 1))}"
    return make(kind, at=time, **fields)


def _progress(ledger: Ledger, lead: str, deal: str) -> str:
    """The next step of the sales process for this lead or deal, so histories get deep."""
    if ("lead", lead) not in ledger.states:
        return "capture"
    if ("deal", deal) not in ledger.states:
        return "qualify"
    state = ledger.deal(deal)
    won_from = ledger.process.deal.won_from
    for done, fact in (
        (state.needs_assessed, "NeedsAssessed"),
        (state.solution_presented, "SolutionPresented"),
    ):
        if not done:
            return fact
    if not state.proposal_sent:
        return "ProposalSent"
    if not state.is_open:
        return "move"  # a reopening, where the process allows one
    return "won" if won_from == "any" or state.stage in won_from else "forward"


@st.composite
def accepted_histories(draw: st.DrawFn, process: ProcessConfig) -> tuple[list[list[Envelope]], Ledger]:
    """Streams of events the write model accepted (one per aggregate, in acceptance order), and
    the ledger that accepted them; times only grow, by random steps."""
    ledger, streams = Ledger(process), dict[str, list[Envelope]]()
    when = START
    for _ in range(draw(st.integers(0, 40))):
        event = _propose(draw, ledger, draw(st.integers(0, 2)), when)
        try:
            ledger.publish(event)
        except RuleViolation:
            continue
        streams.setdefault(event.partition_key, []).append(event)
        when += timedelta(hours=draw(st.integers(0, 240)))
    return list(streams.values()), ledger


PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROCESSES = st.sampled_from([DEFAULT, FOUR_STEP])


@st.composite
def process_and_history(draw: st.DrawFn) -> tuple[ProcessConfig, list[list[Envelope]], Ledger]:
    process = draw(PROCESSES)
    streams, ledger = draw(accepted_histories(process))
    return process, streams, ledger


# --- properties ---------------------------------------------------------------------------------


@PROPERTY
@given(process_and_history(), st.randoms(use_true_random=False))
def test_deal_view_agrees_with_the_write_model_on_stage_owner_and_amounts(
    case: tuple[ProcessConfig, list[list[Envelope]], Ledger], rng: random.Random
) -> None:
    process, streams, ledger = case
    seen = views(interleave(streams, rng), process)
    for (kind, deal_id), stored in ledger.states.items():
        if kind != "deal":
            continue
        state, view = DealState.from_dict(stored), seen[deal_id]
        assert (view.stage, view.rep_id, view.lead_id) == (state.stage, state.rep_id, state.lead_id)
        assert (view.expected_amount, view.won_amount, view.closed_at) == (
            state.expected_amount,
            state.won_amount,
            state.closed_at,
        )


@PROPERTY
@given(process_and_history(), st.randoms(use_true_random=False), st.integers(1, 4), st.integers(0, 99))
def test_order_of_independent_events_partitions_and_redelivery_change_nothing(
    case: tuple[ProcessConfig, list[list[Envelope]], Ledger], rng: random.Random, partitions: int, salt: int
) -> None:
    process, streams, _ = case
    whole = pipeline.fold(interleave(streams, random.Random(0)), process)
    assert pipeline.fold(interleave(streams, rng), process) == whole
    model = next(m for m in read_models(process, "UTC") if m.name == "pipeline")
    routed = routed_by_key(interleave(streams, rng), pipeline.key_of, partitions, salt)
    partials = delivered_twice(routed, model)  # the projector's own code, every event delivered twice
    assert dict(partials) == whole
    assert len({key for key, _ in partials}) == len(partials)  # each part is fed by one partition
    as_of = START + timedelta(days=60)
    summaries = [
        pipeline.pipeline_summary(
            pipeline.deal_views(parts, process).values(),
            org_fold.OrgState(),
            process,
            as_of,
            "stage",
            timedelta(days=7),
        )
        for parts in (whole.values(), [state for _, state in partials])
    ]
    assert summaries[0] == summaries[1]


@PROPERTY
@given(process_and_history())
def test_parts_survive_json_storage(case: tuple[ProcessConfig, list[list[Envelope]], Ledger]) -> None:
    process, streams, _ = case
    for part in pipeline.fold([e for stream in streams for e in stream], process).values():
        assert pipeline.part_from_dict(json.loads(json.dumps(part.to_dict()))) == part
