"""``kameng payments``: list payments, ask a provider about one, credit one by hand."""

from __future__ import annotations

import click

from cli.common import OPERATOR, credit_by_hand, run_on_platform
from core.decisions.usdt import format_units
from core.models import PaymentStatus
from core.money import format_amount
from core.payments import PaymentView, Settled
from core.platform import Platform


def in_unit(amount: int, currency: str | None) -> str:
    """A provider's amount in its own unit: ``13.801000 USDT``, ``500 XTR``; ``None``: the
    deployment's money, ``100.00``."""
    if currency == "USDT":
        return f"{format_units(amount)} USDT"
    if currency is None:
        return format_amount(amount)
    return f"{amount} {currency}"  # whole units (stars)


def _line(payment: PaymentView) -> str:
    unit = payment.provider_currency
    paid = "" if payment.paid_amount is None else f"  paid {in_unit(payment.paid_amount, unit)}"
    asked = (
        f" ({in_unit(payment.provider_amount, unit)})"
        if payment.provider_amount is not None and unit is not None
        else ""
    )
    reference = f"  ref {payment.provider_reference}" if payment.provider_reference else ""
    note = f"  ({payment.note})" if payment.note else ""
    to = (
        f"  → {payment.credited_telegram_id}"
        if payment.credited_telegram_id not in (None, payment.telegram_id)
        else ""
    )
    return (
        f"{payment.id}  {payment.created_at:%Y-%m-%d %H:%M} UTC  {payment.provider}"
        f"  user {payment.telegram_id}  {format_amount(payment.amount)} {payment.currency}{asked}"
        f"  {payment.status.value}{paid}{reference}{to}{note}"
    )


def _settled(settled: Settled) -> str:
    balance = "" if settled.balance is None else f"; balance now {format_amount(settled.balance)}"
    return f"{settled.outcome}: {_line(settled.payment)}{balance}"


@click.group("payments")
def payments() -> None:
    """Top-ups paid through a provider (epay, ...): list, check, credit by hand."""


@payments.command("list")
@click.option(
    "--status",
    type=click.Choice([s.value for s in PaymentStatus]),
    default=None,
    help="only payments in this status",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
def list_payments(status: str | None, limit: int) -> None:
    """The newest payments, one a line."""

    async def work(platform: Platform) -> list[PaymentView]:
        wanted = PaymentStatus(status) if status else None
        return await platform.payments.find(status=wanted, limit=limit)

    found = run_on_platform(work)
    for payment in found:
        click.echo(_line(payment))
    if not found:
        click.echo("no payments")


@payments.command("check")
@click.argument("payment_id")
def check(payment_id: str) -> None:
    """Ask the provider about PAYMENT_ID now; a paid one is credited (once)."""

    async def work(platform: Platform) -> Settled:
        return await platform.payments.check(payment_id)

    click.echo(_settled(run_on_platform(work)))


@payments.command("credit")
@click.argument("payment_id")
@credit_by_hand(amount_help="what to credit (default: the payment's amount)")
def credit(payment_id: str, to: int, note: str, amount: int | None) -> None:
    """Credit a stuck or mismatched PAYMENT_ID to a reseller: audited, once."""

    async def work(platform: Platform) -> Settled:
        return await platform.payments.credit_manually(
            payment_id,
            admin_telegram_id=None,
            to_telegram_id=to,
            note=note,
            amount=amount,
            operator=OPERATOR,
        )

    click.echo(_settled(run_on_platform(work)))
