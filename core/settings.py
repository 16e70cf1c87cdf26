"""Settings read from the environment (prefix ``KAMENG_``) and an optional ``.env`` file."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_TELEGRAM_API_BASE = "https://api.telegram.org"


SECRET_KEY_MIN_LENGTH = 32
# what `kameng secret generate` prints (URL-safe base64); a space, a quote or a line break
# pasted with the key would silently derive another key
_SECRET_KEY_FORMAT = re.compile(r"[A-Za-z0-9_-]+")


class SecretKeyProblem(RuntimeError):
    """The code-encryption key cannot be used: not set, or malformed."""


class MissingSecretKey(SecretKeyProblem):
    """Raised when a command needs the code-encryption key and none is configured."""

    def __init__(self) -> None:
        super().__init__(
            "KAMENG_SECRET_KEY is not set. Codes are encrypted with it; generate one with "
            "`kameng secret generate` and put it in the environment or in .env."
        )


class MalformedSecretKey(SecretKeyProblem):
    """The key is set but is not a key: too short, or with characters a key never has."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"KAMENG_SECRET_KEY is malformed: {reason}. A key is at least "
            f"{SECRET_KEY_MIN_LENGTH} characters of letters, digits, '-' and '_', as "
            "`kameng secret generate` prints it."
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
    registration: Literal["open", "approval", "invite"] = "open"
    outbox_poll_seconds: float = Field(default=1.0, gt=0)  # the notification sender's pause
    # how long the bot may reuse who a user is (language, roles) before reading it again;
    # changes made through this process are seen at once, others' within this (0: always read)
    user_cache_seconds: float = Field(default=10.0, ge=0)
    # a supplier's SKU is listed at its supply price plus this markup (basis points)
    supplier_markup_bps: int = Field(default=500, ge=0, le=10_000)

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8080, gt=0, lt=65536)

    # scheduler: promotions' jobs and the reports' calendar
    timezone: str = "Asia/Shanghai"  # how admins type and read times; stored in UTC
    scheduler_interval_seconds: float = Field(default=5.0, gt=0)
    scheduler_grace_seconds: int = Field(default=3600, ge=0)  # later than this: missed
    upstream_sync_minutes: int = Field(default=15, gt=0)  # how often upstreams are synced
    # the API's public address upstreams post order callbacks under (/upstream/NAME/callback)
    upstream_callback_base: str = ""
    # how long one call to an upstream may take before it counts as unanswered (asked again)
    upstream_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    # the step of the waits before an open upstream order is asked about: 2x, 4x ... (max 5 min)
    upstream_poll_seconds: float = Field(default=20.0, gt=0, le=300)
    #: how long a job is held by the runner running it; empty: ``lease_seconds``
    scheduler_lease_seconds: float | None = Field(default=None, gt=0)
    #: every lease on background work (outbox rows, jobs, broadcasts, the instance lease
    #: without Redis) runs out this long after its holder stopped renewing it (renewed
    #: every third of it while the work runs): a killed instance's work is taken over by
    #: another within it (plus one poll); a clean stop gives leases back at once
    lease_seconds: float = Field(default=30.0, gt=0)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    @property
    def scheduler_lease(self) -> timedelta:
        seconds = self.scheduler_lease_seconds
        return self.lease if seconds is None else timedelta(seconds=seconds)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}, e.g. Asia/Shanghai") from exc
        return value

    #: the one budget of everything the bot sends on its own initiative (``bot/sender.py``):
    #: requests a second bot-wide (Telegram allows about 30), a second in one private chat
    #: (about 1), a minute in one group (about 20)
    telegram_sends_per_second: float = Field(default=30.0, gt=0)
    telegram_private_chat_per_second: float = Field(default=1.0, gt=0)
    telegram_group_chat_per_minute: int = Field(default=20, gt=0)
    #: how often the admin's broadcast progress message is edited
    broadcast_progress_seconds: float = Field(default=3.0, gt=0)

    # production mode, `kameng serve`: Telegram posts each update to this public https URL
    # (its path is the webhook's route, served on api_host:api_port behind the proxy) with
    # this secret in X-Telegram-Bot-Api-Secret-Token (1-256 of A-Z a-z 0-9 _ -)
    webhook_url: str = ""
    webhook_secret: str = Field(default="", pattern=r"^[A-Za-z0-9_-]{0,256}$")

    #: several instances (issue 12): Redis shared by every bot instance of a deployment —
    #: FSM state, throttling, user-cache invalidation, the Telegram send budget
    #: (``bot/shared_state.py``). Empty: no Redis, in-process state, one instance only.
    redis_url: str = ""  # e.g. redis://127.0.0.1:6379/0
    #: every key and channel starts with it: deployments may share one Redis
    redis_prefix: str = Field(default="kameng", pattern=r"^[A-Za-z0-9_.-]+$")

    # --- observability (issue 12): health, metrics, logs ---------------------------------
    #: 1: log one JSON object a line (request id, update id, user id, order id, duration)
    log_json: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: a SKU on sale is low on stock below this many codes (``/metrics``), unless its
    #: supplier set an alert threshold of their own
    low_stock_below: int = Field(default=10, ge=0)

    # --- payments (issue 15): top-ups through providers, credited without an admin -------
    #: the public base URL providers post their notifications to: ``{base}/pay/{name}/notify``
    #: is served by the API application (``kameng serve`` / ``kameng api serve``)
    payments_public_url: str = ""
    #: a payment not paid within this is expired; one paid within the grace after is still
    #: credited, later it is ``mismatched`` (an admin decides)
    payment_ttl_seconds: int = Field(default=900, gt=0)
    payment_grace_seconds: int = Field(default=1800, ge=0)
    #: recovery (补单): every this often, ask the provider about payments still ``created``
    #: that are older than ``payment_check_after_seconds``
    payment_recovery_seconds: int = Field(default=300, gt=0)
    payment_check_after_seconds: int = Field(default=60, ge=0)
    #: 易支付 (epay): enabled when gateway, pid and key are set
    epay_gateway: str = ""  # e.g. https://pay.example.com/ (submit.php, api.php under it)
    epay_pid: str = ""
    epay_key: str = ""
    epay_type: str = ""  # alipay | wxpay | qqpay | "" (the gateway's cashier asks)
    epay_fee_bps: int = Field(default=0, ge=0, le=10_000)  # what the gateway keeps
    #: page: the payer opens submit.php (the gateway's cashier); api: we open the order
    #: over mapi.php and show its QR code or link in the chat
    epay_mode: Literal["page", "api"] = "page"
    epay_client_ip: str = "127.0.0.1"  # mapi.php's clientip (a bot never sees the payer's)
    #: Telegram Stars (XTR): a top-up method whose pay step is an invoice in the chat
    stars_enabled: bool = False
    #: fen per star until an admin sets a rate (``kameng payments stars-rate``); 0: none
    stars_fen_per_star: int = Field(default=0, ge=0)
    stars_fee_bps: int = Field(default=0, ge=0, le=10_000)  # what Telegram keeps, if booked

    #: the most a supplier may bid for a featured placement (and a slot's highest reserve),
    #: minor units: an extra zero typed by a supplier with a large payable is refused
    ads_max_bid: int = Field(default=10_000_00, gt=0)

    # --- USDT on TRON (issue 15): enabled when a deposit address and an API URL are set ---
    #: the address resellers send USDT (TRC20) to, and the TronGrid-style API that lists
    #: its incoming transfers (with its key, sent as TRON-PRO-API-KEY)
    usdt_deposit_address: str = ""
    usdt_api_url: str = ""
    usdt_api_key: str = ""
    usdt_contract: str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"  # USDT's TRC20 contract
    #: blocks on top of a transfer's before it credits (TRON makes one every 3 s)
    usdt_confirmations: int = Field(default=19, ge=0)
    #: how often the watcher reads the deposit address's incoming transfers
    usdt_watch_seconds: int = Field(default=30, gt=0)

    # --- downstream (issue 13): order callbacks to resellers' own systems ---------------
    #: allow callback URLs on loopback and private addresses (the sandbox and tests only)
    callbacks_allow_private: bool = False

    def require_secret_key(self) -> str:
        key = self.secret_key
        if not key:
            raise MissingSecretKey()
        if len(key) < SECRET_KEY_MIN_LENGTH:
            raise MalformedSecretKey(f"{len(key)} characters, fewer than {SECRET_KEY_MIN_LENGTH}")
        if not _SECRET_KEY_FORMAT.fullmatch(key):
            raise MalformedSecretKey("it has spaces, quotes or other characters a key never has")
        return key

    @property
    def admin_telegram_ids(self) -> list[int]:
        return [int(part) for part in self.admin_ids.replace(" ", "").split(",") if part]


def generate_secret_key() -> str:
    return secrets.token_urlsafe(48)
