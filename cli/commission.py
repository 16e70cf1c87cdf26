"""``kameng commission``: the commission schedules (the default ladder, the exclusive one,
and a category's own). A change applies to sales after it, never to past ones; audited."""

from __future__ import annotations

import click

from cli.common import run_on_platform
from core.commission import ScheduleView
from core.platform import Platform


def render_schedule(view: ScheduleView) -> str:
    tiers = ", ".join(f"from {units} units {rate / 100:g}%" for units, rate in view.tiers)
    label = view.label if view.label == view.name else f"{view.label} ({view.name})"
    return f"{label}: {tiers or '(no tiers: the default applies)'}"


@click.group("commission")
def commission() -> None:
    """Commission schedules: default, exclusive, and per category."""


@commission.command("show")
def show() -> None:
    """Every schedule and its tiers."""

    async def work(platform: Platform) -> list[ScheduleView]:
        return await platform.commission.schedules()

    for view in run_on_platform(work):
        click.echo(render_schedule(view))


@commission.command("set")
@click.argument("schedule")
@click.option("--from-units", type=int, required=True, help="units sold in 30 days")
@click.option("--rate-bps", type=int, required=True, help="e.g. 250 for 2.5%")
def set_tier(schedule: str, from_units: int, rate_bps: int) -> None:
    """Set a tier of SCHEDULE: "default", "exclusive", or a category's name."""

    async def work(platform: Platform) -> ScheduleView:
        return await platform.commission.set_tier(
            None, schedule, min_units=from_units, rate_bps=rate_bps
        )

    click.echo(render_schedule(run_on_platform(work)))


@commission.command("remove")
@click.argument("schedule")
@click.option("--from-units", type=int, required=True)
def remove_tier(schedule: str, from_units: int) -> None:
    """Remove a tier (a category without tiers uses the default again)."""

    async def work(platform: Platform) -> ScheduleView:
        return await platform.commission.remove_tier(None, schedule, min_units=from_units)

    click.echo(render_schedule(run_on_platform(work)))
