"""Each inbound Kafka record is admitted as the gate would admit it, or becomes a dead letter with
the reason, rule and origin the dead-letter topic shows (`services.ingestor.triage`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from events import Envelope
from services.ingestor.principals import Publisher, SourceBindings
from services.ingestor.triage import DeadLetter, admit_record, refused_by_write_model
from services.refusals import Refusal
from services.writemodel.outcomes import Appended, Outcome
from tests.samples import call_logged

SHARED, OWN = "t.inbound", "t.inbound.dialer"
BINDINGS = SourceBindings({OWN: Publisher("dialer", ("/dialer/*",))})
MAX_BYTES = 65_536


@dataclass(frozen=True)
class Record:
    value: bytes | None
    topic: str = SHARED
    partition: int = 2
    offset: int = 41
    key: bytes | None = b"lead-001"
    headers: Sequence[tuple[str, bytes]] = ()


def test_a_valid_structured_record_is_admitted_stamped_with_its_recorded_time() -> None:
    event = admit_record(Record(json.dumps(call_logged("evt-1")).encode()), BINDINGS, MAX_BYTES)
    assert isinstance(event, Envelope)
    assert (event.id, event.recordedtime is not None) == ("evt-1", True)


def test_bytes_that_are_not_json_are_dead_lettered_with_the_gates_reason_and_their_origin() -> None:
    letter = admit_record(Record(b"{not json"), BINDINGS, MAX_BYTES)
    assert isinstance(letter, DeadLetter)
    assert (letter.reason, letter.origin) == ("not_json", f"{SHARED}/2/41")


def test_a_binary_mode_record_without_ce_type_names_the_missing_header() -> None:
    headers = [("ce_specversion", b"1.0"), ("ce_id", b"evt-2"), ("ce_source", b"/dialer/test")]
    letter = admit_record(Record(b"{}", headers=headers), BINDINGS, MAX_BYTES)
    assert isinstance(letter, DeadLetter)
    assert letter.reason == "unknown_type" and "ce_type" in letter.message


def test_a_too_large_record_is_refused_like_over_http() -> None:
    letter = admit_record(Record(json.dumps(call_logged("evt-3")).encode()), BINDINGS, max_bytes=100)
    assert isinstance(letter, DeadLetter) and letter.reason == "too_large"


def test_a_publisher_topic_refuses_a_source_its_principal_is_not_bound_to() -> None:
    crm = call_logged("evt-4") | {"source": "/crm/test"}
    letter = admit_record(Record(json.dumps(crm).encode(), topic=OWN), BINDINGS, MAX_BYTES)
    assert isinstance(letter, DeadLetter)
    assert letter.reason == Refusal.SOURCE_MISMATCH and "'dialer'" in letter.message


def test_a_publisher_topic_admits_a_source_its_principal_is_bound_to() -> None:
    event = admit_record(Record(json.dumps(call_logged("evt-5")).encode(), topic=OWN), BINDINGS, MAX_BYTES)
    assert isinstance(event, Envelope)


def test_the_write_models_refusals_become_dead_letters_and_its_acceptances_do_not() -> None:
    record = Record(json.dumps(call_logged("evt-6")).encode())
    event = admit_record(record, BINDINGS, MAX_BYTES)
    assert isinstance(event, Envelope)
    conflict = refused_by_write_model(record, event, Appended("evt-6", Outcome.CONFLICT))
    violation = refused_by_write_model(
        record, event, Appended("evt-6", Outcome.VIOLATION, "lead_must_be_open", "lead is lost")
    )
    assert conflict is not None and conflict.reason == Refusal.ID_CONFLICT
    assert violation is not None
    assert (violation.reason, violation.rule, violation.message) == (
        Refusal.RULE_VIOLATION,
        "lead_must_be_open",
        "lead is lost",
    )
    for outcome in (Outcome.ACCEPTED, Outcome.DUPLICATE):
        assert refused_by_write_model(record, event, Appended("evt-6", outcome)) is None
