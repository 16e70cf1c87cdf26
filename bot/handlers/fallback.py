"""Last in line: /cancel for any form, unknown commands, free-text search, and buttons
nobody recognises."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.handlers.catalogue import search
from core.catalogue import UserView
from core.platform import Platform

router = Router(name="fallback")


@router.message(Command("cancel"), ~StateFilter(None))
async def cancel_any_form(message: Message, state: FSMContext) -> None:
    """Leaves whatever form the user is in; a flow with its own /cancel handles it first."""
    await state.clear()
    await message.answer(texts.form_cancelled())


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message) -> None:
    await message.answer(texts.unknown_command())


@router.message(F.text)
async def free_text_search(message: Message, user: UserView, platform: Platform) -> None:
    await search(message, user, platform, (message.text or "")[:64])


@router.callback_query()
async def stale_or_forged_button(query: CallbackQuery) -> None:
    await query.answer(texts.stale_button(), show_alert=True)


@router.message()
async def anything_else(message: Message) -> None:
    await message.answer(texts.help_text())
