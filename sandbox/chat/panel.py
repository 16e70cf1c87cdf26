"""The side panel: who the persona is on the platform, read through its public services.

Money is written as the bot writes it (``bot.formatting.money``: the deployment's currency
sign, the persona's language's number style).
"""

from __future__ import annotations

from typing import Any

from bot.formatting import money
from bot.i18n import LOCALE_OF
from core.errors import NotFound
from core.models import Role
from core.platform import Platform
from sandbox.personas import Persona


async def panel(platform: Platform, persona: Persona) -> dict[str, Any]:
    """The persona's roles, level, status and balances; ``known: False`` before the
    platform has ever seen them (a newcomer who never wrote to the bot)."""
    try:
        user = await platform.catalogue.user(persona.telegram_id)
    except NotFound:
        return {"known": False}
    locale = LOCALE_OF.get(user.language, "zh_CN")
    currency = platform.settings.currency

    def written(minor: int) -> str:
        return money(minor, currency, locale)

    balance = await platform.balances.balance(persona.telegram_id)
    result: dict[str, Any] = {
        "known": True,
        "roles": sorted(str(role) for role in user.roles),
        "level": user.level_name,
        "status": str(user.status),
        "language": user.language,
        "balance": written(balance.balance),
        "spendable": written(balance.spendable),
        "credit_limit": written(balance.credit_limit) if balance.credit_limit else None,
        "payable": None,
    }
    if Role.SUPPLIER in user.roles:
        try:
            supplier = await platform.balances.supplier(persona.telegram_id)
        except NotFound:  # granted the role, not yet given a supplier account
            pass
        else:
            result["payable"] = written(supplier.payable)
    return result
