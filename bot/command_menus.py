"""The command menus (Telegram's "/" menu), one table per role.

Everyone gets the resellers' menu (the default scope, in English and Chinese). A supplier or
an admin gets their own menu in their own chat (``BotCommandScopeChat``, in their language):
the resellers' commands followed by those of each role they hold. The menus are set at
start-up for every supplier and admin, and again at once when the bot grants a role (a
supplier application approved) or a staff member switches language; a role granted from the
CLI shows at the next start.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from html import escape

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __
from babel.support import LazyProxy

from bot.i18n import LOCALE_OF
from core.catalogue import UserView
from core.models import Role
from core.platform import Platform

log = logging.getLogger("kameng.bot")

MENUS: dict[Role, dict[str, LazyProxy]] = {
    Role.RESELLER: {
        "start": __("Main menu"),
        "catalogue": __("Browse products"),
        "orders": __("My orders"),
        "balance": __("Balance and top-up"),
        "buy": __("Quick buy: /buy SKU QUANTITY"),
        "redeem": __("Redeem a voucher: /redeem CODE"),
        "stars": __("Top up with Telegram Stars: /stars AMOUNT"),
        "apikey": __("API key for your own shop"),
        "notifications": __("Promotional messages on/off"),
        "services": __("Paid services"),
        "supplier": __("Become a supplier"),
        "language": __("Language"),
        "help": __("Help"),
    },
    Role.SUPPLIER: {
        "myproducts": __("My products, stock and sales"),
        "newproduct": __("Submit a new product for review"),
        "editproduct": __("Change a product: /editproduct SKU"),
        "upload": __("Upload codes: /upload SKU"),
        "earnings": __("Earnings and withdrawals"),
        "supplier_settings": __("Sales notifications and digests"),
        "ads": __("Bid for a featured slot"),
        "promote": __("Message your past buyers (broadcast credits)"),
    },
    Role.ADMIN: {
        "admin": __("Admin panel: what waits, users, prices"),
        "invite": __("Invite links: /invite [COUNT]"),
        "voucher": __("Issue vouchers: /voucher AMOUNT [COUNT]"),
        "broadcast": __("Message resellers"),
        "promo": __("Schedule a promotion"),
        "promos": __("Promotions not over yet"),
        "reports": __("Sales reports"),
        "export": __("Orders as CSV: /export FROM TO"),
        "payments": __("Stuck and mismatched payments"),
        "paycredit": __("Credit a payment: /paycredit ID TELEGRAM_ID note"),
        "usdtrate": __("USDT rate: /usdtrate [PRICE]"),
        "usdt": __("USDT that paid no payment"),
        "usdtcredit": __("Credit a USDT transfer: /usdtcredit TX_ID TELEGRAM_ID note"),
        "stars_rate": __("Stars rate: /stars_rate [FEN_PER_STAR]"),
        "stars_refund": __("Refund a Stars payment: /stars_refund PAYMENT_ID REASON"),
    },
}
# shown to those who may still use them only
NOT_FOR = {"supplier": Role.SUPPLIER}
# Telegram language codes of the default-scope menus → our gettext locales
DEFAULT_MENUS = {"": "en", "en": "en", "zh": "zh_CN"}


def command_names(roles: Collection[Role]) -> list[str]:
    """The menu of a user holding ``roles``, in order (everyone has the resellers')."""
    names: list[str] = []
    for role in (Role.RESELLER, Role.SUPPLIER, Role.ADMIN):
        if role is Role.RESELLER or role in roles:
            names += [name for name in MENUS[role] if NOT_FOR.get(name) not in roles]
    return names


def menu(i18n: I18n, locale: str, roles: Collection[Role] = ()) -> list[BotCommand]:
    descriptions = {name: text for table in MENUS.values() for name, text in table.items()}
    with i18n.context(), i18n.use_locale(locale):
        return [
            BotCommand(command=name, description=str(descriptions[name]))
            for name in command_names(roles)
        ]


def listing(role: Role) -> str:
    """One line per command of ``role``, for /help (in the current locale)."""
    return "\n".join(f"/{name} — {escape(str(text))}" for name, text in MENUS[role].items())


def is_staff(user: UserView) -> bool:
    return bool({Role.SUPPLIER, Role.ADMIN} & set(user.roles))


async def register_default(bot: Bot, i18n: I18n) -> None:
    for language_code, locale in DEFAULT_MENUS.items():
        await bot.set_my_commands(menu(i18n, locale), language_code=language_code or None)


async def refresh(bot: Bot, i18n: I18n, user: UserView) -> None:
    """Sets this supplier's or admin's own menu; a reseller keeps the default one. Telegram
    knows no chat with a user who never wrote to the bot (granted a role from the CLI):
    their menu is set once they write (see ``CurrentUserMiddleware``)."""
    if not is_staff(user) or not user.started:
        return
    locale = LOCALE_OF.get(user.language, "zh_CN")
    try:
        await bot.set_my_commands(
            menu(i18n, locale, user.roles), scope=BotCommandScopeChat(chat_id=user.telegram_id)
        )
    except TelegramAPIError as exc:  # blocked the bot meanwhile
        log.info("no command menu for %s: %s", user.telegram_id, exc.message)


async def register_all(bot: Bot, i18n: I18n, platform: Platform) -> None:
    """At start-up: the default menus, then each supplier's and admin's own."""
    await register_default(bot, i18n)
    for user in await platform.admin.staff():
        await refresh(bot, i18n, user)
