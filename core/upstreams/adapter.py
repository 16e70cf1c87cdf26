"""The interface of an upstream protocol: frozen values in, frozen values out.

An adapter speaks one protocol to one upstream over an injected ``HttpClient`` (no HTTP
library's types here), so core stays free of aiohttp and tests hand it a fake server's
address. Our order reference is the upstream's idempotency key (Dujiao-Next's
``downstream_order_no``, a Kameng's ``Idempotency-Key``): placing the same reference twice
is one order there.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from core.decisions.fulfilment import AccountField


class ProductKind(enum.StrEnum):
    CODES = "codes"  # the upstream delivers codes (卡密)
    DIRECT = "direct"  # direct top-up (直充): credited to an account the buyer names


@dataclass(frozen=True)
class UpstreamProduct:
    """One product as the upstream lists it; money in fen."""

    id: str  # the upstream's own id, what an order names (Dujiao-Next: the SKU id)
    name: str
    cost: int  # what the upstream charges us for one unit
    face_value: int | None  # what it is worth to the end consumer, if the upstream says
    stock: int | None  # None: unlimited
    selling: bool
    kind: ProductKind = ProductKind.CODES
    account_fields: tuple[AccountField, ...] = ()  # direct top-up: what the buyer must name
    category: str | None = None


class OrderState(enum.StrEnum):
    DELIVERED = "delivered"
    PROCESSING = "processing"
    FAILED = "failed"
    PARTIAL = "partial"


@dataclass(frozen=True)
class UpstreamOrder:
    """What the upstream says of one of our orders. ``codes`` are secrets: never logged."""

    ref: str  # our order reference
    state: OrderState
    upstream_id: str | None = None  # the upstream's order id, when it has given one
    codes: tuple[str, ...] = field(default=(), repr=False)
    delivered: int = 0  # units delivered so far
    # What the upstream charged us for this whole order, in fen: the order's total less what
    # it gave back for units it did not deliver. None when it does not say (or does not say
    # what it gave back): then we keep the supply price we synced (core/fulfilment.py settle).
    cost: int | None = None
    error: str | None = None  # the upstream's reason, for a failure


@dataclass(frozen=True)
class AccountRef:
    """The account a direct top-up is credited to (field name → value)."""

    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


class HttpClient(Protocol):
    """The one HTTP call an adapter makes; a transport failure raises ``UpstreamUnreachable``."""

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes = b""
    ) -> HttpResponse: ...


@dataclass(frozen=True)
class Credentials:
    """An upstream's address and secrets, decrypted only to make a call (never logged)."""

    base_url: str
    key: str = field(repr=False)
    secret: str = field(repr=False)


class UpstreamAdapter(Protocol):
    """One protocol's calls. Each may raise ``UpstreamError`` (refused, unreadable, down)."""

    protocol: str

    async def products(self) -> list[UpstreamProduct]: ...

    async def balance(self) -> int | None:
        """Our prepaid balance at the upstream in fen, or None if it does not say."""
        ...

    async def place_order(
        self, ref: str, product_id: str, quantity: int, account: AccountRef | None = None
    ) -> UpstreamOrder: ...

    async def query_order(self, ref: str, upstream_id: str | None = None) -> UpstreamOrder:
        """The order's state now. Both protocols look orders up by the upstream's id; without
        it (a crash before the answer arrived), ``place_order`` again with the same ``ref``
        returns the order already taken instead of taking another."""
        ...

    def verify_callback(self, headers: Mapping[str, str], body: bytes) -> UpstreamOrder:
        """The order update a callback carries, or ``UpstreamCallbackRefused``."""
        ...
