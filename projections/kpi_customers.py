"""Customer KPIs: retention, and the repeat business (renewals, expansions) revenue per sale counts.

**Customers from events.** A customer is *active* at an instant when its latest win or churn
before that instant is a win (`DealWon` makes a customer, `CustomerChurned` loses it, a later
win brings it back). It belongs to its *account rep*: the owner of that latest win, in the team
and territories the rep had on the day of the win.

**Retention** = (customers at end - new customers) / customers at start x 100, where customers at
start and end are the active customers at the period's first and last instant, and new customers
are those active at the end but not at the start (first wins and win-backs alike). So the
numerator is exactly the customers active at both ends: a customer who churned and came back
within the period counts as retained. No customers at the start: None.

**Repeat sales.** A renewal or an expansion counts for the rep it names, on its day. One tracked
as its own won deal (its ``deal_id`` also won for this customer) is already counted as that win
and is not counted again.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from projections.kpi_records import CustomerLost, CustomerSale, CustomerWon, Timeline
from projections.kpi_scope import Includes, KpiValue, Window, count, money, ratio


def retention_kpis(customers: Iterable[Timeline], window: Window, includes: Includes) -> dict[str, KpiValue]:
    """Customers at start and end, new and lost customers, and the retention rate."""
    at_start = at_end = retained = 0
    for timeline in customers:
        start, end = _account(timeline, window.start, window), _account(timeline, window.end, window)
        in_start = start is not None and includes(*start)
        in_end = end is not None and includes(*end)
        at_start, at_end, retained = at_start + in_start, at_end + in_end, retained + (in_start and in_end)
    new = at_end - retained
    return {
        "customers_start": count(at_start),
        "customers_end": count(at_end),
        "new_customers": count(new),
        "customers_lost": count(at_start - retained),
        "retention_rate": ratio(at_end - new, at_start),
    }


def _account(timeline: Timeline, before: datetime, window: Window) -> tuple[str, date] | None:
    """``(account rep, day of the win)`` if the customer was active just before ``before``."""
    status = [r for r in timeline.records if isinstance(r, CustomerWon | CustomerLost) and r.at < before]
    last = status[-1] if status else None
    return (last.rep_id, window.day(last.at)) if isinstance(last, CustomerWon) else None


@dataclass
class Sales:
    """Sales of one kind in a scope and period: how many and how much, per currency."""

    number: Counter[str] = field(default_factory=Counter)
    amount: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))


def repeat_sales(customers: Iterable[Timeline], window: Window, includes: Includes) -> dict[str, Sales]:
    """``renewal`` and ``expansion`` sales (upsell and cross-sell) in the scope and period."""
    sales = {"renewal": Sales(), "expansion": Sales()}
    for timeline in customers:
        won_deals = {record.deal_id for record in timeline.of(CustomerWon)}
        for sale in timeline.of(CustomerSale):
            if sale.deal_id in won_deals or not window.holds(sale.at):
                continue
            if includes(sale.rep_id, window.day(sale.at)):
                kind = sales["renewal" if sale.kind == "renewal" else "expansion"]
                kind.number[sale.currency] += 1
                kind.amount[sale.currency] += sale.amount
    return sales


def repeat_sales_kpis(sales: Mapping[str, Sales]) -> dict[str, KpiValue]:
    """``renewals`` and ``expansions`` (counts) and their revenue per currency."""
    report: dict[str, KpiValue] = {}
    for kind, plural in (("renewal", "renewals"), ("expansion", "expansions")):
        report[plural] = count(sum(sales[kind].number.values()))
        for currency, amount in sorted(sales[kind].amount.items()):
            report[f"{kind}_revenue.{currency}"] = money(amount, currency)
    return report


def revenue_per_sale_kpis(booked: Mapping[str, KpiValue], sales: Mapping[str, Sales]) -> dict[str, KpiValue]:
    """Every sale's revenue (new deals, renewals, expansions) / the number of sales, per currency."""
    number: Counter[str] = Counter()
    amount: defaultdict[str, Decimal] = defaultdict(Decimal)
    for key, value in booked.items():
        if key.startswith("average_deal_size.") and value.currency is not None:
            number[value.currency] += int(value.denominator or 0)
            amount[value.currency] += value.numerator or Decimal(0)
    for kind in sales.values():
        number.update(kind.number)
        for currency, total in kind.amount.items():
            amount[currency] += total
    return {
        f"revenue_per_sale.{currency}": ratio(amount[currency], number[currency], "money", currency)
        for currency in sorted(number)
    }
