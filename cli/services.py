"""``kameng services``: the paid services catalogue (增值服务) and who bought what."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from cli.common import NUMBERS_AS_ARGUMENTS, positive_amount, run_on_platform
from core.demand import Bought, render_demand_chart, report_csv
from core.models import ServiceBilling, ServiceKind
from core.money import format_amount
from core.paid_services import OfferView
from core.platform import Platform


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


@services.command("buy")
@click.argument("telegram_id", type=int)
@click.argument("offer")
@click.option("--sku", "sku", default=None, help="the SKU a search boost is for")
@click.option("--key", "key", required=True, help="idempotency key: the same key buys once")
def buy(telegram_id: int, offer: str, sku: str | None, key: str) -> None:
    """Buy a service for a user, paid as in the bot (a supplier's payable, a reseller's
    balance). Bought again while his boost of that SKU or his analytics report runs, it
    extends that one from its end; the same --key again charges nothing."""
    sub = run_on_platform(
        lambda p: p.paid_services.buy(
            telegram_id, offer, sku_code=sku, idempotency_key=f"cli:{key}"
        )
    )
    what = f"#{sub.id} {sub.offer.code}" + (f" {sub.sku}" if sub.sku else "")
    ends = f"{sub.ends_at:%Y-%m-%d %H:%M} UTC"
    if sub.replayed:
        click.echo(f"{what}: already bought with this key, runs until {ends}; nothing charged")
    elif sub.extended_from is not None:
        click.echo(
            f"{what}: extended from {sub.extended_from:%Y-%m-%d %H:%M} to {ends}, "
            f"charged {format_amount(sub.offer.price)}"
        )
    else:
        click.echo(f"{what}: runs until {ends}, charged {format_amount(sub.offer.price)}")


@services.command("demand")
@click.argument("category_id", type=click.IntRange(1))
@click.option("--supplier", "supplier", type=int, required=True, help="his Telegram id")
@click.option("--offer", "offer", required=True, help="the demand_report offer's code")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="the folder for demand.png and demand.csv",
)
@click.option("--key", "key", default=None, help="idempotency key (default: category and day)")
def demand(category_id: int, supplier: int, offer: str, out: Path, key: str | None) -> None:
    """A demand report of a category for a supplier, charged to his payable (once per key,
    as in the bot): writes demand.png and demand.csv into --out."""

    async def work(p: Platform) -> tuple[Bought, bytes]:
        day = p.clock.now().date().isoformat()
        bought = await p.demand.buy(
            supplier, offer, category_id, idempotency_key=f"cli:{key or f'{category_id}:{day}'}"
        )
        png = await asyncio.to_thread(render_demand_chart, bought.report)
        return bought, png

    bought, png = run_on_platform(work)
    out.mkdir(parents=True, exist_ok=True)
    (out / "demand.png").write_bytes(png)
    (out / "demand.csv").write_bytes(report_csv(bought.report))
    charged = "already paid" if bought.replayed else f"charged {format_amount(bought.price)}"
    click.echo(f"demand report of {bought.report.category}: {charged}")
    click.echo(f"  {out / 'demand.png'}")
    click.echo(f"  {out / 'demand.csv'}")


def _line(view: OfferView) -> str:
    credits = f"  {view.credits} credits" if view.credits else ""
    state = "" if view.active else "  (off)"
    return (
        f"{view.code}  {view.kind.value}  {view.billing.value}  {format_amount(view.price)}"
        f" / {view.days}d{credits}{state}"
    )
