"""Rep activity fold: worked examples, idempotence, and partials that merge to the whole."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from events import parse_event
from events.envelope import Envelope
from projections import rep_activity
from projections.rep_activity import RepActivity
from sales.process import load_process
from services.projector.partition import PartitionProjection
from services.projector.readmodels import read_models
from services.projector.store import MemoryStore
from tests.delivery import delivered_twice
from tests.samples import call_logged, encode, lead_captured

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
