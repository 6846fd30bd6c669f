"""Issue 15, item 6: a failure repeating many times a second is logged once per window, counted."""

from __future__ import annotations

import logging

from services.log_limits import Repeats


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(
    msg: str, *args: object, level: int = logging.ERROR, name: str = "aiokafka.conn"
) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_issue_15_a_broker_outage_logs_once_per_window_with_the_count_it_held_back() -> None:
    clock = Clock()
    repeats = Repeats(window=10.0, clock=clock)
    passed = []
    for tick in range(1500):  # 150 s of an outage, ten retries a second, two nodes
        clock.now = tick / 10
        for node in (1, 2):
            line = record("Unable connect to node with id %s: %s", node, "Connect call failed")
            if repeats.filter(line):
                passed.append(line.getMessage())
    assert len(passed) == 15  # one per 10 s window, however many nodes and retries
    assert passed[0] == "Unable connect to node with id 1: Connect call failed"
    assert passed[1].endswith("[and 199 more like this in the 10 s before]")


def test_different_failures_and_lower_levels_are_not_held_back() -> None:
    repeats = Repeats(window=10.0, clock=Clock())
    assert repeats.filter(record("peer %s: %s", "http://a", "answered 302"))
    assert repeats.filter(record("peer %s: %s", "http://a", "body over SALESLEDGER_PEER_BODY_MAX"))
    assert not repeats.filter(record("peer %s: %s", "http://a", "answered 302"))
    assert repeats.filter(record("disk full"))
    assert repeats.filter(record("cannot reach %s", "db"))
    assert repeats.filter(record("disk full", name="services.projector"))
    assert repeats.filter(record("disk full", level=logging.WARNING))
    assert not repeats.filter(record("disk full"))
    assert all(repeats.filter(record("batch of %d folded", n, level=logging.INFO)) for n in range(100))


def test_the_kinds_remembered_are_bounded() -> None:
    repeats = Repeats(window=10.0, clock=Clock(), kinds=50)
    words = [f"failure {chr(97 + n % 26)}{chr(97 + n // 26 % 26)}" for n in range(500)]  # no digits
    for word in words:
        assert repeats.filter(record(word))
    assert len(repeats._seen) <= 50
