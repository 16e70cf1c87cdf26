"""What every ``kameng`` command module shares: running work on a platform or a bare
database, amounts typed in major units, and the exits a refusal takes.

``cli/main.py`` is the one group; a part of the platform with many commands keeps them in a
module of its own (``cli/<part>.py``) that builds on this one and is added to the group
with one line at the end of ``cli/main.py``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from core.db import Database
from core.money import MalformedAmount, parse_amount
from core.platform import Platform, build_platform
from core.settings import Settings
from telemetry import logs

T = TypeVar("T")
C = TypeVar("C", bound=Callable[..., object])
OPERATOR = "operator:cli"


def run_on_platform(work: Callable[[Platform], Awaitable[T]]) -> T:
    async def main() -> T:
        platform = build_platform(Settings())
        try:
            return await work(platform)
        finally:
            await platform.close()

    return asyncio.run(main())


def on_database(work: Callable[[Database], Awaitable[T]]) -> T:
    """For commands that need the database but not the secret key (schema, proofs)."""

    async def main() -> T:
        database = Database(Settings().database_url)
        try:
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(main())


def log_to_stderr() -> None:
    """For the long-running commands: what they do goes to stderr, one line per event
    (JSON with ``KAMENG_LOG_JSON=1``; ``KAMENG_LOG_LEVEL``, INFO by default)."""
    settings = Settings()
    logs.configure(json_lines=settings.log_json, level=settings.log_level)


def amount(text: str) -> int:
    try:
        return parse_amount(text)
    except MalformedAmount as exc:
        raise click.BadParameter(str(exc)) from None


def positive_amount(ctx: click.Context, param: click.Parameter, value: str) -> int:
    """An amount of money typed in major units (``100.00``), as fen; above zero.

    Commands taking one set ``NUMBERS_AS_ARGUMENTS``, so ``-5`` reaches this check instead of
    being read as an unknown option."""
    try:
        minor = parse_amount(value)
    except MalformedAmount as exc:
        raise click.BadParameter(str(exc), ctx, param) from None
    if minor <= 0:
        raise click.BadParameter(f"amount must be positive, not {value}", ctx, param)
    return minor


def credit_by_hand(amount_help: str) -> Callable[[C], C]:
    """The options of crediting money to a reseller by hand (a stuck provider payment, a
    USDT transfer that paid no payment): ``--to``, ``--note`` and an optional ``--amount``
    whose default ``amount_help`` names."""

    def optional_amount(
        ctx: click.Context, param: click.Parameter, value: str | None
    ) -> int | None:
        return None if value is None else positive_amount(ctx, param, value)

    options = (  # listed in --help in this order
        click.option("--to", "to", type=int, required=True, help="the reseller's Telegram id"),
        click.option("--note", required=True, help="why (kept in the audit log)"),
        click.option("--amount", default=None, callback=optional_amount, help=amount_help),
    )

    def add(command: C) -> C:
        for option in reversed(options):
            command = option(command)
        return command

    return add


# click reads "-5" as an option; these commands have no short options, so an unknown
# "-…" token is kept as an argument (a negative number) and refused by its type or the core.
NUMBERS_AS_ARGUMENTS = {"ignore_unknown_options": True}


class Refused(click.ClickException):
    """A refusal (or failure) already worded for the operator: exit 1."""

    exit_code = 1


class Misconfigured(Refused):
    """A setting that cannot work (the secret key, a KAMENG_ variable): exit 2."""

    exit_code = 2


class NothingTouched(Refused):
    """A backup or restore refused before writing anything (onto a database with tables,
    over an existing file, from a file that is not a backup): exit 2."""

    exit_code = 2
