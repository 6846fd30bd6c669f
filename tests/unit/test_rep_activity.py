"""Rep activity fold: worked examples, idempotence, and partials that merge to the whole."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from events import parse_event
from events.envelope import Envelope
from projections import rep_activity
from projections.positions import Positioned, apply_once
from projections.rep_activity import RepActivity
from tests.samples import call_logged, encode, lead_captured


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
    once = apply_once(Positioned(RepActivity()), 7, call, rep_activity.evolve)
    assert once is not None and once.state.calls == 1
    assert apply_once(once, 7, call, rep_activity.evolve) is None
    assert apply_once(once, 3, call, rep_activity.evolve) is None


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
    partials: dict[tuple[int, str], Positioned[RepActivity]] = {}
    for offset, (call, partition) in enumerate(routed):
        rep = rep_activity.rep_of(call)
        assert rep is not None
        current = partials.get((partition, rep), Positioned(RepActivity()))
        for _delivery in range(2):  # at-least-once: every event is delivered twice
            updated = apply_once(current, offset, call, rep_activity.evolve)
            current = updated or current
        partials[(partition, rep)] = current
    merged = rep_activity.merge_all((rep, p.state) for (_, rep), p in partials.items())
    assert merged == rep_activity.fold(call for call, _ in routed)
