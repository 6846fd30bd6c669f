"""The rules of the sales process, each with a stable name, and the error that names a broken one.

A rule name is part of the public contract: publishers see it in rejections ("is my event
accepted, and if not, why?"), metrics may use it as a bounded label, and `docs/process.md`
explains each one with an example. Names are never reused for a different meaning; a rule that
is retired stays in the registry, marked so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: its stable name, the aggregate it guards, and what it says in one line."""

    name: str
    aggregate: str
    description: str


_RULES = (
    # Leads: prospecting and qualification.
    Rule(
        "lead_already_captured", "lead", "A lead is captured once; a second LeadCaptured is a duplicate lead."
    ),
    Rule("lead_not_captured", "lead", "A lead is qualified or disqualified only after it was captured."),
    Rule("bant_required", "lead", "Every BANT criterion the process requires was judged met."),
    Rule("lead_already_qualified", "lead", "A qualified lead is a deal now: it is not qualified again."),
    Rule("lead_disqualified", "lead", "A disqualified lead stays so unless the process allows requalifying."),
    # Deals: the pipeline.
    Rule("deal_already_open", "deal", "A deal is opened by one qualification; its id is not opened twice."),
    Rule("deal_not_open", "deal", "A deal exists only once its lead was qualified (LeadQualified)."),
    Rule("deal_closed", "deal", "A won or lost deal takes no pipeline events until it is reopened."),
    Rule("stage_unknown", "deal", "A deal only enters stages the process defines."),
    Rule("stage_mismatch", "deal", "A stage change starts from the stage the deal is in."),
    Rule("stage_skip_not_allowed", "deal", "A deal moves forward one required stage at a time."),
    Rule("backward_move_not_allowed", "deal", "A deal moves back only as far as the process allows."),
    Rule("needs_assessed_required", "deal", "The buyer's needs were assessed (NeedsAssessed) first."),
    Rule("solution_presented_required", "deal", "A solution was presented (SolutionPresented) first."),
    Rule("proposal_sent_required", "deal", "A proposal was sent (ProposalSent) first."),
    Rule("objections_resolved_required", "deal", "Every objection raised on the deal is resolved first."),
    Rule("objection_already_raised", "deal", "An objection id is raised once per deal."),
    Rule("objection_unknown", "deal", "Only an objection raised on the deal can be resolved."),
    Rule("objection_already_resolved", "deal", "An objection is resolved once."),
    Rule(
        "close_not_allowed_from_stage",
        "deal",
        "A deal is won or lost only from the stages the process lists.",
    ),
    Rule("credit_splits_total_100", "deal", "A won deal's credit splits total exactly 100%."),
    Rule(
        "reopen_not_allowed",
        "deal",
        "A closed deal is reopened only if the process allows it for its outcome.",
    ),
    Rule("reopen_window_passed", "deal", "A closed deal is reopened only within the process's window."),
    # Customers: follow-up and nurturing.
    Rule("customer_unknown", "customer", "A customer renews, expands or churns only after a deal was won."),
    Rule("customer_churned", "customer", "A churned customer renews, expands or churns only once won again."),
    Rule("deal_not_won_for_customer", "customer", "Follow-ups and churn name deals won for that customer."),
    # Reps.
    Rule("rep_already_active", "rep", "A rep is onboarded again only after they left."),
    Rule(
        "rep_not_active", "rep", "Only an onboarded rep who has not left moves team, leaves or gets a plan."
    ),
    Rule("rep_unknown", "rep", "A payout is approved only for a rep who was onboarded."),
    Rule("team_mismatch", "rep", "A team move starts from the rep's current team."),
    Rule("payout_already_approved", "rep", "A payout id is approved once."),
    Rule(
        "adjustment_rep_unknown",
        "rep",
        "A commission is adjusted only for a rep who was onboarded (also after they left).",
    ),
    Rule("adjustment_already_made", "rep", "An adjustment id is used once."),
    # Plans and quotas.
    Rule("plan_version_not_newer", "plan", "Each published version of a plan is newer than the last."),
    Rule("quota_identity_changed", "quota", "A quota revision keeps its assignee and period."),
)

RULES: Mapping[str, Rule] = MappingProxyType({rule.name: rule for rule in _RULES})
"""Every rule by name, in the order of the business (the order `docs/process.md` follows)."""


class RuleViolation(Exception):
    """An event the sales process does not allow, with the rule it breaks and why."""

    def __init__(self, rule: str, message: str) -> None:
        if rule not in RULES:
            raise ValueError(f"unregistered rule {rule!r}: add it to sales.rules")
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.message = message

    def as_dict(self) -> dict[str, str]:
        """The rejection as publishers see it."""
        return {"rule": self.rule, "message": self.message}
