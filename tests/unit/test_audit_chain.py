"""The hash-chain audit over real chains (built with the write model's `chain_hash`), tampered with
in each way an auditor must catch: altered, dropped, swapped, duplicated, and replayed exactly."""

from __future__ import annotations

import dataclasses
import json

import pytest
from aiokafka.structs import ConsumerRecord

from services.audit.chain import ChainRecord, check_links, seal, verify_chain
from services.audit.crosscheck import cross_check
from services.audit.findings import Finding, Kind, Position
from services.audit.report import Examined, Report, as_json, as_text
from services.audit.sources import from_kafka
from services.writemodel.aggregates import GENESIS, chain_hash

SOURCE = "/dialer/test"


def envelope(event_id: str, lead: str, seconds: int = 300) -> str:
    return json.dumps(
        {
            "id": event_id,
            "source": SOURCE,
            "type": "CallLogged",
            "data": {"lead_id": lead, "duration_seconds": seconds},
        },
        separators=(",", ":"),
    )


def history(lead: str, count: int) -> list[ChainRecord]:
    """`count` events of one lead, chained as the write model chains them (positions come later)."""
    records, head = [], GENESIS
    for n in range(count):
        text = envelope(f"{lead}-evt-{n}", lead)
        digest = chain_hash(head, f"{SOURCE}\n{lead}-evt-{n}", text)
        records.append(ChainRecord(Position(0, 0), f"agg-{lead}", lead, text, head, digest))
        head = digest
    return records


def placed(records: list[ChainRecord], partition: int | None = 0) -> list[ChainRecord]:
    """The records as a source holds them, in this order: offsets (or store seqs) from 1."""
    return [dataclasses.replace(r, position=Position(partition, n)) for n, r in enumerate(records, 1)]


def rewritten(record: ChainRecord, text: str, rehash: bool = False) -> ChainRecord:
    """`record` with other content; `rehash`: as a forger would, with the hash recomputed."""
    key = f"{json.loads(text)['source']}\n{json.loads(text)['id']}"
    digest = chain_hash(record.prev_hash, key, text) if rehash else record.hash
    return dataclasses.replace(record, envelope=text, hash=digest)


def kafka(records: list[ChainRecord]) -> list[Finding]:
    return verify_chain(placed(records), "kafka", at_least_once=True)


def kinds(findings: list[Finding]) -> list[tuple[Kind, str]]:
    return [(f.kind, str(f.position)) for f in findings]


@pytest.fixture
def ada() -> list[ChainRecord]:
    return history("lead-ada", 5)


@pytest.fixture
def bob() -> list[ChainRecord]:
    return history("lead-bob", 3)


def interleave(a: list[ChainRecord], b: list[ChainRecord]) -> list[ChainRecord]:
    out = []
    for n in range(max(len(a), len(b))):
        out += a[n : n + 1] + b[n : n + 1]
    return out


def test_an_untouched_log_and_store_pass(ada: list[ChainRecord], bob: list[ChainRecord]) -> None:
    records = interleave(ada, bob)
    assert kafka(records) == []
    assert verify_chain(placed(records, None), "store", at_least_once=False) == []


def test_an_altered_envelope_is_reported_where_it_is_with_both_hashes(ada: list[ChainRecord]) -> None:
    ada[2] = rewritten(ada[2], envelope("lead-ada-evt-2", "lead-ada", seconds=3000))
    (finding,) = kafka(ada)
    assert (finding.kind, str(finding.position)) == (Kind.ALTERED, "partition 0 offset 3")
    assert finding.event == "lead-ada-evt-2 from /dialer/test"
    assert finding.aggregate == "agg-lead-ada" and finding.key == "lead-ada"
    assert finding.actual == ada[2].hash
    assert finding.expected == chain_hash(ada[2].prev_hash, f"{SOURCE}\nlead-ada-evt-2", ada[2].envelope)
    assert not finding.harmless


def test_an_altered_hash_header_is_altered_and_breaks_the_link_after_it(ada: list[ChainRecord]) -> None:
    ada[1] = dataclasses.replace(ada[1], hash="f" * 64)
    assert kinds(kafka(ada)) == [
        (Kind.ALTERED, "partition 0 offset 2"),
        (Kind.MISSING, "partition 0 offset 3"),
    ]


def test_an_event_altered_and_rehashed_leaves_a_gap_before_its_successor(ada: list[ChainRecord]) -> None:
    ada[2] = rewritten(ada[2], envelope("lead-ada-evt-2", "lead-ada", seconds=3000), rehash=True)
    assert kinds(kafka(ada)) == [(Kind.MISSING, "partition 0 offset 4")]


@pytest.mark.parametrize("dropped", [0, 2])
def test_a_dropped_event_is_missing_before_the_next_one(ada: list[ChainRecord], dropped: int) -> None:
    gone = ada.pop(dropped)
    (finding,) = kafka(ada)
    assert (finding.kind, str(finding.position)) == (Kind.MISSING, f"partition 0 offset {dropped + 1}")
    assert finding.event == f"lead-ada-evt-{dropped + 1} from /dialer/test"
    assert finding.expected == f"an event with hash {gone.hash}"


def test_dropping_the_last_event_is_invisible_to_the_chain_but_not_to_the_cross_check(
    ada: list[ChainRecord],
) -> None:
    store = [seal(r) for r in placed(ada, None)]
    log = [seal(r) for r in placed(ada[:-1])]
    assert check_links(log, "kafka", at_least_once=True) == []
    (finding,) = cross_check(log, store, relayed_up_to=len(ada))
    assert (finding.kind, str(finding.position), finding.source) == (Kind.MISSING, "seq 5", "both")
    assert finding.event == "lead-ada-evt-4 from /dialer/test"
    assert finding.actual == "absent from the log"


def test_two_swapped_events_report_the_one_that_came_before_its_predecessor(
    ada: list[ChainRecord], bob: list[ChainRecord]
) -> None:
    ada[1], ada[2] = ada[2], ada[1]
    (finding,) = kafka(interleave(ada, bob))
    assert finding.kind == Kind.REORDERED
    assert finding.event == "lead-ada-evt-2 from /dialer/test"
    assert str(finding.position) == "partition 0 offset 3"
    assert finding.expected == "after partition 0 offset 5"  # where lead-ada-evt-1 now sits


def test_swapping_events_of_different_aggregates_changes_nothing(
    ada: list[ChainRecord], bob: list[ChainRecord]
) -> None:
    records = interleave(ada, bob)
    records[0], records[1] = records[1], records[0]
    assert kafka(records) == []


def test_a_different_event_claiming_a_taken_place_is_duplicated(ada: list[ChainRecord]) -> None:
    forged = rewritten(ada[1], envelope("lead-ada-evt-1", "lead-ada", seconds=1), rehash=True)
    (finding,) = kafka([*ada, forged])
    assert (finding.kind, str(finding.position)) == (Kind.DUPLICATED, "partition 0 offset 6")
    assert finding.expected == "partition 0 offset 2"
    other_id = rewritten(ada[1], envelope("lead-ada-evt-new", "lead-ada"), rehash=True)
    assert kinds(kafka([*ada, other_id])) == [(Kind.DUPLICATED, "partition 0 offset 6")]


def test_the_same_event_id_again_at_the_end_of_the_chain_is_duplicated(ada: list[ChainRecord]) -> None:
    text = envelope("lead-ada-evt-1", "lead-ada", seconds=1)
    again = ChainRecord(
        Position(0, 0),
        "agg-lead-ada",
        "lead-ada",
        text,
        ada[-1].hash,
        chain_hash(ada[-1].hash, f"{SOURCE}\nlead-ada-evt-1", text),
    )
    (finding,) = kafka([*ada, again])
    assert (finding.kind, finding.expected) == (Kind.DUPLICATED, "partition 0 offset 2")


def test_an_exact_copy_is_republished_on_kafka_and_duplicated_in_the_store(ada: list[ChainRecord]) -> None:
    records = [*ada[:3], ada[1], *ada[3:]]
    (finding,) = kafka(records)
    assert (finding.kind, str(finding.position), finding.expected) == (
        Kind.REPUBLISHED,
        "partition 0 offset 4",
        "partition 0 offset 2",
    )
    assert finding.harmless
    assert Report((), (finding,)).ok
    (stored,) = verify_chain(placed(records, None), "store", at_least_once=False)
    assert (stored.kind, str(stored.position)) == (Kind.DUPLICATED, "seq 4")


def test_records_that_are_not_chained_events_are_altered(ada: list[ChainRecord]) -> None:
    ada[1] = dataclasses.replace(ada[1], prev_hash="", hash="")
    ada[3] = dataclasses.replace(ada[3], envelope="not json")
    findings = kafka(ada)
    assert kinds(findings) == [
        (Kind.ALTERED, "partition 0 offset 2"),
        (Kind.MISSING, "partition 0 offset 3"),
        (Kind.ALTERED, "partition 0 offset 4"),
    ]
    assert findings[0].detail == "it carries no chain hash"
    assert findings[2].detail == "its content is not an event (no JSON source and id)"


def test_the_cross_check_names_what_each_side_lacks_and_where_they_differ(
    ada: list[ChainRecord], bob: list[ChainRecord]
) -> None:
    store = [seal(r) for r in placed([*ada, *bob], None)]  # seq 1-5 ada, 6-8 bob
    log_records = [*ada[1:], *bob]
    log_records[0] = rewritten(log_records[0], envelope("lead-ada-evt-1", "lead-ada", seconds=9), rehash=True)
    log_records.append(history("lead-eve", 1)[0])
    log = [seal(r) for r in placed(log_records)]
    found = {(f.kind, f.event) for f in cross_check(log, store, relayed_up_to=8)}
    assert found == {
        (Kind.MISSING, "lead-ada-evt-0 from /dialer/test"),  # in the store, relayed, not on the log
        (Kind.ALTERED, "lead-ada-evt-1 from /dialer/test"),  # the two copies differ
        (Kind.MISSING, "lead-eve-evt-0 from /dialer/test"),  # on the log, not in the store
    }
    pending = cross_check(log, store, relayed_up_to=0)
    assert [(f.kind, f.harmless) for f in pending if f.event.startswith("lead-ada-evt-0")] == [
        (Kind.PENDING, True)
    ]


def test_a_kafka_record_reads_back_as_the_relay_wrote_it(ada: list[ChainRecord]) -> None:
    record = ada[1]
    headers = [
        ("salesledger.seq", b"7"),
        ("salesledger.aggregate", record.aggregate.encode()),
        ("salesledger.version", b"3"),
        ("salesledger.prevhash", record.prev_hash.encode()),
        ("salesledger.hash", record.hash.encode()),
    ]
    message: ConsumerRecord[bytes, bytes] = ConsumerRecord(
        "t", 2, 41, 0, 0, record.key.encode(), record.envelope.encode(), None, 0, 0, headers
    )
    assert from_kafka(message) == dataclasses.replace(record, position=Position(2, 41))
    bad = dataclasses.replace(message, value=b"\xff", headers=[])
    assert from_kafka(bad).problem == "its value is not UTF-8 text"


def test_the_report_fails_on_a_finding_and_says_it_for_people_and_programs(ada: list[ChainRecord]) -> None:
    ada[2] = rewritten(ada[2], envelope("lead-ada-evt-2", "lead-ada", seconds=3000))
    report = Report((Examined("kafka", "topic", 5, 1),), tuple(kafka(ada)))
    assert not report.ok
    text = as_text(report)
    assert "ALTERED" in text and "lead-ada-evt-2 from /dialer/test" in text
    assert text.endswith("FAILED: 1 findings (1 altered)")
    document = as_json(report)
    assert document["ok"] is False
    assert document["findings"] == [
        {
            "kind": "altered",
            "source": "kafka",
            "position": {"partition": 0, "offset": 3},
            "aggregate": "agg-lead-ada",
            "key": "lead-ada",
            "event": "lead-ada-evt-2 from /dialer/test",
            "expected": report.findings[0].expected,
            "actual": ada[2].hash,
            "detail": "its content does not hash to the hash it carries",
            "harmless": False,
        }
    ]
    assert as_text(Report((), ())).endswith("verified: every chain holds and nothing is missing")
