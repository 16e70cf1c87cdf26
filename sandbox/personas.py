"""Who a visitor of the sandbox can be: the demo platform's people, one per role.

The demo data (``sandbox.demo``) gives each persona its role, level and balance through
the core's own use cases; the chat page (``sandbox.chat``) lets the visitor switch between
them; the runner (``sandbox.run``) wires the two. These ids are fixed so that ``--keep``
finds the same people in a kept database.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Persona:
    key: str  # stable, for URLs: "reseller-gold", "supplier", "admin", "newcomer"…
    telegram_id: int
    first_name: str
    username: str | None
    language_code: str  # what the persona's Telegram app says: "zh-hans" or "en"
    title_en: str  # shown in the persona switcher
    title_zh: str


@dataclass(frozen=True)
class ApiLink:
    """Where the sandbox's reseller HTTP API listens and the key of the reseller it is for."""

    base_url: str
    key: str
    owner_telegram_id: int


RESELLER_BRONZE = Persona(
    "reseller-bronze", 7001, "小林", "xiaolin", "zh-hans", "Bronze reseller", "普通代理"
)
RESELLER_SILVER = Persona(
    "reseller-silver", 7002, "Maya", "maya_cards", "en", "Silver reseller", "白银代理"
)
RESELLER_GOLD = Persona(
    "reseller-gold", 7003, "王磊", "wanglei", "zh-hans", "Gold reseller", "黄金代理"
)
SUPPLIER = Persona("supplier", 7101, "陈晨", "chenchen_supply", "zh-hans", "Supplier", "供货商")
SECOND_SUPPLIER = Persona(
    "supplier-2", 7102, "Leo", "leo_keys", "en", "Second supplier", "供货商二"
)
ADMIN = Persona("admin", 7201, "Admin", "kameng_admin", "en", "Admin", "管理员")
NEWCOMER = Persona("newcomer", 7301, "Sam", "sam_new", "en", "New user", "新用户")

PERSONAS: tuple[Persona, ...] = (
    RESELLER_BRONZE,
    RESELLER_SILVER,
    RESELLER_GOLD,
    SUPPLIER,
    SECOND_SUPPLIER,
    ADMIN,
    NEWCOMER,
)
