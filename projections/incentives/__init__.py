"""The incentive engine's pure commission maths: credit lines and plan terms in, a statement out.

- `projections.incentives.terms`: plan terms, built from a published plan by `terms_of`.
- `projections.incentives.tiers`: marginal and flat tiers, quota-based thresholds, decelerators.
- `projections.incentives.statement`: `statement`, applying a plan's rules to a rep's credit lines.
- `projections.incentives.split`: a won deal's amount split into per-rep credit lines.
- `projections.incentives.ledger`: the fold of incentive facts the projector keeps (set union).
- `projections.incentives.facts` / `books`: the ledger read back, and statements rated from it
  (credit and overlay credit, plan in force, quota, reversals, adjustments, draw balances).
- `projections.incentives.context`: what statements read from other read models (organisation,
  KPI reports).
- `projections.incentives.approvals`: approved periods frozen, later changes carried forward.
- `projections.incentives.what_if`: a proposed plan beside the plan in force.

Semantics and worked examples: docs/incentives.md.
"""

from projections.incentives.lines import (
    Adjustment,
    CreditLine,
    KpiReading,
    LineKind,
    Reversal,
    Statement,
    StatementLine,
)
from projections.incentives.split import credit_lines, split_amount
from projections.incentives.statement import statement
from projections.incentives.terms import PlanTerms, SpiffTerms, spiff_terms_of, terms_of

__all__ = [
    "Adjustment",
    "CreditLine",
    "KpiReading",
    "LineKind",
    "PlanTerms",
    "Reversal",
    "SpiffTerms",
    "Statement",
    "StatementLine",
    "credit_lines",
    "spiff_terms_of",
    "split_amount",
    "statement",
    "terms_of",
]
