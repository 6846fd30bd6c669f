"""Compensation plans per role, as `CompPlanPublished` rule data (see `events.plan_rules`).

Each role has one plan; a new version is published for every calendar year the history reaches,
with slightly richer rates, so effective dating and versions are exercised.
"""

from __future__ import annotations

from typing import Any

from services.simulator.org import AE, AM, MANAGER, SDR, SE

PLAN_OF_ROLE = {
    AE: "plan-ae",
    SDR: "plan-sdr",
    AM: "plan-am",
    SE: "plan-se",
    MANAGER: "plan-mgr",
}
PLAN_NAMES = {
    "plan-ae": "Account Executive",
    "plan-sdr": "Sales Development",
    "plan-am": "Account Management",
    "plan-se": "Sales Engineering",
    "plan-mgr": "Sales Management",
}


def _tiers(*pairs: tuple[int, str]) -> list[dict[str, str]]:
    return [{"threshold": str(threshold), "rate_percent": rate} for threshold, rate in pairs]


def rules(plan_id: str, version: int, quota: int) -> list[dict[str, Any]]:
    """The rules of ``plan_id`` in ``version``; ``quota`` is a typical quarterly quota (caps, tiers)."""
    lift = str(version - 1)  # each yearly version pays one point more at the top
    clawback = {"kind": "clawback", "rule_id": "churn-clawback", "window_days": 180, "prorated": True}
    if plan_id == "plan-ae":
        return [
            {"kind": "marginal_tiers", "rule_id": "base", "tiers": _tiers((0, "5"), (quota, "7"))},
            {
                "kind": "marginal_tiers",
                "rule_id": "accelerator",
                "basis": "quota_attainment",
                "tiers": _tiers((0, "0"), (100, str(2 + int(lift))), (125, str(3 + int(lift)))),
            },
            {"kind": "cap", "rule_id": "cap", "max_amount": f"{quota // 4}.00", "applies_to": ["base"]},
            {
                "kind": "kpi_bonus",
                "rule_id": "win-rate-bonus",
                "kpi": "win_rate",
                "threshold": "30",
                "bonus": "1000.00",
            },
            clawback,
        ]
    if plan_id == "plan-sdr":
        return [
            {"kind": "flat_tiers", "rule_id": "sourced", "tiers": _tiers((0, "1"), (quota // 2, "2"))},
            {
                "kind": "kpi_bonus",
                "rule_id": "meetings-bonus",
                "kpi": "meetings",
                "threshold": "30",
                "bonus": "500.00",
            },
        ]
    if plan_id == "plan-am":
        return [
            {
                "kind": "marginal_tiers",
                "rule_id": "renewals",
                "tiers": _tiers((0, "3"), (quota, str(4 + int(lift)))),
            },
            {
                "kind": "kpi_bonus",
                "rule_id": "retention-bonus",
                "kpi": "retention_rate",
                "threshold": "90",
                "bonus": "1500.00",
            },
            clawback,
        ]
    if plan_id == "plan-se":
        return [
            {
                "kind": "flat_tiers",
                "rule_id": "assist",
                "retroactive": True,
                "tiers": _tiers((0, "1"), (quota, "2")),
            }
        ]
    return [
        {"kind": "marginal_tiers", "rule_id": "team-override", "tiers": _tiers((0, "1"), (quota * 5, "1.5"))}
    ]
