"""Texts of the supplier side: applying, submitting products for review, uploading stock.

Like ``bot/texts.py``: gettext with English msgids; Chinese in
``bot/locales/zh_CN/suppliers_catalog.json``.
"""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from bot import formatting as fmt
from bot import texts
from core.delivery.importer import ImportReport
from core.errors import KamengError
from core.models import StockKind
from core.reviews import ReviewView
from core.suppliers import ApplicationView

# applying -----------------------------------------------------------------------------


def apply_ask_company() -> str:
    return _("Apply to become a supplier. What is your company (or shop) name?")


def apply_ask_contact() -> str:
    return _("How can the admins reach you, and what do you supply? One message, please.")


def apply_sent(view: ApplicationView) -> str:
    return _(
        "Application #{id} for “{company}” is with the admins. You will be told when it is decided."
    ).format(id=view.id, company=escape(view.company_name))


def application_for_admin(view: ApplicationView) -> str:
    who = f"@{view.username}" if view.username else str(view.telegram_id)
    return _(
        "<b>Supplier application #{id}</b>\nFrom: {who} (id {tid})\nCompany: {company}\n"
        "Contact: {note}"
    ).format(
        id=view.id,
        who=escape(who),
        tid=view.telegram_id,
        company=escape(view.company_name),
        note=escape(view.contact_note),
    )


def application_approved(view: ApplicationView) -> str:
    return _(
        "✅ Your supplier application #{id} was approved. Submit a product with /newproduct."
    ).format(id=view.id)


def application_rejected(view: ApplicationView) -> str:
    return _("❌ Your supplier application #{id} was rejected. Reason: {reason}").format(
        id=view.id, reason=escape(view.reason)
    )


def application_decided(view: ApplicationView, already: bool) -> str:
    status = decision_label(view.status.value)
    if already:
        return _("Application #{id} was already decided: {status}.").format(
            id=view.id, status=status
        )
    return _("Application #{id}: {status}.").format(id=view.id, status=status)


def decision_label(status: str) -> str:
    labels = {
        "approved": _("approved"),
        "rejected": _("rejected"),
        "pending": _("pending"),
        "superseded": _("replaced by a newer submission"),
    }
    return labels.get(status, status)


def ask_reject_reason(what: str) -> str:
    return _("Type the reason for rejecting {what}; the supplier will see it.").format(
        what=escape(what)
    )


def application_label(application_id: int) -> str:
    return _("application #{id}").format(id=application_id)


def review_label(review_id: int) -> str:
    return _("review #{id}").format(id=review_id)


# products ------------------------------------------------------------------------------


def product_ask_name() -> str:
    return _("New product for review. What is its name? E.g. “Steam wallet 100 CNY”.")


def product_ask_category(has_categories: bool) -> str:
    if has_categories:
        return _("Pick its category, or type a new one:")
    return _("Type its category, e.g. “Steam”:")


def product_ask_face_value() -> str:
    return _("Face value (what the code is worth), e.g. 100 or 100.00:")


def product_ask_supply_price() -> str:
    return _(
        "Your supply price per code, e.g. 85.00: what the platform owes you per code, less "
        "the platform's commission at your ladder tier (see /earnings)."
    )


def product_ask_stock_kind() -> str:
    return _("Is each code sold once (unique), or is the same code given to every buyer (cyclic)?")


def product_ask_exclusive() -> str:
    return _("Is this product exclusive to this platform?")


def product_ask_provenance() -> str:
    return _("Where do the codes come from? A short provenance note (distributor, contract, …):")


def product_ask_authorization() -> str:
    return _("Send an authorization document (photo or file), or press Skip.")


def bad_price() -> str:
    return _(
        "That is not a valid amount here. The supply price must be above 0 and at most the "
        "face value; type it like 85 or 85.00."
    )


def text_length(limit: int) -> str:
    return _("Please type 1 to {max} characters.").format(max=limit)


def type_text() -> str:
    return _("Please type it as a text message (or /cancel).")


def stock_kind_label(kind: StockKind) -> str:
    return _("unique") if kind is StockKind.UNIQUE else _("cyclic")


def yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def review_card(view: ReviewView) -> str:
    lines = [
        _("<b>Product review #{id}</b> ({kind})").format(
            id=view.id, kind=_("new") if view.kind == "new" else _("changed")
        ),
        _("SKU: <code>{code}</code> · {name}").format(code=view.sku_code, name=escape(view.name)),
        _("Supplier: {name} (id {tid})").format(
            name=escape(view.supplier_name), tid=view.supplier_telegram_id
        ),
        _("Category: {category}").format(category=escape(view.category)),
        _("Face value: {amount}").format(amount=fmt.amount(view.face_value)),
        _("Supply price: {amount}").format(amount=fmt.amount(view.supply_price)),
        _("Sale price if approved: {amount}").format(amount=fmt.amount(view.sale_price)),
        _("Stock: {kind} · exclusive: {exclusive}").format(
            kind=stock_kind_label(view.stock_kind), exclusive=yes_no(view.exclusive)
        ),
        _("Provenance: {note}").format(note=escape(view.provenance) or "—"),
        _("Authorization: {present}").format(present=yes_no(view.authorization is not None)),
    ]
    return "\n".join(lines)


def product_submitted(view: ReviewView) -> str:
    return _(
        "📨 <code>{code}</code> “{name}” is waiting for review (#{id}). It is not on sale until "
        "an admin approves it."
    ).format(code=view.sku_code, name=escape(view.name), id=view.id)


def product_unchanged(code: str) -> str:
    return _("Nothing changed; <code>{code}</code> stays as it is.").format(code=escape(code))


def product_approved(view: ReviewView) -> str:
    return _(
        "✅ <code>{code}</code> “{name}” was approved and is on sale at {price}. Stock it with "
        "/upload {code}"
    ).format(code=view.sku_code, name=escape(view.name), price=fmt.amount(view.sale_price))


def product_rejected(view: ReviewView) -> str:
    return _(
        "❌ <code>{code}</code> “{name}” was rejected. Reason: {reason}\nFix it and resubmit "
        "with /editproduct {code}"
    ).format(code=view.sku_code, name=escape(view.name), reason=escape(view.reason))


def review_decided(view: ReviewView, already: bool) -> str:
    status = decision_label(view.status.value)
    if already:
        return _("Review #{id} was already decided: {status}.").format(id=view.id, status=status)
    return _("Review #{id}: {status}.").format(id=view.id, status=status)


def edit_usage() -> str:
    return _("Usage: /editproduct SKU, e.g. /editproduct S1-1")


def edit_ask_name(current: str) -> str:
    return _("New name? Now: “{name}”. Type it, or press Keep.").format(name=escape(current))


def edit_ask_supply_price(current: int) -> str:
    return _(
        "New supply price? Now: {amount}, before the platform's commission at your ladder tier. "
        "Type it, or press Keep."
    ).format(amount=fmt.amount(current))


def edit_ask_provenance() -> str:
    return _("New provenance note? Type it, or press Keep.")


def edit_ask_authorization() -> str:
    return _("A new authorization document (photo or file)? Send it, or press Keep.")


# uploads -------------------------------------------------------------------------------


def upload_usage() -> str:
    return _("Usage: /upload SKU, e.g. /upload S1-1")


def upload_ask(code: str) -> str:
    return _(
        "Send the codes for <code>{code}</code>: paste them (one per line) or send a .txt or "
        ".csv file (up to 20 MB). Two columns are a card number and its password; a header "
        "row such as 卡号,卡密 is skipped. /cancel to stop."
    ).format(code=escape(code))


def upload_bad_file() -> str:
    return _("Please send a .txt or .csv file of at most 20 MB.")


def upload_progress(code: str, report: ImportReport | None) -> str:
    read = report.lines_read if report else 0
    added = report.added if report else 0
    return _("⏳ Uploading to <code>{code}</code>: {read} lines read, {added} added…").format(
        code=escape(code), read=read, added=added
    )


def upload_finished_progress(code: str, report: ImportReport) -> str:
    return _("✔ Upload to <code>{code}</code> finished: {read} lines read.").format(
        code=escape(code), read=report.lines_read
    )


def upload_report(report: ImportReport) -> str:
    return _(
        "<b>Upload #{id} to {code} done</b>\nLines read: {lines}\nAdded: {added}\n"
        "Duplicates in the file: {in_file}\nAlready on the platform: {on_platform}\n"
        "Invalid: {invalid}\nBlank: {blank}\nHeader row skipped: {header}\n"
        "More codes: /upload {code}"
    ).format(
        lines=report.lines_read,
        blank=report.blank,
        header=report.header,
        id=report.import_id,
        code=escape(report.sku_code),
        added=report.added,
        in_file=report.duplicate_in_file,
        on_platform=report.duplicate_on_platform,
        invalid=report.invalid,
    )


def rejected_file_caption(count: int) -> str:
    return _("{count} rejected lines: line number, reason, text.").format(count=count)


def rejection_reason(reason: str) -> str:
    labels = {
        "duplicate_in_file": _("duplicate in the file"),
        "duplicate_on_platform": _("already on the platform"),
        "too_long": _("too long"),
        "control_chars": _("control characters"),
        "undecodable": _("unreadable characters (encoding)"),
        "malformed_csv": _("broken CSV quotes"),
        "too_many_columns": _("too many columns (add a header row)"),
        "missing_number": _("no card number"),
        "header_again": _("a header row again"),
    }
    return labels.get(reason, reason)


def upload_failed(reference: str) -> str:
    return _(
        "The upload stopped on an error (reference {ref}). Codes stored before it are kept; "
        "send the file again to add the rest."
    ).format(ref=reference)


# refusals ------------------------------------------------------------------------------


def refusal(exc: KamengError) -> str:
    reason = exc.params.get("reason")
    if exc.code == "invalid_state" and reason == "already_supplier":
        return _("You are already a supplier.")
    if exc.code == "invalid_state" and reason == "application_pending":
        return _("Your application #{id} is still waiting for a decision.").format(
            id=exc.params.get("application", "")
        )
    if exc.code == "invalid_state" and reason == "sku_suspended":
        return _("This product is suspended by the platform; contact an admin.")
    if exc.code == "forbidden" and exc.params.get("action") == "supplier":
        return _("Only suppliers can do that. Apply with /supplier.")
    if exc.code == "forbidden" and exc.params.get("action") == "sku":
        return _("That is not one of your products.")
    if exc.code == "invalid_input":
        return _("That is not valid here: {field}.").format(
            field=escape(str(exc.params.get("field", "")))
        )
    return texts.error(exc)
