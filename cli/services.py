"""``kameng services``: the paid services catalogue (增值服务) and who bought what."""

from __future__ import annotations

import click

from cli.common import NUMBERS_AS_ARGUMENTS, positive_amount, run_on_platform
from core.models import ServiceBilling, ServiceKind
from core.money import format_amount
from core.paid_services import OfferView


@click.group("services")
def services() -> None:
    """Paid services: search boost, analytics reports, broadcast credits."""


@services.command("price", context_settings=NUMBERS_AS_ARGUMENTS)
@click.argument("code")
@click.option("--kind", type=click.Choice([k.value for k in ServiceKind]), required=True)
@click.option("--billing", type=click.Choice([b.value for b in ServiceBilling]), required=True)
@click.option("--price", "price", callback=positive_amount, required=True, help="e.g. 99.00")
@click.option("--days", type=click.IntRange(1, 366), required=True, help="one period")
@click.option("--credits", type=click.IntRange(0), default=0, help="broadcast credits")
@click.option("--off", is_flag=True, help="withdraw the offer (bought ones run on)")
def price(
    code: str, kind: str, billing: str, price: int, days: int, credits: int, off: bool
) -> None:
    """Add or change an offer; applies to purchases and renewals after it."""
    view = run_on_platform(
        lambda p: p.paid_services.price(
            None,
            code,
            ServiceKind(kind),
            ServiceBilling(billing),
            price=price,
            days=days,
            credits=credits,
            active=not off,
        )
    )
    click.echo(_line(view))


@services.command("list")
def listing() -> None:
    """The offers on sale."""
    for view in run_on_platform(lambda p: p.paid_services.offers()):
        click.echo(_line(view))


@services.command("of")
@click.argument("telegram_id", type=int)
def of(telegram_id: int) -> None:
    """What a user bought: each service, its period and status."""
    for sub in run_on_platform(lambda p: p.paid_services.subscriptions(telegram_id)):
        sku = f" {sub.sku}" if sub.sku else ""
        click.echo(
            f"#{sub.id}  {sub.offer.code}{sku}  {sub.status.value}  period {sub.period}  "
            f"{sub.starts_at:%Y-%m-%d %H:%M} → {sub.ends_at:%Y-%m-%d %H:%M} UTC"
        )


def _line(view: OfferView) -> str:
    credits = f"  {view.credits} credits" if view.credits else ""
    state = "" if view.active else "  (off)"
    return (
        f"{view.code}  {view.kind.value}  {view.billing.value}  {format_amount(view.price)}"
        f" / {view.days}d{credits}{state}"
    )
