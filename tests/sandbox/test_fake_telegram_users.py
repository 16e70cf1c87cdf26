"""Users driving a real aiogram Dispatcher through the fake server."""

from __future__ import annotations

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.filters import Command, CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    ChatMemberUpdated,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from sandbox.fake_telegram import ButtonNotFoundError, FakeTelegramServer
from tests.sandbox.helpers import polling


def shop_dispatcher(seen: list[str]) -> Dispatcher:
    """A tiny shop: /start shows a product with Buy; Buy asks to Confirm; Confirm delivers."""
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        kb = InlineKeyboardBuilder()
        kb.button(text="Buy", callback_data="buy:7")
        await message.answer(
            "<b>Steam card</b> — 10 USD", parse_mode="HTML", reply_markup=kb.as_markup()
        )

    @dp.callback_query(F.data.startswith("buy:"))
    async def buy(query: CallbackQuery) -> None:
        seen.append(query.data or "")
        kb = InlineKeyboardBuilder()
        kb.button(text="Confirm", callback_data="confirm:7")
        kb.button(text="Cancel", callback_data="cancel")
        assert isinstance(query.message, Message)
        await query.message.edit_text("Order #1: Steam card, 10 USD", reply_markup=kb.as_markup())
        await query.answer()

    @dp.callback_query(F.data.startswith("confirm:"))
    async def confirm(query: CallbackQuery) -> None:
        seen.append(query.data or "")
        await query.answer("Paid", show_alert=False)
        assert isinstance(query.message, Message)
        await query.message.answer("Your code: <code>STEAM-1234</code>", parse_mode="HTML")
        await query.message.answer_document(
            BufferedInputFile(b"STEAM-1234\n", filename="codes.txt"), caption="All codes"
        )

    @dp.callback_query(F.data == "cancel")
    async def cancel(query: CallbackQuery) -> None:
        seen.append("cancel")  # forgets to answer the query

    @dp.callback_query()
    async def anything_else(query: CallbackQuery) -> None:
        seen.append(f"other:{query.data}")
        await query.answer("Unknown action")

    return dp


async def test_user_buys_through_buttons(server: FakeTelegramServer, bot: Bot) -> None:
    seen: list[str] = []
    user = server.user(1001, "Ann", username="ann", started=True)
    async with polling(shop_dispatcher(seen), bot):
        await user.send_text("/start")
        product = await user.wait_for_message()
        assert product.text == "Steam card — 10 USD"
        assert product.buttons == ["Buy"]

        await user.press("Buy")
        order = await user.wait_for_message(lambda m: "Order" in m.text)
        assert order.edited and order.message_id == product.message_id
        assert order.buttons == ["Confirm", "Cancel"]

        query_id = await user.press("Confirm")
        code, document = await user.wait_for_messages(2)
        assert code.codes == ["STEAM-1234"]
        assert document.caption == "All codes"
        assert document.document is not None and document.document.file_name == "codes.txt"
        assert await user.download(document) == b"STEAM-1234\n"
        answer = await user.wait_for_callback_answer(query_id)
        assert answer.answer_text == "Paid"

    assert seen == ["buy:7", "confirm:7"]
    assert await server.wait_callbacks_answered() == []
    assert server.errors == []


async def test_unanswered_callback_queries_are_reported(
    server: FakeTelegramServer, bot: Bot
) -> None:
    seen: list[str] = []
    user = server.user(1001, started=True)
    async with polling(shop_dispatcher(seen), bot):
        await user.send_text("/start")
        await user.wait_for_message()
        await user.press("Buy")
        await user.wait_for_message(lambda m: m.edited)
        await user.press("Cancel")
        pending = await server.wait_callbacks_answered(timeout=0.3)
    assert seen == ["buy:7", "cancel"]
    assert [query.data for query in pending] == ["cancel"]


async def test_forged_callback_data_reaches_the_bot(server: FakeTelegramServer, bot: Bot) -> None:
    seen: list[str] = []
    user = server.user(1001, started=True)
    async with polling(shop_dispatcher(seen), bot):
        await user.send_text("/start")
        product = await user.wait_for_message()
        query_id = await user.press_data("admin:refund:999", message=product)
        answer = await user.wait_for_callback_answer(query_id)
    assert seen == ["other:admin:refund:999"]
    assert answer.answer_text == "Unknown action"


async def test_pressing_a_missing_button_lists_the_available_ones(
    server: FakeTelegramServer, bot: Bot
) -> None:
    user = server.user(1001, started=True)
    await bot.send_message(
        user.id,
        "menu",
        reply_markup=InlineKeyboardBuilder().button(text="Buy", callback_data="b").as_markup(),
    )
    with pytest.raises(ButtonNotFoundError, match=r"'Confirm'.*\['Buy'\]"):
        await user.press("Confirm")


async def test_wait_after_mark_sees_only_later_messages(
    server: FakeTelegramServer, bot: Bot
) -> None:
    user = server.user(1001, started=True)
    await bot.send_message(user.id, "Order #1 created")
    mark = user.mark()
    await bot.send_message(user.id, "Order #2 created")
    later = await user.wait_for_message(lambda m: "Order" in m.text, after=mark)
    assert later.text == "Order #2 created"
    with pytest.raises(TimeoutError, match="Order #2 created"):
        await user.wait_for_message(lambda m: "#3" in m.text, after=mark, timeout=0.05)


async def test_user_documents_and_photos_reach_the_bot(
    server: FakeTelegramServer, bot: Bot
) -> None:
    dp = Dispatcher()
    received: dict[str, bytes] = {}

    @dp.message(F.document)
    async def on_document(message: Message, bot: Bot) -> None:
        assert message.document is not None
        data = await bot.download(message.document.file_id)
        assert data is not None
        received[message.document.file_name or ""] = data.read()
        await message.answer(f"Imported {message.caption}")

    @dp.message(F.photo)
    async def on_photo(message: Message, bot: Bot) -> None:
        assert message.photo
        data = await bot.download(message.photo[-1].file_id)
        assert data is not None
        received["photo"] = data.read()
        await message.answer("Receipt received")

    user = server.user(1001, started=True)
    async with polling(dp, bot):
        await user.send_document("codes.txt", b"A-1\nA-2\n", caption="batch 1")
        assert (await user.wait_for_message()).text == "Imported batch 1"
        await user.send_photo(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, caption="receipt")
        assert (await user.wait_for_message()).text == "Receipt received"
    assert received["codes.txt"] == b"A-1\nA-2\n"
    assert received["photo"].startswith(b"\x89PNG")


async def test_reply_keyboard_is_shown_and_removed(server: FakeTelegramServer, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(Command("menu"))
    async def menu(message: Message) -> None:
        markup = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="Catalog"), KeyboardButton(text="Orders")]],
            resize_keyboard=True,
        )
        await message.answer("Menu", reply_markup=markup)

    @dp.message(F.text == "Orders")
    async def orders(message: Message) -> None:
        await message.answer("No orders yet", reply_markup=ReplyKeyboardRemove())

    user = server.user(1001, started=True)
    async with polling(dp, bot):
        await user.send_text("/menu")
        assert (await user.wait_for_message()).reply_buttons == ["Catalog", "Orders"]
        assert await user.reply_keyboard_labels() == ["Catalog", "Orders"]
        await user.press_reply("Orders")
        assert (await user.wait_for_message()).text == "No orders yet"
        assert await user.reply_keyboard_labels() == []


async def test_blocking_notifies_the_bot(server: FakeTelegramServer, bot: Bot) -> None:
    dp = Dispatcher()
    statuses: list[str] = []

    @dp.my_chat_member()
    async def member_changed(event: ChatMemberUpdated) -> None:
        statuses.append(event.new_chat_member.status)
        if event.new_chat_member.status == "member":
            await bot.send_message(event.chat.id, "Welcome back")

    user = server.user(1001, started=True)
    async with polling(dp, bot):
        server.block_user(user.id)
        server.unblock_user(user.id)
        assert (await user.wait_for_message(after=0)).text == "Welcome back"
    assert statuses == ["kicked", "member"]
