"""What a payment provider is to the platform: create a payment, verify a notification,
query a payment's status. A provider speaks its own protocol (HTTP, a chain, Telegram) and
nothing else: it never touches the database; ``core/payments/service.py`` decides and writes.

A provider is enabled by its settings: ``core/payments/registry.py`` lists one factory per
provider module (``Settings -> PaymentProvider | None``).
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class NewPayment:
    """What a provider is asked to create: our id (its ``out_trade_no``), what the payer
    pays, and where the provider must post its notification."""

    payment_id: str
    amount: int  # the balance's amount, in the deployment's minor units
    currency: str
    subject: str  # shown on the payer's page
    notify_url: str
    expires_at: datetime
    method: str = ""  # a provider's sub-method (epay: alipay / wxpay), "" for its default


@dataclass(frozen=True)
class PayStep:
    """What to show the payer. One of: a link (and the QR of it), text to pay to (a chain
    address and an exact amount, with its QR), or an invoice sent in Telegram."""

    pay_url: str | None = None
    qr_text: str | None = None  # what the QR code encodes (the link, or a payment URI)
    telegram_invoice: bool = False  # the bot sends an invoice (sendInvoice) instead
    address: str | None = None  # where to send (a chain address), shown with the amount
    provider_amount: int | None = None  # what to pay in ``provider_currency``'s unit
    provider_currency: str | None = None  # e.g. "USDT" (micro-units), "XTR" (stars)
    provider_reference: str | None = None  # when the provider names it at creation


@dataclass(frozen=True)
class Paid:
    """A verified notification (or a query's answer): this payment was paid ``amount`` in
    the provider's unit, under the provider's ``reference``."""

    payment_id: str
    amount: int
    reference: str
    paid_at: datetime | None = None  # the provider's time; None: when we heard of it
    raw: Mapping[str, str] = field(default_factory=dict)  # what came, secrets masked


@dataclass(frozen=True)
class Unpaid:
    """The provider knows the payment and it is not paid (yet)."""

    payment_id: str


@dataclass(frozen=True)
class Unknown:
    """The provider does not know this payment (never opened, or another merchant's)."""

    payment_id: str


Status = Paid | Unpaid | Unknown


class PaymentProvider(Protocol):
    """One way to pay. ``name`` is the URL's ``/pay/{name}/notify`` and the payments' column;
    ``currency`` the unit the payer pays in (``None``: the deployment's, in fen)."""

    @property
    def name(self) -> str: ...

    @property
    def fee_bps(self) -> int: ...

    @property
    def acknowledgement(self) -> str: ...  # the body a handled notification is answered with

    @property
    def notified_via(self) -> str:
        """Where its notifications come from: ``"http"`` (``/pay/{name}/notify``, signed),
        ``"telegram"`` (the bot's own updates) or ``""`` (none: a watcher reads them)."""
        ...

    async def create(self, payment: NewPayment) -> PayStep: ...

    def verify(self, params: Mapping[str, str]) -> Paid:
        """A notification's parameters → what was paid; ``BadNotification`` if its signature
        is wrong, it is malformed, or it does not say paid."""
        ...

    async def query(self, payment_id: str) -> Status:
        """Ask the provider; ``ProviderUnavailable`` if it does not answer."""
        ...


class Fetch(Protocol):
    """One HTTP request (``core`` imports no HTTP library of the fronts): status and body.
    A GET with ``params`` in the query; with ``form``, a POST of it (form-encoded)."""

    async def __call__(
        self,
        url: str,
        params: Mapping[str, str],
        *,
        seconds: float,
        form: Mapping[str, str] | None = None,
    ) -> tuple[int, str]: ...


class UrllibFetch:
    """``Fetch`` on the standard library, in a worker thread: providers are asked rarely
    (a top-up, a check button, the recovery job), so a pool of connections would buy
    nothing."""

    async def __call__(
        self,
        url: str,
        params: Mapping[str, str],
        *,
        seconds: float,
        form: Mapping[str, str] | None = None,
    ) -> tuple[int, str]:
        full = f"{url}?{urllib.parse.urlencode(dict(params))}" if params else url
        body = urllib.parse.urlencode(dict(form)).encode() if form is not None else None
        return await asyncio.to_thread(self._send, full, body, seconds)

    @staticmethod
    def _send(url: str, body: bytes | None, seconds: float) -> tuple[int, str]:
        headers = {"User-Agent": "kameng"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=seconds) as answer:
                return int(answer.status), answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as refused:
            return int(refused.code), refused.read().decode("utf-8", "replace")


def mask(params: Mapping[str, str], secrets: frozenset[str]) -> dict[str, str]:
    """``params`` with the values of ``secrets`` (and any ``key``) replaced, for storage."""
    hidden = secrets | {"key", "secret", "token"}
    return {k: ("***" if k.lower() in hidden else str(v)) for k, v in params.items()}
