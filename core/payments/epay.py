"""易支付 (epay), as its many gateways speak it (彩虹易支付 and its clones).

- Pay, ``page`` mode (the default): the payer opens ``{gateway}submit.php?pid&type
  &out_trade_no&notify_url&return_url&name&money&sign&sign_type=MD5`` (the gateway's
  cashier page); ``money`` is yuan with two decimals.
- Pay, ``api`` mode (``KAMENG_EPAY_MODE=api``): we POST the same parameters and ``clientip``
  and ``device`` to ``{gateway}mapi.php`` (API接口支付); the JSON answer is ``code`` 1 with
  the gateway's ``trade_no`` and one of ``qrcode`` (what the payer's wallet scans),
  ``payurl`` (a page to open) or ``urlscheme`` (a link that opens the wallet app), or
  ``code`` != 1 with ``msg`` (e.g. 签名错误, 支付通道维护).
- Sign: the parameters whose value is not empty, without ``sign`` and ``sign_type``, sorted
  by name (ASCII), joined ``a=b&c=d``, the merchant key appended, MD5, lower-case hex.
- Notify: the gateway calls ``notify_url`` (GET) with ``pid, trade_no, out_trade_no, type,
  name, money, trade_status=TRADE_SUCCESS, sign, sign_type`` and retries until the answer
  is the plain text ``success``.
- Query: ``{gateway}api.php?act=order&pid&key&out_trade_no`` answers JSON, ``code`` 1 when
  the order exists and ``status`` 1 when it is paid.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from core.errors import BadNotification, ProviderRefused, ProviderUnavailable
from core.money import MalformedAmount, format_amount, parse_amount
from core.payments.provider import Fetch, NewPayment, Paid, PayStep, Status, Unknown, Unpaid, mask

NAME = "epay"
UNSIGNED = frozenset({"sign", "sign_type"})
QUERY_TIMEOUT = 10.0
CREATE_TIMEOUT = 10.0  # the reseller waits for it in the chat
#: mapi.php's ``device``: the bot shows the QR code in a chat that is as often on a desktop
#: as on the phone whose wallet scans it, so we ask for what a PC browser would get
DEVICE = "pc"


def signing_string(params: Mapping[str, str]) -> str:
    """``a=b&c=d`` of the signed parameters: not empty, not ``sign``/``sign_type``, by name."""
    return "&".join(
        f"{name}={params[name]}"
        for name in sorted(params)
        if name not in UNSIGNED and str(params[name]) != ""
    )


def sign(params: Mapping[str, str], key: str) -> str:
    return hashlib.md5((signing_string(params) + key).encode()).hexdigest()


def signed(params: Mapping[str, str], key: str) -> dict[str, str]:
    return {**params, "sign": sign(params, key), "sign_type": "MD5"}


def signature_ok(params: Mapping[str, str], key: str) -> bool:
    given = str(params.get("sign", "")).lower()
    return hmac.compare_digest(given, sign(params, key))


@dataclass(frozen=True)
class EpayProvider:
    gateway: str  # ends with "/"
    pid: str
    key: str
    pay_type: str
    fee_bps: int
    fetch: Fetch
    return_url: str = ""
    mode: str = "page"  # "page": the submit.php link; "api": created over mapi.php
    client_ip: str = "127.0.0.1"  # mapi.php's clientip: the payer's is not known to a bot
    name: str = NAME
    acknowledgement: str = "success"
    notified_via: str = "http"

    async def create(self, payment: NewPayment) -> PayStep:
        params = self._order(payment)
        if self.mode == "api":
            return await self._create_over_api(params)
        query = urllib.parse.urlencode(
            {k: v for k, v in signed(params, self.key).items() if v != ""}
        )
        url = f"{self.gateway}submit.php?{query}"
        return PayStep(pay_url=url, qr_text=url)

    def _order(self, payment: NewPayment) -> dict[str, str]:
        return {
            "pid": self.pid,
            "type": payment.method or self.pay_type,
            "out_trade_no": payment.payment_id,
            "notify_url": payment.notify_url,
            "return_url": self.return_url,
            "name": payment.subject,
            "money": format_amount(payment.amount),
        }

    async def _create_over_api(self, params: dict[str, str]) -> PayStep:
        """mapi.php: the gateway opens the order now and says how to pay it. No answer,
        not JSON → ``ProviderUnavailable``; ``code`` != 1 → ``ProviderRefused`` with its
        ``msg``. Either way the caller writes nothing."""
        order = {**params, "clientip": self.client_ip, "device": DEVICE}
        form = {k: v for k, v in signed(order, self.key).items() if v != ""}
        try:
            status, body = await self.fetch(
                f"{self.gateway}mapi.php", {}, seconds=CREATE_TIMEOUT, form=form
            )
        except (OSError, TimeoutError):
            raise ProviderUnavailable(provider=self.name) from None
        if status >= 500:
            raise ProviderUnavailable(provider=self.name)
        try:
            answer = json.loads(body)
        except ValueError:
            raise ProviderUnavailable(provider=self.name) from None
        if not isinstance(answer, dict):
            raise ProviderUnavailable(provider=self.name)
        if str(answer.get("code")) != "1":
            reason = str(answer.get("msg") or f"code {answer.get('code')}")[:200]
            raise ProviderRefused(provider=self.name, reason=reason)
        return pay_step(answer)

    def verify(self, params: Mapping[str, str]) -> Paid:
        if not signature_ok(params, self.key):
            raise BadNotification(provider=self.name, reason="signature")
        if str(params.get("pid", "")) != self.pid:
            raise BadNotification(provider=self.name, reason="signature")
        if params.get("trade_status") != "TRADE_SUCCESS":
            raise BadNotification(provider=self.name, reason="not_paid")
        payment_id = str(params.get("out_trade_no", ""))
        reference = str(params.get("trade_no", ""))
        try:
            amount = parse_amount(str(params.get("money", "")))
        except MalformedAmount:
            raise BadNotification(provider=self.name, reason="malformed") from None
        if not payment_id or not reference:
            raise BadNotification(provider=self.name, reason="malformed")
        return Paid(payment_id, amount, reference, raw=mask(params, frozenset()))

    async def query(self, payment_id: str) -> Status:
        params = {"act": "order", "pid": self.pid, "key": self.key, "out_trade_no": payment_id}
        try:
            status, body = await self.fetch(f"{self.gateway}api.php", params, seconds=QUERY_TIMEOUT)
        except (OSError, TimeoutError):
            raise ProviderUnavailable(provider=self.name) from None
        if status != 200:
            raise ProviderUnavailable(provider=self.name)
        try:
            answer = json.loads(body)
        except ValueError:
            raise ProviderUnavailable(provider=self.name) from None
        if not isinstance(answer, dict) or str(answer.get("code")) != "1":
            return Unknown(payment_id)
        if str(answer.get("out_trade_no", payment_id)) != payment_id:
            return Unknown(payment_id)
        if str(answer.get("status")) != "1":
            return Unpaid(payment_id)
        try:
            amount = parse_amount(str(answer.get("money", "")))
        except MalformedAmount:
            raise ProviderUnavailable(provider=self.name) from None
        raw = mask({k: str(v) for k, v in answer.items()}, frozenset())
        return Paid(payment_id, amount, str(answer.get("trade_no", "")), raw=raw)


def pay_step(answer: Mapping[str, object]) -> PayStep:
    """mapi.php's ``code`` 1 answer → what the payer is shown: a ``qrcode`` as a QR code
    only (it is what the wallet scans, rarely a page), a ``payurl`` or ``urlscheme`` as a
    link and the QR of it (the bot makes a button of an http(s) link only: Telegram refuses
    other schemes). The gateway's ``trade_no`` is kept: its notification must name it."""
    trade_no = str(answer.get("trade_no") or "") or None
    qrcode = str(answer.get("qrcode") or "")
    link = str(answer.get("payurl") or answer.get("urlscheme") or "")
    if qrcode:
        return PayStep(qr_text=qrcode, provider_reference=trade_no)
    if link:
        return PayStep(pay_url=link, qr_text=link, provider_reference=trade_no)
    raise ProviderUnavailable(provider=NAME)  # code 1 and nothing to pay with
