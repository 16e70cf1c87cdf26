"""Texts of the admins' promotions and reports, and of the promotion messages resellers get
(gettext, English msgids; Chinese in ``bot/locales/zh_CN/scheduler.json``)."""

from __future__ import annotations

from datetime import date
from html import escape
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import formatting as fmt
from bot import texts
from core.models import PromotionKind
from core.promotions import FlooredPrice, NewPromotion, PromotionResults, PromotionView
from core.reports import Period, SalesReport

# buttons
SCOPE_SKUS = __("🏷 SKU codes")
SCOPE_CATEGORY = __("📂 A category")
ALL_LEVELS = __("All levels")
NO_REMINDER = __("No reminder")
SCHEDULE = __("✅ Schedule")
CANCEL = __("✖ Cancel")
PERIOD_LABELS = {
    Period.TODAY: __("Today"),
    Period.WEEK: __("7 days"),
    Period.MONTH: __("30 days"),
}


def discount(kind: PromotionKind, percent_off_bps: int | None, fixed_price: int | None) -> str:
    if kind is PromotionKind.PERCENT_OFF:
        return _("−{percent}%").format(percent=fmt.percent(percent_off_bps or 0))
    return _("{price} each").format(price=fmt.amount(fixed_price or 0))


def scope(sku_codes: tuple[str, ...], category: str | None) -> str:
    if category is not None:
        return _("category {name}").format(name=escape(category))
    return ", ".join(f"<code>{escape(code)}</code>" for code in sku_codes)


def levels_text(levels: tuple[str, ...] | list[str]) -> str:
    return texts.joined(texts.level_name(level) for level in levels) if levels else _("all levels")


# /promo, step by step ------------------------------------------------------------


def promo_ask_scope() -> str:
    return _("<b>New promotion</b> (send /cancel to stop at any step).\nWhat does it cover?")


def promo_ask_skus() -> str:
    return _("Send the SKU codes, separated by spaces, e.g. <code>STEAM-100 STEAM-200</code>.")


def promo_unknown_sku(code: str) -> str:
    return _("There is no SKU {code}. Send the codes again.").format(code=escape(code))


def promo_choose_category() -> str:
    return _("Choose the category:")


def promo_no_categories() -> str:
    return _("No category has products on sale yet. Send SKU codes instead.")


def promo_ask_discount() -> str:
    return _(
        "Send the discount: a percentage like <code>15%</code>, "
        "or a fixed unit price like <code>88.00</code>."
    )


def promo_bad_discount() -> str:
    return _("That is neither a percentage from 0.01% to 99.99% nor a price.")


def promo_ask_start(tz: str) -> str:
    return _("When does it start? Type it like <code>2026-12-01 10:00</code> ({tz} time).").format(
        tz=tz
    )


def promo_ask_end(tz: str) -> str:
    return _("When does it end? Same format ({tz} time).").format(tz=tz)


def promo_bad_time() -> str:
    return _("I can't read that time. Type it like 2026-12-01 10:00.")


def promo_end_not_after_start() -> str:
    return _("The end must be after the start and in the future.")


def promo_ask_levels(levels: list[str]) -> str:
    return _(
        "Which reseller levels? Send level names separated by spaces ({levels}), "
        "or press “All levels”."
    ).format(levels=", ".join(texts.level_choice(level) for level in levels))


def promo_bad_levels(levels: list[str]) -> str:
    return _("Unknown level. Choose from: {levels}.").format(
        levels=", ".join(texts.level_choice(level) for level in levels)
    )


def promo_ask_announcement() -> str:
    return _(
        "Send the announcement for the resellers. Its first line becomes the promotion's name."
    )


def promo_ask_reminder() -> str:
    return _(
        "Remind the resellers before the end? Send how many hours before, or press “No reminder”."
    )


def promo_bad_hours() -> str:
    return _("Send a whole number of hours, from 1 to 720.")


def promo_floored(floored: list[FlooredPrice]) -> str:
    """Where the supply-price floor cuts the discount: what buyers of each level will pay."""
    lines = [_("⚠️ The supply-price floor cuts this discount. Buyers will pay, per unit:")]
    for cut in floored:
        price = cut.price
        lines.append(
            _("<code>{sku}</code> {level}: {price} (not {asked})").format(
                sku=escape(cut.sku_code),
                level=escape(cut.level),
                price=texts.price_shown(price.unit_price, price.without_promotion),
                asked=fmt.amount(price.promoted),
            )
        )
    return "\n".join(lines)


def promo_summary(new: NewPromotion, floored: list[FlooredPrice] | None = None) -> str:
    hours = new.remind_hours
    reminder = _("{hours} h before the end").format(hours=hours) if hours else _("no reminder")
    return _(
        "<b>Check the promotion</b>\n"
        "Name: {name}\n"
        "Covers: {scope}\n"
        "Discount: {discount}\n"
        "From {starts} to {ends}\n"
        "Levels: {levels}\n"
        "Reminder: {reminder}{floored}\n\n"
        "{announcement}"
    ).format(
        name=escape(new.display_name()),
        scope=scope(new.sku_codes, new.category),
        discount=discount(new.kind, new.percent_off_bps, new.fixed_price),
        starts=fmt.moment(new.starts_at),
        ends=fmt.moment(new.ends_at),
        levels=levels_text(new.levels),
        reminder=reminder,
        floored="\n\n" + promo_floored(floored) if floored else "",
        announcement=escape(new.announcement),
    )


def promo_scheduled(promotion: PromotionView, replayed: bool) -> str:
    if replayed:
        return _("Promotion #{id} was already scheduled.").format(id=promotion.id)
    return _(
        "✅ Promotion #{id} “{name}” is scheduled: announced at {starts}, "
        "results reported to you at {ends}."
    ).format(
        id=promotion.id,
        name=escape(promotion.name),
        starts=fmt.moment(promotion.starts_at),
        ends=fmt.moment(promotion.ends_at),
    )


def promo_cancelled() -> str:
    return _("Cancelled. Nothing was scheduled.")


def promo_list(promotions: list[PromotionView]) -> str:
    if not promotions:
        return _("No promotion is running or coming up.")
    lines = [_("<b>Promotions not over yet</b>")]
    for p in promotions:
        lines.append(
            f"#{p.id} {escape(p.name)} · {discount(p.kind, p.percent_off_bps, p.fixed_price)}"
            f" · {fmt.moment(p.starts_at)} – {fmt.moment(p.ends_at)}"
        )
    return "\n".join(lines)


# what the jobs send ----------------------------------------------------------------


def promo_announcement(promotion: PromotionView) -> str:
    text = _(
        "🔥 <b>{name}</b>\n{discount} on {scope}\nUntil {ends}. Prices are already live."
    ).format(
        name=escape(promotion.name),
        discount=discount(promotion.kind, promotion.percent_off_bps, promotion.fixed_price),
        scope=scope(promotion.sku_codes, promotion.category),
        ends=fmt.moment(promotion.ends_at),
    )
    body = "\n".join(promotion.announcement.strip().splitlines()[1:]).strip()
    return f"{text}\n\n{escape(body)}" if body else text


def promo_reminder(promotion: PromotionView, hours: int) -> str:
    return _("⏰ <b>{name}</b> ends in {hours} h, at {ends}.").format(
        name=escape(promotion.name), hours=hours, ends=fmt.moment(promotion.ends_at)
    )


def promo_results(results: PromotionResults) -> str:
    return _(
        "📊 <b>{name}</b> (#{id}) has ended.\n"
        "Orders: {orders}\n"
        "Units sold: {units}\n"
        "GMV: {gmv}\n"
        "Resellers who bought: {resellers}\n"
        "Units refunded: {refunded}"
    ).format(
        name=escape(results.promotion.name),
        id=results.promotion.id,
        orders=results.orders,
        units=results.units,
        gmv=fmt.amount(results.gmv),
        resellers=results.resellers,
        refunded=results.refunded_units,
    )


# reports ---------------------------------------------------------------------------


def reports_choose() -> str:
    return _("Sales report for which period?")


def period_name(period: Period) -> str:
    return str(PERIOD_LABELS[period])


def sales_report(report: SalesReport) -> str:
    tz = ZoneInfo(report.timezone)
    parts = [
        _("<b>Sales · {period}</b> (from {starts})").format(
            period=period_name(report.period),
            starts=fmt.when(report.starts_at, tz, fmt.current_locale()),
        ),
        _("Orders: {orders} · Units: {units}").format(orders=report.orders, units=report.units),
        _("GMV: {gmv} · Refunds: {refunds}").format(
            gmv=fmt.amount(report.gmv), refunds=fmt.amount(report.refunds)
        ),
        _("<b>Platform revenue: {amount}</b>").format(amount=fmt.amount(report.platform_revenue)),
        _("  from the spread: {amount}").format(amount=fmt.amount(report.spread)),
        _("  from commission: {amount}").format(amount=fmt.amount(report.commission)),
        _("Suppliers earned: {amount}").format(amount=fmt.amount(report.supplier_earned)),
        _("Owed to suppliers now: {amount}").format(amount=fmt.amount(report.supplier_payable)),
        "",
        _("<b>Top products</b>"),
    ]
    parts += [
        f"{n}. <code>{escape(r.key)}</code> {escape(r.name)} · {r.units} · {fmt.amount(r.gmv)}"
        for n, r in enumerate(report.top_skus, 1)
    ] or [_("none")]
    parts += ["", _("<b>Top resellers</b>")]
    parts += [
        f"{n}. {escape(r.name)} ({r.key}) · {r.units} · {fmt.amount(r.gmv)}"
        for n, r in enumerate(report.top_resellers, 1)
    ] or [_("none")]
    return "\n".join(parts)


def chart_caption(report: SalesReport) -> str:
    if report.hourly:
        return _("GMV per hour, {period} ({tz})").format(
            period=period_name(report.period), tz=report.timezone
        )
    return _("GMV per day, {period} ({tz})").format(
        period=period_name(report.period), tz=report.timezone
    )


def export_usage(tz: str) -> str:
    return _(
        "Usage: <code>/export FROM TO</code>, e.g. <code>/export 2026-11-01 2026-11-30</code> "
        "(days in {tz}, at most 366)."
    ).format(tz=tz)


def export_caption(rows: int, first: date, last: date) -> str:
    return _("{rows} orders from {first} to {last}.").format(
        rows=rows, first=first.isoformat(), last=last.isoformat()
    )
