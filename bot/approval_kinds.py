"""What each approval queue shows and says in the bot: its card, the admin's answer after a
decision, the reason prompt, and the notice to whoever asked. The deciding itself is one set
of handlers (bot/handlers/approvals.py) and one core mechanism (core/approvals.py); a new
queue adds a core ``ApprovalKind`` and one class here.

Every decision's notice to another chat is the kind's ``notice``, which the outbox sender
renders when it sends (the core decision promised it: ``core.approvals.TellsRequester`` and
``TellsOthers``); ``tell`` is what else the bot does at once after a decision. Every
waiting request's card (``card`` and ``buttons``) is also what the outbox sends each admin
for ``core.approvals.ask_admins``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from bot import (
    admin_texts,
    command_menus,
    credit_texts,
    registration_texts,
    supplier_sales_texts,
    supplier_texts,
    texts,
)
from bot.keyboards import admin as admin_kb
from bot.keyboards import menus
from bot.keyboards.approvals import decision_buttons
from bot.keyboards.supplier_sales import withdrawal_decision
from bot.notices import Attachment, TelegramFile
from bot.sender import Markup, Sender
from core.aftersales import SUPPLIER, ReportKind, Resolution
from core.catalogue import Catalogue
from core.credit import ApplicationDecision as CreditDecision
from core.credit import CreditApplicationKind
from core.errors import InsufficientPayable, KamengError
from core.models import RegistrationStatus, ReviewStatus
from core.registration import RegistrationDecision, RegistrationKind
from core.reviews import ReviewDecision, ReviewKind
from core.settings import Settings
from core.supplier_payouts import WithdrawalDecision, WithdrawalKind
from core.suppliers import ApplicationDecision, ApplicationKind
from core.topups import Decision as TopUpDecision
from core.topups import TopUpKind


@dataclass(frozen=True)
class Notify:
    """What a kind's ``tell`` needs to act in another chat after a decision (refresh the
    new supplier's command menu, say); notices go through the outbox."""

    sender: Sender
    i18n: I18n
    catalogue: Catalogue
    settings: Settings


class BotKind:
    """The defaults; a kind overrides what differs. ``result`` is the core kind's result."""

    name: str
    listed = True  # its waiting requests are listed from the admin panel (ApprovalQueueCb)

    def answer(self, result: Any) -> str:
        """The deciding admin's answer (also when someone else was first)."""
        raise NotImplementedError

    def card(self, result: Any) -> str:
        raise NotImplementedError

    def buttons(self, result: Any) -> InlineKeyboardMarkup | None:
        return decision_buttons(self.name, result_id(result))

    def ask_reason(self, result: Any) -> str:
        raise NotImplementedError

    def reason_markup(self) -> InlineKeyboardMarkup | None:
        return None

    def after(self, result: Any) -> InlineKeyboardMarkup | None:
        """What may still be done on the card once decided (nothing, by default)."""
        return None

    def refusal(self, exc: KamengError) -> str | None:
        """An approve the kind refused (the request still waits), as an alert; None: the
        error router words it."""
        return None

    async def tell(self, result: Any, notify: Notify) -> None:
        """After the first decision: what else the bot does at once (notices go through
        the outbox, see ``notice``)."""

    def attachment(self, result: Any) -> Attachment | None:
        """The file the card is the caption of (a receipt, a screenshot, an authorization)."""
        return None

    def notice(self, result: Any, to: str) -> tuple[str, Markup | None]:
        """The decision as the outbox tells whoever asked (``core.approvals.DECIDED_NOTICE``),
        in their language: the request is read when it is sent. ``to``: ``REQUESTER`` or the
        role a kind's ``TellsOthers`` named."""
        raise NotImplementedError


def result_id(result: Any) -> int:
    for field in ("request", "application", "review", "report"):
        view = getattr(result, field, None)
        if view is not None:
            return int(view.id)
    raise TypeError(result)


class TopUps(BotKind):
    name = TopUpKind.name

    def answer(self, result: TopUpDecision) -> str:
        return texts.topup_decided(result.request, result.already_decided)

    def card(self, result: TopUpDecision) -> str:
        return texts.topup_for_admin(result.request)

    def attachment(self, result: TopUpDecision) -> Attachment | None:
        receipt = result.request.receipt_file_id
        return TelegramFile(receipt, "photo") if receipt else None

    def notice(self, result: TopUpDecision, to: str) -> tuple[str, Markup | None]:
        request, posted = result.request, result.posted
        if posted is not None:  # the balance as the credit left it (stored in the row)
            return texts.topup_approved(request, posted.balance_after), None
        return texts.topup_rejected(request), None


class Registrations(BotKind):
    name = RegistrationKind.name

    def answer(self, result: RegistrationDecision) -> str:
        return registration_texts.request_decided(result.request, result.already_decided)

    def card(self, result: RegistrationDecision) -> str:
        return registration_texts.request_for_admin(result.request)

    def notice(self, result: RegistrationDecision, to: str) -> tuple[str, Markup | None]:
        applicant = result.request
        name = applicant.display_name or str(applicant.telegram_id)
        if applicant.status is RegistrationStatus.APPROVED:
            return registration_texts.request_approved(name), menus.main_menu()
        return registration_texts.request_declined(), None


class SupplierApplications(BotKind):
    name = ApplicationKind.name

    def answer(self, result: ApplicationDecision) -> str:
        return supplier_texts.application_decided(result.application, result.already_decided)

    def card(self, result: ApplicationDecision) -> str:
        return supplier_texts.application_for_admin(result.application)

    def ask_reason(self, result: ApplicationDecision) -> str:
        return supplier_texts.ask_reject_reason(
            supplier_texts.application_label(result.application.id)
        )

    async def tell(self, result: ApplicationDecision, notify: Notify) -> None:
        view = result.application
        if view.status.value == "approved":  # the new supplier's menu gains their commands
            supplier = await notify.catalogue.user(view.telegram_id)
            await command_menus.refresh(notify.sender.bot, notify.i18n, supplier)

    def notice(self, result: ApplicationDecision, to: str) -> tuple[str, Markup | None]:
        view = result.application
        if view.status.value == "approved":
            return supplier_texts.application_approved(view), None
        return supplier_texts.application_rejected(view), None


class ProductReviews(BotKind):
    name = ReviewKind.name
    listed = False  # the panel shows their count; cards reach admins as submitted

    def answer(self, result: ReviewDecision) -> str:
        return supplier_texts.review_decided(result.review, result.already_decided)

    def card(self, result: ReviewDecision) -> str:
        return supplier_texts.review_card(result.review)

    def attachment(self, result: ReviewDecision) -> Attachment | None:
        return result.review.authorization

    def ask_reason(self, result: ReviewDecision) -> str:
        return supplier_texts.ask_reject_reason(supplier_texts.review_label(result.review.id))

    def notice(self, result: ReviewDecision, to: str) -> tuple[str, Markup | None]:
        view = result.review
        if view.status is ReviewStatus.APPROVED:
            return supplier_texts.product_approved(view), None
        return supplier_texts.product_rejected(view), None


class CodeReports(BotKind):
    name = ReportKind.name
    listed = False  # listed as buttons by bot/handlers/admin_aftersales.py

    def answer(self, result: Resolution) -> str:
        return admin_texts.decided(result.report, result.already_decided)

    def card(self, result: Resolution) -> str:
        return admin_texts.report_for_admin(result.report)

    def attachment(self, result: Resolution) -> Attachment | None:
        screenshot = result.report.screenshot_file_id
        return TelegramFile(screenshot, "photo") if screenshot else None

    def buttons(self, result: Resolution) -> InlineKeyboardMarkup | None:
        return admin_kb.report_decision(result.report)

    def ask_reason(self, result: Resolution) -> str:
        return admin_texts.ask_reject_reason(result.report.id)

    def reason_markup(self) -> InlineKeyboardMarkup | None:
        return admin_kb.cancel()

    def after(self, result: Resolution) -> InlineKeyboardMarkup | None:
        # a refund leaves the restock button: the code is void until an admin restocks it
        return admin_kb.report_decision(result.report)

    def notice(self, result: Resolution, to: str) -> tuple[str, Markup | None]:
        if to == SUPPLIER:
            return admin_texts.decided_for_supplier(result.report), None
        return _for_reseller(result), None


def _for_reseller(done: Resolution) -> str:
    if done.new_code is not None:
        return admin_texts.replaced_for_reseller(done.report, done.new_code)
    if done.balance_after is not None:
        return admin_texts.refunded_for_reseller(done.report, done.balance_after)
    return admin_texts.rejected_for_reseller(done.report)


class Withdrawals(BotKind):
    name = WithdrawalKind.name

    def answer(self, result: WithdrawalDecision) -> str:
        return supplier_sales_texts.withdrawal_decided(result.request, result.already_decided)

    def card(self, result: WithdrawalDecision) -> str:
        return admin_texts.withdrawal_waiting(result.request)

    def buttons(self, result: WithdrawalDecision) -> InlineKeyboardMarkup | None:
        return withdrawal_decision(result.request.id)

    def ask_reason(self, result: WithdrawalDecision) -> str:
        return supplier_sales_texts.ask_reject_reason(result.request)

    def refusal(self, exc: KamengError) -> str | None:
        if isinstance(exc, InsufficientPayable):  # refunds took the payable below the request
            return supplier_sales_texts.payable_below_request(int(exc.params.get("spendable", 0)))
        return None

    # the supplier is told through the outbox (core/supplier_payouts.py WITHDRAWAL_DECIDED)


class CreditApplications(BotKind):
    name = CreditApplicationKind.name

    def answer(self, result: CreditDecision) -> str:
        return credit_texts.decided(result)

    def card(self, result: CreditDecision) -> str:
        return credit_texts.for_admin(result.request)

    def ask_reason(self, result: CreditDecision) -> str:
        return credit_texts.ask_reason()

    def notice(self, result: CreditDecision, to: str) -> tuple[str, Markup | None]:
        if result.line is not None:
            return credit_texts.granted(result), None
        return credit_texts.refused(result), None


# in the admin panel's order (core/platform.py)
KINDS: dict[str, BotKind] = {
    kind.name: kind
    for kind in (
        ProductReviews(),
        TopUps(),
        CodeReports(),
        SupplierApplications(),
        Withdrawals(),
        Registrations(),
        CreditApplications(),
    )
}
