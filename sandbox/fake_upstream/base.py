"""What every fake upstream shares: the scriptable catalogue, orders and the server's life."""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field
from typing import Self

from aiohttp import web

from core.decisions.fulfilment import AccountField
from sandbox.local_http import start_app

#: a direct top-up's field: described (labels, pattern), or a bare name, which each fake
#: sends the way an upstream that describes nothing would
FakeField = AccountField | str


def field_name(f: FakeField) -> str:
    return f if isinstance(f, str) else f.name


class Mode(enum.StrEnum):
    IMMEDIATE = "immediate"  # codes in the order's answer (or on the order at once)
    SLOW = "slow"  # taken, delivered later by ``deliver`` with a signed callback
    CALLBACK_LOST = "callback_lost"  # delivered by ``deliver``, but no callback arrives
    FAIL = "fail"  # taken, then failed (canceled)
    PARTIAL = "partial"  # only some of the units delivered
    OUT_OF_STOCK = "out_of_stock"  # refused at once
    TIMEOUT = "timeout"  # taken, then no answer until the client gives up
    WRONG_SIGNATURE = "wrong_signature"  # like SLOW, the callback signed with another secret


@dataclass
class FakeProduct:
    id: int
    name: str
    cost: int  # fen
    face_value: int | None = None
    stock: int | None = 100  # None: unlimited
    selling: bool = True
    category: str = "Games"
    direct_fields: tuple[FakeField, ...] = ()  # a direct top-up's account fields


@dataclass
class FakeOrder:
    id: int
    ref: str
    product_id: int
    quantity: int
    amount: int  # taken from our balance when ordered: the unit cost then × quantity
    # paid, delivering (some units delivered, the rest still coming), delivered,
    # partially_delivered (ended: the rest given back), canceled
    status: str
    codes: list[str] = field(default_factory=list)
    callback_url: str | None = None
    account: dict[str, str] = field(default_factory=dict)  # a direct top-up's account
    refunded: int = 0  # given back for the units not delivered (a partial delivery)

    @property
    def unit_price(self) -> int:
        return self.amount // self.quantity

    @property
    def charged(self) -> int:
        """What the order cost us in the end: its amount less what was given back."""
        return self.amount - self.refunded


@dataclass
class Catalogue:
    products: dict[int, FakeProduct] = field(default_factory=dict)
    balance: int = 1_000_000_00
    failing: int | None = None  # an HTTP status every call answers (a failing sync)
    mode: Mode = Mode.IMMEDIATE
    orders: dict[str, FakeOrder] = field(default_factory=dict)

    def add(self, product: FakeProduct) -> FakeProduct:
        self.products[product.id] = product
        return product

    def set_price(self, product_id: int, cost: int) -> None:
        self.products[product_id].cost = cost

    def set_stock(self, product_id: int, stock: int | None) -> None:
        self.products[product_id].stock = stock

    def remove(self, product_id: int) -> None:
        del self.products[product_id]

    def take(self, ref: str, product_id: int, quantity: int) -> FakeOrder | str:
        """An order taken (idempotent by ``ref``), or the refusal's code."""
        if ref in self.orders:
            return self.orders[ref]
        product = self.products.get(product_id)
        if product is None or not product.selling:
            return "sku_unavailable"
        if self.mode is Mode.OUT_OF_STOCK or (
            product.stock is not None and product.stock < quantity
        ):
            return "insufficient_stock"
        amount = product.cost * quantity
        if amount > self.balance:
            return "insufficient_balance"
        self.balance -= amount
        if product.stock is not None:
            product.stock -= quantity
        order = FakeOrder(len(self.orders) + 1, ref, product_id, quantity, amount, "paid")
        self.orders[ref] = order
        if self.mode is Mode.IMMEDIATE:
            self.fill(order, quantity)
        elif self.mode is Mode.PARTIAL:
            self.fill(order, max(quantity - 1, 0) or 0, partial=True)
        elif self.mode is Mode.FAIL:
            order.status = "canceled"
            order.refunded = amount
            self.balance += amount
        return order

    def progress(self, order: FakeOrder, units: int) -> None:
        """``units`` delivered so far, the rest still coming (Dujiao-Next's
        ``partially_delivered``: some child orders delivered, the others still paid)."""
        order.codes = [f"FAKE-{order.ref}-{i + 1}" for i in range(units)]
        order.status = "delivering"

    def fill(self, order: FakeOrder, units: int, *, partial: bool = False) -> None:
        """Deliver ``units``; a partial delivery gives the rest's price back, as a Kameng
        does (a Kameng's order then shows ``fulfilment.refunded``)."""
        order.codes = [f"FAKE-{order.ref}-{i + 1}" for i in range(units)]
        order.status = "partially_delivered" if partial else "delivered"
        if partial:
            order.refunded = order.unit_price * (order.quantity - units)
            self.balance += order.refunded


class FakeUpstream:
    """An aiohttp app on 127.0.0.1 (port 0: the OS picks); ``base_url`` once started."""

    def __init__(self, catalogue: Catalogue | None = None, *, port: int = 0) -> None:
        self.catalogue = catalogue or Catalogue()
        self.port = port
        self.requests: list[tuple[str, str]] = []  # (method, path) of every call
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.timeout_seconds = 30.0
        self.answer_delay = 0.0  # seconds every answer waits (a distant, slow upstream)

    def app(self) -> web.Application:
        raise NotImplementedError

    async def start(self) -> None:
        self._runner, self.base_url = await start_app(
            self.app(), port=self.port, shutdown_timeout=0.5
        )

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def hang(self) -> None:
        """A timeout after taking the order: answer nothing until the client gives up."""
        await asyncio.sleep(self.timeout_seconds)
