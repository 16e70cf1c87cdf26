"""/apikey: a reseller sees whether they have a key and can replace it with a new one,
which is shown once (the old key stops working in the same step); /callback URL sets where
the key's order callbacks go (the signing secret shown once), and a button lists the
latest deliveries."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.keyboards import menus
from bot.keyboards.callbacks import ApiKeyCb
from core.apikeys import ApiKeys
from core.catalogue import UserView
from core.dujiao_server import Dujiao
from core.errors import CallbackUrlRefused, InvalidState
from core.order_callbacks import OrderCallbacks
from core.settings import Settings


async def apikey(
    message: Message, user: UserView, api_keys: ApiKeys, order_callbacks: OrderCallbacks
) -> None:
    current = await api_keys.current(user.telegram_id)
    text = texts.apikey_current(
        current.prefix if current else None, current.created_at if current else None
    )
    if current is not None:
        callback = await order_callbacks.current(user.telegram_id)
        text += "\n\n" + texts.callback_current(None if callback is None else callback.url)
    await message.answer(text, reply_markup=menus.apikey_actions(current.key_id if current else 0))


async def callback(
    message: Message, command: CommandObject, user: UserView, order_callbacks: OrderCallbacks
) -> None:
    url = (command.args or "").strip()
    actor = f"user:{user.telegram_id}"
    if not url:
        current = await order_callbacks.current(user.telegram_id)
        await message.answer(texts.callback_current(None if current is None else current.url))
        return
    if url.lower() == "off":
        removed = await order_callbacks.clear(user.telegram_id, actor=actor)
        await message.answer(texts.callback_cleared(removed))
        return
    try:
        done = await order_callbacks.set(user.telegram_id, url, actor=actor)
    except InvalidState:
        await message.answer(texts.callback_needs_key())
        return
    except CallbackUrlRefused as refused:
        await message.answer(texts.error(refused))
        return
    await message.answer(texts.callback_set(done.url, done.secret))


async def deliveries(query: CallbackQuery, user: UserView, order_callbacks: OrderCallbacks) -> None:
    lines = await order_callbacks.deliveries(user.telegram_id, limit=10)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(texts.callback_deliveries(lines))


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
    router.message.register(callback, Command("callback"))
    router.callback_query.register(deliveries, ApiKeyCb.filter(F.action == "deliveries"))
    router.callback_query.register(dujiao_connect, ApiKeyCb.filter(F.action == "dujiao"))
    return router
