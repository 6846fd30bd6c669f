"""Funnel fold: worked examples (25 % conversion, the docs/kpis.md example), skips, regressions,
losses, reopenings and double wins; order, partitioning and redelivery change nothing."""

from __future__ import annotations

import json
import random
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from events.envelope import Envelope
from projections import funnel
from projections.funnel import FunnelCounts, FunnelReport, FunnelRow
from sales import ProcessConfig
from services.projector.readmodels import read_models
from tests.delivery import per_partition
from tests.unit.test_pipeline import (
    FOUR_STEP,
    PROPERTY,
    at,
    eur,
    interleave,
    opened,
    process_and_history,
    routed_by_key,
)
from tests.unit.test_process_story import DEFAULT, Ledger, make


def report(events: list[Envelope], process: ProcessConfig = DEFAULT) -> FunnelReport:
    tracks = funnel.fold(events, process).values()
    return funnel.funnel_report(funnel.total(tracks, process), process)


def row(result: FunnelReport, stage: str) -> FunnelRow:
    return next(r for r in result.rows if r.stage == stage)


def move(deal: str, from_stage: str, to_stage: str, day: float = 3) -> Envelope:
    return make("DealStageChanged", at=at(day), deal_id=deal, from_stage=from_stage, to_stage=to_stage)


def pitched(deal: str, day: float = 2) -> list[Envelope]:
    """Needs assessed on ``day``, a solution presented the day after: ``solution_presented``."""
    return [
        make("NeedsAssessed", at=at(day), deal_id=deal),
        make("SolutionPresented", at=at(day + 1), deal_id=deal, proposed_amount=eur("50000")),
    ]


def won(deal: str, day: float = 9) -> Envelope:
    return make("DealWon", at=at(day), deal_id=deal)


def lost(deal: str, day: float = 9) -> Envelope:
    return make("DealLost", at=at(day), deal_id=deal)


def test_conversion_of_50_qualified_out_of_200_leads_is_25_percent() -> None:
    captured = [make("LeadCaptured", lead_id=f"lead-{n}") for n in range(200)]
    qualified = [make("LeadQualified", lead_id=f"lead-{n}", deal_id=f"deal-{n}") for n in range(50)]
    result = report(captured + qualified)
    assert (result.leads, result.qualified, result.lead_to_qualified) == (200, 50, Decimal("0.25"))
    assert (row(result, "qualified").entered, row(result, "qualified").from_leads) == (50, Decimal("0.25"))


def worked_example_history() -> list[Envelope]:
    """docs/kpis.md, "Pipeline and funnel": four leads, one won past a skipped optional stage, one
    lost after falling back (also `test_issue12_numbers`: the table as answered)."""
    return [
        *opened("deal-1"),
        *opened("deal-2"),
        make("LeadCaptured", lead_id="lead-3"),
        make("LeadDisqualified", lead_id="lead-3"),
        make("LeadCaptured", lead_id="lead-4"),
        *pitched("deal-1"),
        move("deal-1", "solution_presented", "closing"),  # passes over the optional objection handling
        won("deal-1"),
        *pitched("deal-2"),
        move("deal-2", "solution_presented", "needs_assessed"),  # requirements changed: one step back
        lost("deal-2"),
    ]


def test_worked_example_of_docs_kpis() -> None:
    """docs/kpis.md, "Pipeline and funnel": four leads, one won past a skipped optional stage, one
    lost after falling back."""
    half, quarter = Decimal("0.5"), Decimal("0.25")
    assert report(worked_example_history()) == FunnelReport(
        leads=4,
        qualified=2,
        disqualified=1,
        won=1,
        lost=1,
        reopened=0,
        lead_to_qualified=half,
        lead_to_won=quarter,
        rows=(
            FunnelRow("prospecting", 0, 0, 0, 0, 0, conversion=None, from_leads=Decimal(0)),
            FunnelRow("qualified", 2, 2, 0, 0, 0, conversion=Decimal(1), from_leads=half),
            FunnelRow("needs_assessed", 2, 2, 0, 0, 1, conversion=Decimal(1), from_leads=half),
            FunnelRow("solution_presented", 2, 1, 0, 1, 0, conversion=half, from_leads=half),
            FunnelRow("objection_handling", 0, 0, 1, 0, 0, conversion=None, from_leads=Decimal(0)),
            FunnelRow("closing", 1, 1, 0, 0, 0, conversion=Decimal(1), from_leads=quarter),
        ),
    )


def test_deal_won_before_the_last_stage_skips_the_stages_after_it() -> None:
    history = [
        *opened("deal-1"),  # four-step: opens in discovery
        make("SolutionPresented", deal_id="deal-1", at=at(1)),  # reaches demo
        make("ProposalSent", deal_id="deal-1", at=at(2)),  # reaches proposal
        won("deal-1"),  # won from proposal, never in negotiation
    ]
    result = report(history, FOUR_STEP)
    assert [(r.stage, r.entered, r.advanced, r.skipped) for r in result.rows] == [
        ("discovery", 1, 1, 0),
        ("demo", 1, 1, 0),
        ("proposal", 1, 1, 0),
        ("negotiation", 0, 0, 1),
    ]
    assert (result.won, result.lead_to_won) == (1, Decimal(1))


def test_lost_deal_counts_where_it_was_lost_until_reopened_then_a_win_is_not_also_a_loss() -> None:
    history = [*opened("deal-1"), make("NeedsAssessed", deal_id="deal-1", at=at(1)), lost("deal-1", day=2)]
    before = report(history)
    assert (before.lost, row(before, "needs_assessed").lost, before.reopened) == (1, 1, 0)
    history += [
        move("deal-1", "lost", "needs_assessed", day=30),  # reopened within 180 days
        make("SolutionPresented", deal_id="deal-1", at=at(31)),
        move("deal-1", "solution_presented", "closing", day=32),
        won("deal-1", day=40),
    ]
    after = report(history)
    assert (after.won, after.lost, after.reopened, row(after, "needs_assessed").lost) == (1, 0, 1, 0)
    assert row(after, "needs_assessed").entered == 1  # re-entering after the reopening is the same deal


def test_deal_won_reopened_and_won_again_is_one_win() -> None:
    history = [
        *opened("deal-1"),
        make("ProposalSent", deal_id="deal-1", at=at(1)),
        won("deal-1", day=2),
        move("deal-1", "won", "negotiation", day=5),  # four-step reopens won deals
        won("deal-1", day=9),
    ]
    result = report(history, FOUR_STEP)
    assert (result.won, result.reopened, result.lead_to_won) == (1, 1, Decimal(1))
    assert [(r.stage, r.entered, r.advanced) for r in result.rows][2:] == [
        ("proposal", 1, 1),
        ("negotiation", 1, 1),
    ]


def test_deal_bouncing_back_and_forth_is_one_deal_per_stage() -> None:
    history = [
        *opened("deal-1"),
        make("NeedsAssessed", deal_id="deal-1", at=at(1)),
        move("deal-1", "needs_assessed", "qualified", day=2),
        move("deal-1", "qualified", "needs_assessed", day=3),
        move("deal-1", "needs_assessed", "qualified", day=4),
    ]
    result = report(history)
    assert [(r.entered, r.advanced, r.regressed) for r in result.rows[1:3]] == [(1, 1, 0), (1, 0, 1)]


def test_requalified_lead_is_no_longer_counted_as_disqualified() -> None:
    history = [
        make("LeadCaptured", lead_id="lead-1"),
        make("LeadDisqualified", lead_id="lead-1"),
        make("LeadQualified", lead_id="lead-1", deal_id="deal-1"),
    ]
    result = report(history, FOUR_STEP)
    assert (result.leads, result.qualified, result.disqualified) == (1, 1, 0)


def test_no_leads_no_ratios() -> None:
    result = funnel.funnel_report(FunnelCounts(), DEFAULT)
    assert (result.leads, result.lead_to_qualified, result.lead_to_won) == (0, None, None)
    assert {(r.conversion, r.from_leads) for r in result.rows} == {(None, None)}


def test_stages_the_process_no_longer_has_are_reported_after_its_own() -> None:
    counts = FunnelCounts(entered={"demo": 2, "qualified": 1})
    assert [r.stage for r in funnel.funnel_report(counts, DEFAULT).rows][-2:] == ["closing", "demo"]


# --- properties ---------------------------------------------------------------------------------


@PROPERTY
@given(process_and_history(), st.randoms(use_true_random=False), st.integers(1, 4), st.integers(0, 99))
def test_order_of_independent_events_partitions_and_redelivery_change_nothing(
    case: tuple[ProcessConfig, list[list[Envelope]], Ledger], rng: random.Random, partitions: int, salt: int
) -> None:
    process, streams, _ = case
    whole = funnel.total(funnel.fold(interleave(streams, random.Random(0)), process).values(), process)
    model = next(m for m in read_models(process, "UTC") if m.name == "funnel")
    routed = routed_by_key(interleave(streams, rng), funnel.key_of, partitions, salt)
    partials = per_partition(routed, model)  # the projector's own code, every event delivered twice
    totals = [funnel.total([state for _, state in partials.get(p, [])], process) for p in range(partitions)]
    merged = FunnelCounts()
    for counts in rng.sample(totals, len(totals)):
        merged = merged.merge(counts)
    assert merged == whole
    assert FunnelCounts.from_dict(json.loads(json.dumps(whole.to_dict()))) == whole


@PROPERTY
@given(process_and_history())
def test_counts_are_consistent_for_any_accepted_history(
    case: tuple[ProcessConfig, list[list[Envelope]], Ledger],
) -> None:
    process, streams, ledger = case
    tracks = funnel.fold([e for stream in streams for e in stream], process)
    counts = funnel.total(tracks.values(), process)
    deals = [state for (kind, _), state in ledger.states.items() if kind == "deal"]
    assert counts.qualified == len(deals) <= counts.leads
    assert counts.won == sum(state["stage"] == "won" for state in deals)
    assert counts.lost == sum(state["stage"] == "lost" for state in deals) == sum(counts.lost_in.values())
    for stage, advanced in counts.advanced.items():
        assert advanced <= counts.entered.get(stage, 0)
    for track in tracks.values():
        assert funnel.track_from_dict(json.loads(json.dumps(track.to_dict()))) == track
