"""The bot's words for the rates admins set — 1 USDT, 1 Telegram Star — and their guard
(``core/decisions/rates.py``): one set of texts for both, naming the rate (``of``). Chinese
in ``bot/locales/zh_CN/rates.json``."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot import formatting as fmt
from core.errors import RateRefused


def _one(of: str) -> str:
    """How the unit reads in "1 USDT = ¥7.25", "1 ⭐ = ¥0.10" (the same in every language)."""
    return "1 ⭐" if of == "stars" else "1 USDT"


def _paid_in(of: str) -> str:
    return _("Telegram Stars") if of == "stars" else "USDT"


def out_of_range(of: str, rate: int, low: int, high: int) -> str:
    return _(
        "{one} = {rate} is outside {low} – {high}, the sane range for this shop's currency: "
        "a typo? Nothing was changed."
    ).format(one=_one(of), rate=fmt.amount(rate), low=fmt.amount(low), high=fmt.amount(high))


def confirm(of: str, rate: int, current: int, change_bps: int) -> str:
    return _(
        "⚠️ {one} = {rate} moves the rate in force ({current}) by {change}%. Every top-up "
        "paid in {paid_in} is credited at this rate: is it right?"
    ).format(
        one=_one(of),
        rate=fmt.amount(rate),
        current=fmt.amount(current),
        change=fmt.percent(change_bps),
        paid_in=_paid_in(of),
    )


def confirm_button(of: str, rate: int) -> str:
    return _("✅ Set {one} = {rate}").format(one=_one(of), rate=fmt.amount(rate))


def keep_button() -> str:
    return _("✖ Keep the current rate")


def kept(of: str, current: int) -> str:
    return _("Nothing changed: {one} stays {current}.").format(
        one=_one(of), current=fmt.amount(current)
    )


def refused(refusal: RateRefused) -> str:
    """Why a rate was not set: out of range, or (after ✅) the rate in force is no longer
    the one the question showed — his own second press, or another admin's change."""
    p = refusal.params
    of = str(p["of"])
    if p["reason"] == "range":
        return out_of_range(of, p["rate"], p["low"], p["high"])
    if p.get("current") == p["rate"]:  # his own second press: the rate is what he asked for
        return _("{one} = {rate} is already the rate in force; nothing else changed.").format(
            one=_one(of), rate=fmt.amount(p["rate"])
        )
    if p.get("current") is None:
        return _("The rate changed meanwhile: look at it and set it again.")
    return _("The rate changed meanwhile: {one} = {current} now. Set it again if needed.").format(
        one=_one(of), current=fmt.amount(p["current"])
    )
