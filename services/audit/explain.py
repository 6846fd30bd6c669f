"""`salesledger audit explain`: the live read models' partials merged, explained, written out.

The explanation itself is pure (`projections.explain`); this module turns the partials the workers
serve at `GET /v1/internal/partials/{name}` (gathered by the command, `services.replay.live`) into
the merged read models the queries merge (`kpi_fold.merge_partials`, `org.merge_all`,
`ledger.merge_all`), and renders the explanation as text, CSV or JSON.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import Any, Literal

from projections import kpi_fold, org
from projections.explain import Explanation, KpiFigure, explain
from projections.incentives import ledger
from sales.process import ProcessConfig
from services.projector.readmodels import ReadModel
from services.web.encoding import jsonable

MODELS = ("kpis", "org", "incentives")
"""The read models an explanation reads."""
Format = Literal["text", "csv", "json"]
CSV_COLUMNS = (
    "figure",
    "name",
    "value",
    "currency",
    "rule",
    "plan",
    "version",
    "event_id",
    "role",
    "entity",
    "amount",
)

Live = Mapping[str, Mapping[tuple[int, str], Any]]
"""Per read model, ``(source partition, key) -> [offset, state]`` as the workers serve it."""


def explanation_of(
    live: Live, models: Sequence[ReadModel], process: ProcessConfig, timezone: str, rep_id: str, period: str
) -> Explanation:
    """The explanation over the live partials, merged as the query side merges them."""
    by_name = {model.name: model for model in models}

    def states(name: str) -> list[tuple[str, Any]]:
        model = by_name[name]
        loaded = ((key, model.loaded(key, stored).state) for (_, key), stored in live.get(name, {}).items())
        return [(key, state) for key, state in loaded if state is not None]

    kpis = kpi_fold.merge_partials(states("kpis"), timezone)
    organisation = org.merge_all(state for _, state in states("org"))
    entries = ledger.merge_all(states("incentives"))
    return explain(kpis, organisation, entries, process, rep_id, period)


def render(explanation: Explanation, form: Format) -> str:
    if form == "json":
        return json.dumps(as_json(explanation), indent=2) + "\n"
    if form == "csv":
        return as_csv(explanation)
    return as_text(explanation)


def as_json(explanation: Explanation) -> dict[str, Any]:
    """The explanation as JSON: every KPI figure (value, unit, exact terms, basis, events, days),
    every payout figure, the totals; decimals as exact strings."""
    kpis = [
        {
            "name": figure.name,
            **asdict(figure.value),
            "explained": figure.explained,
            "basis": figure.basis,
            "events": [asdict(one) for one in figure.events],
            "days": [asdict(day) for day in figure.days],
        }
        for figure in explanation.kpis
    ]
    body = {
        "rep_id": explanation.rep_id,
        "period": explanation.period,
        "first": explanation.first,
        "last": explanation.last,
        "timezone": explanation.timezone,
        "kpis": kpis,
        "payouts": [asdict(figure) for figure in explanation.payouts],
        "totals": dict(explanation.totals),
    }
    return jsonable(body)  # type: ignore[no-any-return]


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _kpi_rows(figure: KpiFigure) -> Iterator[tuple[str, ...]]:
    value = figure.value
    head = ("kpi", figure.name, _text(value.value), _text(value.currency), "", "", "")
    for one in figure.events:
        yield (*head, one.event_id, one.role, one.entity, _text(one.amount))
    for day in figure.days:
        yield (*head, "", "day", day.day.isoformat(), str(day.amount))
    if not figure.events and not figure.days:
        yield (*head, "", "", "", "")


def as_csv(explanation: Explanation) -> str:
    """One row per (figure, event id); a figure with none (or an activity day) has its own row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for figure in explanation.kpis:
        writer.writerows(_kpi_rows(figure))
    for line in explanation.payouts:
        head = (
            "payout",
            line.kind,
            str(line.earning),
            line.currency,
            _text(line.rule_id),
            _text(line.plan_id),
            _text(line.plan_version),
        )
        tail = ("", _text(line.deal_id), str(line.base))
        for event_id in line.event_ids or ("",):
            writer.writerow((*head, event_id, *tail))
    return out.getvalue()


def as_text(explanation: Explanation) -> str:
    """For a person: a section per KPI (value, how it is made, its events), then the statement."""
    e = explanation
    out = [f"{e.rep_id}, {e.period}: {e.first} to {e.last} ({e.timezone})", "", "KPIs"]
    for figure in e.kpis:
        value = figure.value
        unit = f"{value.currency} " if value.currency else ""
        out.append(f"  {figure.name} = {_text(value.value) or 'undefined'} {unit}({value.unit})")
        out.append(f"    {figure.basis}")
        for one in figure.events:
            amount = f"  {one.amount} {one.currency}" if one.amount is not None else ""
            share = f"  share {one.share_percent}%" if one.share_percent is not None else ""
            days = f"  {one.cycle_days} days" if one.cycle_days is not None else ""
            label = f"  {one.label}" if one.label else ""
            where = f"{one.event_id}  {one.entity}  {one.at.isoformat()}"
            out.append(f"    {one.role:<9} {where}{amount}{share}{days}{label}")
        if figure.days:
            out.append("    " + ", ".join(f"{day.day}: {day.amount}" for day in figure.days))
    out += ["", "Payouts"]
    if not e.payouts:
        out.append("  no statement line")
    for line in e.payouts:
        plan = f"plan {line.plan_id} v{line.plan_version}" if line.plan_id else "no plan"
        rule = f"rule {line.rule_id}" if line.rule_id else "no rule"
        deal = f"  deal {line.deal_id}" if line.deal_id else ""
        rate = f"  rate {line.rate_percent}%" if line.rate_percent is not None else ""
        earning = f"base {line.base}  earning {line.earning} {line.currency}"
        out.append(f"  {line.kind}  {rule}  {plan}{deal}{rate}  {earning}")
        out.append(f"    {line.explanation}")
        out.append(f"    events: {' '.join(line.event_ids) or 'none'}")
    totals = ", ".join(f"{amount} {currency}" for currency, amount in e.totals.items()) or "nothing"
    out += ["", f"Total: {totals}", ""]
    return "\n".join(out)
