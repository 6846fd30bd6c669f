"""The sales process as a state machine: which events may change a lead, deal, customer, rep, plan or quota.

Pure domain code (standard library, pydantic and the event contracts only): no broker, database,
clock or environment. The process is configurable per organisation (`load_process`, format in
`docs/process.md`); every rejection is a `RuleViolation` naming a rule from `RULES`.

    process = load_process(None)                       # the shipped default
    states = apply_event(event, {target: stored_state_of(target) for target in targets(event)}, process)

See `sales.routing` for how the write model uses it.
"""

from sales.process import (
    ProcessConfig,
    ProcessConfigError,
    load_process,
    parse_process,
    stage_probability,
)
from sales.routing import (
    KINDS,
    KINDS_WITH_RULES,
    aggregate_of,
    apply,
    apply_event,
    decide_for,
    evolve_event,
    evolve_for,
    opens,
    targets,
)
from sales.rules import RULES, Rule, RuleViolation

__all__ = [
    "KINDS",
    "KINDS_WITH_RULES",
    "RULES",
    "ProcessConfig",
    "ProcessConfigError",
    "Rule",
    "RuleViolation",
    "aggregate_of",
    "apply",
    "apply_event",
    "decide_for",
    "evolve_event",
    "evolve_for",
    "load_process",
    "opens",
    "parse_process",
    "stage_probability",
    "targets",
]
