"""/apikey: a reseller sees whether they have a key and can replace it with a new one,
which is shown once (the old key stops working in the same step)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.keyboards import menus
from bot.keyboards.callbacks import ApiKeyCb
from core.apikeys import ApiKeys
from core.catalogue import UserView
from core.dujiao_server import Dujiao
from core.errors import InvalidState
from core.settings import Settings


async def apikey(message: Message, user: UserView, api_keys: ApiKeys) -> None:
    current = await api_keys.current(user.telegram_id)
    await message.answer(
        texts.apikey_current(
            current.prefix if current else None, current.created_at if current else None
        ),
        reply_markup=menus.apikey_actions(current.key_id if current else 0),
    )


async def new_key(
    query: CallbackQuery, callback_data: ApiKeyCb, user: UserView, api_keys: ApiKeys
) -> None:
    try:
        issued = await api_keys.issue(
            user.telegram_id, actor=f"user:{user.telegram_id}", replacing=callback_data.replacing
        )
    except InvalidState:  # a double tap, or an old message: the key was replaced already
        await query.answer(texts.stale_button(), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(texts.apikey_issued(issued.token))


async def keep_key(query: CallbackQuery) -> None:
    await query.answer(texts.apikey_kept())
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


async def dujiao_connect(
    query: CallbackQuery,
    callback_data: ApiKeyCb,
    user: UserView,
    dujiao: Dujiao,
    settings: Settings,
) -> None:
    try:
        creds = await dujiao.enable(
            user.telegram_id,
            actor=f"user:{user.telegram_id}",
            first_for=callback_data.replacing,
        )
    except InvalidState:  # a double tap, an old message, or enabled already
        await query.answer(texts.stale_button(), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        url = (settings.upstream_callback_base.rstrip("/") or "https://…") + "/api/v1/upstream"
        await query.message.answer(texts.dujiao_enabled(url, creds.key, creds.secret))


def setup() -> Router:
    router = Router(name="apikeys")
    router.message.register(apikey, Command("apikey"))
    router.callback_query.register(new_key, ApiKeyCb.filter(F.action == "new"))
    router.callback_query.register(keep_key, ApiKeyCb.filter(F.action == "cancel"))
    router.callback_query.register(dujiao_connect, ApiKeyCb.filter(F.action == "dujiao"))
    return router
