"""``kameng``: the operator's command line. One wiring point: settings → platform → command."""

from __future__ import annotations

import json
import shlex
import sys
import uuid
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import IO, Any

import click
from pydantic import ValidationError
from sqlalchemy import make_url

from cli import dujiao as dujiao_cli
from cli import upstream as upstream_cli
from cli.ads import ads
from cli.callbacks import callbacks
from cli.commission import commission
from cli.common import (
    NUMBERS_AS_ARGUMENTS,
    OPERATOR,
    Misconfigured,
    NothingTouched,
    Refused,
)
from cli.common import amount as _amount
from cli.common import log_to_stderr as _log_to_stderr
from cli.common import on_database as _on_database
from cli.common import positive_amount as _positive_amount
from cli.common import run_on_platform as _run
from cli.credit import credit
from cli.payments import payments
from cli.render import describe_error
from cli.reports import reports
from cli.services import services
from cli.stars import stars
from cli.usdt import usdt
from core import audit, backup, schema
from core.catalogue import NewSku
from core.checks import CheckReport, check_ledger
from core.clock import SystemClock
from core.db import Database
from core.decisions.fulfilment import AccountField, parse_field
from core.delivery.importer import ImportReport
from core.delivery.sources import read_bytes
from core.errors import KamengError, SecretKeyMismatch
from core.jobs import JobStore, JobView
from core.models import JobStatus, Role, SkuStatus, StockKind
from core.money import format_amount
from core.orders import Requoted
from core.outbox import Outbox
from core.platform import Platform
from core.settings import SecretKeyProblem, Settings, generate_secret_key


def _currency() -> str:
    try:
        return Settings().currency
    except ValidationError:
        return ""


def _settings_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    name = "KAMENG_" + "_".join(str(part) for part in first["loc"]).upper()
    return f"{name} is invalid: {first['msg']}"


class KamengGroup(click.Group):
    """The one place where what goes wrong becomes one readable line on stderr and a
    non-zero exit: the platform's refusals, configuration faults, usage mistakes, and
    anything unexpected (its traceback only with ``--debug`` or ``KAMENG_DEBUG=1``)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KamengError as exc:
            raise Refused(describe_error(exc, _currency())) from exc
        except (SecretKeyProblem, SecretKeyMismatch) as exc:
            raise Misconfigured(str(exc)) from exc
        except ValidationError as exc:  # a KAMENG_ setting that does not parse
            raise Misconfigured(_settings_problem(exc)) from exc
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            first_line = (str(exc).strip().splitlines() or [""])[0][:300]
            raise Refused(
                f"unexpected {type(exc).__name__}: {first_line} "
                "(run with --debug or KAMENG_DEBUG=1 for the traceback)"
            ) from exc

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            returned = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            click.echo(f"error: {_one_line(exc)}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        # non-standalone, click returns an explicit exit's code (--help: 0) or the result
        sys.exit(returned if isinstance(returned, int) else 0)


def _one_line(error: click.ClickException) -> str:
    """Click's usage errors print the usage and a hint over three lines; one is enough."""
    message = " ".join(error.format_message().split())
    if isinstance(error, click.UsageError) and not isinstance(error, click.BadParameter):
        if error.ctx is not None:
            message += f" (see '{error.ctx.command_path} --help')"
    return message


@click.group(cls=KamengGroup)
@click.option(
    "--debug",
    is_flag=True,
    envvar="KAMENG_DEBUG",
    help="Show the traceback of an unexpected error.",
)
def main(debug: bool) -> None:
    """Kameng — a card-union platform: suppliers stock codes, resellers buy them."""


# setup ---------------------------------------------------------------------


@main.group()
def secret() -> None:
    """The key that encrypts codes at rest."""


@secret.command("generate")
def secret_generate() -> None:
    """Print a new random KAMENG_SECRET_KEY (keep it: codes cannot be read without it)."""
    click.echo(generate_secret_key())


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema."""

    _on_database(lambda database: schema.upgrade(database, revision))
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Step the schema back to REVISION (``base`` removes everything)."""

    _on_database(lambda database: schema.downgrade(database, revision))
    click.echo(f"database at {revision}")


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def db_backup(path: Path) -> None:
    """Copy the database to PATH. SQLite: an online, consistent copy while the bot and the
    API keep running. PostgreSQL: prints the pg_dump line to run (custom format)."""
    url = Settings().database_url
    if backup.is_postgres(url):
        click.echo(shlex.join(backup.pg_dump_command(url, path)))
        _password_note(url)
        return
    try:
        made = backup.backup_sqlite(backup.sqlite_file(url), path)
    except backup.BackupRefused as exc:
        raise NothingTouched(str(exc)) from None
    click.echo(f"backup written to {made.path}: {made.size:,} bytes, schema {made.revision}")


@db.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def db_restore(path: Path) -> None:
    """Restore the backup PATH onto the configured database, which must be empty, then
    check the ledger and the audit chain. PostgreSQL: prints the pg_restore line to run."""
    url = Settings().database_url
    try:
        if backup.is_postgres(url):
            tables = _on_database(backup.postgres_tables)
            if tables:
                raise backup.DatabaseNotEmpty(f"database {make_url(url).database}", tables)
            click.echo(shlex.join(backup.pg_restore_command(url, path)))
            _password_note(url)
            click.echo(f"then: {AFTER_RESTORE}", err=True)
            return
        restored = backup.restore_sqlite(path, backup.sqlite_file(url))
    except backup.BackupRefused as exc:
        raise NothingTouched(str(exc)) from None
    click.echo(f"restored {path} onto {restored.path}: schema {restored.revision}")
    head = schema.head_revision()
    if restored.revision != head:
        click.echo(f"this release's schema is {head}: run {AFTER_RESTORE}")
        return
    report, verdict = _on_database(_proofs)
    click.echo(report.render())
    click.echo(_audit_line(verdict))
    if not (report.ok and verdict.ok):
        sys.exit(1)


AFTER_RESTORE = "kameng db upgrade, kameng ledger check, kameng audit verify"


def _password_note(url: str) -> None:
    if backup.has_password(url):
        click.echo("the password is not printed: give it in PGPASSWORD or ~/.pgpass", err=True)


async def _proofs(database: Database) -> tuple[CheckReport, audit.AuditVerdict]:
    return await check_ledger(database), await audit.verify(database)


# users ---------------------------------------------------------------------


@main.group()
def user() -> None:
    """Users and their roles."""


@user.command("grant")
@click.argument("telegram_id", type=int)
@click.argument("role", type=click.Choice([r.value for r in Role]))
def user_grant(telegram_id: int, role: str) -> None:
    """Give TELEGRAM_ID a role (creates the user if it never wrote to the bot)."""
    view = _run(lambda p: p.catalogue.grant_role(telegram_id, Role(role), actor=OPERATOR))
    click.echo(f"{view.telegram_id}: {', '.join(sorted(r.value for r in view.roles))}")


@user.command("level")
@click.argument("telegram_id", type=int)
@click.argument("level")
def user_level(telegram_id: int, level: str) -> None:
    """Set a reseller's level (bronze, silver, gold by default)."""
    view = _run(lambda p: p.catalogue.set_level(telegram_id, level, actor=OPERATOR))
    click.echo(f"{view.telegram_id}: level {view.level_name}")


@user.command("show")
@click.argument("telegram_id", type=int)
def user_show(telegram_id: int) -> None:
    view = _run(lambda p: p.catalogue.user(telegram_id))
    click.echo(
        f"{view.telegram_id} @{view.username or '-'} roles={','.join(sorted(view.roles))} "
        f"level={view.level_name} status={view.status.value} language={view.language}"
    )


# SKUs and stock ------------------------------------------------------------


@main.group()
def sku() -> None:
    """Products (SKUs)."""


@sku.command("add")
@click.option("--code", required=True, help="Short unique code, e.g. STEAM-100.")
@click.option("--name", required=True)
@click.option("--category", required=True)
@click.option("--supplier", "supplier_id", required=True, type=int, help="Supplier Telegram id.")
@click.option("--face-value", required=True, help="Major units, e.g. 100.00")
@click.option("--supply-price", required=True)
@click.option("--price", required=True, help="Default sale price for every level.")
@click.option(
    "--level-price", multiple=True, metavar="LEVEL=AMOUNT", help="e.g. gold=90.00; repeatable."
)
@click.option("--stock-kind", type=click.Choice([k.value for k in StockKind]), default="unique")
@click.option("--exclusive", is_flag=True)
@click.option(
    "--force",
    is_flag=True,
    help="List it even with a price above the face value, or of 0 (refused otherwise).",
)
@click.option("--kind", type=click.Choice(["codes", "direct"]), default="codes")
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="NAME:LABEL_EN:LABEL_ZH:PATTERN",
    help="A direct SKU's account field, e.g. 'phone:Phone number:手机号:1[3-9]\\d{9}'.",
)
@click.option("--deadline-minutes", type=int, default=30, help="A direct SKU's time to fulfil.")
def sku_add(
    code: str,
    name: str,
    category: str,
    supplier_id: int,
    face_value: str,
    supply_price: str,
    price: str,
    level_price: tuple[str, ...],
    stock_kind: str,
    exclusive: bool,
    force: bool,
    kind: str = "codes",
    fields: tuple[str, ...] = (),
    deadline_minutes: int = 30,
) -> None:
    """Add a SKU as a draft; prints its id and code. ``--kind direct`` makes a direct
    top-up (直充) SKU: no codes, the buyer types the account in each ``--field``."""
    level_prices: dict[str, int] = {}
    for item in level_price:
        level, sep, amount = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: use LEVEL=AMOUNT", param_hint="--level-price")
        level_prices[level.strip().lower()] = _amount(amount)
    new = NewSku(
        code=code,
        name=name,
        category=category,
        supplier_telegram_id=supplier_id,
        face_value=_amount(face_value),
        supply_price=_amount(supply_price),
        default_price=_amount(price),
        level_prices=level_prices,
        stock_kind=StockKind(stock_kind),
        exclusive=exclusive,
        direct_fields=_direct_fields(kind, fields),
        direct_deadline_minutes=deadline_minutes if kind == "direct" else 0,
    )
    view = _run(lambda p: p.catalogue.add_sku(new, actor=OPERATOR, allow_above_face=force))
    click.echo(f"{view.id} {view.code}")


def _direct_fields(kind: str, fields: tuple[str, ...]) -> tuple[AccountField, ...]:
    if kind != "direct":
        if fields:
            raise click.BadParameter("only a direct SKU has fields", param_hint="--field")
        return ()
    if not fields:
        raise click.BadParameter("a direct SKU needs at least one", param_hint="--field")
    return tuple(parse_field(spec) for spec in fields)


@sku.command("activate")
@click.argument("code")
def sku_activate(code: str) -> None:
    """List a SKU for sale."""
    view = _run(lambda p: p.catalogue.set_sku_status(code, SkuStatus.ACTIVE, actor=OPERATOR))
    click.echo(f"{view.code} {view.status.value}")


@sku.command("suspend")
@click.argument("code")
def sku_suspend(code: str) -> None:
    view = _run(lambda p: p.catalogue.set_sku_status(code, SkuStatus.SUSPENDED, actor=OPERATOR))
    click.echo(f"{view.code} {view.status.value}")


@sku.command("move")
@click.argument("code")
@click.option("--category", required=True, help="an existing category (see --create)")
@click.option("--create", is_flag=True, help="open the category if there is none by that name")
def sku_move(code: str, category: str, create: bool) -> None:
    """Shelve a SKU in another category; an upstream's sync keeps it there."""
    view = _run(lambda p: p.pricing_admin.move_sku(None, code, category, create=create))
    click.echo(f"{view.sku.code} {view.sku.name} now in [{view.sku.category}]")


@sku.command("show")
@click.argument("code")
def sku_show(code: str) -> None:
    async def work(p: Platform) -> str:
        view = await p.catalogue.sku(code)
        stock = await p.catalogue.stock_count(code)
        return (
            f"{view.code} {view.name} [{view.category}] {view.status.value}\n"
            f"face {format_amount(view.face_value)}  supply {format_amount(view.supply_price)}"
            f"  price {format_amount(view.default_price)}  "
            f"stock {'cyclic' if stock is None else stock}"
        )

    click.echo(_run(work))


@main.group()
def codes() -> None:
    """Stock."""


@codes.command("import")
@click.argument("code")
@click.argument("source", type=click.File("rb"))
def codes_import(code: str, source: IO[bytes]) -> None:
    """Import codes for SKU from FILE (or - for stdin).

    One code per line, or CSV (comma or tab, quotes understood) with an optional header row
    (卡号,卡密 / number,password, …): two columns are a card number and its password. UTF-8,
    GB18030 and UTF-16 are recognised; undecodable lines are refused, never stored.
    """
    on_terminal = sys.stderr.isatty()
    data = source.read()  # the encoding is decided on the whole file

    def progress(report: ImportReport) -> None:
        if on_terminal:
            click.echo(
                f"\r{report.lines_read:,} lines read, {report.added:,} added", nl=False, err=True
            )

    async def work(p: Platform) -> ImportReport:
        report = await p.stock.import_codes(
            code, read_bytes(data), actor=OPERATOR, on_progress=progress
        )
        if on_terminal:
            click.echo(err=True)
        return report

    report = _run(work)
    click.echo(
        f"lines {report.lines_read}\n"
        f"added {report.added}\n"
        f"duplicate in file {report.duplicate_in_file}\n"
        f"duplicate on platform {report.duplicate_on_platform}\n"
        f"invalid {report.invalid}\n"
        f"blank {report.blank}\n"
        f"header {report.header}"
    )


@codes.command("restock")
@click.argument("order_id", type=int)
@click.option(
    "--reason",
    required=True,
    help="The supplier's confirmation that the code is unused (recorded in the audit trail).",
)
@click.option("--units", type=int, default=None, help="How many refunded codes (newest first).")
@click.option("--line", "line_ids", type=int, multiple=True, help="An order line id (repeatable).")
def codes_restock(order_id: int, reason: str, units: int | None, line_ids: tuple[int, ...]) -> None:
    """Put refunded, voided codes of ORDER_ID back on sale (default: all of them), once the
    supplier confirms them unused. The buyer's order keeps the lines as refunded."""
    result = _run(
        lambda p: p.restocks.restock(
            order_id, reason=reason, actor=OPERATOR, units=units, line_ids=list(line_ids)
        )
    )
    click.echo(
        f"order {result.order_id}: restocked {len(result.line_ids)} code(s) of {result.sku_code}"
        f" (lines {', '.join(str(line) for line in result.line_ids)})"
    )


# money ---------------------------------------------------------------------


@main.group()
def balance() -> None:
    """Reseller balances."""


@balance.command("credit", context_settings=NUMBERS_AS_ARGUMENTS)
@click.argument("telegram_id", type=int)
@click.argument("amount", callback=_positive_amount)
@click.option("--note", required=True, help="Why: payment reference, receipt number…")
@click.option("--key", default=None, help="Idempotency key; retrying with it credits once.")
def balance_credit(telegram_id: int, amount: int, note: str, key: str | None) -> None:
    """Top up a reseller's prepaid balance by AMOUNT (major units, e.g. 100.00)."""
    posted = _run(
        lambda p: p.balances.top_up(
            telegram_id,
            amount,
            idempotency_key=key or uuid.uuid4().hex,
            note=note,
            actor=OPERATOR,
        )
    )
    suffix = " (already credited with this key)" if posted.replayed else ""
    click.echo(f"balance {format_amount(posted.balance_after)}{suffix}")


@balance.command("show")
@click.argument("telegram_id", type=int)
def balance_show(telegram_id: int) -> None:
    view = _run(lambda p: p.balances.balance(telegram_id))
    click.echo(
        f"balance {format_amount(view.balance)}  credit limit {format_amount(view.credit_limit)}"
        f"  spendable {format_amount(view.spendable)}"
    )


@main.group()
def supplier() -> None:
    """Suppliers' payables."""


@supplier.command("show")
@click.argument("telegram_id", type=int)
def supplier_show(telegram_id: int) -> None:
    view = _run(lambda p: p.balances.supplier(telegram_id))
    click.echo(f"{view.name}: payable {format_amount(view.payable)}")


@supplier.command("withdraw", context_settings=NUMBERS_AS_ARGUMENTS)
@click.argument("telegram_id", type=int)
@click.argument("amount", callback=_positive_amount)
@click.option("--key", default=None, help="Idempotency key, e.g. the bank transfer id.")
def supplier_withdraw(telegram_id: int, amount: int, key: str | None) -> None:
    """Record a payout of AMOUNT to a supplier."""
    posted = _run(
        lambda p: p.balances.withdraw(
            telegram_id, amount, idempotency_key=key or uuid.uuid4().hex, actor=OPERATOR
        )
    )
    click.echo(f"payable {format_amount(posted.balance_after)}")


@main.command("buy", context_settings=NUMBERS_AS_ARGUMENTS)
@click.argument("telegram_id", type=int)
@click.argument("code")
@click.argument("quantity", type=int)
@click.option("--key", default=None, help="Idempotency key; the same key never buys twice.")
def buy(telegram_id: int, code: str, quantity: int, key: str | None) -> None:
    """Buy for a reseller; prints the codes, one per line (fields tab-separated), only."""
    result = _run(
        lambda p: p.shop.buy_now(
            telegram_id, code, quantity, idempotency_key=key or uuid.uuid4().hex
        )
    )
    if isinstance(result, Requoted):  # only when the price moved between quote and charge
        raise Refused("the price changed while buying; run the command again")
    click.echo(f"order {result.order_id}: {result.quantity} x {result.sku_code}", err=True)
    for card in result.cards:  # a card number and its password: tab-separated
        click.echo("\t".join(card.values()))


@main.command("refund")
@click.argument("order_id", type=int)
@click.option("--units", type=int, default=None, help="How many units (default: all left).")
@click.option("--void", is_flag=True, hidden=True, help="Deprecated: refunds always void.")
@click.option("--reason", default="")
@click.option("--key", default=None)
def refund(order_id: int, units: int | None, void: bool, reason: str, key: str | None) -> None:
    """Refund an order to the reseller's balance, reversing the supplier's and platform's share.

    The refunded codes are voided, never put back on sale (the buyer has seen them); see
    `kameng codes restock` once the supplier confirms them unused."""
    if void:
        click.echo("warning: --void is deprecated and does nothing: refunds always void", err=True)
    result = _run(
        lambda p: p.shop.refund(
            order_id,
            units=units,
            idempotency_key=key or uuid.uuid4().hex,
            actor=OPERATOR,
            reason=reason,
        )
    )
    click.echo(
        f"order {result.order_id}: refunded {result.units} unit(s), {format_amount(result.amount)}"
    )


# proofs --------------------------------------------------------------------


@main.group()
def ledger() -> None:
    """The double-entry ledger."""


@ledger.command("check")
def ledger_check() -> None:
    """Prove the books balance; exits 1 with a report when anything is off."""

    report = _on_database(check_ledger)
    click.echo(report.render())
    if not report.ok:
        sys.exit(1)


@main.group("audit")
def audit_group() -> None:
    """The hash-chained audit trail."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Walk the chain; names the first broken record and exits 1 if any."""
    verdict = _on_database(audit.verify)
    click.echo(_audit_line(verdict))
    if not verdict.ok:
        sys.exit(1)


def _audit_line(verdict: audit.AuditVerdict) -> str:
    if verdict.ok:
        return f"OK: {verdict.records} records, chain intact"
    return (
        f"BROKEN at record {verdict.broken_id}: {verdict.reason} "
        f"({verdict.records} records verified before it)"
    )


@main.group("outbox")
def outbox_group() -> None:
    """Notifications waiting to be sent by the bot."""


@outbox_group.command("status")
def outbox_status() -> None:
    """How many notifications are pending, due now, and failing (retried with backoff)."""
    stats = _on_database(lambda db: Outbox(db, SystemClock()).stats())
    click.echo(f"pending {stats.pending}, due now {stats.due}, failed before {stats.failing}")


@main.command("run")
def run_bot() -> None:
    """Start the Telegram bot (long polling) until SIGINT/SIGTERM."""
    from bot.app import create_bot, run_polling
    from bot.shared_state import RedisUnavailable

    if not Settings().bot_token:
        click.echo("error: KAMENG_BOT_TOKEN is not set (the token @BotFather gave you)", err=True)
        sys.exit(2)
    _log_to_stderr()
    try:
        _run(lambda p: run_polling(p, create_bot(p.settings)))
    except RedisUnavailable as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@main.command("serve")
def serve_command() -> None:
    """Production mode: the Telegram webhook, the reseller API and the background work on
    KAMENG_API_HOST:KAMENG_API_PORT until SIGINT/SIGTERM."""
    from bot.app import create_bot
    from bot.serve import serve
    from bot.shared_state import RedisUnavailable

    settings = Settings()
    missing = [
        name
        for name, value in (
            ("KAMENG_BOT_TOKEN", settings.bot_token),
            ("KAMENG_WEBHOOK_URL", settings.webhook_url),
            ("KAMENG_WEBHOOK_SECRET", settings.webhook_secret),
        )
        if not value
    ]
    if missing:
        click.echo(f"error: kameng serve needs {', '.join(missing)} (see the README)", err=True)
        sys.exit(2)
    _log_to_stderr()

    def work(p: Platform) -> Awaitable[int]:
        return serve(p, create_bot(p.settings), p.settings.api_host, p.settings.api_port)

    try:
        sys.exit(_run(work))
    except RedisUnavailable as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@main.command("sandbox")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="The chat page's port; 0 picks a free one.",
)
@click.option("--keep", is_flag=True, help="Reuse the sandbox's database instead of a fresh demo.")
@click.option("--seed", type=int, default=0, show_default=True, help="The demo data's seed.")
@click.option(
    "--dir",
    "directory",
    default="sandbox-data",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the database, its secret key and the sandbox's API key live.",
)
def sandbox_command(port: int, keep: bool, seed: int, directory: Path) -> None:
    """Try Kameng on this machine: a demo platform, its real bot on a local Telegram
    emulator, the reseller API and a chat page in the browser, until Ctrl-C."""
    from sandbox.run import SandboxOptions, run

    sys.exit(run(SandboxOptions(port=port, keep=keep, seed=seed, directory=directory)))


# reseller HTTP API -------------------------------------------------------------


@main.group("api")
def api_group() -> None:
    """The reseller HTTP API: keys and the server."""


@api_group.group("key")
def api_key() -> None:
    """Resellers' API keys (stored hashed; a key is shown once)."""


@api_key.command("issue")
@click.argument("telegram_id", type=int)
def api_key_issue(telegram_id: int) -> None:
    """Issue a new key for a reseller (their old key stops working); prints it once."""
    issued = _run(lambda p: p.api_keys.issue(telegram_id, actor=OPERATOR))
    click.echo(f"key {issued.prefix}… for {telegram_id}; shown once, store it now:", err=True)
    click.echo(issued.token)


@api_key.command("revoke")
@click.argument("telegram_id", type=int)
def api_key_revoke(telegram_id: int) -> None:
    """Revoke the reseller's API key."""
    revoked = _run(lambda p: p.api_keys.revoke(telegram_id, actor=OPERATOR))
    click.echo(f"revoked {revoked} key(s) of {telegram_id}")


@api_group.command("serve")
@click.option("--host", default=None, help="Default: KAMENG_API_HOST (127.0.0.1).")
@click.option("--port", type=int, default=None, help="Default: KAMENG_API_PORT (8080).")
def api_serve(host: str | None, port: int | None) -> None:
    """Run the reseller HTTP API until SIGINT/SIGTERM."""
    from web.app import serve

    _log_to_stderr()

    def work(p: Platform) -> Awaitable[None]:
        return serve(p, host or p.settings.api_host, port or p.settings.api_port)

    _run(work)


@main.command("jobs")
@click.option(
    "--status", type=click.Choice([s.value for s in JobStatus]), default=None, help="Only these."
)
@click.option("--limit", type=int, default=50)
def jobs_list(status: str | None, limit: int) -> None:
    """Scheduled jobs (promotion announcements, reminders, reports), soonest first."""

    async def work(database: Database) -> list[JobView]:
        store = JobStore(database, SystemClock())
        return await store.jobs(status=JobStatus(status) if status else None, limit=limit)

    for job in _on_database(work):
        error = f"  {job.last_error}" if job.last_error else ""
        click.echo(
            f"#{job.id}  {job.kind}  {job.run_at:%Y-%m-%d %H:%M} UTC  {job.status.value}"
            f"  attempts {job.attempts}  {json.dumps(job.payload, sort_keys=True)}{error}"
        )


# parts whose commands live in a module of their own (cli/<part>.py, built on cli/common.py)
PARTS: tuple[click.Command, ...] = (
    payments,
    callbacks,
    upstream_cli.upstream,
    usdt,
    stars,
    credit,
    reports,
    commission,
    ads,
    services,
    dujiao_cli.dujiao,
)
for part in PARTS:
    main.add_command(part)


if __name__ == "__main__":
    main()
