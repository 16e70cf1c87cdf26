"""A reseller buys an upstream's product in the bot: the codes come back in the receipt as
from local stock when the upstream has them at once; a slow upstream's order says it will
be told, and the delivery is told when the poll finds it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from core.fulfilment import ORDER_STATUS
from core.models import OutboxMessage
from core.platform import Platform
from core.procurement import ref_of
from core.upstreams.service import NewUpstream
from sandbox.demo_upstream import demo_catalogue
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_upstream import Catalogue, FakeDujiao, FakeProduct, Mode
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller

RESELLER = 1001


@pytest.fixture
async def fake(clock: FakeClock) -> AsyncIterator[FakeDujiao]:
    catalogue = Catalogue()
    catalogue.add(FakeProduct(1, "Steam 100", cost=92_00, face_value=100_00, stock=40))
    async with FakeDujiao(catalogue, now=lambda: clock.now().timestamp()) as server:
        yield server


async def status_notices(shop: Platform) -> int:
    async with shop.db.reading() as session:
        told = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == ORDER_STATUS)
        )
    return int(told or 0)


async def _ready(shop: Platform, fake: FakeDujiao, language: str = "en") -> str:
    await make_reseller(shop, RESELLER, balance=500_00)
    await shop.catalogue.set_language(RESELLER, language)
    new = NewUpstream("up", "dujiao", fake.base_url, fake.key, fake.secret, markup_bps=800)  # type: ignore[arg-type]
    await shop.upstreams.add(new, actor=ADMIN)
    await shop.upstreams.sync("up")
    [line] = (await shop.storefront.skus(RESELLER, limit=10)).lines
    return line.code


async def test_codes_from_the_upstream_at_once_and_a_slow_one_told_later(
    server: FakeTelegramServer, shop: Platform, fake: FakeDujiao, clock: FakeClock
) -> None:
    code = await _ready(shop, fake)
    ann = server.user(RESELLER, first_name="Ann", language_code="en", started=True)

    await ann.send_text(f"/buy {code} 1")
    quote = await ann.wait_for_message(lambda m: "Total: ¥99.36" in m.content)
    await ann.press("✅ Confirm", message=quote)
    receipt = await ann.wait_for_message(lambda m: "FAKE-kameng-1-1" in m.content)
    assert "Order #1" in receipt.content
    # the receipt says it all: no "being topped up" and "delivered" notices after it
    assert await status_notices(shop) == 0

    fake.catalogue.mode = Mode.SLOW
    await ann.send_text(f"/buy {code} 1")
    quote = await ann.wait_for_message(lambda m: "Total: ¥99.36" in m.content)
    await ann.press("✅ Confirm", message=quote)
    await ann.wait_for_message(lambda m: "you will be told here" in m.content)
    fake.catalogue.fill(fake.catalogue.orders[ref_of(2)], 1)
    clock.advance(minutes=1)
    await shop.procurement.poll_due("test")
    await ann.wait_for_message(lambda m: "Order #2" in m.content and "✅ delivered" in m.content)
    assert await status_notices(shop) == 2  # a slow order: "being topped up", then "delivered"
    assert (await shop.shop.order(RESELLER, 2)).codes == ["FAKE-kameng-2-1"]


@pytest.mark.parametrize(
    ("language", "asks", "refused", "expected", "zone"),
    [
        (
            "en",
            "type the Game user ID",
            "Game user ID does not look right",
            "Expected: 5 to 12 digits",
            "Server (zone) ID",
        ),
        ("zh-CN", "请输入游戏用户ID", "游戏用户ID格式不正确", "应为：5-12位数字", "请输入区服ID"),
    ],
)
async def test_an_upstream_direct_top_up_asks_for_the_fields_the_upstream_describes(
    server: FakeTelegramServer,
    shop: Platform,
    fake: FakeDujiao,
    clock: FakeClock,
    language: str,
    asks: str,
    refused: str,
    expected: str,
    zone: str,
) -> None:
    """The demo's Mobile Legends top-up, as its Dujiao-Next upstream describes its form: the
    reseller is asked in his language for what each field is and what it looks like (the
    form's placeholder), and a value the upstream's regex refuses is refused as it is
    typed, naming the field and saying again what is expected, before anything is bought."""
    fake.catalogue.products.clear()
    fake.catalogue.add(demo_catalogue().products[104])
    code = await _ready(shop, fake, language)
    ann = server.user(RESELLER, first_name="Ann", language_code=language[:2], started=True)
    fake.catalogue.mode = Mode.SLOW

    await ann.send_text(f"/buy {code} 1")
    await ann.wait_for_message(lambda m: asks in m.content and expected in m.content)
    await ann.send_text("abc")
    # at once, the zone not asked
    await ann.wait_for_message(lambda m: refused in m.content and expected in m.content)
    assert not any(zone in m.content for m in ann.messages)
    assert not fake.catalogue.orders
    await ann.send_text("12345678")
    await ann.wait_for_message(lambda m: zone in m.content)
    await ann.send_text("2001")
    quote = await ann.wait_for_message(lambda m: "12345678" in m.content and "2001" in m.content)
    await ann.press("✅ Confirm" if language == "en" else "✅ 确认购买", message=quote)
    await ann.wait_for_message(lambda m: "#1" in m.content)

    [order] = fake.catalogue.orders.values()  # placed there once
    seen = await shop.shop.order(RESELLER, 1)
    assert seen.fulfilment is not None
    assert seen.fulfilment.account == {"user_id": "12345678", "zone_id": "2001"}
    fake.catalogue.fill(order, 1)
    clock.advance(minutes=1)
    await shop.procurement.poll_due("test")
    delivered = "✅ delivered" if language == "en" else "✅ 已到账"
    await ann.wait_for_message(lambda m: "#1" in m.content and delivered in m.content)


async def test_a_code_the_upstream_delivered_late_comes_first_and_the_rest_is_told_later(
    server: FakeTelegramServer, shop: Platform, fake: FakeDujiao, clock: FakeClock
) -> None:
    code = await _ready(shop, fake)
    fake.catalogue.mode = Mode.SLOW  # a first order delivered only after our deadline
    late = await shop.shop.buy_now(RESELLER, code, 1, idempotency_key="late")
    clock.advance(minutes=31)
    await shop.fulfilments.expire_due("test")
    fake.catalogue.fill(fake.catalogue.orders[ref_of(late.order_id)], 1)  # type: ignore[union-attr]
    clock.advance(minutes=1)
    await shop.procurement.poll_due("test")
    ann = server.user(RESELLER, first_name="Ann", language_code="en", started=True)

    await ann.send_text(f"/buy {code} 3")
    quote = await ann.wait_for_message(lambda m: "Total: ¥298.08" in m.content)
    await ann.press("✅ Confirm", message=quote)

    receipt = await ann.wait_for_message(lambda m: "2 more on the way" in m.content)
    assert "FAKE-kameng-1-1" in receipt.content  # the late code, at once
    [order_id] = [o for o in fake.catalogue.orders if o != ref_of(late.order_id)]
    assert fake.catalogue.orders[order_id].quantity == 2  # only the rest bought there
    waiting = await shop.shop.order(RESELLER, int(order_id.removeprefix("kameng-")))
    assert waiting.fulfilment is not None and waiting.fulfilment.delivered_units == 1
    fake.catalogue.fill(fake.catalogue.orders[order_id], 2)
    clock.advance(minutes=1)
    await shop.procurement.poll_due("test")
    await ann.wait_for_message(lambda m: "✅ delivered" in m.content)
    mine = await shop.shop.order(RESELLER, int(order_id.removeprefix("kameng-")))
    assert mine.codes == ["FAKE-kameng-1-1", f"FAKE-{order_id}-1", f"FAKE-{order_id}-2"]
