"""Documents and photos: upload, download, re-send by file_id."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile

from sandbox.fake_telegram import FakeTelegramServer
from tests.sandbox.helpers import PNG_1x1


async def test_document_round_trip(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    sent = await bot.send_document(
        user.id, BufferedInputFile(b"CODE-1\nCODE-2\n", filename="codes.txt"), caption="2 codes"
    )
    assert sent.document is not None and sent.document.file_name == "codes.txt"
    assert sent.document.mime_type == "text/plain" and sent.document.file_size == 14

    shown = user.last_message
    assert shown is not None and shown.caption == "2 codes"
    assert await user.download(shown) == b"CODE-1\nCODE-2\n"

    file = await bot.get_file(sent.document.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == b"CODE-1\nCODE-2\n"

    again = await bot.send_document(user.id, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    assert await user.download(user.messages[-1]) == b"CODE-1\nCODE-2\n"


async def test_photos(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    sent = await bot.send_photo(user.id, BufferedInputFile(PNG_1x1, "qr.png"), caption="QR")
    assert sent.photo is not None and (sent.photo[-1].width, sent.photo[-1].height) == (1, 1)
    assert await user.download(user.messages[-1]) == PNG_1x1
    with pytest.raises(TelegramBadRequest) as not_image:
        await bot.send_photo(user.id, BufferedInputFile(b"not an image", "x.png"))
    assert not_image.value.message == "Bad Request: IMAGE_PROCESS_FAILED"
    with pytest.raises(TelegramBadRequest, match="can't use file of type Photo as Document"):
        await bot.send_document(user.id, sent.photo[-1].file_id)


async def test_bad_file_references(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await bot.send_document(user.id, "no-such-file-id")
    with pytest.raises(TelegramBadRequest, match="file must be non-empty"):
        await bot.send_document(user.id, BufferedInputFile(b"", "empty.txt"))
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("no-such-file-id")
    assert user.messages == []


async def test_bot_can_forward_a_users_file_by_id(server: FakeTelegramServer, bot: Bot) -> None:
    ann, bob = server.user(1001, "Ann", started=True), server.user(1002, "Bob", started=True)
    sent = await ann.send_document("price.csv", b"sku,price\n1,10\n")
    assert sent.document is not None
    await bot.send_document(bob.id, sent.document.file_id, caption="from Ann")
    received = bob.last_message
    assert received is not None and received.document is not None
    assert received.document.name == "price.csv"
    assert await bob.download(received) == b"sku,price\n1,10\n"
