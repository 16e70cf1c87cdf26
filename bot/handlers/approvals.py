"""Deciding any approval request (top-ups, registrations, supplier applications, SKU
reviews, bad-code reports, withdrawals): Approve (or a kind's way to approve) decides at
once; Reject asks for a reason when the kind takes one (one FSM state for all), then
decides; the card then says who decided what and when (bot/approval_cards.py). The admin
panel lists what waits. What each kind shows and says is in bot/approval_kinds.py; who may
decide is the core's one check (a non-admin's press is refused there)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from bot import admin_texts, supplier_texts
from bot.approval_cards import Card, close_card
from bot.approval_kinds import KINDS, BotKind, Notify
from bot.filters import IsAdmin
from bot.keyboards.approvals import APPROVE, REJECT, ApprovalCb, ApprovalQueueCb
from bot.replies import reply
from bot.sender import Sender
from core.approvals import Approvals, Choice, Decided, Reason
from core.catalogue import Catalogue, UserView
from core.errors import KamengError
from core.settings import Settings

LISTED = frozenset(name for name, kind in KINDS.items() if kind.listed)
QUEUE_LIMIT = 20


class ApprovalFlow(StatesGroup):
    reason = State()


def setup() -> Router:
    router = Router(name="approvals")
    known = F.kind.in_(KINDS)  # another press (forged, from an older bot) is a stale button
    router.callback_query.register(approve, ApprovalCb.filter(known & (F.action != REJECT)))
    router.callback_query.register(reject, ApprovalCb.filter(known & (F.action == REJECT)))
    router.message.register(
        reason_typed, StateFilter(ApprovalFlow.reason), F.text & ~F.text.startswith("/")
    )
    router.message.register(needs_text, StateFilter(ApprovalFlow.reason), ~F.text)
    router.callback_query.register(waiting, ApprovalQueueCb.filter(F.kind.in_(LISTED)), IsAdmin())
    return router


async def approve(
    query: CallbackQuery,
    callback_data: ApprovalCb,
    user: UserView,
    approvals: Approvals,
    catalogue: Catalogue,
    settings: Settings,
    sender: Sender,
    i18n: I18n,
) -> None:
    kind = KINDS[callback_data.kind]
    option = "" if callback_data.action == APPROVE else callback_data.action
    try:
        result = await approvals.decide(
            approvals.kinds[kind.name],
            callback_data.request,
            admin_telegram_id=user.telegram_id,
            choice=Choice(True, option=option),
        )
    except KamengError as exc:
        refusal = kind.refusal(exc)
        if refusal is None:
            raise
        await query.answer(refusal, show_alert=True)
        return
    await query.answer(kind.answer(result))
    await _decided(kind, result, Card.of(query.message), Notify(sender, i18n, catalogue, settings))


async def reject(
    query: CallbackQuery,
    callback_data: ApprovalCb,
    state: FSMContext,
    user: UserView,
    approvals: Approvals,
    catalogue: Catalogue,
    settings: Settings,
    bot: Bot,
    sender: Sender,
    i18n: I18n,
) -> None:
    kind = KINDS[callback_data.kind]
    core_kind = approvals.kinds[kind.name]
    notify = Notify(sender, i18n, catalogue, settings)
    if core_kind.reason is Reason.NONE:
        result = await approvals.decide(
            core_kind,
            callback_data.request,
            admin_telegram_id=user.telegram_id,
            choice=Choice(False),
        )
        await query.answer(kind.answer(result))
        await _decided(kind, result, Card.of(query.message), notify)
        return
    result = await approvals.look(
        core_kind, callback_data.request, admin_telegram_id=user.telegram_id
    )
    if result.already_decided:
        await query.answer(kind.answer(result))
        await close_card(sender, Card.of(query.message), result.verdict, kind.after(result))
        return
    card = Card.of(query.message)
    await state.set_state(ApprovalFlow.reason)
    await state.update_data(
        kind=kind.name, request=callback_data.request, card=card.as_data() if card else None
    )
    await query.answer()
    await bot.send_message(
        query.from_user.id, kind.ask_reason(result), reply_markup=kind.reason_markup()
    )


async def reason_typed(
    message: Message,
    state: FSMContext,
    user: UserView,
    approvals: Approvals,
    catalogue: Catalogue,
    settings: Settings,
    sender: Sender,
    i18n: I18n,
) -> None:
    data = await state.get_data()
    kind = KINDS[str(data["kind"])]
    await state.clear()  # a refusal below ends the flow: the admin presses Reject again
    result = await approvals.decide(
        approvals.kinds[kind.name],
        int(data["request"]),
        admin_telegram_id=user.telegram_id,
        choice=Choice(False, reason=message.text or ""),
    )
    await message.answer(kind.answer(result))
    card = Card.from_data(data.get("card"))
    await _decided(kind, result, card, Notify(sender, i18n, catalogue, settings))


async def needs_text(message: Message) -> None:
    await message.answer(supplier_texts.type_text())


async def waiting(
    query: CallbackQuery, callback_data: ApprovalQueueCb, user: UserView, approvals: Approvals
) -> None:
    """The admin panel's list of one queue: each waiting request is re-sent with the
    buttons the admins were first sent, so deciding from here works exactly as from there."""
    kind = KINDS[callback_data.kind]
    core_kind = approvals.kinds[kind.name]
    queue = await approvals.queue(user.telegram_id, limit=0)
    await reply(query, admin_texts.panel({kind.name: queue.counts[kind.name]}))
    requests = await approvals.waiting(
        core_kind, admin_telegram_id=user.telegram_id, limit=QUEUE_LIMIT
    )
    if isinstance(query.message, Message):
        for result in requests:
            await query.message.answer(kind.card(result), reply_markup=kind.buttons(result))


async def _decided(kind: BotKind, result: Decided, card: Card | None, notify: Notify) -> None:
    """The card says who decided what and when; after the first decision, the requester
    is told."""
    await close_card(notify.sender, card, result.verdict, kind.after(result))
    if not result.already_decided:
        await kind.tell(result, notify)
