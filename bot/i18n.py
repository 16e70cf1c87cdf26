"""gettext catalogues for the bot's two languages (English msgids, zh-CN translated)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n, I18nMiddleware

from core.catalogue import UserView

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"

# our language codes → gettext locale names
LOCALE_OF = {"zh-CN": "zh_CN", "en": "en"}


def make_i18n() -> I18n:
    return I18n(path=LOCALES_DIR, default_locale="zh_CN", domain=DOMAIN)


class UserLanguageMiddleware(I18nMiddleware):
    """Speaks the language stored on the user (chosen from Telegram's on first contact)."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: UserView | None = data.get("user")
        if user is None:
            return self.i18n.default_locale
        return LOCALE_OF.get(user.language, self.i18n.default_locale)
