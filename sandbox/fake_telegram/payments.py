"""Payments in Telegram Stars (``XTR``): invoices, pre-checkout queries, refunds.

The Bot API side (``sendInvoice``, ``answerPreCheckoutQuery``, ``refundStarPayment``,
``getStarTransactions``) checks its parameters as Telegram does; its error texts are the
ones the Bot API passes on from Telegram (``STARS_INVOICE_INVALID``,
``CHARGE_ALREADY_REFUNDED``…) or its own (``Parameter "error_message" is required``).

The user's side is :func:`pay_invoice` (``FakeUser.pay``), what a Telegram client does
when its user presses Pay: a ``pre_checkout_query`` update, then a wait for the bot's
``answerPreCheckoutQuery`` until the deadline (10 seconds, measured on the emulator's own
clock; an answer after it is refused as too old), and only after an ``ok`` answer a service
message with ``successful_payment`` (a unique ``telegram_payment_charge_id``) delivered as
a ``message`` update, through getUpdates or the webhook like every other update.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox.fake_telegram import limits
from sandbox.fake_telegram.limits import ApiError
from sandbox.fake_telegram.methods import BotApi, Params, handler
from sandbox.fake_telegram.state import Chat, ChatMessage, FakeState, PendingUpdate

STARS = "XTR"
#: Telegram wants the answer to a pre-checkout query within 10 seconds of sending it
PRE_CHECKOUT_ANSWER_TIMEOUT = 10.0
MAX_TITLE = 32
MAX_DESCRIPTION = 255
MAX_PAYLOAD_BYTES = 128
#: the most Stars one invoice may ask for (Telegram's limit for bots' invoices)
MAX_STARS_AMOUNT = 10_000

STARS_INVOICE_INVALID = "Bad Request: STARS_INVOICE_INVALID"
INVOICE_PAYLOAD_INVALID = "Bad Request: INVOICE_PAYLOAD_INVALID"
CURRENCY_TOTAL_AMOUNT_INVALID = "Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID"
PAYMENT_PROVIDER_INVALID = "Bad Request: PAYMENT_PROVIDER_INVALID"
NO_PRICES = "Bad Request: There must be at least one price"
PRICE_LABEL_EMPTY = "Bad Request: Can't parse labeled price: LabeledPrice label must be non-empty"
ERROR_MESSAGE_REQUIRED = 'Bad Request: Parameter "error_message" is required'
CHARGE_ALREADY_REFUNDED = "Bad Request: CHARGE_ALREADY_REFUNDED"
CHARGE_NOT_FOUND = "Bad Request: CHARGE_NOT_FOUND"


@dataclass(frozen=True)
class Invoice:
    """What ``sendInvoice`` put in a message (``Message.invoice`` plus the payload)."""

    title: str
    description: str
    currency: str
    total_amount: int
    payload: str
    start_parameter: str = ""

    def to_api(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "start_parameter": self.start_parameter,
            "currency": self.currency,
            "total_amount": self.total_amount,
        }


@dataclass
class PreCheckoutQuery:
    """One pre-checkout query and how (and when, on the emulator's clock) it was answered."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    invoice: Invoice
    created_at: float  # time.monotonic()
    deadline: float
    answered_at: float | None = None
    ok: bool | None = None
    error_message: str | None = None
    #: answers that came too late or twice, refused with "query is too old"
    late_answers: int = 0

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def answered_in_time(self) -> bool:
        return self.answered_at is not None and self.answered_at <= self.deadline


@dataclass
class StarPayment:
    """A successful payment in Stars the bot received (and whether it was refunded)."""

    charge_id: str
    user_id: int
    total_amount: int
    payload: str
    date: int
    refunded_at: int | None = None


@dataclass(frozen=True)
class PaymentOutcome:
    """What pressing Pay came to: ``paid`` (with the charge id and the update that told the
    bot), ``declined`` (the bot answered ok=False: its error message) or ``timed_out``."""

    status: str
    query: PreCheckoutQuery
    charge_id: str | None = None
    update: PendingUpdate | None = None

    @property
    def error_message(self) -> str | None:
        return self.query.error_message


class InvoiceNotPayable(LookupError):
    """The message has no invoice, or its invoice was paid already."""


@dataclass
class PaymentsState:
    """The payments part of :class:`FakeState` (``state.payments``)."""

    pre_checkout_queries: dict[str, PreCheckoutQuery] = field(default_factory=dict)
    payments: dict[str, StarPayment] = field(default_factory=dict)
    #: (chat id, message id) of each paid invoice -> its charge id
    paid_invoices: dict[tuple[int, int], str] = field(default_factory=dict)
    #: getStarTransactions' list, oldest first
    transactions: list[dict[str, Any]] = field(default_factory=list)
    answer_timeout: float = PRE_CHECKOUT_ANSWER_TIMEOUT
    _query_ids: Any = field(default_factory=lambda: itertools.count(1))

    def next_query_id(self, chat_id: int) -> str:
        return f"{chat_id}{next(self._query_ids):09d}"


def payments_of(state: FakeState) -> PaymentsState:
    payments: PaymentsState = state.payments
    return payments


# -- the bot's side -------------------------------------------------------------------


def _check_invoice(params: Params) -> Invoice:
    title, description = params["title"], params["description"]
    if not 1 <= len(title) <= MAX_TITLE:
        raise ApiError.fake_only(f"fake server: title must be 1-{MAX_TITLE} characters")
    if not 1 <= len(description) <= MAX_DESCRIPTION:
        raise ApiError.fake_only(f"fake server: description must be 1-{MAX_DESCRIPTION} characters")
    payload: str = params["payload"]
    if not 1 <= len(payload.encode("utf-8")) <= MAX_PAYLOAD_BYTES:
        raise ApiError(400, INVOICE_PAYLOAD_INVALID)
    prices: list[dict[str, Any]] = params["prices"]
    if not prices:
        raise ApiError(400, NO_PRICES)
    if any(not price["label"] for price in prices):
        raise ApiError(400, PRICE_LABEL_EMPTY)
    currency = params["currency"]
    if currency != STARS:
        # the emulator has no payment providers: only Stars can be paid here
        raise ApiError(400, PAYMENT_PROVIDER_INVALID)
    if params.get("provider_token"):
        raise ApiError(400, STARS_INVOICE_INVALID)
    if len(prices) != 1:
        raise ApiError(400, STARS_INVOICE_INVALID)
    if params.get("max_tip_amount") or params.get("suggested_tip_amounts"):
        raise ApiError(400, STARS_INVOICE_INVALID)
    amount = int(prices[0]["amount"])
    if not 1 <= amount <= MAX_STARS_AMOUNT:
        raise ApiError(400, CURRENCY_TOTAL_AMOUNT_INVALID)
    return Invoice(
        title=title,
        description=description,
        currency=currency,
        total_amount=amount,
        payload=payload,
        start_parameter=params.get("start_parameter") or "",
    )


def _check_pay_button(markup: dict[str, Any] | None) -> None:
    """If the invoice has a keyboard, its first button must be the Pay button."""
    if markup is None:
        return
    rows = markup.get("inline_keyboard") or [[]]
    first = rows[0][0] if rows[0] else None
    if first is None or not first.get("pay"):
        raise ApiError.fake_only(
            "fake server: the first button of an invoice's keyboard must be a Pay button"
        )


@handler("sendInvoice")
async def send_invoice(api: BotApi, params: Params) -> Any:
    chat = api.state.chat(params["chat_id"], writing=True)
    invoice = _check_invoice(params)
    _check_pay_button(params.get("reply_markup"))
    return api.send(chat, params, invoice=invoice)


@handler("answerPreCheckoutQuery")
async def answer_pre_checkout_query(api: BotApi, params: Params) -> Any:
    ok = bool(params["ok"])
    error_message = params.get("error_message") or ""
    if not ok and not error_message:
        raise ApiError(400, ERROR_MESSAGE_REQUIRED)
    payments = payments_of(api.state)
    query = payments.pre_checkout_queries.get(str(params["pre_checkout_query_id"]))
    now = time.monotonic()
    if query is None:
        raise ApiError(400, limits.QUERY_TOO_OLD)
    if query.answered or now > query.deadline:
        query.late_answers += 1
        raise ApiError(400, limits.QUERY_TOO_OLD)
    query.answered_at = now
    query.ok = ok
    query.error_message = None if ok else error_message
    api.state.notify(api.state.chats.get(query.chat_id))
    return True


@handler("refundStarPayment")
async def refund_star_payment(api: BotApi, params: Params) -> Any:
    state = api.state
    payments = payments_of(state)
    payment = payments.payments.get(params["telegram_payment_charge_id"])
    if payment is None or payment.user_id != params["user_id"]:
        raise ApiError(400, CHARGE_NOT_FOUND)
    if payment.refunded_at is not None:
        raise ApiError(400, CHARGE_ALREADY_REFUNDED)
    payment.refunded_at = int(time.time())
    chat = state.chats[payment.user_id]
    payments.transactions.append(
        {
            "id": payment.charge_id,
            "amount": payment.total_amount,
            "date": payment.refunded_at,
            "receiver": _user_partner(chat, payment.payload),
        }
    )
    refunded = {
        "currency": STARS,
        "total_amount": payment.total_amount,
        "invoice_payload": payment.payload,
        "telegram_payment_charge_id": payment.charge_id,
    }
    _service_message(state, chat, refunded_payment=refunded)
    return True


@handler("getStarTransactions")
async def get_star_transactions(api: BotApi, params: Params) -> Any:
    offset = max(int(params.get("offset") or 0), 0)
    limit = min(max(int(params.get("limit") or 100), 1), 100)
    transactions = payments_of(api.state).transactions
    return {"transactions": transactions[offset : offset + limit]}


# -- the user's side ------------------------------------------------------------------


def payable_invoice(state: FakeState, chat: Chat, message: ChatMessage) -> Invoice:
    """The invoice of ``message``, if it can still be paid (an invoice is paid once)."""
    if message.invoice is None:
        raise InvoiceNotPayable(f"message #{message.message_id} has no invoice")
    if (chat.id, message.message_id) in payments_of(state).paid_invoices:
        raise InvoiceNotPayable(f"the invoice of message #{message.message_id} is paid")
    invoice: Invoice = message.invoice
    return invoice


async def pay_invoice(
    state: FakeState, chat: Chat, message: ChatMessage, *, tampered: Invoice | None = None
) -> PaymentOutcome:
    """The user presses Pay on ``message``'s invoice and confirms: a pre-checkout query,
    the wait for the bot's answer (at most the deadline), then the payment or nothing.
    ``tampered``: what a modified client claims instead (another amount, another payload)."""
    invoice = tampered or payable_invoice(state, chat, message)
    payments = payments_of(state)
    now = time.monotonic()
    query = PreCheckoutQuery(
        id=payments.next_query_id(chat.id),
        user_id=chat.id,
        chat_id=chat.id,
        message_id=message.message_id,
        invoice=invoice,
        created_at=now,
        deadline=now + payments.answer_timeout,
    )
    payments.pre_checkout_queries[query.id] = query
    state.enqueue_update(
        "pre_checkout_query",
        {
            "id": query.id,
            "from": chat.user.to_api(),
            "currency": invoice.currency,
            "total_amount": invoice.total_amount,
            "invoice_payload": invoice.payload,
        },
    )
    while not query.answered and (remaining := query.deadline - time.monotonic()) > 0:
        await chat.changed.wait(remaining)
    if not query.answered:
        return PaymentOutcome("timed_out", query)
    if not query.ok:
        return PaymentOutcome("declined", query)
    key = (chat.id, message.message_id)
    if key in payments.paid_invoices:  # paid meanwhile from another tab
        raise InvoiceNotPayable(f"the invoice of message #{message.message_id} is paid")
    charge_id = "stx" + secrets.token_urlsafe(48)
    payment = StarPayment(
        charge_id=charge_id,
        user_id=chat.id,
        total_amount=invoice.total_amount,
        payload=invoice.payload,
        date=int(time.time()),
    )
    payments.payments[charge_id] = payment
    payments.paid_invoices[key] = charge_id
    payments.transactions.append(
        {
            "id": charge_id,
            "amount": invoice.total_amount,
            "date": payment.date,
            "source": _user_partner(chat, invoice.payload),
        }
    )
    successful = {
        "currency": invoice.currency,
        "total_amount": invoice.total_amount,
        "invoice_payload": invoice.payload,
        "telegram_payment_charge_id": charge_id,
        "provider_payment_charge_id": "",
    }
    update = _service_message(state, chat, successful_payment=successful)
    return PaymentOutcome("paid", query, charge_id=charge_id, update=update)


def _service_message(state: FakeState, chat: Chat, **fields: Any) -> PendingUpdate:
    """A service message in the user's chat, delivered to the bot as a ``message`` update."""
    message = state.add_message(chat, from_bot=False, **fields)
    return state.enqueue_update("message", state.message_to_api(message))


def _user_partner(chat: Chat, payload: str) -> dict[str, Any]:
    return {
        "type": "user",
        "transaction_type": "invoice_payment",
        "user": chat.user.to_api(),
        "invoice_payload": payload,
    }
