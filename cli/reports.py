"""``kameng reports``: the platform's revenue by source, from the ledger."""

from __future__ import annotations

from datetime import date

import click

from cli.common import run_on_platform
from core.money import format_amount
from core.platform import Platform
from core.revenue import RevenueReport


def render_revenue(report: RevenueReport, *, by_source: bool) -> str:
    lines = [f"revenue {report.first_day} … {report.last_day}"]
    if by_source:
        lines.extend(
            f"  {line.source:<12}{format_amount(line.amount):>14}  ({line.transactions} tx)"
            for line in report.lines
        )
    lines.append(f"  {'total':<12}{format_amount(report.total):>14}")
    lines.append(f"  {'ledger':<12}{format_amount(report.ledger_total):>14}")
    return "\n".join(lines)


@click.group("reports")
def reports() -> None:
    """Reports for the operator."""


@reports.command("revenue")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--by-source", is_flag=True, help="One line per source (spread, commission, …).")
def revenue(first: click.DateTime, last: click.DateTime, by_source: bool) -> None:
    """Revenue over local days FROM … TO (KAMENG_TIMEZONE), each source from its ledger
    account; the total equals the ledger's movements to the fen."""

    async def work(platform: Platform) -> RevenueReport:
        return await platform.revenue.report(_day(first), _day(last))

    click.echo(render_revenue(run_on_platform(work), by_source=by_source))


def _day(value: object) -> date:
    return value.date()  # type: ignore[attr-defined,no-any-return]
