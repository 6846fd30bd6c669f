"""The incentive engine's pure commission maths: credit lines and plan terms in, a statement out.

- `projections.incentives.terms`: plan terms, built from a published plan by `terms_of`.
- `projections.incentives.tiers`: marginal and flat tiers, quota-based thresholds, decelerators.
- `projections.incentives.statement`: `statement`, applying a plan's rules to a rep's credit lines.
- `projections.incentives.split`: a won deal's amount split into per-rep credit lines.

Semantics and worked examples: docs/incentives.md. No events are folded here yet: the fold that
turns events into credit lines, and the read model over statements, come next.
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
