"""Errors a rule raises for a front to translate. ``code`` names the message; ``params``
fill it. They never carry a code's plaintext."""

from __future__ import annotations

from typing import Any


class KamengError(Exception):
    code = "error"

    def __init__(self, **params: Any) -> None:
        self.params = params
        detail = ", ".join(f"{k}={v}" for k, v in params.items())
        super().__init__(f"{self.code}({detail})" if detail else self.code)


class NotFound(KamengError):
    """``kind`` is what was looked for (user, sku, order, ...), ``ref`` how."""

    code = "not_found"


class InvalidQuantity(KamengError):
    code = "invalid_quantity"


class InvalidAmount(KamengError):
    code = "invalid_amount"


class SkuNotForSale(KamengError):
    code = "sku_not_for_sale"


class OutOfStock(KamengError):
    code = "out_of_stock"


class InsufficientBalance(KamengError):
    code = "insufficient_balance"


class InsufficientPayable(KamengError):
    code = "insufficient_payable"


class Forbidden(KamengError):
    code = "forbidden"


class UserBanned(KamengError):
    code = "user_banned"


class IdempotencyConflict(KamengError):
    """The key was used before for a different request."""

    code = "idempotency_conflict"


class QuoteUsed(KamengError):
    """The quote was already bought (by ``order_id``), whatever key that purchase used."""

    code = "quote_used"


class InvalidState(KamengError):
    code = "invalid_state"


class InvalidInput(KamengError):
    code = "invalid_input"


class NotRestockable(KamengError):
    """A refunded code cannot go back on sale: ``why`` is ``not_refunded``, ``not_void``,
    ``cyclic``, ``already_restocked`` or ``nothing_to_restock``; ``line`` is the order's
    line id (when one line is meant), ``order`` the order."""

    code = "not_restockable"


class NotRegistered(KamengError):
    """The user's registration is pending or was declined."""

    code = "not_registered"


class PriceNotAllowed(KamengError):
    """A sale price above the SKU's face value, or of 0: refused unless explicitly allowed.
    ``reason`` is ``above_face_value`` or ``zero``; ``price`` and ``face_value`` in minor units."""

    code = "price_not_allowed"


class NoSuchRevision(KamengError):
    """A schema revision that the migrations do not have."""

    code = "no_such_revision"


class SecretKeyMismatch(RuntimeError):
    """``KAMENG_SECRET_KEY`` is well-formed but is not the key the stored codes were encrypted
    with (AES-GCM refuses them). An operator's configuration fault, not a refusal a user can
    act on: the bot and the API treat it as an internal error (logged with a reference),
    the CLI names it."""

    def __init__(self) -> None:
        super().__init__(
            "KAMENG_SECRET_KEY does not match the stored codes: they were encrypted with "
            "another key. Set the key this database was used with."
        )


class StorageUnavailable(KamengError):
    """The database cannot be written right now: its file or disk is read-only, full or
    failing (``reason``). Nothing was written; the same request can succeed once the
    storage recovers, without a restart (``core/storage_faults.py``)."""

    code = "storage_unavailable"


class UnknownPaymentMethod(KamengError):
    """No payment provider of that name is enabled (``method``); see the README's Payments."""

    code = "unknown_payment_method"


class BadNotification(KamengError):
    """A provider's notification that changes nothing: ``reason`` is ``signature``,
    ``malformed``, ``unknown_payment`` or ``not_paid``. Logged as a WARNING, never an error."""

    code = "bad_notification"


class ProviderUnavailable(KamengError):
    """The payment provider did not answer (``provider``); nothing changed, ask again."""

    code = "payment_provider_unavailable"


class ProviderRefused(KamengError):
    """The payment provider answered but would not open the payment (``provider``, and
    ``reason``: its own words, e.g. 易支付's ``msg``); nothing was written, ask again or
    choose another method."""

    code = "payment_provider_refused"


class CallbackUrlRefused(KamengError):
    """A callback URL that may not receive callbacks: ``reason`` is ``malformed``,
    ``unresolvable`` or ``private_address`` (loopback, private, link-local … in production)."""

    code = "callback_url_refused"


class InvalidAccount(KamengError):
    """The account a direct top-up is for does not fit the SKU's fields: ``field`` is the
    field's name, ``reason`` ``missing``, ``pattern`` (``pattern`` given) or ``unknown``."""

    code = "invalid_account"


class OrderFinished(KamengError):
    """The order's fulfilment has ended already (``status``): delivered, failed or partly
    delivered; nothing more can change it."""

    code = "order_finished"


# --- upstreams (货源对接) ---


class UpstreamError(KamengError):
    """An upstream refused a call, answered what we cannot read, or was not reached.
    ``upstream`` names it, ``reason`` says what (never a secret)."""

    code = "upstream_error"


class UpstreamUnreachable(UpstreamError):
    code = "upstream_unreachable"


class UpstreamCallbackRefused(KamengError):
    """A callback whose signature, key or timestamp does not hold (``reason``)."""

    code = "upstream_callback_refused"


class UnknownProtocol(KamengError):
    code = "unknown_protocol"


class ChainUnavailable(KamengError):
    """The chain's API did not answer usefully (``reason``: what went wrong); the USDT
    watcher tries again on its next run."""

    code = "chain_unavailable"


class UsdtNotConfigured(KamengError):
    """USDT payments need a deposit address and an exchange rate (``missing``)."""

    code = "usdt_not_configured"


class UsdtSlotsFull(KamengError):
    """Every payable amount near this one is expected by an open payment: try another
    amount or later."""

    code = "usdt_slots_full"


class UsdtRateRefused(KamengError):
    """A new USDT rate (``rate``, fen per USDT) not set: ``reason`` is ``range`` (outside
    ``low``..``high`` for the ``currency``), ``confirm`` (it moves the ``current`` rate by
    ``change_bps``: set it only when confirmed) or ``changed`` (the confirmation was for
    ``expected``, but the rate in force is ``current`` now; see ``core/decisions/usdt.py``)."""

    code = "usdt_rate_refused"


class StarsRefused(KamengError):
    """Telegram Stars refused: ``reason`` is ``no_rate`` (no rate set yet), ``too_many``
    (more than ``max`` stars in one invoice), or a refund's ``unknown`` / ``closed`` /
    ``already`` (see ``core/decisions/stars.py``)."""

    code = "stars_refused"


class CreditBlocked(KamengError):
    """A purchase would draw on a credit line that is past its due date (``reason``
    "overdue", ``due_on``) or frozen (``reason`` "frozen"): nothing was charged."""

    code = "credit_blocked"
