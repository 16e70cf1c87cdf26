"""The demo's direct top-up (直充): a China Mobile top-up the demo supplier fulfils in the
bot. Made through the core's use cases only: the SKU with its phone-number field, one
past order delivered with a serial number, and one open task, bought at ``now``, waiting
in the supplier's chat when the sandbox starts (its deadline two hours on)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from core.catalogue import NewSku
from core.decisions.fulfilment import parse_field
from core.fulfilment import DIRECT_TASK, ORDER_STATUS
from core.models import SkuStatus
from core.orders import Receipt
from core.outbox import Outcome, finish
from core.platform import Platform
from sandbox.personas import RESELLER_GOLD, RESELLER_SILVER, SUPPLIER

DIRECT_SKU = "MOBILE-CM-50"
PHONE_FIELD = "phone:Mobile number:手机号:1[3-9]\\d{9}"
OPERATOR = "operator:sandbox"
DEADLINE_MINUTES = 120


class _Clock(Protocol):  # the demo's clock, set by hand (``sandbox.demo.DemoClock``)
    def set(self, moment: datetime) -> None: ...


async def add_direct_topup(platform: Platform, clock: _Clock, now: datetime) -> int:
    """The SKU and its orders; returns how many orders it made."""
    await platform.catalogue.add_sku(
        NewSku(
            code=DIRECT_SKU,
            name="中国移动话费 50 元 China Mobile top-up 50 CNY",
            category="话费 Mobile top-up",
            supplier_telegram_id=SUPPLIER.telegram_id,
            face_value=50_00,
            supply_price=48_50,
            default_price=49_80,
            direct_fields=(parse_field(PHONE_FIELD),),
            direct_deadline_minutes=DEADLINE_MINUTES,
        ),
        actor=OPERATOR,
    )
    await platform.catalogue.set_sku_status(DIRECT_SKU, SkuStatus.ACTIVE, actor=OPERATOR)
    clock.set(now - timedelta(hours=3))
    past = await platform.fulfilments.quote(
        RESELLER_SILVER.telegram_id, DIRECT_SKU, 1, {"phone": "13800138000"}
    )
    bought = await platform.shop.buy(RESELLER_SILVER.telegram_id, past.id)
    assert isinstance(bought, Receipt)
    clock.set(now - timedelta(hours=2, minutes=50))
    await platform.fulfilments.complete(
        SUPPLIER.telegram_id, bought.order_id, proof="CM2026120400017"
    )
    # what the bot's outbox worker did back then: the task and the buyer's notices sent
    while envelopes := await platform.outbox.claim(
        "sandbox-demo", kinds=(DIRECT_TASK, ORDER_STATUS), limit=50
    ):
        async with platform.db.transaction() as session:
            for envelope in envelopes:
                await finish(session, envelope, Outcome.SENT, now - timedelta(hours=2))
    clock.set(now)
    waiting = await platform.fulfilments.quote(
        RESELLER_GOLD.telegram_id, DIRECT_SKU, 1, {"phone": "13912345678"}
    )
    await platform.shop.buy(RESELLER_GOLD.telegram_id, waiting.id)
    return 2
