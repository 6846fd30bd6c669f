"""The sections of the pages, each a pure function of the API answers it shows.

Every number goes through `Cells.num` with the source and field it came from; labels, names and
times are shown as the API wrote them. Nothing here adds, divides or ranks: the API did.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from services.ui.cells import Cells, esc
from services.ui.layout import link
from services.ui.sources import Source

CARD_KPIS = (
    "deals_won",
    "won_revenue.",
    "win_rate",
    "quota_attainment",
    "average_deal_size.",
    "lead_to_opportunity_rate",
    "calls",
    "meetings",
    "sales_cycle_seconds",
)
"""The KPIs shown as cards (a name ending in ``.`` takes every currency); the rest are in the table."""


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], caption: str = "") -> str:
    if not rows:
        return '<p class="empty">Nothing in this view.</p>'
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (
        f'<div class="scroll"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    )


def chart(ident: str, label: str, labels: Sequence[str], cell_ids: Sequence[str]) -> str:
    """A bar chart drawn by the vendored Chart.js from the page's own number cells (so a live
    update of the cells redraws it); a fixed-size box, so drawing it shifts nothing."""
    spec = json.dumps({"label": label, "labels": list(labels), "cells": list(cell_ids)})
    spec = spec.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")  # inert in <script>
    return (
        f'<figure class="chart"><canvas id="{ident}" role="img" aria-label="{esc(label)}"></canvas>'
        f'<script type="application/json" data-chart="{ident}">{spec}</script></figure>'
    )


def _cell_id(html: str) -> str:
    return html.split('id="', 1)[1].split('"', 1)[0]


def kpi_cards(
    cells: Cells, now: Source, body: Any, before: Source, previous: Any, query: Mapping[str, str]
) -> str:
    """The period's headline KPIs, each with the previous period's value beside it (the trend)."""
    names = sorted(body.get("kpis", {}))
    chosen = [n for n in names if any(n == c or (c.endswith(".") and n.startswith(c)) for c in CARD_KPIS)]
    cards = []
    for name in chosen:
        value = cells.num(now, body, f"kpis/{name}/value", "num big")
        was = cells.num(before, previous, f"kpis/{name}/value")
        trend = _trend(
            body["kpis"][name].get("value"), (previous.get("kpis", {}).get(name) or {}).get("value")
        )
        target = ""
        if name.startswith("quota_attainment"):
            target = (
                f"<dd>won {cells.num(now, body, f'kpis/{name}/numerator')} of quota"
                f" {cells.num(now, body, f'kpis/{name}/denominator')}</dd>"
            )
        cards.append(
            f'<dl class="card"><dt>{esc(name)}</dt><dd>{value}</dd>'
            f'<dd class="trend {trend}">previous {previous.get("period", "")}: {was}</dd>{target}</dl>'
        )
    period = body.get("period", query.get("period", ""))
    return f'<div class="cards" aria-label="KPIs of {esc(period)}">{"".join(cards)}</div>'


def _trend(now: Any, before: Any) -> str:
    """up, down or flat: a direction for the eye (a CSS class); the numbers are the cells."""
    try:
        a, b = float(now), float(before)
    except (TypeError, ValueError):
        return "flat"
    return "up" if a > b else "down" if a < b else "flat"


def kpi_table(cells: Cells, now: Source, body: Any, before: Source, previous: Any) -> str:
    rows = [
        [
            esc(name),
            cells.num(now, body, f"kpis/{name}/value"),
            cells.num(before, previous, f"kpis/{name}/value"),
            esc(body["kpis"][name].get("unit", "")),
        ]
        for name in sorted(body.get("kpis", {}))
    ]
    return table(["KPI", str(body.get("period", "")), str(previous.get("period", "")), "unit"], rows)


def pipeline(cells: Cells, source: Source, body: Any, query: Mapping[str, str]) -> str:
    rows, ids, labels = [], [], []
    for n, row in enumerate(body.get("rows", [])):
        weighted = cells.num(source, body, f"rows/{n}/weighted_value")
        ids.append(_cell_id(weighted))
        labels.append(f"{row.get('group')} {row.get('currency') or ''}".strip())
        rows.append(
            [
                esc(row.get("group")),
                esc(row.get("currency") or ""),
                cells.num(source, body, f"rows/{n}/count"),
                cells.num(source, body, f"rows/{n}/value"),
                weighted,
                cells.num(source, body, f"rows/{n}/stuck"),
            ]
        )
    stuck = [
        [
            link(f"/ui/deals/{deal.get('deal_id')}", str(deal.get("deal_id")), query),
            esc(deal.get("stage")),
            esc(deal.get("rep_id")),
        ]
        for deal in body.get("stuck", [])
        if isinstance(deal, Mapping)
    ]
    return (
        table(["stage", "currency", "deals", "value", "weighted value", "stuck"], rows)
        + (chart("chart-pipeline", "weighted value by stage", labels, ids) if ids else "")
        + "<h3>Stuck deals</h3>"
        + table(["deal", "stage", "rep"], stuck)
    )


def funnel(cells: Cells, source: Source, body: Any) -> str:
    rows, ids, labels = [], [], []
    for n, row in enumerate(body.get("rows", [])):
        entered = cells.num(source, body, f"rows/{n}/entered")
        ids.append(_cell_id(entered))
        labels.append(str(row.get("stage")))
        rows.append(
            [esc(row.get("stage")), entered]
            + [
                cells.num(source, body, f"rows/{n}/{k}")
                for k in ("advanced", "lost", "conversion", "from_leads")
            ]
        )
    totals = " ".join(
        f"{esc(k)} {cells.num(source, body, k)}" for k in ("leads", "qualified", "won", "lead_to_won")
    )
    return (
        f'<p class="totals">{totals}</p>'
        + table(["stage", "entered", "advanced", "lost", "conversion", "from leads"], rows)
        + chart("chart-funnel", "deals entering each stage", labels, ids)
    )


def forecast(cells: Cells, source: Source, body: Any) -> str:
    rows = []
    for currency, parts in sorted((body.get("forecast") or {}).items()):
        if isinstance(parts, Mapping):
            rows += [
                [esc(currency), esc(k), cells.num(source, body, f"forecast/{currency}/{k}")]
                for k in sorted(parts)
                if not isinstance(parts[k], (Mapping, list))
            ]
    return table(["currency", "part", "amount"], rows)


def leaderboard(cells: Cells, source: Source, body: Any, query: Mapping[str, str]) -> str:
    rows = [
        [
            str(n + 1),
            link(f"/ui/reps/{row.get('id')}", str(row.get("id")), query),
            cells.num(source, body, f"ranking/{n}/value"),
        ]
        for n, row in enumerate(body.get("ranking", [])[:20])
    ]
    return table(["#", "rep", str(body.get("kpi", ""))], rows)


def flags(cells: Cells, source: Source, body: Any, query: Mapping[str, str]) -> str:
    rows = [
        [
            link(f"/ui/reps/{flag.get('rep_id')}", str(flag.get("rep_id")), query),
            esc(flag.get("kpi")),
            cells.num(source, body, f"flags/{n}/value"),
            cells.num(source, body, f"flags/{n}/team_median"),
            esc(flag.get("why")),
        ]
        for n, flag in enumerate(body.get("flags", []))
    ]
    return table(["rep", "KPI", "value", "team median", "why"], rows)


def targets(cells: Cells, source: Source, body: Any) -> str:
    """The team's quotas and objectives as the review answers them (their scalar fields)."""
    rows = []
    for rep, quota in sorted((body.get("quotas") or {}).items()):
        for key in sorted(quota) if isinstance(quota, Mapping) else []:
            if not isinstance(quota[key], (Mapping, list)):
                rows.append([esc(f"quota {rep}"), esc(key), cells.num(source, body, f"quotas/{rep}/{key}")])
    for n, objective in enumerate(body.get("objectives") or []):
        for key in sorted(objective) if isinstance(objective, Mapping) else []:
            if not isinstance(objective[key], (Mapping, list)):
                rows.append(
                    [esc(f"objective {n + 1}"), esc(key), cells.num(source, body, f"objectives/{n}/{key}")]
                )
    return table(["target", "field", "value"], rows)
