"""Objection KPIs: how often each category is raised, and how many of those get resolved.

An objection counts for the rep who raised it on the deal (who handled the conversation), on the
day it was raised. Frequency is the number raised in the period, per category. The resolution
rate is a cohort, like conversion: of the objections raised in the period, the share resolved so
far (`ObjectionResolved` names no category: it is joined to its `ObjectionRaised` by
``objection_id`` within the deal). An objection id is raised once per deal (the process rule
``objection_already_raised``); were it raised twice, its first raise counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from events.presentation import ObjectionCategory
from projections.kpi_records import FactRecorded, ObjectionAnswered, Timeline
from projections.kpi_scope import Includes, KpiValue, Window, count, ratio


def objection_kpis(deals: Iterable[Timeline], window: Window, includes: Includes) -> dict[str, KpiValue]:
    """``objections`` and ``objection_resolution_rate``, in total and per category."""
    raised: Counter[str] = Counter()
    resolved: Counter[str] = Counter()
    for timeline in deals:
        answered = {record.objection_id for record in timeline.of(ObjectionAnswered)}
        first_raises: dict[str, FactRecorded] = {}
        for record in timeline.of(FactRecorded):
            if record.objection_id is not None:
                first_raises.setdefault(record.objection_id, record)
        for objection_id, record in first_raises.items():
            if window.holds(record.at) and includes(record.rep_id, window.day(record.at)):
                raised[record.category or ""] += 1
                resolved[record.category or ""] += objection_id in answered
    report = {
        "objections": count(sum(raised.values())),
        "objection_resolution_rate": ratio(sum(resolved.values()), sum(raised.values())),
    }
    for category in (c.value for c in ObjectionCategory):
        report[f"objections.{category}"] = count(raised[category])
        report[f"objection_resolution_rate.{category}"] = ratio(resolved[category], raised[category])
    return report
