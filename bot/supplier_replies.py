"""What the supplier handlers share: reading ``/cmd SKU``."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.filters import CommandObject
from aiogram.types import Message

from bot import supplier_texts
from core.catalogue import SkuView, UserView
from core.errors import KamengError
from core.suppliers import SupplierStock


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
