"""The reseller's texts — catalogue, buying, receipts, orders, balance and top-ups, API
keys — and those every part of the bot shares (welcome, help, refusals, language), rendered
in the reader's language (gettext; English msgids).

Handlers never hold user-facing literals: they call these functions. The other parts have
their own texts module, each imported under its own name: ``admin_texts``,
``aftersales_texts``, ``broadcast_texts``, ``registration_texts``, ``scheduler_texts``
(promotions and reports), ``supplier_texts``, ``supplier_sales_texts``, ``voucher_texts``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import formatting as fmt
from bot import fulfilment_texts, stars_texts, usdt_texts
from core.balances import BalanceView, Movement
from core.delivery.codes import CardCode
from core.errors import KamengError
from core.models import TopUpStatus
from core.order_callbacks import DeliveryView
from core.orders import OrderSummary, Receipt
from core.pricing.quotes import QuoteView
from core.storefront import SkuCard, SkuLine
from core.topups import TopUpView

# reply-keyboard labels: lazy so that filters match them in either language
MENU_CATALOGUE = __("🛒 Catalogue")
MENU_ORDERS = __("📦 Orders")
MENU_BALANCE = __("💰 Balance")
MENU_HELP = __("❓ Help")
MENU_LANGUAGE = __("🌐 Language")

MAX_CODES_INLINE = 20


def welcome(name: str) -> str:
    return _(
        "Welcome to Kameng, {name}! Pick from the menu below, or type a product name to search."
    ).format(name=escape(name))


def help_text() -> str:
    return _(
        "<b>How it works</b>\n"
        "🛒 Catalogue — browse products and your prices\n"
        "📦 Orders — your orders; get the codes again any time\n"
        "💰 Balance — your prepaid balance and top-ups\n"
        "Type any product name to search.\n"
        "Quick buy: <code>/buy SKU QUANTITY</code>, e.g. <code>/buy STEAM-100 5</code>"
    )


def supplier_help(commands: str) -> str:
    return _(
        "<b>As a supplier</b>\n{commands}\n"
        "A new or changed product is on sale once an admin approves it; paste codes after "
        "/upload or send them as a text file."
    ).format(commands=commands)


def admin_help(commands: str) -> str:
    return _(
        "<b>As an admin</b>\n{commands}\n"
        "The panel counts what waits for you (product reviews, top-ups, bad-code reports, "
        "supplier applications, withdrawals, registrations); a button lists each."
    ).format(commands=commands)


def banned() -> str:
    return _("Your account is suspended. Please contact support.")


def unknown_command() -> str:
    return _("I don't know that command. Send /help to see what I can do.")


def choose_category() -> str:
    return _("Choose a category:")


def nothing_on_sale() -> str:
    return _("Nothing is on sale yet.")


def category_gone() -> str:
    return _("This category no longer exists or has nothing on sale. Choose another one.")


def stock_label(line: SkuLine) -> str:
    if line.stock is None:
        return _("in stock")
    if line.stock == 0:
        return _("out of stock")
    return _("{count} left").format(count=line.stock)


def sku_button(line: SkuLine) -> str:
    mark = f"⭐ {_('Featured')} · " if line.featured else ""
    return f"{mark}{line.name} · {fmt.amount(line.my_price)} · {stock_label(line)}"


def sku_list_header(title: str, page: int, pages: int) -> str:
    return _("<b>{title}</b> — page {page}/{pages}").format(
        title=escape(title), page=page, pages=pages
    )


def search_results(query: str, found: int) -> str:
    if not found:
        return _("Nothing matches “{query}”.").format(query=escape(query))
    return _("Results for “{query}”: {count}").format(query=escape(query), count=found)


def price_shown(price: int, regular: int) -> str:
    """``<b>¥88.00</b>``, or ``<s>¥92.00</s> <b>¥88.00</b>`` when a promotion lowers it."""
    now = f"<b>{fmt.amount(price)}</b>"
    return f"<s>{fmt.amount(regular)}</s> {now}" if price < regular else now


def sku_card(card: SkuCard) -> str:
    parts = [
        f"<b>{escape(card.line.name)}</b> (<code>{card.line.code}</code>)",
        _("Category: {category}").format(category=escape(card.category)),
        _("Face value: {amount}").format(amount=fmt.amount(card.face_value)),
        _("Your price: {price}").format(price=price_shown(card.line.my_price, card.regular_price)),
        _("Stock: {stock}").format(stock=stock_label(card.line)),
    ]
    for rule, unit_price in card.break_offers:  # only the breaks that save money
        parts.append(
            _("From {count} units: {amount} each (−{percent}%)").format(
                count=rule.min_quantity,
                amount=fmt.amount(unit_price),
                percent=fmt.percent(rule.discount_bps),
            )
        )
    if card.promotion_saves and card.promotion_name and card.promotion_ends_at:
        parts.append(
            _("🔥 Promotion “{name}” until {end}").format(
                name=escape(card.promotion_name), end=fmt.moment(card.promotion_ends_at)
            )
        )
    return "\n".join(parts)


# The levels the migrations seed; a level an operator adds keeps the name he gave it.
LEVEL_NAMES = {"bronze": __("bronze"), "silver": __("silver"), "gold": __("gold")}


def joined(items: Iterable[str]) -> str:
    """A list in a line: ``a, b`` in English, ``a、b`` in Chinese."""
    return _(", ").join(items)


def level_name(level: str) -> str:
    """A reseller level as the reader says it (``bronze`` → 青铜)."""
    return escape(str(LEVEL_NAMES.get(level, level)))


def level_choice(level: str) -> str:
    """A level where the admin may type it: its name and the word to type."""
    if level not in LEVEL_NAMES:
        return escape(level)
    return _("{name} ({key})").format(name=level_name(level), key=escape(level))


def ask_quantity(name: str) -> str:
    return _("How many “{name}”? Pick a number or type one.").format(name=escape(name))


def type_quantity() -> str:
    return _("Type the quantity as a whole number, e.g. 3.")


def quote(q: QuoteView) -> str:
    """The quote as the core decided it: too many asked for → what is left, no price to
    confirm; not enough money → the shortfall, never a balance below what can be spent."""
    head = _("<b>{quantity} × {name}</b>").format(quantity=q.quantity, name=escape(q.sku_name))
    if q.over_stock:
        if not q.available:
            return head + "\n" + _("⚠️ Out of stock: none left right now.")
        return (
            head
            + "\n"
            + _("⚠️ Only {count} left: {quantity} cannot be bought now.").format(
                count=q.available, quantity=q.quantity
            )
        )
    price = q.price
    lines = [
        head,
        _("Unit price: {price}").format(price=price_shown(q.unit_price, price.without_promotion)),
    ]
    if price.quantity_break is not None and price.break_saves:
        lines.append(
            _("Quantity discount from {count} units: −{percent}%").format(
                count=price.quantity_break.min_quantity,
                percent=fmt.percent(price.quantity_break.discount_bps),
            )
        )
    if price.promotion is not None and price.promotion_saves:
        lines.append(_("Promotion: {name}").format(name=escape(price.promotion.name)))
    lines.append(_("Total: <b>{amount}</b>").format(amount=fmt.amount(q.total)))
    if q.shortfall:
        lines += [
            _("Your balance: {amount}").format(amount=fmt.amount(q.balance)),
            _("⚠️ Short by {amount}: top up to buy.").format(amount=fmt.amount(q.shortfall)),
        ]
        return "\n".join(lines)
    if q.credit_used:
        lines.append(
            _("After this, {amount} of your {limit} credit line is in use.").format(
                amount=fmt.amount(q.credit_used), limit=fmt.amount(q.credit_limit)
            )
        )
    else:
        lines.append(_("Balance after: {amount}").format(amount=fmt.amount(q.balance_after)))
    lines.append(_("This price holds until {time}.").format(time=fmt.moment(q.expires_at)))
    return "\n".join(lines)


def quote_available_button(count: int) -> str:
    return _("🛒 Quote {count}").format(count=count)


def requoted(reason: str) -> str:
    if reason == "changed":
        return _("The price has changed since you were quoted. Here is the new price:")
    return _("That quote expired. Here is a fresh one:")


def already_bought(order_id: int) -> str:
    return _("Already bought: order #{order}. Find its codes under Orders.").format(order=order_id)


def cancelled() -> str:
    return _("Cancelled. Nothing was charged.")


def form_cancelled() -> str:
    return _("Cancelled.")


def receipt_header(r: Receipt) -> str:
    return _("✅ Order #{order}: {quantity} × {name}\nPaid {total} · balance {balance}").format(
        order=r.order_id,
        quantity=r.quantity,
        name=escape(r.sku_name),
        total=fmt.amount(r.total),
        balance=fmt.amount(r.balance_after),
    )


def code_field(name: str, value: str) -> str:
    """One field of a code, its value copyable on its own."""
    shown = f"<code>{escape(value)}</code>"
    labels = {
        "number": _("Card no.: {value}"),
        "password": _("Password: {value}"),
        "link": _("Link: {value}"),
        "expires": _("Expires: {value}"),
    }
    return labels[name].format(value=shown) if name in labels else shown


def card_code(card: CardCode) -> str:
    """A plain code as it is; a card number with its password (link, expiry) labelled."""
    if card.is_plain:
        return f"<code>{escape(card.fields[0][1])}</code>"
    return "  ".join(code_field(name, value) for name, value in card.fields)


def receipt_with_codes(r: Receipt) -> str:
    codes = "\n".join(card_code(card) for card in r.cards)
    return f"{receipt_header(r)}\n\n{codes}" + fulfilment_texts.rest_coming(r)


def receipt_codes_in_file(r: Receipt) -> str:
    return (
        receipt_header(r)
        + "\n"
        + _("Your {count} codes are in the file below.").format(count=len(r.codes))
        + fulfilment_texts.rest_coming(r)
    )


def codes_file_caption(r: Receipt) -> str:
    return _("Order #{order}: {count} codes, one per line.").format(
        order=r.order_id, count=len(r.codes)
    )


def orders_header(page: int, pages: int) -> str:
    return _("<b>Your orders</b> — page {page}/{pages}").format(page=page, pages=pages)


def no_orders() -> str:
    return _("You have no orders yet.")


def order_button(o: OrderSummary) -> str:
    return f"#{o.id} · {o.quantity} × {o.sku_name} · {fmt.amount(o.total)}"


def order_status(r: Receipt) -> str:
    if r.fulfilment is not None:  # delivered later: pending, fulfilling, delivered, …
        return fulfilment_texts.status_word(r.status)
    labels = {"paid": _("paid"), "partly_refunded": _("partly refunded"), "refunded": _("refunded")}
    return labels.get(r.status.value, r.status.value)


def order_detail(r: Receipt) -> str:
    return _(
        "<b>Order #{order}</b>\n{quantity} × {name} at {unit}\nTotal {total}\nStatus: {status}\n"
        "Date: {date}"
    ).format(
        order=r.order_id,
        quantity=r.quantity,
        name=escape(r.sku_name),
        unit=fmt.amount(r.unit_price),
        total=fmt.amount(r.total),
        status=order_status(r),
        date=fmt.moment(r.created_at),
    ) + (fulfilment_texts.detail(r) if r.fulfilment is not None else "")


def balance(view: BalanceView) -> str:
    text = _("💰 Balance: <b>{amount}</b>").format(amount=fmt.amount(view.balance))
    if view.credit_limit:
        text += "\n" + _("Credit limit: {limit} · spendable {spendable}").format(
            limit=fmt.amount(view.credit_limit), spendable=fmt.amount(view.spendable)
        )
    return text


def statement(moves: list[Movement]) -> str:
    if not moves:
        return _("No movements yet.")
    kinds = {
        "top_up": _("top-up"),
        "purchase": _("purchase"),
        "refund": _("refund"),
        "adjustment": _("adjustment"),
        "voucher": _("voucher"),
    }
    rows = [
        f"{fmt.moment(m.created_at)} · {kinds.get(m.kind, m.kind)} · {'+' if m.amount > 0 else ''}"
        f"{fmt.amount(m.amount)}"
        for m in moves
    ]
    return _("<b>Last movements</b>") + "\n" + "\n".join(rows)


def topup_ask_amount() -> str:
    return _("How much did you pay? Type the amount, e.g. 100 or 100.00.")


def topup_ask_receipt() -> str:
    return _("Now send a photo of the receipt, or a note with the payment reference.")


def topup_sent(view: TopUpView) -> str:
    return _(
        "Top-up request #{id} for {amount} is with the admins. You will be told when it is decided."
    ).format(id=view.id, amount=fmt.amount(view.amount))


def topup_for_admin(view: TopUpView) -> str:
    who = f"@{view.username}" if view.username else str(view.telegram_id)
    note = f"\n{escape(view.note)}" if view.note else ""
    return (
        _("Top-up request #{id}: {who} paid {amount}.").format(
            id=view.id, who=escape(who), amount=fmt.amount(view.amount)
        )
        + note
    )


def topup_approved(view: TopUpView, balance_after: int) -> str:
    return _("✅ Your top-up #{id} of {amount} was approved. Balance: {balance}").format(
        id=view.id, amount=fmt.amount(view.amount), balance=fmt.amount(balance_after)
    )


def topup_rejected(view: TopUpView) -> str:
    return _(
        "❌ Your top-up #{id} of {amount} was rejected. Contact support if this is wrong."
    ).format(id=view.id, amount=fmt.amount(view.amount))


def topup_status(status: TopUpStatus) -> str:
    labels = {
        TopUpStatus.PENDING: _("pending"),
        TopUpStatus.APPROVED: _("approved"),
        TopUpStatus.REJECTED: _("rejected"),
    }
    return str(labels[status])


def topup_decided(view: TopUpView, already: bool) -> str:
    if already:
        return _("Request #{id} was already decided: {status}.").format(
            id=view.id, status=topup_status(view.status)
        )
    return _("Request #{id}: {status}.").format(id=view.id, status=topup_status(view.status))


def choose_language() -> str:
    return _("Choose your language:")


def language_set() -> str:
    return _("Language set to English.")


def stale_button() -> str:
    return _("This button is no longer valid.")


def slow_down() -> str:
    return _("Too fast — please wait a moment.")


def unexpected(reference: str) -> str:
    return _("Sorry, something went wrong on our side. Reference: {ref}").format(ref=reference)


def bad_quantity(limit: int) -> str:
    return _("Please give a whole number from 1 to {max}.").format(max=limit)


def bad_amount() -> str:
    return _("That is not an amount. Type it like 100 or 100.00.")


def buy_usage() -> str:
    return _("Usage: /buy SKU QUANTITY, e.g. /buy STEAM-100 5")


def error(exc: KamengError) -> str:
    """A refusal from the platform, in the reader's language."""
    p = exc.params
    if exc.code == "insufficient_balance":
        return _("Not enough balance: you are short by {amount}.").format(
            amount=fmt.amount(int(p.get("shortfall", 0)))
        )
    if exc.code == "credit_blocked" and p.get("reason") == "frozen":
        return _("Your credit line is frozen: pay with your own balance or top up first.")
    if exc.code == "credit_blocked":
        return _(
            "Your credit line was due on {date}: top up to repay it before buying on credit."
        ).format(date=p.get("due_on", ""))
    if exc.code == "out_of_stock":
        return _("Not enough stock: only {count} left.").format(count=p.get("available", 0))
    if exc.code == "invalid_quantity":
        return bad_quantity(int(p.get("max", 0)))
    if exc.code == "invalid_amount" and isinstance(p.get("max"), int):
        if isinstance(p.get("amount"), int) and p["amount"] > p["max"]:
            return _("That is more than {max} in one go; type a smaller amount.").format(
                max=fmt.amount(p["max"])
            )
    if exc.code == "invalid_amount":
        return bad_amount()
    if exc.code == "sku_not_for_sale":
        return _("This product is not for sale right now.")
    if exc.code == "price_not_allowed" and p.get("reason") == "zero":
        return _("A price of 0 would give the codes away; type a price above 0.")
    if exc.code == "price_not_allowed":
        return _("{price} is above the face value {face_value}; type a lower price.").format(
            price=fmt.amount(int(p.get("price", 0))),
            face_value=fmt.amount(int(p.get("face_value", 0))),
        )
    if exc.code == "not_found":
        return _("Not found — it may not exist or may not be yours.")
    if exc.code == "forbidden":
        return _("You are not allowed to do that.")
    if exc.code == "user_banned":
        return banned()
    if exc.code == "not_restockable":
        return not_restockable(str(p.get("why", "")))
    if exc.code == "quote_used":  # bought already, e.g. by the reseller's shop over the API
        return already_bought(int(p.get("order_id", 0)))
    if exc.code == "unknown_payment_method":
        return _("That payment method is not available; choose another.")
    if exc.code == "payment_provider_unavailable":
        return _("The payment provider did not answer; nothing changed. Try again in a minute.")
    if exc.code == "payment_provider_refused":  # its own words, e.g. 易支付's msg
        return _(
            "The payment provider would not open this payment ({reason}); nothing was "
            "charged. Try again later or choose another method."
        ).format(reason=escape(str(p.get("reason", ""))[:200]))
    if exc.code == "bad_notification":
        return _("That could not be done.")
    if exc.code == "callback_url_refused":
        return _(
            "That callback URL cannot be used: it must start with http:// or https:// "
            "and reach a public address."
        )
    if exc.code == "usdt_not_configured":  # no rate (or address) yet
        return usdt_texts.not_configured()
    if exc.code == "usdt_slots_full":
        return usdt_texts.slots_full()
    if exc.code == "stars_refused":
        return stars_texts.refused(str(p.get("reason")), int(p.get("max", 0)))
    if exc.code == "invalid_account":
        zh = fmt.current_locale().startswith("zh")
        label = escape(str(p.get("label_zh" if zh else "label_en") or p.get("field", "")))
        if p.get("reason") == "missing":
            return _("Please fill in {field}.").format(field=label)
        text = _("{field} does not look right; please check it and type it again.").format(
            field=label
        )
        hint = str(p.get("hint_zh" if zh else "hint_en") or "")
        return text + ("\n" + fulfilment_texts.expected(hint) if hint else "")
    if exc.code == "invalid_state" and p.get("kind") == "payment":
        if p.get("reason") == "note_required":
            return _("Say why in a note; nothing was credited.")
        if p.get("status") == "credited":
            return _("This payment was credited already; nothing was changed.")
        return _("This payment cannot be credited ({status}); nothing was changed.").format(
            status=p.get("status", "?")
        )
    if exc.code == "order_finished":
        return _("This order is finished already; nothing was changed.")
    if exc.code == "storage_unavailable":  # the disk is read-only or full: nothing was charged
        return _("We cannot save orders right now; nothing was charged. Try again in a minute.")
    return _("That could not be done.")


def not_restockable(why: str) -> str:
    if why == "already_restocked":
        return _("That code was already restocked.")
    if why == "not_refunded":
        return _("That code is not refunded: only a refunded code can be restocked.")
    return _("That code cannot be restocked: it is not a void code of a refunded line.")


# reseller HTTP API keys ------------------------------------------------------------------


def apikey_current(prefix: str | None, created_at: datetime | None) -> str:
    if prefix is None or created_at is None:
        head = _("You have no API key yet.")
    else:
        head = _("Your API key: <code>{prefix}…</code>, created {date}.").format(
            prefix=escape(prefix), date=fmt.moment(created_at)
        )
    return (
        head
        + "\n"
        + _(
            "With an API key your own shop can browse, quote and buy over HTTP. "
            "A new key replaces the current one at once."
        )
    )


def apikey_issued(token: str) -> str:
    return _(
        "🔑 Your new API key (shown only this once; the old key no longer works):\n"
        "<code>{key}</code>\n"
        "Send it as the header <code>Authorization: Bearer KEY</code>. Keep it secret."
    ).format(key=escape(token))


def callback_current(url: str | None) -> str:
    if url is None:
        return _(
            "Order callbacks: off. Send <code>/callback https://your.shop/hook</code> and "
            "every order change is POSTed there, signed."
        )
    return _(
        "Order callbacks go to <code>{url}</code>. <code>/callback off</code> stops them."
    ).format(url=escape(url))


def callback_set(url: str, secret: str) -> str:
    return _(
        "📬 Order callbacks now go to <code>{url}</code>.\n"
        "Signing secret (shown only this once):\n<code>{secret}</code>\n"
        "Each POST has the header <code>X-Kameng-Signature: t=…,v1=…</code>: "
        'HMAC-SHA256 of <code>t + "." + body</code> under this secret.'
    ).format(url=escape(url), secret=escape(secret))


def callback_cleared(removed: bool) -> str:
    return _("Order callbacks are off.") if removed else _("You had no order callback.")


def callback_needs_key() -> str:
    return _("Create an API key first (/apikey): callbacks belong to your key.")


def callback_deliveries_button() -> str:
    return _("📬 Callback deliveries")


def callback_deliveries(lines: Iterable[DeliveryView]) -> str:
    rows = []
    for d in lines:
        answer = str(d.status_code) if d.status_code is not None else escape(d.error or "")
        if d.outcome == "delivered":
            state = _("delivered")
        elif d.outcome == "retrying" and d.next_retry_at is not None:
            state = _("next try {time}").format(time=fmt.moment(d.next_retry_at))
        else:
            state = _("given up")
        rows.append(
            _("{time} · order {order} · {event} · {answer} · {state}").format(
                time=fmt.moment(d.attempted_at),
                order=d.order_id,
                event=escape(d.event),
                answer=answer,
                state=state,
            )
        )
    if not rows:
        return _("No callback was sent yet.")
    return _("Latest callback deliveries:") + "\n" + "\n".join(rows)


def apikey_kept() -> str:
    return _("Nothing changed: your current key still works.")


def dujiao_enable_button() -> str:
    return _("🔗 Connect a Dujiao-Next shop")


def dujiao_enabled(url: str, key: str, secret: str) -> str:
    return _(
        "🔗 In your Dujiao-Next shop add a site connection (upstream) with:\n"
        "URL: <code>{url}</code>\n"
        "API key: <code>{key}</code>\n"
        "API secret: <code>{secret}</code> (shown only this once)\n"
        "Orders are paid from your balance at your prices; a new API key ends the connection."
    ).format(url=escape(url), key=escape(key), secret=escape(secret))


def apikey_new_button() -> str:
    return _("🔑 Create a new key")


def apikey_cancel_button() -> str:
    return _("✖ Cancel")
