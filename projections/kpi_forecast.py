"""Forecast: what a scope is expected to book in a period, in three layers, per currency.

- ``forecast_won``: already booked in the period (credited revenue: what counts toward quota).
- ``forecast_committed``: open deals in a *commit stage* expected to close in the period, at their
  full amount. The commit stages are the stages the process lets a deal be won from
  (``deal.won_from``; ``closing`` by default), or the last stage when that is ``any``.
- ``forecast_weighted``: every open deal expected to close in the period, at amount x the
  probability of its current stage (`sales.process.stage_probability`): three 100,000
  deals at 50 %, 50 % and 100 % weigh 200,000.

**Expected close.** The contracts carry no expected close date, so a deal is expected to close on
the day the buyer said they would decide (BANT ``decision_by`` at qualification). A deal without
one, without any amount (pitched, proposed or budget), or in a stage the process no longer
defines is in no period's forecast. The pipeline is the *current* one (every fact known), so the
forecast of a past period shows what is still open with a decision date in it (slipped deals);
slipped deals are not rolled forward. Open deals are attributed to their current owner as a
member of the teams and territories they have on the expected close day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from projections.kpi_deal_path import DealPath
from projections.kpi_scope import Includes, KpiValue, Window, money
from sales.process import ProcessConfig, stage_probability


def commit_stages(process: ProcessConfig) -> frozenset[str]:
    """The stages whose deals are committed: those a deal may be won from."""
    won_from = process.deal.won_from
    return frozenset(process.stage_names[-1:] if won_from == "any" else won_from)


def forecast_kpis(
    paths: Iterable[DealPath],
    window: Window,
    includes: Includes,
    process: ProcessConfig,
    booked: Mapping[str, KpiValue],
) -> dict[str, KpiValue]:
    """``forecast_weighted``, ``forecast_committed`` and ``forecast_won`` per currency."""
    weighted: defaultdict[str, Decimal] = defaultdict(Decimal)
    committed: defaultdict[str, Decimal] = defaultdict(Decimal)
    commit = commit_stages(process)
    for path in paths:
        stage, close_day, amount, currency = path.stage, path.decision_by, path.amount, path.currency
        if not path.is_open or stage is None or process.position(stage) is None:
            continue
        if close_day is None or amount is None or currency is None or not window.holds_day(close_day):
            continue
        if includes(path.owner, close_day):
            weighted[currency] += amount * stage_probability(process, stage)
            committed[currency] += amount if stage in commit else Decimal(0)
    won = {
        v.currency: v.numerator for k, v in booked.items() if k.startswith("credited_revenue.") and v.currency
    }
    report: dict[str, KpiValue] = {}
    for currency in sorted(set(weighted) | set(won)):
        report[f"forecast_weighted.{currency}"] = money(weighted[currency], currency)
        report[f"forecast_committed.{currency}"] = money(committed[currency], currency)
        report[f"forecast_won.{currency}"] = money(won.get(currency) or Decimal(0), currency)
    return report
