"""``kameng dujiao``: a reseller's API key answering as a Dujiao-Next upstream, so their
Dujiao-Next shop adds Kameng as a "site connection" (README: Kameng as a Dujiao-Next
upstream)."""

from __future__ import annotations

import click

from cli.common import OPERATOR, Refused, run_on_platform
from core.platform import Platform
from core.settings import Settings

PATH = "/api/v1/upstream"


def _url() -> str:
    base = Settings().upstream_callback_base.rstrip("/") or "https://YOUR-KAMENG-ADDRESS"
    return base + PATH


@click.group("dujiao")
def dujiao() -> None:
    """Kameng as a Dujiao-Next upstream: per reseller API key."""


@dujiao.command("enable")
@click.argument("telegram_id", type=int)
def enable(telegram_id: int) -> None:
    """A new Dujiao-Next secret for the reseller's active API key (shown once)."""

    async def work(platform: Platform) -> tuple[str, str]:
        creds = await platform.dujiao.enable(telegram_id, actor=OPERATOR)
        return creds.key, creds.secret

    key, secret = run_on_platform(work)
    click.echo(f"Upstream URL: {_url()}")
    click.echo(f"API key:      {key}")
    click.echo(f"API secret:   {secret}")
    click.echo("The secret is shown only this once; enabling again replaces it.")


@dujiao.command("disable")
@click.argument("telegram_id", type=int)
def disable(telegram_id: int) -> None:
    """The reseller's Dujiao-Next connection stops working."""
    if not run_on_platform(lambda p: p.dujiao.disable(telegram_id, actor=OPERATOR)):
        raise Refused(f"user {telegram_id}: Dujiao-Next access was not enabled")
    click.echo(f"user {telegram_id}: Dujiao-Next access disabled")


@dujiao.command("show")
@click.argument("telegram_id", type=int)
def show(telegram_id: int) -> None:
    """Whether the reseller's active key answers as a Dujiao-Next upstream."""
    key = run_on_platform(lambda p: p.dujiao.enabled(telegram_id))
    if key is None:
        click.echo(f"user {telegram_id}: Dujiao-Next access not enabled")
    else:
        click.echo(f"user {telegram_id}: enabled, API key {key}, upstream URL {_url()}")
