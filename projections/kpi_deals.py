"""Deal outcome KPIs: deals won, revenue (gross and credited), average deal size, win rate, cycle length.

Two different questions, two different rules (see docs/kpis.md):

- **What was booked** (deals won, revenue, credit, average deal size, quota): a deal counts on its
  *first* win, on that day, for its amount. Won again after a reopening, it does not count again;
  reopened, its win is not taken back (a cancelled contract is `CustomerChurned`).
  ``won_revenue`` is the whole deal for its owner; ``credited_revenue`` is each rep's share of the
  credit splits (a 1,000 order split 50/50 credits 500 to each rep, 1,000 to a team holding both).
- **What was decided** (win rate, cycle length): a deal counts at most once per period, with the
  outcome of its last close in the period. Lost in October, reopened and won in November: lost in
  October, won in November, won (once) in Q4. Open deals are excluded.

Sales cycle length counts won deals only, in whole local days from qualification (the deal's
creation) to the close; a deal whose qualification is not known is left out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import Decimal

from projections.kpi_deal_path import Close, DealPath
from projections.kpi_scope import Includes, KpiValue, Window, count, money, ratio


def booked_kpis(paths: Iterable[DealPath], window: Window, includes: Includes) -> dict[str, KpiValue]:
    """Deals won, won revenue (owner), credited revenue (splits) and average deal size, per currency."""
    won: Counter[str] = Counter()
    gross: defaultdict[str, Decimal] = defaultdict(Decimal)
    credited: defaultdict[str, Decimal] = defaultdict(Decimal)
    for path in paths:
        win = path.first_win
        if win is None or not window.holds(win.record.at):
            continue
        day, record = window.day(win.record.at), win.record
        currency, amount = record.currency or "", record.amount or Decimal(0)
        if includes(win.owner, day):
            won[currency] += 1
            gross[currency] += amount
        for rep_id, share in record.splits:
            if includes(rep_id, day):
                credited[currency] += amount * share / 100
    report = {"deals_won": count(sum(won.values()))}
    for currency in sorted(gross):
        report[f"won_revenue.{currency}"] = money(gross[currency], currency)
        report[f"average_deal_size.{currency}"] = ratio(gross[currency], won[currency], "money", currency)
    for currency in sorted(credited):
        report[f"credited_revenue.{currency}"] = money(credited[currency], currency)
    return report


def decided_kpis(paths: Iterable[DealPath], window: Window, includes: Includes) -> dict[str, KpiValue]:
    """Win rate (won / (won + lost)), deals lost, and the mean sales cycle of deals won, in days."""
    won = lost = cycle_deals = cycle_days = 0
    for path in paths:
        close = _last_close_in(path, window)
        if close is None or not includes(close.owner, window.day(close.record.at)):
            continue
        if not close.record.won:
            lost += 1
            continue
        won += 1
        if path.opened_at is not None:
            cycle_deals += 1
            cycle_days += (window.day(close.record.at) - window.day(path.opened_at)).days
    return {
        "win_rate": ratio(won, won + lost),
        "deals_lost": count(lost),
        "sales_cycle_days": ratio(cycle_days, cycle_deals, "days"),
    }


def _last_close_in(path: DealPath, window: Window) -> Close | None:
    closes = [close for close in path.closes if window.holds(close.record.at)]
    return closes[-1] if closes else None
