"""Texts of Telegram Stars: the invoice, the pre-checkout refusals, a refund (gettext,
English msgids; Chinese in ``bot/locales/zh_CN/stars.json``)."""

from __future__ import annotations

from datetime import datetime

from aiogram.utils.i18n import gettext as _

from bot import formatting as fmt
from core.payments.service import PaymentView
from core.payments.stars import RefundView


def invoice_title() -> str:
    return _("Balance top-up")  # at most 32 characters (Telegram's limit)


def invoice_description(amount: int, stars: int, expires_at: datetime) -> str:
    return _("Adds {amount} to your balance for {stars} ⭐. Pay before {time}.").format(
        amount=fmt.amount(amount), stars=stars, time=fmt.moment(expires_at)
    )


def invoice_label(amount: int) -> str:
    return _("Top-up {amount}").format(amount=fmt.amount(amount))


def pay_button(stars: int) -> str:
    return _("Pay ⭐{stars}").format(stars=stars)


def stars_usage() -> str:
    return _("Top up with Telegram Stars: /stars AMOUNT, e.g. /stars 100")


def declined(reason: str) -> str:
    """What Telegram shows the payer when the bot refuses a pre-checkout query."""
    texts = {
        "expired": _("This top-up has expired. Start a new one from Balance → Top up."),
        "closed": _("This top-up was paid or closed already; nothing was charged."),
        "amount": _("The amount does not match this top-up; nothing was charged."),
        "payer": _("Only the reseller who opened this top-up can pay it."),
        "unavailable": _("We cannot take payments this minute; nothing was charged. Try again."),
    }
    return texts.get(reason, _("This top-up cannot be paid; nothing was charged."))


def refund_usage() -> str:
    return _("Usage: /stars_refund PAYMENT_ID REASON")


def refund_card(view: PaymentView) -> str:
    return _(
        "Refund Stars payment {id}?\n"
        "Reseller: {telegram_id} · {stars} ⭐ · credited {amount} on {when}.\n"
        "The balance gives {amount} back and Telegram returns the stars to the payer."
    ).format(
        id=view.id,
        telegram_id=view.telegram_id,
        stars=view.paid_amount or 0,
        amount=fmt.amount(view.amount),
        when=fmt.moment(view.credited_at or view.created_at),
    )


def refund_button(stars: int) -> str:
    return _("↩️ Refund {stars} ⭐").format(stars=stars)


def cancel_button() -> str:
    return _("Cancel")


def refund_done(view: RefundView) -> str:
    return _(
        "✅ Refunded {stars} ⭐ of payment {id}; {amount} taken back from the balance."
    ).format(stars=view.stars, id=view.payment_id, amount=fmt.amount(view.amount))


def refund_pending(view: RefundView) -> str:
    return _(
        "The balance gave {amount} back, but Telegram did not refund the stars yet. "
        "The bot asks Telegram again by itself; press Refund again to ask now."
    ).format(amount=fmt.amount(view.amount))


def refund_cancelled() -> str:
    return _("Nothing was refunded.")


def refused(reason: str, max_stars: int = 0) -> str:
    texts = {
        "no_rate": _("Stars top-ups are not open yet: no rate is set."),
        "bad_rate": _("A rate is a whole number of fen per star, above 0."),
        "too_many": _("That is more than {max} ⭐ in one invoice; top up a smaller amount.").format(
            max=max_stars
        ),
        "unknown": _("That payment is not a paid Telegram Stars payment."),
        "closed": _("Only a credited Stars payment can be refunded."),
        "already": _("That Stars payment was refunded already."),
    }
    return texts.get(reason, _("That could not be done."))


def rate_usage() -> str:
    return _("Usage: /stars_rate FEN_PER_STAR, e.g. /stars_rate 20 (¥0.20 a star)")


def rate_now(fen_per_star: int | None) -> str:
    if fen_per_star is None:
        return _("No Stars rate is set.") + "\n" + rate_usage()
    return _("1 ⭐ = {amount}.").format(amount=fmt.amount(fen_per_star)) + "\n" + rate_usage()


def rate_set(fen_per_star: int) -> str:
    return _("✅ From now on 1 ⭐ = {amount}.").format(amount=fmt.amount(fen_per_star))
