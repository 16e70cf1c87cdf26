"""Texts of featured placement, brand zones and paid services (gettext; English msgids,
Chinese in ``bot/locales/zh_CN/ads.json``)."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import formatting as fmt
from core.ads import OpenRound
from core.clock import as_utc
from core.demand import DemandReport
from core.models import AdPlacement, ServiceBilling, ServiceKind, SubscriptionStatus
from core.paid_services import OfferView, Quote, SubscriptionView

FEATURED = __("Featured")

PLACEMENTS = {
    AdPlacement.HOME: __("the catalogue's first screen"),
    AdPlacement.CATEGORY: __("the top of a category"),
    AdPlacement.SEARCH: __("the search results"),
}
SERVICES = {
    ServiceKind.SEARCH_BOOST: __("Search boost"),
    ServiceKind.ANALYTICS_REPORT: __("Weekly analytics report"),
    ServiceKind.BROADCAST_CREDITS: __("Broadcast credits"),
    ServiceKind.DEMAND_REPORT: __("Demand report of a category"),
}
STATUSES = {
    SubscriptionStatus.ACTIVE: __("active"),
    SubscriptionStatus.EXPIRED: __("expired"),
    SubscriptionStatus.STOPPED: __("stopped"),
}


def featured_mark() -> str:
    return "⭐ " + str(FEATURED)


def _when(at: Any) -> str:
    moment = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    return fmt.moment(as_utc(moment))


def _where(placement: AdPlacement, category: str | None) -> str:
    where = str(PLACEMENTS[placement])
    return f"{where} · {escape(category)}" if category else where


def open_rounds(rounds: list[OpenRound]) -> str:
    if not rounds:
        return _("No featured slot takes bids right now.")
    lines = [
        _(
            "<b>Featured slots</b> (sealed bids: nobody sees another's bid; the winner pays "
            "the second-highest bid or the reserve, from the payable)"
        )
    ]
    for r in rounds:
        lines.append(
            _(
                "• <b>{slot}</b> — {where}; reserve {reserve}; "
                "bids close {closes}; featured until {ends}"
            ).format(
                slot=escape(r.slot),
                where=_where(r.placement, r.category),
                reserve=fmt.amount(r.reserve),
                closes=fmt.moment(r.closes_at),
                ends=fmt.moment(r.ends_at),
            )
        )
        if r.my_bid is not None and r.my_sku:
            lines.append(
                "  "
                + _("Your bid: {amount} for {sku}").format(
                    amount=fmt.amount(r.my_bid), sku=escape(r.my_sku)
                )
            )
    return "\n".join(lines)


def bid_button(slot: str) -> str:
    return _("Bid: {slot}").format(slot=slot)


def choose_sku() -> str:
    return _("Which of your products should be featured?")


def no_sku() -> str:
    return _("You have no product on sale that fits this slot.")


def ask_amount(reserve: int) -> str:
    return _("Type your sealed bid (at least {reserve}):").format(reserve=fmt.amount(reserve))


def below_reserve(reserve: int) -> str:
    return _("The bid must be at least the reserve, {reserve}.").format(reserve=fmt.amount(reserve))


def bid_refused(reason: str, limit: int) -> str:
    """Why a typed bid was not placed (``core.decisions.auction.check_bid``); the supplier
    types another amount."""
    if reason == "payable":
        return _(
            "A bid is paid from your payable if you win, and it holds {payable} now: bid at "
            "most that."
        ).format(payable=fmt.amount(limit))
    if reason == "cap":
        return _("The most anyone may bid is {max}: check the amount (an extra zero?).").format(
            max=fmt.amount(limit)
        )
    return below_reserve(limit)


def round_closed() -> str:
    return _("Bids for this slot have closed.")


def bid_placed(r: OpenRound) -> str:
    return _(
        "🔒 Sealed bid of {amount} for {sku} on “{slot}”. Bids close {closes}; "
        "you will hear the result then."
    ).format(
        amount=fmt.amount(r.my_bid or 0),
        sku=escape(r.my_sku or ""),
        slot=escape(r.slot),
        closes=fmt.moment(r.closes_at),
    )


def auction_result(payload: dict[str, Any]) -> str:
    slot, sku = escape(str(payload["slot"])), escape(str(payload["sku"]))
    if payload["outcome"] == "won":
        return _(
            "🏆 You won “{slot}”: {sku} is featured from {starts} to {ends}. "
            "You pay {price} (your bid was {bid})."
        ).format(
            slot=slot,
            sku=sku,
            starts=_when(payload["starts_at"]),
            ends=_when(payload["ends_at"]),
            price=fmt.amount(int(payload["price"])),
            bid=fmt.amount(int(payload["bid"])),
        )
    if payload["outcome"] == "unpaid":
        return _(
            "Your bid on “{slot}” was the highest, but your payable could not cover the "
            "price, so the slot went to the next bidder. Nothing was charged."
        ).format(slot=slot)
    return _("Your bid of {bid} on “{slot}” did not win. Nothing was charged.").format(
        bid=fmt.amount(int(payload["bid"])), slot=slot
    )


# --- paid services ---


def _billing(billing: ServiceBilling, days: int) -> str:
    if billing is ServiceBilling.MONTHLY:
        if days == 1:
            return _("every day, renewed automatically")
        return _("every {days} days, renewed automatically").format(days=days)
    if days == 1:
        return _("once, for one day")
    return _("once, for {days} days").format(days=days)


def offer_line(offer: OfferView) -> str:
    credits = " " + _("({credits} messages)").format(credits=offer.credits) if offer.credits else ""
    billing = _billing(offer.billing, offer.days)
    return f"{SERVICES[offer.kind]}{credits}: {fmt.amount(offer.price)} · {billing}"


def services(offers: list[OfferView], mine: list[SubscriptionView]) -> str:
    lines = [_("<b>Paid services</b>")]
    if not offers:
        lines.append(_("No service is on offer right now."))
    lines.extend(f"• {offer_line(o)}" for o in offers)
    if mine:
        lines.append("")
        lines.append(_("<b>Yours</b>"))
        for sub in mine[:10]:
            sku = f" · {escape(sub.sku)}" if sub.sku else ""
            lines.append(
                _("• {service}{sku}: {status}, until {ends}").format(
                    service=SERVICES[sub.offer.kind],
                    sku=sku,
                    status=STATUSES[sub.status],
                    ends=fmt.moment(sub.ends_at),
                )
            )
    return "\n".join(lines)


def offer_button(offer: OfferView) -> str:
    return f"{SERVICES[offer.kind]} · {fmt.amount(offer.price)}"


def boost_which_sku() -> str:
    return _("Which product should rank first in search?")


def confirm_service(offer: OfferView, sku: str | None) -> str:
    target = f" ({escape(sku)})" if sku else ""
    return _("Buy {service}{target} for {price}, {billing}?").format(
        service=SERVICES[offer.kind],
        target=target,
        price=fmt.amount(offer.price),
        billing=_billing(offer.billing, offer.days),
    )


def confirm_purchase(quote: Quote) -> str:
    """The question before Buy: a new service, or — bought again while it runs — the
    running one extended, from when to when, said before anything is charged."""
    if quote.current_end is None:
        return confirm_service(quote.offer, quote.sku)
    return _(
        "Your {service}{target} runs until {current}; buying now extends it to {ends} for {price}."
    ).format(
        service=SERVICES[quote.offer.kind],
        target=f" ({escape(quote.sku)})" if quote.sku else "",
        current=fmt.moment(quote.current_end),
        ends=fmt.moment(quote.ends_at),
        price=fmt.amount(quote.offer.price),
    )


def buy_button() -> str:
    return _("✅ Buy")


def service_bought(sub: SubscriptionView) -> str:
    if sub.extended_from is not None:
        return _("✅ {service}{target} extended: it now runs until {ends}.").format(
            service=SERVICES[sub.offer.kind],
            target=f" ({escape(sub.sku)})" if sub.sku else "",
            ends=fmt.moment(sub.ends_at),
        )
    bought = _("✅ {service} is yours until {ends}.").format(
        service=SERVICES[sub.offer.kind], ends=fmt.moment(sub.ends_at)
    )
    if sub.offer.kind is ServiceKind.BROADCAST_CREDITS:
        return bought + "\n" + _("Write to your past buyers with /promote.")
    return bought


def service_already(sub: SubscriptionView) -> str:
    """A second press of a Buy button that bought already (a double tap, an old copy of
    the message): what that purchase is, until when; nothing is charged again."""
    target = f" ({escape(sub.sku)})" if sub.sku else ""
    service, ends = SERVICES[sub.offer.kind], fmt.moment(sub.ends_at)
    if sub.status is SubscriptionStatus.ACTIVE:
        return _(
            "You bought this already: {service}{target} is active until {ends}. "
            "Nothing was charged again."
        ).format(service=service, target=target, ends=ends)
    return _(
        "You bought this already: {service}{target} ran until {ends} and has ended. "
        "Nothing was charged; buy it again in /services."
    ).format(service=service, target=target, ends=ends)


def service_stopped(payload: dict[str, Any]) -> str:
    return _(
        "⚠️ Your {service} could not be renewed: {price} was due and you were short by "
        "{shortfall}. It has stopped; buy it again in /services when you like."
    ).format(
        service=SERVICES[ServiceKind(str(payload["kind"]))],
        price=fmt.amount(int(payload["price"])),
        shortfall=fmt.amount(int(payload["shortfall"])),
    )


def resend_button() -> str:
    return _("📥 Send this report again (free)")


def demand_resent() -> str:
    return _("You already bought this report; sent again at no charge.")


def demand_which_category() -> str:
    return _("Which category's demand do you want to see?")


def demand_caption(report: DemandReport) -> str:
    forecast = (
        _("next week's forecast: {units} units").format(units=report.forecast)
        if report.forecast is not None
        else _("too few buyers for a forecast")
    )
    return _(
        "📊 Demand in {category}, the last 8 weeks: units by hour (top) and by week, {forecast} "
        "(orange). Buckets with fewer than {k} buyers are left out."
    ).format(category=escape(report.category), forecast=forecast, k=report.k)


def demand_restock(report: DemandReport) -> str:
    lines = [_("<b>Your products</b>")]
    for r in report.restock:
        if r.stock is None:
            lines.append(_("• {sku}: cyclic, never runs out").format(sku=escape(r.sku)))
        elif r.days_left is None:
            lines.append(
                _("• {sku}: {stock} in stock, no sales lately").format(
                    sku=escape(r.sku), stock=r.stock
                )
            )
        else:
            lines.append(
                _("• {sku}: {stock} in stock, about {days} days at your rate; add {add}").format(
                    sku=escape(r.sku), stock=r.stock, days=int(r.days_left), add=r.suggest
                )
            )
    if len(lines) == 1:
        lines.append(_("You have no product on sale in this category."))
    return "\n".join(lines)


def weekly_report(payload: dict[str, Any]) -> str:
    head = _("📈 Your week since {since}").format(since=_when(payload["since"]))
    if payload["supplier"]:
        figures = _("{units} units sold, you earned {amount}").format(
            units=payload["units"], amount=fmt.amount(int(payload["amount"]))
        )
    else:
        figures = _("{units} units bought for {amount}").format(
            units=payload["units"], amount=fmt.amount(int(payload["amount"]))
        )
    top = [f"• {escape(str(code))} × {units}" for code, units in payload["top"]]
    return "\n".join([head, figures, *top])


def zone_header(name: str) -> str:
    return "🏷 " + _("Brand zone: <b>{name}</b>").format(name=escape(name))


def zone_ended() -> str:
    return _("This brand zone has ended.")
