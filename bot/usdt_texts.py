"""The bot's words for USDT (TRC20) top-ups; Chinese in ``bot/locales/zh_CN/usdt.json``."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from bot import formatting as fmt
from core.decisions.usdt import format_units
from core.payments import PaymentView
from core.payments.provider import PayStep


def pay(payment: PaymentView, step: PayStep) -> str:
    """ "Send exactly 12.347000 USDT (TRC20) to ADDRESS before 21:30"."""
    return _(
        "Top-up <code>{id}</code>: {amount}\n\n"
        "Send exactly <b>{usdt} USDT (TRC20)</b> to\n<code>{address}</code>\n"
        "before {time}.\n\n"
        "Only USDT on TRON counts, and only this exact amount: it is how we know the "
        "payment is yours. It is credited once the chain confirms it (about a minute)."
    ).format(
        id=payment.id,
        amount=fmt.amount(payment.amount),
        usdt=format_units(step.provider_amount or 0),
        address=escape(step.address or ""),
        time=fmt.moment(payment.expires_at),
    )


def qr_caption() -> str:
    return _("The deposit address (TRON), to scan in your wallet")


def not_configured() -> str:
    return _("USDT top-ups are not available right now. Please choose another method.")


def slots_full() -> str:
    return _("Too many USDT payments of this size are open. Try a slightly different amount.")
