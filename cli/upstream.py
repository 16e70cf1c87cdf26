"""``kameng upstream``: the upstreams we buy from (货源对接): add, list, sync, show, price,
category (where their categories are shelved with us)."""

from __future__ import annotations

from datetime import datetime

import click

from cli.common import OPERATOR, Refused, amount, run_on_platform
from core.money import format_amount, parse_percent_bps
from core.platform import Platform
from core.settings import Settings
from core.upstreams.service import PROTOCOLS, NewUpstream, SyncReport, UpstreamView


def _when(at: datetime | None) -> str:
    return "never" if at is None else f"{at:%Y-%m-%d %H:%M} UTC"


def _money(value: int | None, currency: str) -> str:
    return "not reported" if value is None else f"{format_amount(value)} {currency}"


def _percent(text: str) -> int:
    try:
        return parse_percent_bps(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _line(view: UpstreamView) -> str:
    state = f"FAILING: {view.last_error}" if view.last_error else "ok"
    return (
        f"{view.name}  {view.protocol}  {view.base_url}  {view.on_sale}/{view.skus} on sale"
        f"  last sync {_when(view.last_sync_at)}  {state}"
    )


def _report(report: SyncReport) -> str:
    if not report.ok:
        told = " (admins alerted)" if report.alerted else ""
        return f"{report.upstream}: sync failed, nothing changed: {report.error}{told}"
    return (
        f"{report.upstream}: {report.products} products; {report.created} new, "
        f"{report.repriced} re-priced, {report.suspended} suspended, {report.resumed} resumed"
    )


@click.group("upstream")
def upstream() -> None:
    """Upstream platforms: their products become SKUs, synced on a schedule."""


@upstream.command("add")
@click.argument("name")
@click.option("--protocol", type=click.Choice(PROTOCOLS), required=True)
@click.option("--url", required=True, help="the upstream's base address")
@click.option(
    "--key", required=True, envvar="KAMENG_UPSTREAM_KEY", help="our API key there (or that env)"
)
@click.option(
    "--secret",
    default="",
    envvar="KAMENG_UPSTREAM_SECRET",
    help="our API secret there, Dujiao-Next signs with it (or that env: not in shell history)",
)
@click.option(
    "--category",
    required=True,
    help="the category its new SKUs go to (resellers see it; map its own ones with"
    " kameng upstream category)",
)
@click.option("--markup", "markup", default="0", help="percent over cost, e.g. 8 or 2.5%")
@click.option("--markup-fixed", "markup_fixed", default="0", help="an amount over cost")
@click.option("--round-to", "round_to", default="0.01", help="round prices up to this step")
def add(
    name: str,
    protocol: str,
    url: str,
    key: str,
    secret: str,
    category: str,
    markup: str,
    markup_fixed: str,
    round_to: str,
) -> None:
    """Register an upstream (its key and secret are stored encrypted)."""
    new = NewUpstream(
        name,
        protocol,
        url,
        key,
        secret,
        category=category,
        markup_bps=_percent(markup),
        markup_fixed=amount(markup_fixed),
        round_to=amount(round_to),
    )
    view = run_on_platform(lambda p: p.upstreams.add(new, actor=OPERATOR))
    click.echo(
        f"upstream {view.name} added ({view.protocol}); sync it: kameng upstream sync {view.name}"
    )


@upstream.command("list")
def list_() -> None:
    """Every upstream, its SKUs on sale and its last sync."""
    views = run_on_platform(lambda p: p.upstreams.all())
    if not views:
        click.echo("no upstreams")
    for view in views:
        click.echo(_line(view))


@upstream.command("sync")
@click.argument("name", required=False)
@click.option("--all", "every", is_flag=True, help="every enabled upstream")
def sync(name: str | None, every: bool) -> None:
    """Sync one upstream now (or --all): products, prices, stock."""

    async def work(platform: Platform) -> list[SyncReport]:
        if every:
            return await platform.upstreams.sync_all()
        if not name:
            raise click.UsageError("name an upstream, or --all")
        return [await platform.upstreams.sync(name, actor=OPERATOR)]

    reports = run_on_platform(work)
    for report in reports:
        click.echo(_report(report))
    if any(not r.ok for r in reports):
        raise Refused("a sync failed")


@upstream.command("show")
@click.argument("name")
@click.option("--changes", default=10, show_default=True, help="how many log lines")
def show(name: str, changes: int) -> None:
    """An upstream's balance there, last sync, errors, price rules and change log tail."""
    detail = run_on_platform(lambda p: p.upstreams.show(name, changes=changes))
    currency = Settings().currency
    view = detail.upstream
    click.echo(f"{view.name}  {view.protocol}  {view.base_url}")
    click.echo(f"balance there: {_money(view.last_balance, currency)}")
    click.echo(f"SKUs: {view.on_sale} on sale of {view.skus}")
    click.echo(f"last sync: {_when(view.last_sync_at)}; last good: {_when(view.last_sync_ok_at)}")
    click.echo(f"error: {view.last_error}" if view.last_error else "error: none")
    click.echo(f"new products go to: {detail.default_category!r} unless mapped")
    for shelf in detail.shelves:
        click.echo(f"category map: {shelf.upstream_category!r} → {shelf.category!r}")
    for rule in detail.rules:
        scope = rule.category or "default"
        click.echo(
            f"price rule ({scope}): +{rule.markup_bps / 100:g}% "
            f"+{format_amount(rule.markup_fixed)}, rounded up to {format_amount(rule.round_to)}"
        )
    click.echo("changes (newest first):" if detail.changes else "changes: none yet")
    for change in detail.changes:
        values = ""
        if change.old_value is not None or change.new_value is not None:
            old = "-" if change.old_value is None else format_amount(change.old_value)
            new = "-" if change.new_value is None else format_amount(change.new_value)
            values = f"  {old} → {new}"
        sku = f"  {change.sku_code}" if change.sku_code else ""
        note = f"  {change.detail}" if change.detail else ""
        click.echo(f"  {_when(change.at)}  {change.kind}{sku}{values}{note}")


@upstream.command("price")
@click.argument("name")
@click.option("--category", default=None, help="a category's rule (default: the upstream's)")
@click.option("--markup", "markup", required=True, help="percent over cost")
@click.option("--markup-fixed", "markup_fixed", default="0", help="an amount over cost")
@click.option("--round-to", "round_to", default="0.01", help="round prices up to this step")
def price(name: str, category: str | None, markup: str, markup_fixed: str, round_to: str) -> None:
    """Set the markup over upstream cost; the next sync re-prices."""
    rule = run_on_platform(
        lambda p: p.upstreams.set_rule(
            name,
            category=category,
            markup_bps=_percent(markup),
            markup_fixed=amount(markup_fixed),
            round_to=amount(round_to),
            actor=OPERATOR,
        )
    )
    click.echo(f"price rule for {name} ({rule.category or 'default'}) set; run a sync to re-price")


@upstream.command("category")
@click.argument("name")
@click.option("--from", "source", required=True, help="the category as the upstream names it")
@click.option("--to", "target", default=None, help="our category its new products go to")
@click.option("--create", is_flag=True, help="open --to as a new category if there is none")
@click.option("--unmap", is_flag=True, help="forget the mapping: back to the default category")
def category(name: str, source: str, target: str | None, create: bool, unmap: bool) -> None:
    """Shelve an upstream category's NEW products in one of ours (SKUs already listed stay
    where they are; move one with `kameng sku move`)."""
    if unmap == (target is not None):
        raise click.UsageError("give --to CATEGORY, or --unmap")
    shelf = run_on_platform(
        lambda p: p.upstreams.map_category(name, source, target, actor=OPERATOR, create=create)
    )
    if shelf is None:
        click.echo(f"{name}: {source!r} unmapped; its new products go to the default category")
    else:
        click.echo(f"{name}: new products of {shelf.upstream_category!r} go to {shelf.category!r}")


@upstream.command("reconcile")
@click.argument("name")
@click.option("--days", default=1, show_default=True, type=click.IntRange(1, 90))
def reconcile(name: str, days: int) -> None:
    """Our orders at the upstream over the last DAYS beside what it says of each: every
    difference of state, units delivered or cost (what we recorded owing it against what it
    says it charged), none: one line saying so."""
    differences = run_on_platform(lambda p: p.procurement.reconcile(name, days=days))
    for difference in differences:
        click.echo(str(difference))
    click.echo(f"{len(differences)} difference(s) over {days} day(s)")
