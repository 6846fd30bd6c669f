"""Planning events: yearly comp plan versions, and before every quarter the reps' and teams'
quotas, team and company objectives and the quarter's SPIFF.

Quotas are sized from the lead flow (what an account executive should close, plus 10 %), so
attainment lands in a plausible range; hires get a quota prorated from their first day, and a few
quotas are corrected mid-quarter (same quota id, new amount).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from services.simulator.clock import (
    add_business_days,
    add_months,
    business_days,
    local,
    quarter_label,
    quarter_start,
)
from services.simulator.config import SimConfig
from services.simulator.org import AE, AM, SDR, Org, Rep
from services.simulator.plans import PLAN_NAMES, rules
from services.simulator.story import Data
from services.simulator.timeline import SPM, OrgTimeline, money, period

QUOTA_ROLES = (AE, AM)


def typical_quota(cfg: SimConfig, org: Org) -> int:
    """An account executive's quarterly bookings quota: what the lead flow should bring, plus 10 %."""
    executives = max(1, len(org.members_of_role(AE, cfg.first_day)))
    expected = cfg.leads * 13 / cfg.weeks / executives * 0.26 * 0.25 * float(cfg.mean_deal)
    return max(10_000, round(expected * 1.1 / 1000) * 1000)


def quarter_end(first: date) -> date:
    return add_months(first, 3) - timedelta(days=1)


def plan_versions(t: OrgTimeline) -> None:
    """Version 1 of every plan at set-up, then a version per new calendar year, ten days ahead."""
    cfg, quota = t.cfg, typical_quota(t.cfg, t.org)
    for version, year in enumerate(range(cfg.first_day.year, cfg.last_day.year + 1), 1):
        first = cfg.first_day if version == 1 else date(year, 1, 1)
        at = t.setup_time() if version == 1 else t.working_time(add_business_days(first, -10))
        for plan_id, name in PLAN_NAMES.items():
            data: Data = {
                "effective_from": first.isoformat(),
                "effective_to": date(year, 12, 31).isoformat(),
                "plan_id": plan_id,
                "plan_version": version,
                "name": f"{name} {year}",
                "currency": cfg.currency,
                "rules": rules(plan_id, version, quota),
            }
            t.add(at, "CompPlanPublished", SPM, plan_id, data)


def quarters(t: OrgTimeline) -> None:
    """A week before each quarter (at set-up for the first): quotas, objectives, the SPIFF."""
    first = quarter_start(t.cfg.first_day)
    while first <= t.cfg.last_day:
        at = t.setup_time() if first <= t.cfg.first_day else t.working_time(add_business_days(first, -5))
        as_of = max(first, t.cfg.first_day)
        for team in t.org.teams:
            total = 0
            for rep in t.org.members(team.team_id, as_of, QUOTA_ROLES):
                if _planned(t, rep, first):
                    total += quota(t, rep, first, max(at, local(rep.started_on, 9 * 60 + 20, team.tz)))
            if total:
                _assigned(
                    t,
                    at,
                    f"quota-{team.team_id}-{quarter_label(first)}",
                    ("team", team.team_id),
                    first,
                    total,
                )
                _objective(t, at, ("team", team.team_id), "revenue", money(total, t.cfg.currency), first)
            _objective(t, at, ("team", team.team_id), "win_rate", "30", first)
        for rep in t.org.members_of_role(SDR, as_of):
            if _planned(t, rep, first):
                _objective(t, at, ("rep", rep.rep_id), "meetings", "12", first)
        _objective(t, at, ("company", "company"), "conversion_rate", "25", first)
        _spiff(t, at, first)
        first = add_months(first, 3)


def _planned(t: OrgTimeline, rep: Rep, first: date) -> bool:
    """Whether the quarter's planning covers ``rep``: hires get their first quota on day one."""
    return rep.started_on < first or rep.started_on == t.cfg.first_day


def quota(t: OrgTimeline, rep: Rep, first: date, at: datetime) -> int:
    """Assign ``rep``'s quota for the quarter from ``first``, prorated from their first day."""
    days = business_days(first, quarter_end(first))
    share = len([day for day in days if day >= max(rep.started_on, t.cfg.first_day)]) / len(days)
    typical = typical_quota(t.cfg, t.org)
    full = typical if rep.role == AE else max(5000, round(typical * 0.4 / 1000) * 1000)
    amount = max(1000, round(full * share / 1000) * 1000)
    quota_id = f"quota-{rep.rep_id}-{quarter_label(first)}"
    _assigned(t, at, quota_id, ("rep", rep.rep_id), first, amount)
    if t.rng.random() < 0.08:  # a mid-quarter correction: the same quota, a new amount
        revised = t.working_time(add_business_days(first, t.rng.randint(15, 30)))
        amount = round(amount * t.rng.choice((0.9, 1.1)) / 1000) * 1000
        _assigned(t, revised, quota_id, ("rep", rep.rep_id), first, amount)
    return amount


def _assigned(
    t: OrgTimeline, at: datetime, quota_id: str, assignee: tuple[str, str], first: date, amount: int
) -> None:
    data: Data = {
        "quota_id": quota_id,
        "assignee": assignee[0],
        "assignee_id": assignee[1],
        "period": period("quarter", first, quarter_end(first)),
        "metric": "bookings",
        "amount": money(amount, t.cfg.currency),
    }
    t.add(at, "QuotaAssigned", SPM, quota_id, data)


def _objective(
    t: OrgTimeline, at: datetime, scope: tuple[str, str], kpi: str, target: object, first: date
) -> None:
    objective_id = f"obj-{scope[1]}-{quarter_label(first)}-{kpi.replace('_', '-')}"
    data: Data = {
        "objective_id": objective_id,
        "scope": scope[0],
        "scope_id": scope[1],
        "kpi": kpi,
        "target": target,
        "period": period("quarter", first, quarter_end(first)),
    }
    t.add(at, "ObjectiveSet", SPM, objective_id, data)


def _spiff(t: OrgTimeline, at: datetime, first: date) -> None:
    spiff_id = f"spiff-{quarter_label(first)}-analytics"
    data: Data = {
        "spiff_id": spiff_id,
        "name": f"Analytics push {quarter_label(first)}",
        "amount_per_deal": money(250, t.cfg.currency),
        "window": period("custom", first + timedelta(days=14), quarter_end(first) - timedelta(days=14)),
        "products": ["sku-analytics"],
        "min_deal_amount": money(int(t.cfg.mean_deal) // 2, t.cfg.currency),
    }
    t.add(at, "SpiffAnnounced", SPM, spiff_id, data)
