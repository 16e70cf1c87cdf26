"""``kameng ads``: featured placement slots and their sealed bids, brand zones."""

from __future__ import annotations

from datetime import datetime

import click

from cli.common import NUMBERS_AS_ARGUMENTS, amount, run_on_platform
from core.models import AdPlacement
from core.money import format_amount
from core.promotions import local_time, parse_local_time, zone
from core.settings import Settings


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else local_time(moment, zone(Settings().timezone))


@click.group("ads")
def ads() -> None:
    """Featured placement (广告位竞价) and brand zones (品牌专区)."""


@ads.command("slot-add", context_settings=NUMBERS_AS_ARGUMENTS)
@click.argument("name")
@click.option("--placement", type=click.Choice([p.value for p in AdPlacement]), required=True)
@click.option("--category", default=None, help="the category (placement 'category' only)")
@click.option("--days", "period_days", type=click.IntRange(1, 366), default=7, show_default=True)
@click.option("--reserve", required=True, help="the reserve price, e.g. 50.00")
@click.option("--first-close", default=None, help="'YYYY-MM-DD HH:MM' local; default: in a day")
def slot_add(
    name: str,
    placement: str,
    category: str | None,
    period_days: int,
    reserve: str,
    first_close: str | None,
) -> None:
    """Define a slot: sold for --days at a time, no lower than --reserve."""
    reserve_minor = amount(reserve)
    closes = parse_local_time(first_close, zone(Settings().timezone)) if first_close else None
    view = run_on_platform(
        lambda p: p.ads.define_slot(
            None,
            name,
            AdPlacement(placement),
            period_days=period_days,
            reserve=reserve_minor,
            category=category,
            first_close=closes,
        )
    )
    click.echo(
        f"slot #{view.id} {view.name}: round #{view.open_round} takes bids until "
        f"{_when(view.closes_at)}"
    )


@ads.command("slots")
def slots() -> None:
    """Every slot: its open round and what it features now."""
    for view in run_on_platform(lambda p: p.ads.slots()):
        where = view.placement.value + (f":{view.category}" if view.category else "")
        featured = (
            f"featured {view.featured_sku} until {_when(view.featured_until)}"
            if view.featured_sku
            else "nothing featured"
        )
        closes = (
            f"round #{view.open_round} closes {_when(view.closes_at)}" if view.open_round else ""
        )
        click.echo(
            f"#{view.id}  {view.name}  {where}  {view.period_days}d  reserve "
            f"{format_amount(view.reserve)}  {featured}  {closes}"
        )


@ads.command("bids")
@click.argument("round_id", type=int)
def bids(round_id: int) -> None:
    """The sealed bids of a round, highest first."""
    rows = run_on_platform(lambda p: p.ads.bids(None, round_id))
    if not rows:
        click.echo("no bids")
    for bid in rows:
        click.echo(
            f"#{bid.id}  {format_amount(bid.amount)}  {bid.sku}  {bid.supplier}  "
            f"{_when(bid.placed_at)}  {bid.outcome or 'sealed'}"
        )


@ads.command("zone-grant", context_settings=NUMBERS_AS_ARGUMENTS)
@click.argument("supplier_telegram_id", type=int)
@click.argument("name")
@click.option("--days", type=click.IntRange(1, 366), required=True)
@click.option("--fee", default="0", help="paid from the supplier's payable now, e.g. 500.00")
@click.option("--share-bps", type=click.IntRange(0, 10_000), default=0, help="of his sales")
@click.option("--key", required=True, help="idempotency key: the same key grants once")
def zone_grant(
    supplier_telegram_id: int, name: str, days: int, fee: str, share_bps: int, key: str
) -> None:
    """Grant a supplier a named brand zone for --days, for a fee or a revenue share."""
    fee_minor = amount(fee)
    view = run_on_platform(
        lambda p: p.ads.grant_zone(
            None,
            supplier_telegram_id,
            name,
            days=days,
            fee=fee_minor,
            share_bps=share_bps,
            idempotency_key=key,
        )
    )
    click.echo(
        f"zone #{view.id} {view.name} for {view.supplier} until {_when(view.ends_at)}: "
        f"fee {format_amount(view.fee)}, share {view.share_bps} bps"
    )


@ads.command("zones")
@click.option("--all", "everything", is_flag=True, help="ended zones too")
def zones(everything: bool) -> None:
    """The brand zones running now."""
    for view in run_on_platform(lambda p: p.ads.zones(active_only=not everything)):
        click.echo(
            f"#{view.id}  {view.name}  {view.supplier}  {_when(view.starts_at)} → "
            f"{_when(view.ends_at)}  fee {format_amount(view.fee)}  share {view.share_bps} bps"
        )
