"""The bot's words for payments (Top up → method → amount → pay → credited); Chinese in
``bot/locales/zh_CN/payments.json``."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from bot import formatting as fmt
from core.payments import PaymentView, Settled
from core.payments.provider import PayStep

BANK = "bank"  # the manual path: a receipt an admin approves (core/topups.py)


def method_label(method: str) -> str:
    """A method's button; a provider without a label of its own shows its name."""
    labels = {
        "epay": _("💳 Alipay / WeChat Pay"),
        "stars": _("⭐ Telegram Stars"),
        BANK: _("🏦 Bank transfer (receipt)"),
        "usdt": _("💵 USDT (TRC20)"),
    }
    return labels.get(method, method)


def choose_method() -> str:
    return _("How would you like to top up?")


def ask_amount(method: str) -> str:
    return _("{method}: how much? Type an amount, e.g. 100 or 99.50.").format(
        method=method_label(method)
    )


def pay_link(payment: PaymentView, step: PayStep) -> str:
    lines = [
        _("Top-up <code>{id}</code>: {amount}").format(
            id=payment.id, amount=fmt.amount(payment.amount)
        )
    ]
    if step.address and step.provider_amount is not None:
        lines.append(
            _("Send exactly <b>{amount} {currency}</b> to:\n<code>{address}</code>").format(
                amount=escape(_provider_amount(step.provider_amount, step.provider_currency)),
                currency=escape(step.provider_currency or ""),
                address=escape(step.address),
            )
        )
    if step.pay_url and step.pay_url.startswith(("https://", "http://")):
        lines.append(
            _('<a href="{url}">Open the payment page</a> or scan the QR code.').format(
                url=escape(step.pay_url, quote=True)
            )
        )
    elif step.qr_text and not step.address:  # a wallet's QR or app link (epay api mode)
        lines.append(_("Scan the QR code below with your payment app (Alipay, WeChat) to pay."))
    lines.append(
        _("Pay by {time}. Your balance is credited as soon as the payment arrives.").format(
            time=fmt.moment(payment.expires_at)
        )
    )
    return "\n\n".join(lines)


def _provider_amount(amount: int, currency: str | None) -> str:
    """USDT counts in millionths; anything else in hundredths unless it is whole (XTR)."""
    if currency == "USDT":
        whole, frac = divmod(amount, 1_000_000)
        return f"{whole}.{frac:06d}".rstrip("0").rstrip(".")
    if currency == "XTR":
        return str(amount)
    return fmt.amount(amount)


def qr_caption(payment: PaymentView) -> str:
    return _("Scan to pay {amount}").format(amount=fmt.amount(payment.amount))


def check_button() -> str:
    return _("🔄 Check payment")


def open_button() -> str:
    return _("💳 Pay")


def credited(amount: int, balance: int) -> str:
    return _("Top-up credited ✅ +{amount}. Balance: {balance}").format(
        amount=fmt.amount(amount), balance=fmt.amount(balance)
    )


def checked(settled: Settled) -> str:
    payment = settled.payment
    if settled.outcome == "credited" and settled.balance is not None:
        return credited(payment.amount, settled.balance)
    status = payment.status.value
    if status == "credited":
        return _("Top-up <code>{id}</code> was credited ✅").format(id=payment.id)
    if status == "mismatched":
        return held(payment.id)
    if status == "expired":
        return _("Top-up <code>{id}</code> expired unpaid. Start a new top-up.").format(
            id=payment.id
        )
    return _("Still waiting for payment <code>{id}</code>. Check again after paying.").format(
        id=payment.id
    )


def held(payment_id: str) -> str:
    return _(
        "Top-up <code>{id}</code> was paid, but not as asked; an admin will look at it."
    ).format(id=payment_id)


# --- the admin panel ---------------------------------------------------------------------


def stuck_title(count: int) -> str:
    if not count:
        return _("No stuck or mismatched payments.")
    return _("Payments to look at ({count}):").format(count=count)


def stuck_line(payment: PaymentView) -> str:
    paid = fmt.amount(payment.paid_amount) if payment.paid_amount is not None else "—"
    return _(
        "<code>{id}</code> {provider} · {status} {note}\n"
        "user {user} · asked {amount} · paid {paid} · {time}\n"
        "credit it: <code>/paycredit {id} TELEGRAM_ID note</code>"
    ).format(
        id=payment.id,
        provider=escape(payment.provider),
        status=payment.status.value,
        note=escape(payment.note),
        user=payment.telegram_id,
        amount=fmt.amount(payment.amount),
        paid=paid,
        time=fmt.moment(payment.created_at),
    )


def paycredit_usage() -> str:
    return _("Usage: /paycredit PAYMENT_ID TELEGRAM_ID note")


def paycredit_done(settled: Settled) -> str:
    payment = settled.payment
    return _("Payment <code>{id}</code> credited to {user}: +{amount} ✅").format(
        id=payment.id,
        user=payment.credited_telegram_id,
        amount=fmt.amount(settled.credited or payment.amount),
    )
