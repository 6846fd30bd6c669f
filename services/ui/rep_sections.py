"""The rep page's sections: activity, weak areas and coaching, the statement, the deals; and the
deal page's state, stage timeline and event history. Pure functions of the API answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.ui.cells import Cells, esc
from services.ui.layout import link
from services.ui.sections import table
from services.ui.sources import Source

ACTIVITY = ("calls", "connected_calls", "talk_seconds", "leads_captured")
STAGE_EVENTS = frozenset(
    {
        "LeadQualified",
        "NeedsAssessed",
        "SolutionPresented",
        "DealStageChanged",
        "DealWon",
        "DealLost",
        "DealReopened",
    }
)
"""Events that move a deal through the stages: the timeline lists these; the history lists all."""


def activity(cells: Cells, source: Source, body: Any) -> str:
    items = "".join(
        f'<dl class="card"><dt>{esc(k)}</dt><dd>{cells.num(source, body, k, "num big")}</dd></dl>'
        for k in ACTIVITY
    )
    return f'<div class="cards">{items}</div>'


def development(cells: Cells, source: Source, body: Any) -> str:
    """Every weak-area check of the period against the team median; flagged ones first."""
    checks = list(enumerate(body.get("checks", [])))
    checks.sort(key=lambda pair: not pair[1].get("flagged"))
    rows = [
        [
            esc(check.get("kpi")),
            cells.num(source, body, f"checks/{n}/value"),
            cells.num(source, body, f"checks/{n}/team_median"),
            cells.num(source, body, f"checks/{n}/sample"),
            '<strong class="flag">weak area</strong>' if check.get("flagged") else "",
            esc(check.get("why")),
        ]
        for n, check in checks
    ]
    coached = [
        [
            esc(item.get("at")),
            esc(item.get("focus_area")),
            cells.num(source, body, f"coaching/{n}/duration_seconds"),
        ]
        for n, item in enumerate(body.get("coaching", []))
    ]
    return (
        table(["KPI", "value", "team median", "sample", "", "why"], rows)
        + "<h3>Coaching this period</h3>"
        + table(["at", "focus", "seconds"], coached)
    )


def statement(cells: Cells, source: Source, body: Any, query: Mapping[str, str]) -> str:
    """Each line with its rule, rate, base and earning, linking the deal (and its events) it paid on."""
    parts = []
    for s, one in enumerate(body.get("statements", [])):
        rows = []
        for n, line in enumerate(one.get("lines", [])):
            at = f"statements/{s}/lines/{n}"
            deal = line.get("deal_id")
            rows.append(
                [
                    esc(line.get("kind")),
                    esc(line.get("rule_id")),
                    link(f"/ui/deals/{deal}", str(deal), query) if deal else "",
                    cells.num(source, body, f"{at}/rate"),
                    cells.num(source, body, f"{at}/base"),
                    cells.num(source, body, f"{at}/earning"),
                    esc(", ".join(line.get("event_ids", []))),
                ]
            )
        caption = f"{one.get('plan_id')} v{one.get('plan_version')} ({one.get('currency')})"
        parts.append(table(["kind", "rule", "deal", "rate", "base", "earning", "events"], rows, caption))
        parts.append(
            f'<p class="totals">total {cells.num(source, body, f"statements/{s}/total")}'
            f" credited {cells.num(source, body, f'statements/{s}/credited')}"
            f" attainment {cells.num(source, body, f'statements/{s}/attainment')}</p>"
        )
    return "".join(parts) or '<p class="empty">No statement for this period.</p>'


def deals(cells: Cells, source: Source, body: Any, query: Mapping[str, str]) -> str:
    rows = [
        [
            link(f"/ui/deals/{deal.get('deal_id')}", str(deal.get("deal_id")), query),
            esc(deal.get("stage")),
            cells.num(source, body, f"deals/{n}/expected_amount/amount"),
            esc((deal.get("expected_amount") or {}).get("currency")),
        ]
        for n, deal in enumerate(body.get("deals", []))
    ]
    return table(["deal", "stage", "expected", "currency"], rows)


def deal_state(cells: Cells, source: Source, body: Any, query: Mapping[str, str]) -> str:
    deal = body.get("deal") or {}
    facts = [
        ("stage", esc(deal.get("stage"))),
        ("status", esc(deal.get("status"))),
        ("rep", link(f"/ui/reps/{deal.get('rep_id')}", str(deal.get("rep_id")), query)),
        ("opened", esc(deal.get("opened_at"))),
        ("in stage since", esc(deal.get("stage_entered_at"))),
        ("expected", cells.num(source, body, "deal/expected_amount/amount")),
        ("won", cells.num(source, body, "deal/won_amount/amount")),
        ("currency", esc((deal.get("expected_amount") or {}).get("currency"))),
    ]
    return '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"


def timeline(body: Any) -> str:
    """The stage changes, in the order recorded (the history's own order)."""
    items = []
    for entry in body.get("history", []):
        event = entry.get("event", {})
        if event.get("type") not in STAGE_EVENTS:
            continue
        to_stage = (event.get("data") or {}).get("to_stage")
        moved = f" to {esc(to_stage)}" if to_stage else ""
        items.append(f"<li><time>{esc(event.get('time'))}</time> {esc(event.get('type'))}{moved}</li>")
    if not items:
        return '<p class="empty">No stage change yet.</p>'
    return f'<ol class="timeline">{"".join(items)}</ol>'


def history(cells: Cells, source: Source, body: Any) -> str:
    rows = [
        [
            cells.num(source, body, f"history/{n}/position"),
            esc(entry.get("recorded_at")),
            esc(entry.get("event", {}).get("type")),
            esc(entry.get("event", {}).get("time")),
            esc(entry.get("event", {}).get("id")),
            f'<code title="{esc(entry.get("hash"))}">{esc(str(entry.get("hash", ""))[:12])}</code>',
        ]
        for n, entry in enumerate(body.get("history", []))
    ]
    return table(["#", "recorded", "event", "happened", "id", "hash"], rows)
