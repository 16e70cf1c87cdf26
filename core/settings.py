"""Settings read from the environment (prefix ``KAMENG_``) and an optional ``.env`` file."""

from __future__ import annotations

import secrets

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_TELEGRAM_API_BASE = "https://api.telegram.org"


class MissingSecretKey(RuntimeError):
    """Raised when a command needs the code-encryption key and none is configured."""

    def __init__(self) -> None:
        super().__init__(
            "KAMENG_SECRET_KEY is not set. Codes are encrypted with it; generate one with "
            "`kameng secret generate` and put it in the environment or in .env."
        )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAMENG_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///kameng.db"
    secret_key: str = ""
    currency: str = "CNY"
    quote_ttl_seconds: int = Field(default=300, gt=0)

    bot_token: str = ""
    admin_ids: str = ""
    telegram_api_base: str = DEFAULT_TELEGRAM_API_BASE
    registration: str = "open"

    #: broadcasts: messages per second overall (Telegram allows ~30), progress edit interval
    broadcast_rate: float = Field(default=25.0, gt=0)
    broadcast_progress_seconds: float = Field(default=3.0, gt=0)

    def require_secret_key(self) -> str:
        if len(self.secret_key) < 32:
            raise MissingSecretKey()
        return self.secret_key

    @property
    def admin_telegram_ids(self) -> list[int]:
        return [int(part) for part in self.admin_ids.replace(" ", "").split(",") if part]


def generate_secret_key() -> str:
    return secrets.token_urlsafe(48)
