"""``kameng credit``: a reseller's credit line (账期) — show, grant, freeze, and the daily
interest run (the scheduler runs it too)."""

from __future__ import annotations

import click

from cli.common import positive_amount, run_on_platform
from core.credit import CreditStatement, DailyRun
from core.decisions.credit import Suggestion
from core.money import format_amount
from core.platform import Platform


def render_statement(s: CreditStatement) -> str:
    state = "frozen" if s.frozen else ("OVERDUE" if s.overdue else "open")
    return "\n".join(
        [
            f"credit line of {s.telegram_id}: {state}",
            f"  limit {format_amount(s.limit)}, {s.rate_bps} bps a day, {s.term_days} days"
            f" (from {s.starts_on}, due {s.due_on})",
            f"  balance {format_amount(s.balance)}, drawn {format_amount(s.drawn)}",
            f"  interest owed {format_amount(s.interest_owed)}"
            f" (posted in all {format_amount(s.interest_total)},"
            f" through {s.accrued_through or '-'})",
            f"  repaid {format_amount(s.repaid)}, owed in all {format_amount(s.owed)}",
        ]
    )


def render_suggestion(s: Suggestion) -> str:
    h = s.history
    return "\n".join(
        [
            f"suggested limit {format_amount(s.limit)} from the last 90 days:",
            f"  spend {format_amount(h.spend_90d)} (a month {format_amount(s.monthly_spend)})",
            f"  active in {h.weeks_active} of 13 weeks ({s.regularity_bps / 100:.0f}%),"
            f" on {h.active_days} days",
            f"  refunds {format_amount(h.refunds_90d)} ({s.refund_bps / 100:.1f}%)",
            f"  {h.top_ups} top-ups, {format_amount(h.top_up_total)}"
            f" ({s.top_up_bps / 100:.0f}% of spend)",
        ]
    )


@click.group("credit")
def credit() -> None:
    """Resellers' credit lines: limit, daily interest, term, due date."""


@credit.command("show")
@click.argument("telegram_id", type=int)
def show(telegram_id: int) -> None:
    """The line's terms and statement: drawn, interest, repayments, due date."""

    async def work(platform: Platform) -> str:
        statement = await platform.credit.statement(telegram_id)
        return render_statement(statement)

    click.echo(run_on_platform(work))


@credit.command("suggest")
@click.argument("telegram_id", type=int)
def suggest(telegram_id: int) -> None:
    """The limit the reseller's own history suggests, and the figures used."""

    async def work(platform: Platform) -> str:
        return render_suggestion(await platform.credit.suggest(telegram_id))

    click.echo(run_on_platform(work))


@credit.command("grant")
@click.argument("telegram_id", type=int)
@click.option("--limit", "limit", required=True, callback=positive_amount, help="e.g. 500.00")
@click.option("--rate-bps", type=int, required=True, help="interest a day, basis points")
@click.option("--term-days", type=int, required=True, help="days to repay, from today")
def grant(telegram_id: int, limit: int, rate_bps: int, term_days: int) -> None:
    """Grant (or change) a line; its term starts today."""

    async def work(platform: Platform) -> str:
        statement = await platform.credit.grant(
            None, telegram_id, limit=limit, rate_bps=rate_bps, term_days=term_days
        )
        return render_statement(statement)

    click.echo(run_on_platform(work))


@credit.command("freeze")
@click.argument("telegram_id", type=int)
@click.option("--unfreeze", is_flag=True, help="Let the line be drawn again.")
def freeze(telegram_id: int, unfreeze: bool) -> None:
    """No further drawing on the line (interest still accrues)."""

    async def work(platform: Platform) -> str:
        statement = await platform.credit.freeze(None, telegram_id, frozen=not unfreeze)
        return render_statement(statement)

    click.echo(run_on_platform(work))


@credit.command("accrue")
def accrue() -> None:
    """Post the interest of every whole day not posted yet, and remind the overdue."""

    async def work(platform: Platform) -> DailyRun:
        return await platform.credit.run_daily()

    run = run_on_platform(work)
    click.echo(
        f"posted {run.posted} interest entries ({format_amount(run.interest)}),"
        f" reminded {run.reminded}"
    )
