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


class CreditBlocked(KamengError):
    """A purchase would draw on a credit line that is past its due date (``reason``
    "overdue", ``due_on``) or frozen (``reason`` "frozen"): nothing was charged."""

    code = "credit_blocked"
