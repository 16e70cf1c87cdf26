"""``kameng stars``: the Telegram Stars rate (fen per star) and the refunds still owed."""

from __future__ import annotations

import click

from cli.common import run_on_platform
from core.money import format_amount
from core.payments.stars import RateView, RefundView
from core.platform import Platform


@click.group("stars")
def stars() -> None:
    """Telegram Stars top-ups: the rate in force, refunds Telegram has not made yet."""


@stars.command("rate")
@click.argument("fen_per_star", type=click.IntRange(1, 1_000_000), required=False)
@click.option("--note", default="", help="why (kept in the audit log)")
@click.option(
    "--yes",
    is_flag=True,
    help="confirm a rate more than 20% away from the one in force (a typo would mis-credit "
    "every Stars top-up)",
)
def rate(fen_per_star: int | None, note: str, yes: bool) -> None:
    """Show the rate, or set FEN_PER_STAR from now on (audited, as the operator). A rate
    outside the currency's sane range is refused (core/decisions/rates.py)."""

    async def work(platform: Platform) -> RateView | int | None:
        if fen_per_star is None:
            return await platform.stars.rate()
        return await platform.stars.set_rate(fen_per_star, note=note, confirmed=yes)

    result = run_on_platform(work)
    if result is None:
        click.echo("no Stars rate is set: kameng stars rate FEN_PER_STAR")
    elif isinstance(result, int):
        click.echo(f"1 star = {format_amount(result)}")
    else:
        click.echo(f"1 star = {format_amount(result.fen_per_star)} from now on")


@stars.command("refunds")
def refunds() -> None:
    """Refunds whose balance was taken back but whose stars Telegram has not returned:
    press Refund again on the admin's card (or /stars_refund) to retry."""

    async def work(platform: Platform) -> list[RefundView]:
        return await platform.stars.pending_refunds()

    pending = run_on_platform(work)
    for refund in pending:
        click.echo(
            f"{refund.payment_id}  {refund.created_at:%Y-%m-%d %H:%M} UTC"
            f"  user {refund.telegram_id}  {refund.stars} stars"
            f"  {format_amount(refund.amount)}  by {refund.decided_by}"
        )
    if not pending:
        click.echo("no refunds pending")
