"""The real aiogram Bot against the fake server: results and Telegram's own errors."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramUnauthorizedError,
)
from aiogram.methods import GetUpdates
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    BufferedInputFile,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    MenuButtonCommands,
    MenuButtonWebApp,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    WebAppInfo,
)

from sandbox.fake_telegram import FakeTelegramServer
from tests.sandbox.helpers import PNG_1x1, make_bot


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=t.lower())] for t in labels]
    )


async def test_get_me_reports_the_bot(server: FakeTelegramServer, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.id == 123456789
    assert me.username == "kameng_bot"


async def test_sent_message_appears_in_the_users_chat(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, "Ann", username="ann", started=True)
    sent = await bot.send_message(
        user.id,
        "<b>Order #7</b> code: <code>AB-12</code>",
        parse_mode="HTML",
        reply_markup=keyboard("Confirm", "Cancel"),
    )
    assert sent.chat.id == 1001 and sent.from_user is not None and sent.from_user.is_bot
    assert sent.text == "Order #7 code: AB-12"
    assert sent.html_text == "<b>Order #7</b> code: <code>AB-12</code>"

    shown = user.last_message
    assert shown is not None and shown.message_id == sent.message_id
    assert shown.text == "Order #7 code: AB-12"
    assert shown.codes == ["AB-12"]
    assert shown.buttons == ["Confirm", "Cancel"]
    assert shown.html == "<b>Order #7</b> code: <code>AB-12</code>"


async def test_edit_replaces_text_and_drops_keyboard_unless_given_again(
    server: FakeTelegramServer, bot: Bot
) -> None:
    user = server.user(1001, started=True)
    sent = await bot.send_message(user.id, "Pick one", reply_markup=keyboard("A", "B"))

    edited = await bot.edit_message_text(
        text="Picked A", chat_id=user.id, message_id=sent.message_id
    )
    assert not isinstance(edited, bool) and edited.text == "Picked A"
    current = user.messages[-1]
    assert current.edited and current.text == "Picked A" and current.buttons == []

    await bot.edit_message_reply_markup(
        chat_id=user.id, message_id=sent.message_id, reply_markup=keyboard("Undo")
    )
    assert user.messages[-1].buttons == ["Undo"]
    assert len(user.messages) == 1


async def test_identical_edit_is_not_modified(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    sent = await bot.send_message(user.id, "Same", reply_markup=keyboard("A"))
    with pytest.raises(TelegramBadRequest) as error:
        await bot.edit_message_text(
            text="Same", chat_id=user.id, message_id=sent.message_id, reply_markup=keyboard("A")
        )
    assert error.value.message == (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )


async def test_identical_keyboard_edit_is_not_modified(
    server: FakeTelegramServer, bot: Bot
) -> None:
    user = server.user(1001, started=True)
    sent = await bot.send_message(user.id, "Pick", reply_markup=keyboard("A"))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=user.id, message_id=sent.message_id, reply_markup=keyboard("A")
        )
    await bot.edit_message_reply_markup(chat_id=user.id, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=user.id, message_id=sent.message_id)


async def test_a_user_who_never_wrote_has_no_chat_with_the_bot(
    server: FakeTelegramServer, bot: Bot
) -> None:
    user = server.user(1001)
    scope = BotCommandScopeChat(chat_id=user.id)
    commands = [BotCommand(command="admin", description="Admin")]
    with pytest.raises(TelegramForbiddenError) as cannot_write:
        await bot.send_message(user.id, "hello?")
    assert cannot_write.value.message == "Forbidden: bot can't initiate conversation with a user"
    with pytest.raises(TelegramBadRequest) as no_chat:
        await bot.set_my_commands(commands, scope=scope)
    assert no_chat.value.message == "Bad Request: chat not found"
    assert user.messages == [] and server.commands(scope.model_dump()) == []

    await user.send_text("/start")
    await bot.send_message(user.id, "hello")
    await bot.set_my_commands(commands, scope=scope)
    assert [m.text for m in user.messages] == ["hello"]
    assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["admin"]


async def test_editing_unknown_message_or_chat_fails(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=user.id, message_id=42)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(999, "hello?")


async def test_delete_message(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    sent = await bot.send_message(user.id, "temporary")
    assert await bot.delete_message(user.id, sent.message_id)
    assert user.messages == []
    assert user.deleted_message_ids == [sent.message_id]
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(user.id, sent.message_id)


async def test_text_limits_use_telegrams_texts(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    await bot.send_message(user.id, "x" * 4096)
    # markup does not count: the limit is on the text after entity parsing
    await bot.send_message(user.id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest) as too_long:
        await bot.send_message(user.id, "x" * 4097)
    assert too_long.value.message == "Bad Request: message is too long"
    with pytest.raises(TelegramBadRequest) as empty:
        await bot.send_message(user.id, "  \n ")
    assert empty.value.message == "Bad Request: message text is empty"
    with pytest.raises(TelegramBadRequest) as long_caption:
        await bot.send_document(user.id, BufferedInputFile(b"data", "a.txt"), caption="c" * 1025)
    assert long_caption.value.message == "Bad Request: message caption is too long"
    assert len(user.messages) == 2


async def test_callback_data_is_limited_to_64_bytes(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    ok = InlineKeyboardButton(text="ok", callback_data="d" * 64)
    await bot.send_message(
        user.id, "fits", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[ok]])
    )
    for data in ("d" * 65, "ж" * 33):  # bytes, not characters, are counted
        button = InlineKeyboardButton(text="too long", callback_data=data)
        with pytest.raises(TelegramBadRequest) as error:
            await bot.send_message(
                user.id, "x", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
            )
        assert error.value.message == "Bad Request: BUTTON_DATA_INVALID"


async def test_button_needs_exactly_one_action(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    bare = InlineKeyboardButton(text="nothing")
    with pytest.raises(TelegramBadRequest, match="can't parse inline keyboard button"):
        await bot.send_message(
            user.id, "x", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[bare]])
        )
    double = InlineKeyboardButton(text="both", callback_data="a", url="https://example.com")
    with pytest.raises(TelegramBadRequest, match="more than one action field"):
        await bot.send_message(
            user.id, "x", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[double]])
        )


async def test_html_errors_use_telegrams_texts(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    with pytest.raises(TelegramBadRequest) as unsupported:
        await bot.send_message(user.id, "line<br>next", parse_mode="HTML")
    assert unsupported.value.message == (
        'Bad Request: can\'t parse entities: Unsupported start tag "br" at byte offset 4'
    )
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Can't find end tag"):
        await bot.send_message(user.id, "<b>open", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="not supported by the fake Telegram server"):
        await bot.send_message(user.id, "*bold*", parse_mode="MarkdownV2")


async def test_default_parse_mode_and_link_preview_pass_validation(
    server: FakeTelegramServer,
) -> None:
    user = server.user(1001, started=True)
    bot = make_bot(
        server,
        default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True),
    )
    try:
        await bot.send_message(user.id, "<i>hi</i> https://example.com")
    finally:
        await bot.session.close()
    assert user.last_message is not None and user.last_message.html.startswith("<i>hi</i>")
    assert server.calls("sendMessage")[0]["link_preview_options"] == {"is_disabled": True}


async def test_common_methods_pass_spec_validation(server: FakeTelegramServer, bot: Bot) -> None:
    """aiogram sends only parameters the bundled spec knows for the methods the bot uses."""
    user = server.user(1001, started=True)
    first = await bot.send_message(
        user.id,
        "hello",
        disable_notification=True,
        protect_content=True,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        reply_markup=ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="Catalog"), KeyboardButton(text="Orders")]],
            resize_keyboard=True,
            one_time_keyboard=False,
            input_field_placeholder="Choose",
        ),
    )
    await bot.send_message(
        user.id, "reply", reply_parameters=ReplyParameters(message_id=first.message_id)
    )
    await bot.send_message(user.id, "force", reply_markup=ForceReply(input_field_placeholder="?"))
    await bot.send_message(user.id, "gone", reply_markup=ReplyKeyboardRemove())
    photo = await bot.send_photo(
        user.id, BufferedInputFile(PNG_1x1, "p.png"), caption="<b>p</b>", parse_mode="HTML"
    )
    await bot.copy_message(user.id, user.id, first.message_id)
    await bot.edit_message_caption(chat_id=user.id, message_id=photo.message_id, caption="new")
    await bot.send_chat_action(user.id, "typing")
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands(
        [BotCommand(command="orders", description="Заказы")],
        scope=BotCommandScopeChat(chat_id=user.id),
        language_code="ru",
    )
    await bot.get_my_commands(scope=BotCommandScopeDefault())
    await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=user.id), language_code="ru")
    await bot.set_chat_menu_button(chat_id=user.id, menu_button=MenuButtonCommands())
    await bot.set_chat_menu_button(
        menu_button=MenuButtonWebApp(text="Shop", web_app=WebAppInfo(url="https://example.com"))
    )
    await bot.delete_webhook(drop_pending_updates=True)
    await bot.get_webhook_info()
    await bot(GetUpdates(offset=0, limit=10, timeout=0, allowed_updates=["message"]))
    assert server.errors == []
    assert user.chat_actions == ["typing"]
    assert server.commands() == [{"command": "start", "description": "Start"}]


async def test_reply_parameters_to_unknown_message(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(user.id, "x", reply_parameters=ReplyParameters(message_id=77))


async def test_commands_are_stored_per_scope_and_language(
    server: FakeTelegramServer, bot: Bot
) -> None:
    user = server.user(1001, started=True)
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands(
        [BotCommand(command="start", description="Начать")], language_code="ru"
    )
    scope = BotCommandScopeChat(chat_id=user.id)
    await bot.set_my_commands([BotCommand(command="admin", description="Admin")], scope=scope)

    assert [c.description for c in await bot.get_my_commands()] == ["Start"]
    assert [c.description for c in await bot.get_my_commands(language_code="ru")] == ["Начать"]
    assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["admin"]
    await bot.delete_my_commands(scope=scope)
    assert await bot.get_my_commands(scope=scope) == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])


async def test_unknown_token_is_unauthorized(server: FakeTelegramServer) -> None:
    stranger = Bot("987654321:WrongToken", session=make_bot(server).session)
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.get_me()
    finally:
        await stranger.session.close()
