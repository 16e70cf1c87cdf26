"""/upload SKU: a supplier stocks their own SKU from pasted text or a .txt/.csv file.

The import runs in the background (an asyncio task): the handler answers at once with a
progress message that is then *edited* (never re-sent) at most every ``PROGRESS_INTERVAL``
seconds or every ``PROGRESS_EVERY_LINES`` lines, whichever comes first. The importer commits
in batches, so other users' purchases go through while an upload runs. The report at the
end gives the counts, with the rejected lines (number, reason, text) as a .txt file: it is
sent later, on the bot's own initiative, so it goes through the one ``Sender`` (its budget
and its retries on 429/5xx), like every message not answering an update there and then.
"""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramRetryAfter
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, Message

from bot import supplier_texts
from bot.filters import TYPED
from bot.sender import Delivery, Priority, Sender
from bot.supplier_replies import own_sku_of
from core.catalogue import UserView
from core.delivery.importer import ImportReport, RejectedLine
from core.delivery.sources import SourceLine, accepts, read_bytes, read_text
from core.errors import KamengError
from core.suppliers import SupplierStock

log = logging.getLogger("kameng.bot")

PROGRESS_INTERVAL = 2.0  # seconds between edits of the progress message, at most …
PROGRESS_EVERY_LINES = 20_000  # … or sooner, once this many more lines were read
MAX_FILE_BYTES = 20 * 1024 * 1024  # what a bot may download from Telegram

REPORT = Priority.NOTICE
_running: set[asyncio.Task[None]] = set()  # strong references, so no upload is collected


class UploadFlow(StatesGroup):
    codes = State()


async def upload_start(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    user: UserView,
    supplier_stock: SupplierStock,
) -> None:
    sku = await own_sku_of(message, command, user, supplier_stock, supplier_texts.upload_usage)
    if sku is None:
        return
    await state.set_state(UploadFlow.codes)
    await state.set_data({"sku": sku.code})
    await message.answer(supplier_texts.upload_ask(sku.code))


async def upload_pasted(
    message: Message,
    state: FSMContext,
    user: UserView,
    supplier_stock: SupplierStock,
    bot: Bot,
    sender: Sender,
) -> None:
    text = message.text or ""

    async def source() -> Iterable[SourceLine]:
        return read_text(text)

    await _start(message, state, user, supplier_stock, bot, sender, source)


async def upload_file(
    message: Message,
    state: FSMContext,
    user: UserView,
    supplier_stock: SupplierStock,
    bot: Bot,
    sender: Sender,
) -> None:
    document = message.document
    assert document is not None
    name = document.file_name or ""
    if not accepts(name) or (document.file_size or 0) > MAX_FILE_BYTES:
        await message.answer(supplier_texts.upload_bad_file())
        return

    async def source() -> Iterable[SourceLine]:
        data = io.BytesIO()
        await bot.download(document.file_id, destination=data)
        return read_bytes(data.getvalue())

    await _start(message, state, user, supplier_stock, bot, sender, source)


async def _start(
    message: Message,
    state: FSMContext,
    user: UserView,
    supplier_stock: SupplierStock,
    bot: Bot,
    sender: Sender,
    source: Callable[[], Awaitable[Iterable[SourceLine]]],
) -> None:
    sku_code = str((await state.get_data())["sku"])
    # One upload per /upload: a later message is never taken for codes by mistake.
    await state.clear()
    shown = await message.answer(supplier_texts.upload_progress(sku_code, None))
    progress = UploadProgress(bot, message.chat.id, shown.message_id, sku_code)
    # The task copies this handler's context (the reader's language included).
    task = asyncio.create_task(
        _upload(
            supplier_stock, sender, message.chat.id, user.telegram_id, sku_code, source, progress
        )
    )
    _running.add(task)
    task.add_done_callback(_running.discard)


async def _upload(
    supplier_stock: SupplierStock,
    sender: Sender,
    chat_id: int,
    telegram_id: int,
    sku_code: str,
    source: Callable[[], Awaitable[Iterable[SourceLine]]],
    progress: UploadProgress,
) -> None:
    rejected: list[RejectedLine] = []
    progress.start()
    try:
        report = await supplier_stock.upload(
            telegram_id,
            sku_code,
            await source(),
            on_progress=progress.update,
            on_rejected=rejected.append,
        )
    except Exception as exc:
        reference = secrets.token_hex(4)
        if isinstance(exc, KamengError):
            text = supplier_texts.refusal(exc)
        else:  # the type only: an exception's text could quote a code
            log.error("upload to %s failed: %s (ref %s)", sku_code, type(exc).__name__, reference)
            text = supplier_texts.upload_failed(reference)
        await progress.close(None)
        _log(await sender.send_message(chat_id, text, priority=REPORT))
        return
    await progress.close(supplier_texts.upload_finished_progress(sku_code, report))
    _log(await sender.send_message(chat_id, supplier_texts.upload_report(report), priority=REPORT))
    if rejected:
        rejected_file = _rejected_file(report, rejected)
        caption = supplier_texts.rejected_file_caption(len(rejected))
        _log(
            await sender.send(
                chat_id,
                lambda: sender.bot.send_document(chat_id, rejected_file, caption=caption),
                priority=REPORT,
            )
        )


def _rejected_file(report: ImportReport, rejected: list[RejectedLine]) -> BufferedInputFile:
    body = io.StringIO()
    for line in sorted(rejected, key=lambda r: r.line_no):
        body.write(f"{line.line_no}\t{supplier_texts.rejection_reason(line.reason)}\t{line.text}\n")
    return BufferedInputFile(body.getvalue().encode(), filename=f"rejected-{report.import_id}.txt")


def _log(delivery: Delivery[Message]) -> None:
    if not delivery.sent:  # logged only: the upload itself is committed (or refused) anyway
        log.warning("could not send an upload report: %s", type(delivery.error).__name__)


class UploadProgress:
    """Edits one message with the importer's progress, throttled; the importer never waits
    for Telegram (its callback only records the report and wakes the editor)."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        message_id: int,
        sku_code: str,
        *,
        interval: float = PROGRESS_INTERVAL,
        every_lines: int = PROGRESS_EVERY_LINES,
    ) -> None:
        self._bot = bot
        self._chat_id = chat_id
        self._message_id = message_id
        self._sku_code = sku_code
        self._interval = interval
        self._every_lines = every_lines
        self._latest: ImportReport | None = None
        self._shown_lines = 0
        self._shown_at = time.monotonic()
        self._wake = asyncio.Event()
        self._closed = False
        self._editor: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._editor = asyncio.create_task(self._run())

    def update(self, report: ImportReport) -> None:
        self._latest = report
        due = time.monotonic() - self._shown_at >= self._interval
        if due or report.lines_read - self._shown_lines >= self._every_lines:
            self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._closed or self._latest is None:
                return
            self._shown_lines, self._shown_at = self._latest.lines_read, time.monotonic()
            await self._edit(supplier_texts.upload_progress(self._sku_code, self._latest))

    async def close(self, final_text: str | None) -> None:
        self._closed = True
        self._wake.set()
        if self._editor is not None:
            await self._editor  # an edit in flight lands before the final text
        if final_text is not None:
            await self._edit(final_text)

    async def _edit(self, text: str) -> None:
        try:
            await self._bot.edit_message_text(
                text, chat_id=self._chat_id, message_id=self._message_id
            )
        except (TelegramRetryAfter, TelegramBadRequest):
            pass  # too soon, or nothing changed: the next edit (or the final reply) catches up
        except TelegramAPIError as exc:
            log.warning("could not edit upload progress: %s", type(exc).__name__)


def setup() -> Router:
    router = Router(name="supplier_upload")
    router.message.register(upload_start, Command("upload"))
    router.message.register(upload_pasted, StateFilter(UploadFlow.codes), TYPED)
    router.message.register(upload_file, StateFilter(UploadFlow.codes), F.document)
    return router
