"""``kameng usdt``: the exchange rate, the watcher run by hand, and the transfers on record
(what paid no payment is what an admin looks at)."""

from __future__ import annotations

import click

from cli.common import (
    NUMBERS_AS_ARGUMENTS,
    OPERATOR,
    credit_by_hand,
    positive_amount,
    run_on_platform,
)
from core.clock import as_utc
from core.decisions.usdt import format_units
from core.models import UsdtTransferStatus
from core.money import format_amount
from core.payments.service import Settled
from core.payments.usdt import RateView, TransferView, WatchReport


@click.group("usdt")
def usdt() -> None:
    """USDT (TRC20) top-ups: rate, watcher, transfers."""


@usdt.group("rate", invoke_without_command=True)
@click.pass_context
def rate(ctx: click.Context) -> None:
    """The exchange rate in force (CNY per 1 USDT)."""
    if ctx.invoked_subcommand is not None:
        return
    view: RateView | None = run_on_platform(lambda p: p.usdt.rate())
    if view is None:
        click.echo("no rate set: kameng usdt rate set 7.25")
        return
    click.echo(
        f"1 USDT = {format_amount(view.fen_per_usdt)} (set by {view.set_by} at "
        f"{as_utc(view.set_at):%Y-%m-%d %H:%M} UTC{'; ' + view.note if view.note else ''})"
    )


@rate.command("set", context_settings=NUMBERS_AS_ARGUMENTS)
@click.argument("price", callback=positive_amount)
@click.option("--note", default="", help="why (kept in the audit log)")
@click.option(
    "--yes",
    is_flag=True,
    help="confirm a rate more than 20% away from the one in force (a typo would mis-credit "
    "every USDT top-up)",
)
def rate_set(price: int, note: str, yes: bool) -> None:
    """Set the rate: PRICE of 1 USDT in the deployment's currency, e.g. 7.25. A price
    outside the currency's sane range is refused."""
    view: RateView = run_on_platform(lambda p: p.usdt.set_rate(price, note=note, confirmed=yes))
    click.echo(f"1 USDT = {format_amount(view.fen_per_usdt)} from now on")


@usdt.command("watch")
def watch() -> None:
    """Read the deposit address's incoming transfers once and settle what they pay."""
    report: WatchReport = run_on_platform(lambda p: p.usdt.watch())
    click.echo(
        f"{report.listed} listed, {report.recorded} new, {report.credited} credited, "
        f"{report.late} too late, {report.mismatched} paying nothing, "
        f"{report.waiting} waiting for confirmations"
    )


@usdt.command("transfers")
@click.option(
    "--status",
    type=click.Choice([s.value for s in UsdtTransferStatus]),
    default=None,
    help="only these (mismatched: USDT that paid no payment)",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=50)
def transfers(status: str | None, limit: int) -> None:
    """Transfers to the deposit address on record, newest first."""
    wanted = None if status is None else UsdtTransferStatus(status)
    rows: list[TransferView] = run_on_platform(lambda p: p.usdt.transfers(wanted, limit=limit))
    if not rows:
        click.echo("no transfers")
    for t in rows:
        why = f" ({t.reason})" if t.reason else ""
        pays = f" → payment {t.payment_id}" if t.payment_id else ""
        click.echo(
            f"{as_utc(t.paid_at):%Y-%m-%d %H:%M:%S} {format_units(t.amount)} USDT "
            f"from {t.from_address} {t.status.value}{why}{pays} tx {t.tx_id}"
        )


@usdt.command("credit")
@click.argument("tx_id")
@credit_by_hand(amount_help="what to credit (default: what arrived, at today's rate, rounded down)")
def credit(tx_id: str, to: int, note: str, amount: int | None) -> None:
    """Credit a transfer that paid no payment (TX_ID) to a reseller: audited, once."""
    settled: Settled = run_on_platform(
        lambda p: p.usdt.credit_transfer(
            tx_id,
            admin_telegram_id=None,
            to_telegram_id=to,
            note=note,
            amount=amount,
            operator=OPERATOR,
        )
    )
    payment = settled.payment
    balance = "" if settled.balance is None else f"; balance now {format_amount(settled.balance)}"
    click.echo(
        f"{settled.outcome}: payment {payment.id}, {format_amount(payment.amount)} "
        f"to {payment.credited_telegram_id}{balance}"
    )
