"""Adjustments to Faust's Kafka producer and to the interpreter, kept in one place.

Faust only turns on producer idempotence inside transactions. Every event we forward must not be
lost nor reordered by a retry, so the aiokafka producer is always idempotent (which forces
``acks=all``). See ../shared/STACK-NOTES.md: aiokafka's default is ``acks=1`` without idempotence.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Mapping
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka


def _idempotent_settings(self: Any) -> Mapping[str, Any]:
    return {"acks": "all", "enable_idempotence": True}


def use_idempotent_producer() -> None:
    """Make every Faust aiokafka producer idempotent (safe to call repeatedly)."""
    faust_aiokafka.Producer._settings_extra = _idempotent_settings  # type: ignore[method-assign]


SWITCH_INTERVAL_S = 0.0005


def share_the_interpreter_finely() -> None:
    """Hand the GIL back to the event loop within 0.5 ms (Python's default is 5 ms).

    The worker runs CPU-bound work in threads beside its event loop (write-model transactions,
    gauge refreshes over a whole read model, query folds). While such a thread runs, every time
    the loop wakes from I/O it must wait for the interval to get the interpreter back, and a batch
    of the projector wakes several times: at 5 ms each, a 1 s gauge refresh added hundreds of
    milliseconds to the projection latency (docs/performance.md).
    """
    sys.setswitchinterval(SWITCH_INTERVAL_S)


GC_THRESHOLDS = (20_000, 20, 20)
"""Python's are (700, 10, 10): a young collection every 700 net allocations, a full one after ten
of the next generation's. The worker's garbage dies by reference counting (immutable states,
bytes); fewer collections mean fewer full walks of the decoded partials kept in memory."""


def freeze_startup_objects() -> None:
    """Exclude everything alive once the worker has started from the cyclic garbage collector,
    and collect less often (`GC_THRESHOLDS`).

    Modules, classes, pydantic schemas and Faust's services never die, yet every full collection
    walks them all: with the read models' decoded partials on top, a full collection took 200 to
    300 ms, stalling the event loop (docs/performance.md). Frozen objects are still freed by
    reference counting; only cycles among them would never be collected.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
