"""An audit's outcome, for a person (`as_text`) or a program (`as_json`).

Harmless findings (republished, pending) are shown but never fail an audit: they are how a
correct at-least-once relay looks, and an auditor should see them rather than wonder.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from services.audit.findings import Finding


@dataclass(frozen=True, slots=True)
class Examined:
    """One source read: where, and how much."""

    source: Literal["kafka", "store"]
    where: str
    events: int
    aggregates: int


@dataclass(frozen=True, slots=True)
class Report:
    examined: tuple[Examined, ...]
    findings: tuple[Finding, ...]
    relayed_up_to: int | None = None
    """The relay's saved store sequence when the store was read (None: the store was not read)."""

    @property
    def failures(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.harmless]

    @property
    def ok(self) -> bool:
        return not self.failures


def _counts(findings: Sequence[Finding]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in Counter(f.kind.value for f in findings).items())


def as_text(report: Report) -> str:
    lines = []
    for seen in report.examined:
        line = f"{seen.source:<6}{seen.where}: {seen.events} events in {seen.aggregates} aggregates"
        if seen.source == "store" and report.relayed_up_to is not None:
            line += f" (relayed up to seq {report.relayed_up_to})"
        lines.append(line)
    for f in report.findings:
        event = f" {f.event}" if f.event else ""
        lines.append(
            f"{f.kind.value.upper():<12}{f.source:<6}{f.position}  {f.key or '?'} ({f.aggregate}){event}"
        )
        lines.append(f"{'':<12}{f.detail}; expected {f.expected or '-'}, found {f.actual or '-'}")
    harmless = [f for f in report.findings if f.harmless]
    tail = f" (harmless: {_counts(harmless)})" if harmless else ""
    if report.ok:
        lines.append(f"verified: every chain holds and nothing is missing{tail}")
    else:
        lines.append(f"FAILED: {len(report.failures)} findings ({_counts(report.failures)}){tail}")
    return "\n".join(lines)


def as_json(report: Report) -> dict[str, object]:
    return {
        "ok": report.ok,
        "examined": [
            {"source": s.source, "where": s.where, "events": s.events, "aggregates": s.aggregates}
            for s in report.examined
        ],
        "relayed_up_to": report.relayed_up_to,
        "findings": [finding.as_json() for finding in report.findings],
    }
