"""The bot's words for USDT (TRC20) top-ups; Chinese in ``bot/locales/zh_CN/usdt.json``."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from bot import formatting as fmt
from core.decisions.usdt import format_units
from core.payments import PaymentView
from core.payments.provider import PayStep
from core.payments.usdt import RateView, TransferView


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


# --- admins ------------------------------------------------------------------------------


def rate(view: RateView | None) -> str:
    if view is None:
        return _("No USDT rate yet: USDT top-ups are refused. Set one: /usdtrate 7.25")
    return _("1 USDT = {price}, set by {who} at {time}. Change it: /usdtrate 7.30").format(
        price=fmt.amount(view.fen_per_usdt), who=escape(view.set_by), time=fmt.moment(view.set_at)
    )


def rate_usage() -> str:
    return _("Usage: /usdtrate PRICE — the price of 1 USDT, e.g. /usdtrate 7.25")


def rate_set(view: RateView) -> str:
    return _("1 USDT = {price} from now on (recorded in the audit log).").format(
        price=fmt.amount(view.fen_per_usdt)
    )


def rate_out_of_range(rate: int, low: int, high: int) -> str:
    return _(
        "1 USDT = {rate} is outside {low} – {high}, the sane range for this shop's currency: "
        "a typo? Nothing was changed."
    ).format(rate=fmt.amount(rate), low=fmt.amount(low), high=fmt.amount(high))


def rate_confirm(rate: int, current: int, change_bps: int) -> str:
    return _(
        "⚠️ 1 USDT = {rate} moves the rate in force ({current}) by {change}%. Every USDT "
        "top-up is credited at this rate: is it right?"
    ).format(rate=fmt.amount(rate), current=fmt.amount(current), change=fmt.percent(change_bps))


def rate_confirm_button(rate: int) -> str:
    return _("✅ Set 1 USDT = {rate}").format(rate=fmt.amount(rate))


def rate_keep_button() -> str:
    return _("✖ Keep the current rate")


def rate_kept(current: int) -> str:
    return _("Nothing changed: 1 USDT stays {current}.").format(current=fmt.amount(current))


def rate_already(rate: int) -> str:
    return _("1 USDT = {rate} is already the rate in force; nothing else changed.").format(
        rate=fmt.amount(rate)
    )


def rate_changed_meanwhile(current: int | None) -> str:
    if current is None:
        return _("The rate changed meanwhile: look at it with /usdtrate and set it again.")
    return _(
        "The rate changed meanwhile: 1 USDT = {current} now. Set it again if needed: "
        "/usdtrate PRICE"
    ).format(current=fmt.amount(current))


def unmatched(kept: list[TransferView]) -> str:
    if not kept:
        return _("No USDT transfer is waiting for an admin: each paid its payment.")
    lines = [_("USDT that paid no payment ({count}, newest first):").format(count=len(kept))]
    for t in kept:
        lines.append(
            _(
                "{time}: <b>{usdt} USDT</b> from <code>{sender}</code> ({why})\n"
                "tx <code>{tx}</code>"
            ).format(
                time=fmt.moment(t.paid_at),
                usdt=format_units(t.amount),
                sender=escape(t.from_address),
                why=_reason(t.reason),
                tx=escape(t.tx_id),
            )
        )
    return "\n\n".join(lines)


def _reason(reason: str) -> str:
    if reason == "paid_twice":
        return _("its payment was already paid")
    return _("no payment expects this amount")


def credit_usage() -> str:
    return _("Usage: /usdtcredit TX_ID TELEGRAM_ID note — credits a transfer listed by /usdt")
