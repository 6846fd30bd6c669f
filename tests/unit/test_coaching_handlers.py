"""The coaching endpoints called as plain functions over read models folded by the projector's own
code (two partitions, every event delivered twice): their answers equal the pure functions over
the whole history, that is what a replay computes, and keep the published schemas."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from events import parse_event, serialize_event
from projections import development, kpi_fold, org
from projections.coaching import Deals
from projections.coaching_flags import flags_of, team_checks
from projections.kpis import prepare
from services.contracts.coaching_models import Development, Flags, Review
from services.queries import coaching, handlers
from services.queries.coaching_answers import checks_body
from services.web.routes import Call, Reply
from tests.unit.test_coaching import PROCESS, TEAM, TZ, worked_example
from tests.unit.test_query_handlers import FoldedReadSide

RECORDED = datetime(2027, 1, 5, tzinfo=UTC)
HISTORY = [parse_event(serialize_event(e.recorded(RECORDED))) for e in worked_example()]
QUERIES = handlers.Queries(FoldedReadSide(HISTORY), PROCESS, TZ)


def ask(handler: Any, path: dict[str, str] | None = None, **query: str) -> Reply:
    return asyncio.run(handler(QUERIES, Call(path=path or {}, query=query)))


def body(reply: Reply) -> Any:
    return json.loads(reply.encoded())


def test_the_flags_answer_is_the_pure_checks_over_the_whole_history_as_a_replay_computes_them() -> None:
    reply = ask(coaching.coaching_flags, scope="team", id=TEAM, period="2026-11")
    assert reply.status == 200
    answered = Flags.model_validate(body(reply))
    deals = Deals.of(prepare(kpi_fold.fold(HISTORY, TZ), PROCESS))
    roles = development.roles_of(development.fold(HISTORY))
    pure = flags_of(team_checks(deals, org.fold(HISTORY), roles, PROCESS.coaching, "2026-11"))
    assert body(reply)["flags"] == json.loads(json.dumps(checks_body(pure, roles)))
    (flag,) = answered.flags
    assert (flag.rep_id, flag.kpi, flag.value, flag.sample) == (
        "rep-ada",
        "stage_conversion.needs_assessed",
        "0.2000",
        10,
    )
    assert (flag.team_median, flag.team_q1, flag.team_q3, flag.threshold) == (
        "0.8000",
        "0.7500",
        "0.8500",
        "0.6500",
    )
    assert answered.rules.ratio_margin == "0.1500" and answered.partitions_covered == 2


def test_flags_of_a_territory_nobody_holds_are_empty_and_a_rep_scope_is_a_400() -> None:
    assert (
        body(ask(coaching.coaching_flags, scope="territory", id="terr-none", period="2026-11"))["flags"] == []
    )
    refused = ask(coaching.coaching_flags, scope="rep", id="rep-ada", period="2026-11")
    assert refused.status == 400 and body(refused)["reason"] == "bad_query"


def test_a_reps_development_lists_the_session_its_before_after_and_every_check() -> None:
    reply = ask(coaching.rep_development, {"rep_id": "rep-ada"}, period="2026-12")
    answered = Development.model_validate(body(reply))
    assert (answered.role, answered.team_id, len(answered.coaching), answered.trainings) == (
        "account_executive",
        TEAM,
        1,
        [],
    )
    (effect,) = answered.effects
    assert effect.rep.before.value == "0.2000" and effect.rep.after.value == "0.8000"
    assert effect.rep.change == "0.6000" and effect.team is not None and effect.team.change == "0.0424"
    assert {check.kpi for check in answered.checks} >= {"win_rate", "sales_cycle_seconds"}
    assert not any(check.flagged for check in answered.checks)


def test_an_unknown_rep_has_an_empty_development() -> None:
    answered = body(ask(coaching.rep_development, {"rep_id": "rep-nobody"}, period="2026-12"))
    assert (answered["role"], answered["checks"], answered["effects"], answered["coaching"]) == (
        None,
        [],
        [],
        [],
    )


def test_the_review_counts_adas_flag_as_raised_in_november_and_cleared_in_december() -> None:
    november = Review.model_validate(body(ask(coaching.team_review, {"team_id": TEAM, "period": "2026-11"})))
    assert [(f.rep_id, f.kpi) for f in november.flags.raised] == [
        ("rep-ada", "stage_conversion.needs_assessed")
    ]
    assert november.flags.cleared == [] and november.previous_period == "2026-10"
    december = Review.model_validate(body(ask(coaching.team_review, {"team_id": TEAM, "period": "2026-12"})))
    assert [(f.rep_id, f.kpi) for f in december.flags.cleared] == [
        ("rep-ada", "stage_conversion.needs_assessed")
    ]
    assert [(c.rep_id, c.focus_area) for c in december.coaching] == [("rep-ada", "needs_assessment")]
    assert december.kpis["stage_conversion.needs_assessed"].value == "0.8000"


def test_the_review_in_markdown_shows_the_json_numbers_by_format_or_accept_header() -> None:
    path = {"team_id": TEAM, "period": "2026-11"}
    by_format = ask(coaching.team_review, path, format="markdown")
    by_header = asyncio.run(
        coaching.team_review(QUERIES, Call(path=path, headers={"Accept": "text/markdown"}))
    )
    assert by_format.content_type.startswith("text/markdown") and by_format.raw == by_header.raw
    text = (by_format.raw or b"").decode()
    assert text.startswith(f"# Review of {TEAM}, 2026-11")
    assert "| rep-ada | stage_conversion.needs_assessed | 0.2000 | 10 | 0.8000 | 0.7500 to 0.8500 |" in text


def test_a_bad_period_or_format_is_a_400_naming_it() -> None:
    bad = ask(coaching.team_review, {"team_id": TEAM, "period": "2026-13"})
    assert bad.status == 400 and body(bad)["message"].startswith("period")
    wrong = ask(coaching.team_review, {"team_id": TEAM, "period": "2026-11"}, format="xml")
    assert wrong.status == 400 and body(wrong)["message"].startswith("format")
    assert ask(coaching.rep_development, {"rep_id": "rep-ada"}, period="1969").status == 400


def test_coaching_answers_travel_by_event_time_and_by_recorded_time() -> None:
    """The whole history was recorded on 5 January 2027 (`RECORDED`): known on 4 January nothing of
    it was (no session, no role, no flag); as of 1 December, 10:00 UTC, the session held at 11:00
    Berlin that day had not happened yet, and the answer says which axis it used."""
    rep = {"rep_id": "rep-ada"}
    before_session = body(ask(coaching.rep_development, rep, period="2026-12", as_of="2026-12-01T09:00:00Z"))
    assert before_session["coaching"] == [] and before_session["role"] == "account_executive"
    assert (before_session["state"], before_session["as_of"]) == ("as_of", "2026-12-01T09:00:00+00:00")
    after_session = body(ask(coaching.rep_development, rep, period="2026-12", as_of="2026-12-01T11:00:00Z"))
    assert len(after_session["coaching"]) == 1

    unknown = body(ask(coaching.rep_development, rep, period="2026-12", known_at="2027-01-04T00:00:00Z"))
    assert (unknown["coaching"], unknown["role"], unknown["state"]) == ([], None, "known_at")
    known = body(ask(coaching.rep_development, rep, period="2026-12", known_at="2027-01-05T00:00:00Z"))
    assert len(known["coaching"]) == 1 and known["role"] == "account_executive"

    flags = {"scope": "team", "id": TEAM, "period": "2026-11"}
    assert body(ask(coaching.coaching_flags, **flags, known_at="2027-01-04T00:00:00Z"))["flags"] == []
    assert len(body(ask(coaching.coaching_flags, **flags, known_at="2027-01-05T00:00:00Z"))["flags"]) == 1
    review = body(
        ask(coaching.team_review, {"team_id": TEAM, "period": "2026-12"}, known_at="2027-01-04T00:00:00Z")
    )
    assert review["state"] == "known_at"
    Review.model_validate(review)


def test_a_development_stored_before_recorded_times_were_kept_reads_as_known_since_forever() -> None:
    old = [
        "2026-12-01T10:00:00+00:00",
        "coach-1",
        "coaching",
        "objection_handling",
        "mgr",
        None,
        None,
        None,
        1800,
    ]
    (record,) = development.Development.from_dict({"records": [old]}).records
    assert record.recorded is None
    kept = development.Development((record,)).travelled(None, datetime(2000, 1, 1, tzinfo=UTC))
    assert kept.records == (record,)
