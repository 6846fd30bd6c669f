"""The simulator: a seeded, byte-identical, valid and plausible history of a sales organisation."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from statistics import mean
from typing import Any

import pytest

from events import EVENT_TYPES, parse_event
from sales.process import load_process
from services.settings import Settings
from services.simulator import SimConfig, WeakSpot, simulate, simulate_envelopes
from services.writemodel.application import WriteModel
from services.writemodel.environment import write_model_env
from services.writemodel.outcomes import Outcome

START = date(2026, 1, 5)
MEAN_DEAL = 25_000
NOT_SIMULATED = {"PayoutApproved", "CommissionAdjusted"}
"""Payouts are the commission engine's output (approved from statements), and adjustments a
person's correction of that output: neither is an input to invent."""


@cache
def history(seed: int = 7, reps: int = 20, leads: int = 300, weeks: int = 52) -> tuple[str, ...]:
    """The history as the JSON text of each event (cached: several tests read the same one)."""
    return tuple(json.dumps(doc) for doc in simulate(seed, reps, leads, START, weeks=weeks))


def documents(**kwargs: int) -> list[dict[str, Any]]:
    return [json.loads(text) for text in history(**kwargs)]


def of_type(docs: list[dict[str, Any]], type_name: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["type"] == type_name]


# --- determinism ---------------------------------------------------------------------------------


def test_the_same_seed_gives_a_byte_identical_history() -> None:
    again = [json.dumps(doc) for doc in simulate(7, 20, 300, START)]
    assert list(history()) == again


def test_another_seed_gives_another_history() -> None:
    other = [json.dumps(doc) for doc in simulate(8, 20, 300, START)]
    assert other != list(history())
    assert other[0] != history()[0]  # even the ids differ: they carry the seed


def test_ids_are_unique_and_derived_from_the_seed_and_a_counter() -> None:
    ids = [doc["id"] for doc in documents()]
    assert len(set(ids)) == len(ids)
    assert all(event_id.startswith("sim-7-") for event_id in ids)
    assert ids[0] == "sim-7-org-1"


# --- shape ---------------------------------------------------------------------------------------


def test_every_event_passes_the_gate_and_the_envelope_helper_agrees() -> None:
    parsed = [parse_event(text) for text in history()]
    assert [e.model_dump() for e in simulate_envelopes(7, 20, 300, START)] == [e.model_dump() for e in parsed]
    assert all(doc["source"].startswith("/sim/") for doc in documents())


def test_events_come_in_time_order_within_the_history_window() -> None:
    times = [datetime.fromisoformat(doc["time"]) for doc in documents()]
    assert times == sorted(times)
    assert times[0].date() == START
    assert times[-1] < SimConfig(7, 20, 300, START).until


def test_work_happens_on_business_days() -> None:
    assert {datetime.fromisoformat(doc["time"]).weekday() for doc in documents()} <= {0, 1, 2, 3, 4}


def test_a_larger_history_uses_every_event_type_but_payouts_and_adjustments() -> None:
    types = {doc["type"] for doc in documents(seed=3, reps=40, leads=1500, weeks=78)}
    assert types == set(EVENT_TYPES) - NOT_SIMULATED


def test_an_empty_funnel_still_has_an_organisation() -> None:
    types = Counter(doc["type"] for doc in simulate(1, 3, 0, START, weeks=4))
    assert types["RepOnboarded"] == 5  # the head of sales, one team manager and three sellers
    assert types["LeadCaptured"] == 0


def test_invalid_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="reps >= 1"):
        next(simulate(1, 0, 10, START))


# --- validity ------------------------------------------------------------------------------------


def test_the_default_process_accepts_every_event_of_a_moderate_history(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    model = WriteModel(load_process(None), write_model_env(settings))
    events = list(simulate_envelopes(7, 20, 300, START))
    refused = []
    for first in range(0, len(events), 250):
        batch = events[first : first + 250]
        results = model.record(batch)
        refused += [
            (r, e.id) for r, e in zip(results, batch, strict=True) if r.outcome is not Outcome.ACCEPTED
        ]
    assert refused == []
    assert model.last_seq() > 0 and len(model.read_after(0, len(events) + 1)) == len(events)


def test_reps_act_only_between_their_onboarding_and_their_last_day() -> None:
    docs = documents(seed=3, reps=40, leads=1500, weeks=78)
    started: dict[str, datetime] = {}
    last_day = {doc["data"]["rep_id"]: doc["data"]["last_day"] for doc in of_type(docs, "RepLeft")}
    assert last_day, "this history has reps leaving"
    for doc in docs:
        if doc["type"] == "RepOnboarded":
            started[doc["data"]["rep_id"]] = datetime.fromisoformat(doc["time"])
        elif "rep_id" in doc["data"] and doc["source"] not in ("/sim/hr", "/sim/spm", "/sim/lms"):
            rep, at = doc["data"]["rep_id"], datetime.fromisoformat(doc["time"])
            assert rep in started and started[rep] <= at, doc
            assert rep not in last_day or at.date().isoformat() <= last_day[rep], doc


# --- plausibility --------------------------------------------------------------------------------


def test_conversion_and_win_rates_are_plausible() -> None:
    docs = documents(seed=11, reps=40, leads=2000, weeks=78)
    types = Counter(doc["type"] for doc in docs)
    assert 0.18 <= types["LeadQualified"] / types["LeadCaptured"] <= 0.35
    assert 0.40 <= types["LeadDisqualified"] / types["LeadCaptured"] <= 0.70
    assert 0.15 <= types["DealWon"] / (types["DealWon"] + types["DealLost"]) <= 0.35
    sources = Counter(doc["data"]["source"] for doc in of_type(docs, "LeadCaptured"))
    assert len(sources) == 6 and sources.most_common(1)[0][0] == "inbound"


def test_referrals_qualify_far_more_often_than_cold_calls() -> None:
    docs = documents(seed=11, reps=40, leads=2000, weeks=78)
    source = {doc["data"]["lead_id"]: doc["data"]["source"] for doc in of_type(docs, "LeadCaptured")}
    captured = Counter(source.values())
    qualified = Counter(source[doc["data"]["lead_id"]] for doc in of_type(docs, "LeadQualified"))
    assert qualified["referral"] / captured["referral"] > 2 * qualified["cold_call"] / captured["cold_call"]


def test_deal_sizes_and_cycles_are_plausible() -> None:
    docs = documents(seed=11, reps=40, leads=2000, weeks=78)
    opened = {
        doc["data"]["deal_id"]: datetime.fromisoformat(doc["time"]) for doc in of_type(docs, "LeadQualified")
    }
    wins = of_type(docs, "DealWon")
    amounts = [Decimal(win["data"]["amount"]["amount"]) for win in wins]
    assert MEAN_DEAL / 2 <= mean(amounts) <= MEAN_DEAL * 2
    assert max(amounts) > 3 * sorted(amounts)[len(amounts) // 2]  # log-normal: a long tail of big deals
    cycle = [(datetime.fromisoformat(w["time"]) - opened[w["data"]["deal_id"]]).days for w in wins]
    assert 21 <= mean(cycle) <= 120 and min(cycle) >= 7


def test_credit_splits_total_100_and_some_deals_are_shared() -> None:
    splits = [doc["data"]["credit_splits"] for doc in of_type(documents(), "DealWon")]
    assert all(sum(Decimal(s["share_percent"]) for s in split) == 100 for split in splits)
    shared = sum(1 for split in splits if len(split) == 2)
    assert 0 < shared < len(splits)


def test_customers_renew_expand_and_some_churn() -> None:
    types = Counter(doc["type"] for doc in documents(seed=3, reps=40, leads=1500, weeks=78))
    assert types["CustomerRenewed"] > types["CustomerChurned"] > 0
    assert types["FollowUpDone"] >= types["DealWon"]


def test_a_weak_spot_changes_only_the_stories_of_the_weak_reps_deals_and_adds_their_coaching() -> None:
    spot = WeakSpot("rep-005", "needs_assessed", 0.2, date(2026, 7, 1), "needs_assessment")
    plain = list(simulate(21, reps=24, leads=400, start=START, weeks=30))
    seeded = list(simulate(21, reps=24, leads=400, start=START, weeks=30, weak_spot=spot))

    def content(document: dict[str, Any]) -> str:
        return json.dumps({k: v for k, v in document.items() if k != "id"}, sort_keys=True)

    before = {content(d) for d in plain}
    added = [d for d in seeded if content(d) not in before]
    assert {d["data"].get("rep_id") for d in added} == {"rep-005"}
    assert {d["type"] for d in added} == {"DealLost", "CoachingSessionHeld"}
    assert [d["time"][:10] for d in added if d["type"] == "CoachingSessionHeld"] == ["2026-07-01"]
    assert all(d["time"] < "2026-07-01" or d["type"] == "CoachingSessionHeld" for d in added)
