"""Rep activity fold: worked examples, idempotence, and partials that merge to the whole."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from events import parse_event
from events.envelope import Envelope
from projections import kpi_fold, rep_activity
from projections.rep_activity import RepActivity
from sales.process import load_process
from services.projector.partition import PartitionProjection
from services.projector.readmodels import read_models
from services.projector.store import MemoryStore
from services.queries import handlers
from services.simulator import simulate_envelopes
from services.web.routes import Call
from tests.delivery import delivered_twice
from tests.samples import call_logged, encode, lead_captured
from tests.unit.test_query_handlers import PROCESS, TZ, FoldedReadSide

REP_ACTIVITY = next(m for m in read_models(load_process(None), "UTC") if m.name == "rep-activity")


def event(document: dict[str, object]) -> Envelope:
    return parse_event(encode(document))


def test_calls_talk_time_and_leads_are_counted_per_rep() -> None:
    history = [
        event(lead_captured("e1", rep_id="rep-ada")),
        event(call_logged("e2", rep_id="rep-ada", outcome="connected", duration_seconds=300)),
        event(call_logged("e3", rep_id="rep-ada", outcome="voicemail", duration_seconds=0)),
        event(call_logged("e4", rep_id="rep-grace", outcome="connected", duration_seconds=120)),
    ]
    assert rep_activity.fold(history) == {
        "rep-ada": RepActivity(calls=2, connected_calls=1, talk_seconds=300, leads_captured=1),
        "rep-grace": RepActivity(calls=1, connected_calls=1, talk_seconds=120, leads_captured=0),
    }


def test_event_redelivered_at_an_applied_offset_changes_nothing() -> None:
    call = event(call_logged())
    projection = PartitionProjection(0, [REP_ACTIVITY], MemoryStore())
    projection.fold(7, call)
    projection.fold(7, call)
    projection.fold(3, call)
    ((key, stored),) = projection.partials("rep-activity")
    assert REP_ACTIVITY.decode(key, stored).state.calls == 1
    assert projection.take_outcomes() == Counter(
        {("rep-activity", "applied"): 1, ("rep-activity", "duplicate"): 2}
    )


calls = st.builds(
    lambda i, rep, outcome, secs: event(
        call_logged(f"e{i}", rep_id=rep, outcome=outcome, duration_seconds=secs)
    ),
    st.integers(0, 10_000),
    st.sampled_from(["rep-a", "rep-b", "rep-c"]),
    st.sampled_from(["connected", "voicemail", "busy"]),
    st.integers(0, 3600),
)


@given(st.lists(st.tuples(calls, st.integers(0, 3)), max_size=40))
def test_partials_per_partition_merge_to_the_fold_of_the_whole_history(
    routed: list[tuple[Envelope, int]],
) -> None:
    merged = rep_activity.merge_all(delivered_twice(routed, REP_ACTIVITY))
    assert merged == rep_activity.fold(call for call, _ in routed)


def test_issue_11_the_counts_read_from_a_kpi_book_equal_the_fold_over_a_simulated_quarter() -> None:
    history = list(simulate_envelopes(3, reps=6, leads=120, start=date(2026, 1, 5), weeks=12))
    whole = rep_activity.merge_all(rep_activity.from_book(kpi_fold.fold(history, "Europe/Berlin")))
    assert whole == {
        rep: state for rep, state in rep_activity.fold(history).items() if state != RepActivity()
    }
    assert (
        sum(state.calls for state in whole.values()) > 0 and sum(s.leads_captured for s in whole.values()) > 0
    )


def test_issue_11_rep_activity_as_of_and_known_at_over_http_handlers() -> None:
    lagged = [
        e.recorded(e.time + timedelta(days=3))
        for e in simulate_envelopes(3, reps=6, leads=120, start=date(2026, 1, 5), weeks=12)
    ]
    queries = handlers.Queries(FoldedReadSide(lagged), PROCESS, TZ)
    instant = datetime(2026, 2, 15, 23, 59, 59, tzinfo=ZoneInfo(TZ))
    happened = rep_activity.fold([e for e in lagged if e.time <= instant])
    known = rep_activity.fold([e for e in lagged if e.recordedtime is not None and e.recordedtime <= instant])

    def answer(**query: str) -> dict[str, Any]:
        reply = asyncio.run(handlers.all_reps_activity(queries, Call(query=query)))
        assert reply.status == 200
        return dict(json.loads(reply.encoded()))

    as_of, known_at = answer(as_of=instant.isoformat()), answer(known_at=instant.isoformat())
    assert (as_of["state"], known_at["state"]) == ("as_of", "known_at")
    assert as_of["reps"] == {r: s.to_dict() for r, s in sorted(happened.items()) if s != RepActivity()}
    assert known_at["reps"] == {r: s.to_dict() for r, s in sorted(known.items()) if s != RepActivity()}
    assert as_of["reps"] != known_at["reps"]
    one = asyncio.run(
        handlers.rep_activity(queries, Call(path={"rep_id": "rep-001"}, query={"known_at": "x"}))
    )
    assert one.status == 400 and json.loads(one.encoded())["message"].startswith("known_at:")
