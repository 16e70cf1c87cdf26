"""The demo's Dujiao-Next shop: the gold reseller's shop has bought one card from Kameng
over the Dujiao-Next upstream protocol (``core/dujiao_server.py``), as a Dujiao-Next site
connection does; the gold reseller connects their own shop from /apikey in the chat."""

from __future__ import annotations

from core.platform import Platform

ORDER_NO = "DJ-DEMO-0001"


async def show_dujiao_order(platform: Platform, api_key: str) -> int:
    """One order placed as a Dujiao-Next shop places it; returns its id (0 if none fit)."""
    caller = await platform.api_keys.authenticate(api_key)
    assert caller is not None
    listed = await platform.dujiao.products(caller, 1, 100)
    for item in listed["items"]:
        [sku] = item["skus"]
        if item["fulfillment_type"] == "auto" and sku["stock_quantity"] != 0:
            placed = await platform.dujiao.place(
                caller,
                sku_id=sku["id"],
                quantity=1,
                order_no=ORDER_NO,
                account=None,
                callback_url=None,
            )
            return placed.receipt.order_id
    return 0
