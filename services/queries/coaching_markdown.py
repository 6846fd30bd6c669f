"""A team review as Markdown, written from its JSON body: what a manager pastes into a one-to-one.

Written from the answer's body (`coaching_answers.review_body`), never from the domain objects, so
the Markdown shows exactly the JSON's numbers: ratios appear as they are answered (``0.2500``),
durations in seconds. Cells are escaped so an id with a ``|`` cannot break a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(head: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    names = list(head)
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return lines


def _kpi_rows(kpis: Mapping[str, Mapping[str, Any]]) -> list[list[Any]]:
    return [
        [name, kpi["value"], kpi["unit"], kpi["numerator"], kpi["denominator"]] for name, kpi in kpis.items()
    ]


def _flag_rows(flags: Iterable[Mapping[str, Any]]) -> list[list[Any]]:
    return [[f["rep_id"], f["kpi"], f["value"], f["sample"], f["team_median"], _iqr(f)] for f in flags]


def _iqr(flag: Mapping[str, Any]) -> str:
    return f"{_cell(flag['team_q1'])} to {_cell(flag['team_q3'])}"


FLAG_HEAD = ("Rep", "KPI", "Value", "Sample", "Team median", "Team IQR")


def review_markdown(body: Mapping[str, Any]) -> str:
    """The review body as a Markdown document."""
    lines = [f"# Review of {_cell(body['team_id'])}, {body['period']}", ""]
    lines += [f"Reps: {', '.join(_cell(rep) for rep in body['reps']) or 'none'}.", ""]
    lines += ["## Objectives and attainment", ""]
    objectives = body["objectives"]
    if objectives:
        rows = [
            [
                o["objective_id"],
                o["kpi"],
                o["attainment"]["numerator"],
                o["attainment"]["denominator"],
                o["attainment"]["value"],
            ]
            for o in objectives
        ]
        lines += _table(("Objective", "KPI", "Actual", "Target", "Attainment"), rows)
    else:
        lines.append("No objective was set for this team and period.")
    lines += ["", "## Quotas", ""]
    lines += (
        _table(("KPI", "Value", "Unit", "Numerator", "Denominator"), _kpi_rows(body["quotas"]))
        if body["quotas"]
        else ["No quota was assigned to this team for this period."]
    )
    lines += ["", "## KPIs", ""]
    lines += _table(("KPI", "Value", "Unit", "Numerator", "Denominator"), _kpi_rows(body["kpis"]))
    flags = body["flags"]
    for title, key in (
        ("Flags raised", "raised"),
        ("Flags still open", "open"),
        ("Flags cleared", "cleared"),
    ):
        lines += ["", f"## {title} (against {body['previous_period']})", ""]
        lines += _table(FLAG_HEAD, _flag_rows(flags[key])) if flags[key] else ["None."]
    lines += ["", "## Coaching done", ""]
    sessions = [
        [c["at"], c["rep_id"], c["kind"], c.get("focus_area") or c.get("module_name") or c.get("module_id")]
        for c in body["coaching"]
    ]
    lines += _table(("When", "Rep", "Kind", "Focus or module"), sessions) if sessions else ["None."]
    return "\n".join(lines) + "\n"
