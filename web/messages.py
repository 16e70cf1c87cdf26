"""What the API says when it refuses, in English and Simplified Chinese.

Error codes are the core's (``KamengError.code``) plus the few the HTTP layer adds.
The language comes from ``Accept-Language``; anything that is not English gets Chinese,
the platform's default language.
"""

from __future__ import annotations

from typing import Any

from core.money import format_amount

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

# code → (English, Chinese); {placeholders} come from the error's details
MESSAGES: dict[str, tuple[str, str]] = {
    "not_found": (
        "Not found — it may not exist or may not be yours.",
        "未找到——它可能不存在，或不属于你。",
    ),
    "invalid_quantity": (
        "Quantity must be a whole number from 1 to {max}.",
        "数量必须是 1 到 {max} 之间的整数。",
    ),
    "invalid_amount": ("That is not a valid amount.", "金额无效。"),
    "invalid_input": ("Invalid value for “{field}”.", "“{field}” 的值无效。"),
    "sku_not_for_sale": (
        "This product is not for sale right now.",
        "该商品目前不可购买。",
    ),
    "out_of_stock": (
        "Not enough stock: {available} left, {requested} requested.",
        "库存不足：剩余 {available}，需要 {requested}。",
    ),
    "insufficient_balance": (
        "Not enough balance: you are short by {shortfall}.",
        "余额不足：还差 {shortfall}。",
    ),
    "credit_blocked": (
        "Your credit line is {reason}: repay it before buying on credit (due {due_on}).",
        "你的账期已逾期或被冻结（{reason}，到期日 {due_on}）：请先还款再赊账购买。",
    ),
    "insufficient_payable": (
        "Not enough payable: short by {shortfall}.",
        "可结算金额不足：还差 {shortfall}。",
    ),
    "forbidden": ("You are not allowed to do that.", "你无权执行此操作。"),
    "user_banned": (
        "Your account is suspended. Please contact support.",
        "你的账户已被停用，请联系客服。",
    ),
    "idempotency_conflict": (
        "This Idempotency-Key was already used for a different request.",
        "该 Idempotency-Key 已用于另一个不同的请求。",
    ),
    "not_registered": (
        "Your registration is not approved. Please contact support.",
        "你的注册尚未通过审核，请联系客服。",
    ),
    "invalid_state": ("That cannot be done in the current state.", "当前状态下无法执行此操作。"),
    "quote_used": (
        "This quote was already bought (order {order_id}); nothing was charged. "
        "Ask for a new quote to buy again.",
        "该报价已购买过（订单 {order_id}），本次未扣款。如需再次购买，请重新报价。",
    ),
    "callback_url_refused": (
        "That callback URL cannot be used ({reason}): it must be http(s) and reach a public "
        "address.",
        "该回调地址不可用（{reason}）：必须是 http(s)，且指向公网地址。",
    ),
    "invalid_account": (
        "The account field “{field}” is {reason}.",
        "充值账号字段 “{field}” 无效（{reason}）。",
    ),
    "error": ("That could not be done.", "无法完成该操作。"),
    # the HTTP layer's own
    "unauthorized": (
        "Missing or invalid API key. Send “Authorization: Bearer <key>”.",
        "缺少或无效的 API 密钥。请发送 “Authorization: Bearer <密钥>”。",
    ),
    "invalid_json": (
        "The request body must be a JSON object.",
        "请求体必须是 JSON 对象。",
    ),
    "unknown_field": (
        "Unknown field “{field}” in the request body.",
        "请求体中有未知字段 “{field}”。",
    ),
    "body_too_large": (
        "The request body is too large (at most {max_bytes} bytes).",
        "请求体过大（最多 {max_bytes} 字节）。",
    ),
    "idempotency_key_required": (
        "Send an Idempotency-Key header (1 to 128 printable characters) with every order.",
        "每个订单都必须带 Idempotency-Key 请求头（1 到 128 个可打印字符）。",
    ),
    "quote_requoted": (
        "The quote expired or its price changed; nothing was charged. Here is a fresh quote.",
        "报价已过期或价格已变动，未扣款。这是新的报价。",
    ),
    "rate_limited": (
        "Too many requests. Retry after {retry_after} seconds.",
        "请求过于频繁，请在 {retry_after} 秒后重试。",
    ),
    "route_not_found": ("No such endpoint.", "没有这个接口。"),
    "method_not_allowed": ("Method not allowed here.", "此接口不支持该请求方法。"),
    "internal": (
        "Sorry, something went wrong on our side. Reference: {reference}",
        "抱歉，我们这边出了问题。参考编号：{reference}",
    ),
    "storage_unavailable": (
        "The platform cannot save orders right now; nothing was charged. "
        "Retry the same request in {retry_after} seconds.",
        "平台暂时无法保存订单，未扣款。请在 {retry_after} 秒后重试同一请求。",
    ),
}

_MONEY = {"shortfall", "spendable", "needed"}


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an ``Accept-Language`` header (q-values honoured)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        tag = tag.strip().lower()
        if tag.startswith("zh"):
            ranked.append((quality, -index, "zh-CN"))
        elif tag.startswith("en"):
            ranked.append((quality, -index, "en"))
    ranked = [r for r in ranked if r[0] > 0]
    return max(ranked)[2] if ranked else DEFAULT_LANGUAGE


def message(code: str, language: str, details: dict[str, Any]) -> str:
    english, chinese = MESSAGES.get(code, MESSAGES["error"])
    template = english if language == "en" else chinese
    values = {
        k: format_amount(v) if k in _MONEY and isinstance(v, int) else v for k, v in details.items()
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return MESSAGES["error"][0] if language == "en" else MESSAGES["error"][1]
