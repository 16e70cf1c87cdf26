"""50 resellers race for the last 20 codes: exactly 20 are sold, each once, money exact."""

from __future__ import annotations

import asyncio

from core.checks import check_ledger
from core.errors import OutOfStock, QuoteUsed
from core.orders import Receipt
from core.platform import Platform
from tests.factories import SUPPLIER_TID, make_reseller, make_sku

BUYERS = 50
CODES = 20


async def test_last_codes_are_sold_once_and_losers_pay_nothing(platform: Platform) -> None:
    await make_sku(platform, stock=CODES)
    resellers = [5000 + n for n in range(BUYERS)]
    for telegram_id in resellers:
        await make_reseller(platform, telegram_id, balance=100_00)
    quotes = [await platform.quotes.quote(t, "STEAM-100", 1) for t in resellers]

    async def attempt(telegram_id: int, quote_id: str) -> Receipt | None:
        try:
            result = await platform.shop.buy(telegram_id, quote_id)
        except OutOfStock:
            return None
        assert isinstance(result, Receipt)
        return result

    results = await asyncio.gather(
        *(attempt(t, q.id) for t, q in zip(resellers, quotes, strict=True))
    )

    winners = [r for r in results if r is not None]
    sold = [code for r in winners for code in r.codes]
    assert len(winners) == CODES
    assert len(set(sold)) == CODES
    assert await platform.catalogue.stock_count("STEAM-100") == 0
    for telegram_id, result in zip(resellers, results, strict=True):
        expected = 8_00 if result is not None else 100_00
        assert (await platform.balances.balance(telegram_id)).balance == expected
    assert (await platform.balances.supplier(SUPPLIER_TID)).payable == CODES * 85_84
    report = await check_ledger(platform.db)
    assert report.ok, report.render()


async def test_one_reseller_racing_itself_cannot_overspend(platform: Platform) -> None:
    await make_sku(platform, stock=10)
    await make_reseller(platform, 6000, balance=300_00)  # enough for three
    quotes = [await platform.quotes.quote(6000, "STEAM-100", 1) for _ in range(8)]

    async def attempt(quote_id: str) -> bool:
        try:
            await platform.shop.buy(6000, quote_id)
        except Exception as exc:
            assert exc.__class__.__name__ == "InsufficientBalance"
            return False
        return True

    outcomes = await asyncio.gather(*(attempt(q.id) for q in quotes))
    assert outcomes.count(True) == 3
    assert (await platform.balances.balance(6000)).balance == 24_00
    assert await platform.catalogue.stock_count("STEAM-100") == 7


async def test_a_double_tap_arriving_at_once_still_buys_once(platform: Platform) -> None:
    await make_sku(platform, stock=10)
    await make_reseller(platform, 7000, balance=300_00)
    quote = await platform.quotes.quote(7000, "STEAM-100", 2)

    results = await asyncio.gather(*(platform.shop.buy(7000, quote.id) for _ in range(5)))

    orders = {r.order_id for r in results if isinstance(r, Receipt)}
    assert len(orders) == 1
    assert (await platform.balances.balance(7000)).balance == 116_00
    assert await platform.catalogue.stock_count("STEAM-100") == 8


async def test_one_quote_bought_under_two_keys_at_once_is_bought_once(platform: Platform) -> None:
    await make_sku(platform, stock=10)
    await make_reseller(platform, 7100, balance=300_00)
    quote = await platform.quotes.quote(7100, "STEAM-100", 2)

    async def attempt(key: str) -> Receipt | QuoteUsed:
        try:
            result = await platform.shop.buy(7100, quote.id, idempotency_key=key)
        except QuoteUsed as exc:
            return exc
        assert isinstance(result, Receipt)
        return result

    results = await asyncio.gather(*(attempt(f"key-{n}") for n in range(6)))

    bought = [r for r in results if isinstance(r, Receipt)]
    refused = [r for r in results if isinstance(r, QuoteUsed)]
    assert len(bought) == 1 and len(refused) == 5
    assert {r.params["order_id"] for r in refused} == {bought[0].order_id}
    assert (await platform.balances.balance(7100)).balance == 116_00
    assert await platform.catalogue.stock_count("STEAM-100") == 8
    report = await check_ledger(platform.db)
    assert report.ok, report.render()
