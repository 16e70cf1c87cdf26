"""Buying from a prepaid balance, on a real database: money, stock and idempotency."""

from __future__ import annotations

import pytest

from core.checks import check_ledger
from core.errors import (
    IdempotencyConflict,
    InsufficientBalance,
    InvalidQuantity,
    NotFound,
    NotRegistered,
    OutOfStock,
    QuoteUsed,
    SecretKeyMismatch,
    SkuNotForSale,
    UserBanned,
)
from core.models import PromotionKind, SkuStatus, StockKind, UserStatus
from core.orders import Receipt, Requoted
from core.platform import Platform, build_platform
from core.settings import Settings
from tests.conftest import FakeClock
from tests.factories import ADMIN, SUPPLIER_TID, make_reseller, make_sku

RESELLER = 1001


async def buy(platform: Platform, quantity: int, sku: str = "STEAM-100") -> Receipt:
    quote = await platform.quotes.quote(RESELLER, sku, quantity)
    result = await platform.shop.buy(RESELLER, quote.id)
    assert isinstance(result, Receipt)
    return result


async def test_a_purchase_charges_the_reseller_pays_the_supplier_and_hands_over_codes(
    platform: Platform,
) -> None:
    stocked = await make_sku(platform, stock=5)
    await make_reseller(platform, RESELLER, balance=200_00)

    receipt = await buy(platform, 2)

    assert receipt.total == 184_00 and receipt.balance_after == 16_00
    assert receipt.codes == stocked[:2]
    assert (await platform.balances.balance(RESELLER)).balance == 16_00
    # 92.00 per unit: 88.50 gross to the supplier, less 3 % newcomer commission (2.66)
    assert (await platform.balances.supplier(SUPPLIER_TID)).payable == 2 * 85_84
    assert await platform.catalogue.stock_count("STEAM-100") == 3
    assert (await check_ledger(platform.db)).ok


async def test_confirming_the_same_quote_twice_buys_once(platform: Platform) -> None:
    await make_sku(platform, stock=5)
    await make_reseller(platform, RESELLER, balance=200_00)
    quote = await platform.quotes.quote(RESELLER, "STEAM-100", 1)

    first = await platform.shop.buy(RESELLER, quote.id)
    second = await platform.shop.buy(RESELLER, quote.id)

    assert isinstance(first, Receipt) and isinstance(second, Receipt)
    assert second.replayed and not first.replayed
    assert second.order_id == first.order_id and second.codes == first.codes
    assert (await platform.balances.balance(RESELLER)).balance == 108_00
    assert await platform.catalogue.stock_count("STEAM-100") == 4


async def test_a_quote_is_spent_once_whatever_the_key(platform: Platform) -> None:
    await make_sku(platform, stock=5)
    await make_reseller(platform, RESELLER, balance=200_00)
    quote = await platform.quotes.quote(RESELLER, "STEAM-100", 1)

    first = await platform.shop.buy(RESELLER, quote.id, idempotency_key="shop-1")
    assert isinstance(first, Receipt)
    for other_key in ("shop-2", None):  # another API key, or the bot's Confirm
        with pytest.raises(QuoteUsed) as refused:
            await platform.shop.buy(RESELLER, quote.id, idempotency_key=other_key)
        assert refused.value.params == {"order_id": first.order_id}
    again = await platform.shop.buy(RESELLER, quote.id, idempotency_key="shop-1")
    assert isinstance(again, Receipt) and again.replayed and again.order_id == first.order_id
    assert (await platform.balances.balance(RESELLER)).balance == 108_00
    assert await platform.catalogue.stock_count("STEAM-100") == 4
    assert (await check_ledger(platform.db)).ok


async def test_an_expired_quote_is_requoted_and_charges_nothing(
    platform: Platform, clock: FakeClock
) -> None:
    await make_sku(platform, stock=5)
    await make_reseller(platform, RESELLER, balance=200_00)
    quote = await platform.quotes.quote(RESELLER, "STEAM-100", 1)

    clock.advance(minutes=5)
    result = await platform.shop.buy(RESELLER, quote.id)

    assert isinstance(result, Requoted) and result.reason == "expired"
    assert result.quote.id != quote.id and result.quote.total == 92_00
    assert (await platform.balances.balance(RESELLER)).balance == 200_00
    assert await platform.catalogue.stock_count("STEAM-100") == 5


async def test_a_price_change_after_quoting_is_requoted_not_charged(
    platform: Platform, clock: FakeClock
) -> None:
    await make_sku(platform, stock=5)
    await make_reseller(platform, RESELLER, balance=200_00)
    quote = await platform.quotes.quote(RESELLER, "STEAM-100", 1)
    await platform.catalogue.add_promotion(
        name="flash",
        kind=PromotionKind.PERCENT_OFF,
        percent_off_bps=500,
        starts_at=clock.now(),
        ends_at=clock.now().replace(hour=18),
        sku_codes=("STEAM-100",),
        actor=ADMIN,
    )

    result = await platform.shop.buy(RESELLER, quote.id)

    assert isinstance(result, Requoted) and result.reason == "changed"
    assert result.quote.unit_price == 87_40
    assert (await platform.balances.balance(RESELLER)).balance == 200_00
    bought = await platform.shop.buy(RESELLER, result.quote.id)
    assert isinstance(bought, Receipt) and bought.total == 87_40


async def test_promotion_prices_follow_the_window_without_any_scheduler(
    platform: Platform, clock: FakeClock
) -> None:
    await make_sku(platform, stock=5)
    await make_reseller(platform, RESELLER)
    start = clock.now().replace(hour=13)
    await platform.catalogue.add_promotion(
        name="lunch",
        kind=PromotionKind.FIXED_PRICE,
        fixed_price=86_00,
        starts_at=start,
        ends_at=start.replace(hour=14),
        category="Steam",
        actor=ADMIN,
    )
    prices = []
    for hour in (12, 13, 14):
        clock.current = clock.current.replace(hour=hour)
        prices.append((await platform.quotes.quote(RESELLER, "STEAM-100", 1)).unit_price)
    assert prices == [92_00, 86_00, 92_00]


async def test_level_price_and_quantity_break_show_in_the_quote(platform: Platform) -> None:
    await make_sku(platform, stock=20, level_prices={"gold": 90_00})
    await make_reseller(platform, RESELLER)
    await platform.catalogue.set_level(RESELLER, "gold", actor=ADMIN)
    await platform.catalogue.add_quantity_break(
        sku_code="STEAM-100", min_quantity=10, discount_bps=100, actor=ADMIN
    )
    quote = await platform.quotes.quote(RESELLER, "STEAM-100", 10)
    assert quote.price.base_price == 90_00 and quote.price.from_level_price
    assert quote.price.quantity_break is not None
    assert quote.unit_price == 89_10 and quote.total == 891_00


async def test_not_enough_balance_charges_nothing_and_claims_nothing(
    platform: Platform,
) -> None:
    await make_sku(platform, stock=5)
    await make_reseller(platform, RESELLER, balance=100_00)
    quote = await platform.quotes.quote(RESELLER, "STEAM-100", 2)
    assert quote.shortfall == 84_00

    with pytest.raises(InsufficientBalance) as refused:
        await platform.shop.buy(RESELLER, quote.id)

    assert refused.value.params["shortfall"] == 84_00
    assert (await platform.balances.balance(RESELLER)).balance == 100_00
    assert await platform.catalogue.stock_count("STEAM-100") == 5
    assert (await platform.balances.supplier(SUPPLIER_TID)).payable == 0


async def test_a_credit_line_lets_the_balance_go_below_zero_up_to_the_limit(
    platform: Platform,
) -> None:
    await make_sku(platform, stock=5)
    await make_reseller(platform, RESELLER, balance=50_00)
    await platform.catalogue.set_credit_limit(RESELLER, 50_00, actor=ADMIN)
    receipt = await buy(platform, 1)
    assert receipt.balance_after == -42_00
    with pytest.raises(InsufficientBalance):
        await buy(platform, 1)
    assert (await check_ledger(platform.db)).ok


async def test_out_of_stock_says_how_many_are_left_and_charges_nothing(
    platform: Platform,
) -> None:
    await make_sku(platform, stock=3)
    await make_reseller(platform, RESELLER, balance=1000_00)
    quote = await platform.quotes.quote(RESELLER, "STEAM-100", 4)
    assert quote.stock == 3
    with pytest.raises(OutOfStock) as refused:
        await platform.shop.buy(RESELLER, quote.id)
    assert refused.value.params["available"] == 3
    assert (await platform.balances.balance(RESELLER)).balance == 1000_00
    assert await platform.catalogue.stock_count("STEAM-100") == 3


async def test_cyclic_stock_hands_the_same_code_to_every_buyer(platform: Platform) -> None:
    await make_sku(platform, "OFFICE-KEY", stock=1, stock_kind=StockKind.CYCLIC)
    await make_reseller(platform, RESELLER, balance=1000_00)
    first = await buy(platform, 2, "OFFICE-KEY")
    second = await buy(platform, 3, "OFFICE-KEY")
    assert set(first.codes) == set(second.codes) == {"OFFICE-KEY-000000-SECRET"}
    assert len(second.codes) == 3
    assert await platform.catalogue.stock_count("OFFICE-KEY") is None
    assert (await check_ledger(platform.db)).ok


@pytest.mark.parametrize("quantity", [0, -1, 10_001])
async def test_a_silly_quantity_is_refused(platform: Platform, quantity: int) -> None:
    await make_sku(platform, stock=1)
    await make_reseller(platform, RESELLER, balance=100_00)
    with pytest.raises(InvalidQuantity):
        await platform.quotes.quote(RESELLER, "STEAM-100", quantity)


async def test_only_active_skus_are_sold(platform: Platform) -> None:
    await make_sku(platform, stock=1)
    await make_reseller(platform, RESELLER, balance=100_00)
    quote = await platform.quotes.quote(RESELLER, "STEAM-100", 1)
    await platform.catalogue.set_sku_status("STEAM-100", SkuStatus.SUSPENDED, actor=ADMIN)
    with pytest.raises(SkuNotForSale):
        await platform.shop.buy(RESELLER, quote.id)
    with pytest.raises(SkuNotForSale):
        await platform.quotes.quote(RESELLER, "STEAM-100", 1)


async def test_a_quote_is_not_bought_once_its_holder_is_no_longer_admitted(
    platform: Platform,
) -> None:
    # the same "may this user buy" as the quote: a registration set back to pending (or a
    # ban) after quoting refuses the Confirm, and nothing is charged or claimed
    await make_sku(platform, stock=2)
    await make_reseller(platform, RESELLER, balance=200_00)
    quote = await platform.quotes.quote(RESELLER, "STEAM-100", 1)
    await platform.catalogue.set_status(RESELLER, UserStatus.PENDING, actor=ADMIN)
    with pytest.raises(NotRegistered):
        await platform.shop.buy(RESELLER, quote.id)
    await platform.catalogue.set_status(RESELLER, UserStatus.BANNED, actor=ADMIN)
    with pytest.raises(UserBanned):
        await platform.shop.buy(RESELLER, quote.id)
    assert (await platform.balances.balance(RESELLER)).balance == 200_00
    assert await platform.catalogue.stock_count("STEAM-100") == 2


async def test_someone_elses_quote_cannot_be_used(platform: Platform) -> None:
    await make_sku(platform, stock=2)
    await make_reseller(platform, RESELLER, balance=100_00)
    await make_reseller(platform, 2002, balance=100_00)
    quote = await platform.quotes.quote(RESELLER, "STEAM-100", 1)
    with pytest.raises(NotFound):
        await platform.shop.buy(2002, quote.id)


async def test_refund_reverses_every_share_and_voids_the_codes(platform: Platform) -> None:
    await make_sku(platform, stock=5)
    await make_reseller(platform, RESELLER, balance=500_00)
    receipt = await buy(platform, 3)

    one = await platform.shop.refund(receipt.order_id, units=1, idempotency_key="r1", actor=ADMIN)
    again = await platform.shop.refund(receipt.order_id, units=1, idempotency_key="r1", actor=ADMIN)
    assert one.amount == 92_00 and again.replayed and again.amount == 92_00
    assert await platform.catalogue.stock_count("STEAM-100") == 2  # the refunded code voided
    assert (await platform.balances.supplier(SUPPLIER_TID)).payable == 2 * 85_84

    await platform.shop.refund(receipt.order_id, idempotency_key="r2", actor=ADMIN)
    assert (await platform.balances.balance(RESELLER)).balance == 500_00
    assert (await platform.balances.supplier(SUPPLIER_TID)).payable == 0
    assert await platform.catalogue.stock_count("STEAM-100") == 2  # all three voided
    assert (await check_ledger(platform.db)).ok


async def test_buy_now_with_the_same_key_returns_the_same_codes(platform: Platform) -> None:
    await make_sku(platform, stock=5)
    await make_reseller(platform, RESELLER, balance=500_00)
    first = await platform.shop.buy_now(RESELLER, "STEAM-100", 2, idempotency_key="api-1")
    second = await platform.shop.buy_now(RESELLER, "STEAM-100", 2, idempotency_key="api-1")
    assert isinstance(first, Receipt) and isinstance(second, Receipt)
    assert first.codes == second.codes and second.replayed
    assert (await platform.balances.balance(RESELLER)).balance == 316_00


async def test_buy_now_with_the_same_key_for_another_request_is_refused(
    platform: Platform,
) -> None:
    await make_sku(platform, stock=5)
    await make_sku(platform, "XBOX-50", stock=5)
    await make_reseller(platform, RESELLER, balance=500_00)
    first = await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="cli-1")

    with pytest.raises(IdempotencyConflict):
        await platform.shop.buy_now(RESELLER, "STEAM-100", 2, idempotency_key="cli-1")
    with pytest.raises(IdempotencyConflict):
        await platform.shop.buy_now(RESELLER, "XBOX-50", 1, idempotency_key="cli-1")
    again = await platform.shop.buy_now(RESELLER, "steam-100", 1, idempotency_key="cli-1")

    assert isinstance(first, Receipt) and isinstance(again, Receipt)
    assert again.codes == first.codes and again.replayed
    assert (await platform.balances.balance(RESELLER)).balance == 500_00 - 92_00


async def test_buy_with_a_key_used_for_another_quote_is_refused(platform: Platform) -> None:
    await make_sku(platform, stock=5)
    await make_reseller(platform, RESELLER, balance=500_00)
    one = await platform.quotes.quote(RESELLER, "STEAM-100", 1)
    two = await platform.quotes.quote(RESELLER, "STEAM-100", 1)
    await platform.shop.buy(RESELLER, one.id, idempotency_key="k")

    with pytest.raises(IdempotencyConflict):
        await platform.shop.buy(RESELLER, two.id, idempotency_key="k")
    assert (await platform.balances.balance(RESELLER)).balance == 500_00 - 92_00


async def test_another_secret_key_fails_cleanly_where_codes_are_read(
    platform: Platform, settings: Settings, clock: FakeClock
) -> None:
    await make_sku(platform, stock=5)
    await make_reseller(platform, RESELLER, balance=500_00)
    bought = await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="k")
    assert isinstance(bought, Receipt)
    other_key = settings.model_copy(update={"secret_key": "another-key-" + "x" * 32})
    other = build_platform(other_key, clock=clock, db=platform.db)

    with pytest.raises(SecretKeyMismatch):
        await other.shop.order(RESELLER, bought.order_id)
    with pytest.raises(SecretKeyMismatch):
        await other.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="k2")
    assert (await platform.balances.balance(RESELLER)).balance == 500_00 - 92_00  # not charged
    assert await platform.catalogue.stock_count("STEAM-100") == 4
