"""Lead KPIs and conversion: new leads by source, lead-to-opportunity and per-stage conversion.

Conversion is measured on **cohorts**: of the leads captured in a period, the share qualified
(at any time known so far); of the deals that first entered a stage in a period, the share that
later entered a later stage or were won. A cohort's rate therefore rises as its leads and deals
move on, and never exceeds 100 %, which a ratio of two flows in the same period (qualified this
month / captured this month) could.

A lead belongs to the rep named at capture, else to the rep who first qualified or disqualified
it; a lead with neither counts at organisation scope only. A stage entry belongs to the deal's
owner at the time. A lead qualified without a known capture (it predates Salesledger) is not in
any cohort; neither is a re-entry into a stage the deal already went through.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from events.prospecting import LeadSource
from projections.kpi_deal_path import DealPath, Entry
from projections.kpi_records import LeadDecided, LeadEntered, Timeline
from projections.kpi_scope import Includes, KpiValue, Window, count, ratio
from sales.process import ProcessConfig


def lead_kpis(leads: Iterable[Timeline], window: Window, includes: Includes) -> dict[str, KpiValue]:
    """``new_leads`` (and per source) and ``lead_to_opportunity_rate``."""
    by_source: Counter[str] = Counter()
    converted = 0
    for timeline in leads:
        captures: tuple[LeadEntered, ...] = timeline.of(LeadEntered)
        if not captures or not window.holds(captures[0].at):
            continue
        decisions: tuple[LeadDecided, ...] = timeline.of(LeadDecided)
        owner = captures[0].rep_id or (decisions[0].rep_id if decisions else None)
        if includes(owner, window.day(captures[0].at)):
            by_source[captures[0].source] += 1
            converted += any(decision.qualified for decision in decisions)
    report = {"new_leads": count(sum(by_source.values()))}
    report |= {f"new_leads.{source.value}": count(by_source[source.value]) for source in LeadSource}
    report["lead_to_opportunity_rate"] = ratio(converted, sum(by_source.values()))
    return report


def stage_conversion_kpis(
    paths: Iterable[DealPath], window: Window, includes: Includes, process: ProcessConfig
) -> dict[str, KpiValue]:
    """``stage_conversion.<stage>`` for every open stage of the process."""
    entered: Counter[str] = Counter()
    advanced: Counter[str] = Counter()
    for path in paths:
        for entry in _first_entries(path):
            if window.holds(entry.at) and includes(entry.owner, window.day(entry.at)):
                entered[entry.stage] += 1
                advanced[entry.stage] += _advanced(path, entry, process)
    return {
        f"stage_conversion.{stage}": ratio(advanced[stage], entered[stage]) for stage in process.stage_names
    }


def _first_entries(path: DealPath) -> Iterable[Entry]:
    seen: set[str] = set()
    for entry in path.entries:
        if entry.stage not in seen:
            seen.add(entry.stage)
            yield entry


def _advanced(path: DealPath, entry: Entry, process: ProcessConfig) -> bool:
    """Whether the deal, after ``entry``, entered a later stage of the process or was won."""
    here = process.position(entry.stage)
    if here is None:
        return False
    later = (e for e in path.entries if e.at >= entry.at and _beyond(process.position(e.stage), here))
    won = (close for close in path.closes if close.record.won and close.record.at >= entry.at)
    return any(later) or any(won)


def _beyond(position: int | None, here: int) -> bool:
    return position is not None and position > here
