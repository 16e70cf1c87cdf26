"""``kameng callbacks``: where a reseller's order callbacks go, and how they were delivered."""

from __future__ import annotations

import click

from cli.common import OPERATOR, run_on_platform
from core.order_callbacks import SIGNATURE_HEADER, CallbackInfo, CallbackSet, DeliveryView
from core.platform import Platform


@click.group("callbacks")
def callbacks() -> None:
    """Order callbacks to resellers' own systems: set, show, clear, deliveries."""


@callbacks.command("set")
@click.argument("telegram_id", type=int)
@click.argument("url")
def set_callback(telegram_id: int, url: str) -> None:
    """POST every order change of this reseller's API key to URL; prints the new secret once."""

    async def work(platform: Platform) -> CallbackSet:
        return await platform.order_callbacks.set(telegram_id, url, actor=OPERATOR)

    done = run_on_platform(work)
    click.echo(f"callbacks of {telegram_id} go to {done.url}")
    click.echo(f"secret (shown once): {done.secret}")
    click.echo(f"signed in {SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of t.body>")


@callbacks.command("show")
@click.argument("telegram_id", type=int)
def show_callback(telegram_id: int) -> None:
    """Where this reseller's callbacks go (never the secret)."""

    async def work(platform: Platform) -> CallbackInfo | None:
        return await platform.order_callbacks.current(telegram_id)

    info = run_on_platform(work)
    if info is None:
        click.echo("no callback")
    else:
        click.echo(f"{info.url}  (set {info.created_at:%Y-%m-%d %H:%M} UTC)")


@callbacks.command("clear")
@click.argument("telegram_id", type=int)
def clear_callback(telegram_id: int) -> None:
    """Stop sending this reseller's callbacks."""

    async def work(platform: Platform) -> bool:
        return await platform.order_callbacks.clear(telegram_id, actor=OPERATOR)

    click.echo("cleared" if run_on_platform(work) else "no callback")


@callbacks.command("deliveries")
@click.argument("telegram_id", type=int)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def deliveries(telegram_id: int, limit: int) -> None:
    """The latest delivery attempts, newest first: time, order, event, answer, next try."""

    async def work(platform: Platform) -> list[DeliveryView]:
        return await platform.order_callbacks.deliveries(telegram_id, limit=limit)

    found = run_on_platform(work)
    for d in found:
        answer = d.status_code if d.status_code is not None else d.error
        later = f"  next {d.next_retry_at:%Y-%m-%d %H:%M:%S} UTC" if d.next_retry_at else ""
        click.echo(
            f"{d.attempted_at:%Y-%m-%d %H:%M:%S} UTC  order {d.order_id}  {d.event}"
            f"  {answer}  {d.outcome}{later}"
        )
    if not found:
        click.echo("no deliveries")
