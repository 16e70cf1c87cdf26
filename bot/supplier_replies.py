"""What the supplier handlers share: closing a decided card (and telling its subject), and
reading ``/cmd SKU``."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n

from bot import supplier_texts
from bot.approval_cards import Card, close_card
from bot.notices import tell_user
from bot.sender import Sender
from core.approvals import Verdict
from core.catalogue import Catalogue, SkuView, UserView
from core.errors import KamengError
from core.settings import Settings
from core.suppliers import SupplierStock


async def announce_decision(
    card: Card | None,
    verdict: Verdict | None,
    already_decided: bool,
    sender: Sender,
    catalogue: Catalogue,
    settings: Settings,
    i18n: I18n,
    telegram_id: int,
    render: Callable[[], str],
) -> None:
    """After a decision the admin's card says who decided (its buttons go); after the first
    one the subject is told."""
    await close_card(sender.bot, card, verdict)
    if already_decided:
        return
    await tell_user(sender, catalogue, settings, i18n, telegram_id, render)


async def own_sku_of(
    message: Message,
    command: CommandObject,
    user: UserView,
    supplier_stock: SupplierStock,
    usage: Callable[[], str],
) -> SkuView | None:
    """The caller's own SKU named in ``/cmd SKU``; otherwise replies why not and gives None."""
    code = (command.args or "").strip()
    if not code:
        await message.answer(usage())
        return None
    try:
        return await supplier_stock.own_sku(user.telegram_id, code)
    except KamengError as exc:
        await message.answer(supplier_texts.refusal(exc))
        return None
