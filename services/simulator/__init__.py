"""A deterministic simulator of a sales organisation: a realistic, valid event history from a seed.

    from datetime import date
    from services.simulator import simulate

    for document in simulate(seed=7, reps=20, leads=300, start=date(2026, 1, 5)):
        ...  # a structured-mode CloudEvent (dict), in time order

The history holds teams, territories, reps joining, moving team and leaving (with successors who
take over their book), comp plans published in yearly versions and assigned, quarterly quotas,
objectives and SPIFFs, and for every lead: capture from one of the six sources, research, calls,
emails, replies, social touches and meetings, BANT qualification or disqualification with a
reason, then the deal through needs assessment, presentation, objections and proposals to a win
(credit split between up to two reps) or a loss (sometimes reopened), and the customer's
follow-ups, nurture touches, expansion, renewals or churn; plus training and coaching.

Every event is accepted by the default sales process when recorded in order
(`sales/default_process.toml`). The same arguments give byte-identical output: ids are
``sim-<seed>-<story>-<n>`` and nothing reads a clock or a global random generator. Rates and
their sources of plausibility are in `services.simulator.config`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from events import Envelope
from events.parse import parse_document
from services.simulator.config import SimConfig, WeakSpot
from services.simulator.history import history

__all__ = ["SimConfig", "WeakSpot", "simulate", "simulate_envelopes"]


def simulate(
    seed: int,
    reps: int,
    leads: int,
    start: date,
    *,
    weeks: int = 52,
    mean_deal: int | Decimal = 25_000,
    currency: str = "EUR",
    weak_spot: WeakSpot | None = None,
) -> Iterator[dict[str, Any]]:
    """The history as CloudEvents documents (structured mode, JSON-ready dicts), in time order.

    ``reps`` sellers (plus a manager per team of about seven and a head of sales) work ``leads``
    leads captured over ``weeks`` weeks from ``start``; the history ends ``weeks`` after ``start``.
    Deal sizes are log-normal around ``mean_deal`` in ``currency``. ``weak_spot`` seeds one rep
    weak at one stage until a coaching session on it (`WeakSpot`, docs/coaching.md).
    """
    cfg = SimConfig(seed, reps, leads, start, weeks, Decimal(mean_deal), currency, weak_spot)
    for draft in history(cfg):
        yield draft.document()


def simulate_envelopes(
    seed: int,
    reps: int,
    leads: int,
    start: date,
    *,
    weeks: int = 52,
    mean_deal: int | Decimal = 25_000,
    currency: str = "EUR",
    weak_spot: WeakSpot | None = None,
) -> Iterator[Envelope]:
    """The same history parsed through the gate (`events.parse.parse_document`)."""
    documents = simulate(
        seed, reps, leads, start, weeks=weeks, mean_deal=mean_deal, currency=currency, weak_spot=weak_spot
    )
    for document in documents:
        yield parse_document(document)
