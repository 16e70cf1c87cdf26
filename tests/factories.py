"""Small builders for test data, going through the platform's own use cases."""

from __future__ import annotations

from core.catalogue import NewSku
from core.models import Role, SkuStatus, StockKind
from core.platform import Platform

SUPPLIER_TID = 900
ADMIN = "test:admin"


async def make_supplier(platform: Platform, telegram_id: int = SUPPLIER_TID) -> None:
    """A supplier who has used the bot (so it may write to them)."""
    await platform.catalogue.ensure_user(telegram_id)
    await platform.catalogue.grant_role(telegram_id, Role.SUPPLIER, actor=ADMIN)


async def make_sku(
    platform: Platform,
    code: str = "STEAM-100",
    *,
    supply_price: int = 85_00,
    price: int = 92_00,
    face_value: int = 100_00,
    level_prices: dict[str, int] | None = None,
    stock: int = 0,
    stock_kind: StockKind = StockKind.UNIQUE,
    exclusive: bool = False,
    category: str = "Steam",
    supplier: int = SUPPLIER_TID,
) -> list[str]:
    """An active SKU with ``stock`` codes; returns the codes it stocked."""
    await make_supplier(platform, supplier)
    await platform.catalogue.add_sku(
        NewSku(
            code=code,
            name=f"{code} card",
            category=category,
            supplier_telegram_id=supplier,
            face_value=face_value,
            supply_price=supply_price,
            default_price=price,
            level_prices=level_prices or {},
            stock_kind=stock_kind,
            exclusive=exclusive,
        ),
        actor=ADMIN,
    )
    await platform.catalogue.set_sku_status(code, SkuStatus.ACTIVE, actor=ADMIN)
    codes = [f"{code}-{n:06d}-SECRET" for n in range(stock)]
    if codes:
        await platform.stock.import_codes(code, codes, actor=ADMIN)
    return codes


async def make_reseller(platform: Platform, telegram_id: int, balance: int = 0) -> None:
    await platform.catalogue.ensure_user(telegram_id, username=f"r{telegram_id}", language="en")
    if balance:
        await platform.balances.top_up(
            telegram_id, balance, idempotency_key=f"seed-{telegram_id}", note="seed", actor=ADMIN
        )


MOBILE_FIELDS = ("phone:Phone number:手机号:1[3-9]\\d{9}",)


async def make_direct_sku(
    platform: Platform,
    code: str = "MOBILE-50",
    *,
    fields: tuple[str, ...] = MOBILE_FIELDS,
    deadline_minutes: int = 30,
    supply_price: int = 48_00,
    price: int = 49_50,
    face_value: int = 50_00,
    supplier: int = SUPPLIER_TID,
) -> None:
    """An active direct top-up SKU (直充): no codes, the buyer types the account."""
    from core.decisions.fulfilment import parse_field

    await make_supplier(platform, supplier)
    await platform.catalogue.add_sku(
        NewSku(
            code=code,
            name=f"{code} top-up",
            category="Mobile",
            supplier_telegram_id=supplier,
            face_value=face_value,
            supply_price=supply_price,
            default_price=price,
            direct_fields=tuple(parse_field(spec) for spec in fields),
            direct_deadline_minutes=deadline_minutes,
        ),
        actor=ADMIN,
    )
    await platform.catalogue.set_sku_status(code, SkuStatus.ACTIVE, actor=ADMIN)
