"""Callback data factories. Every button's payload is typed, short (≤ 64 bytes) and parsed
strictly; anything that does not unpack is treated as a forged or stale button."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class CatalogueCb(CallbackData, prefix="cat"):
    action: str  # "home" | "list" | "sku" | "search"
    category: int = 0
    page: int = 0
    sku: str = ""


class BuyCb(CallbackData, prefix="buy"):
    action: str  # "qty" (quantity chosen) | "typed" (type a number) | "ok" | "cancel"
    sku: str = ""
    qty: int = 0
    quote: str = ""


class OrdersCb(CallbackData, prefix="ord"):
    action: str  # "list" | "show" | "file" | "again"
    order: int = 0
    page: int = 0


class BalanceCb(CallbackData, prefix="bal"):
    action: str  # "statement" | "topup"


class LanguageCb(CallbackData, prefix="lang"):
    code: str


# --- suppliers catalog ---


class SupplierFormCb(CallbackData, prefix="sfm"):
    """A choice inside a supplier's form: ``step`` names the question, ``value`` the answer
    (a category is its position in the list the form showed)."""

    step: str  # "category" | "kind" | "exclusive" | "skip" | "keep"
    value: str = ""


class ApiKeyCb(CallbackData, prefix="apikey"):
    action: str  # "new" | "cancel" | "deliveries" | "dujiao"
    replacing: int = 0  # the key id the user saw as active (0: none); a stale press is refused


# --- scheduler (promotions, reports) ---


class PromoCb(CallbackData, prefix="prm"):
    action: str  # "skus" | "cat" | "all" | "noremind" | "ok" | "cancel"
    category: int = 0
    token: str = ""


class SalesReportCb(CallbackData, prefix="rep"):
    period: str  # "today" | "7d" | "30d"


class BroadcastCb(CallbackData, prefix="bc"):
    # "skip" (no button) | "aud" (ref: 0 all, 1 level, 2 category, 3 suppliers) | "level" |
    # "cat" | "days" | "send" | "discard" | "stop" | "optout" (ref 1 off, 0 on)
    action: str
    ref: int = 0


class CreditCb(CallbackData, prefix="cred"):
    action: str  # "apply"
