"""/newproduct and /editproduct: a supplier's SKU goes to review; admins approve it, or
reject it with a reason the supplier sees (who fixes it and resubmits)."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n

from bot import supplier_texts as st
from bot.keyboards import supplier_menus
from bot.keyboards.approvals import decision_buttons
from bot.keyboards.callbacks import SupplierFormCb
from bot.notices import tell_admins
from bot.supplier_replies import own_sku_of
from core.catalogue import UserView
from core.errors import Forbidden, KamengError
from core.models import Role, StockKind
from core.money import MalformedAmount, parse_amount
from core.platform import Platform
from core.reviews import (
    MAX_AMOUNT,
    MAX_CATEGORY,
    MAX_NAME,
    Authorization,
    NewProduct,
    ProductEdit,
    ReviewKind,
    ReviewView,
)

router = Router(name="supplier_products")
TEXT = F.text & ~F.text.startswith("/")
ATTACHMENT = F.photo | F.document


class ProductFlow(StatesGroup):
    name = State()
    category = State()
    face_value = State()
    supply_price = State()
    stock_kind = State()
    exclusive = State()
    provenance = State()
    authorization = State()


class EditFlow(StatesGroup):
    name = State()
    supply_price = State()
    provenance = State()
    authorization = State()


async def _say(
    bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    await bot.send_message(chat_id, text, reply_markup=markup)


def _amount(text: str | None) -> int | None:
    try:
        amount = parse_amount(text or "")
    except MalformedAmount:
        return None
    return amount if 0 < amount <= MAX_AMOUNT else None


async def _fits(message: Message, limit: int) -> bool:
    """Asks again (the form goes on) when a name is blank or too long."""
    text = " ".join((message.text or "").split())
    if text and len(text) <= limit:
        return True
    await message.answer(st.text_length(limit))
    return False


def _authorization(message: Message) -> Authorization:
    if message.photo:
        return Authorization(message.photo[-1].file_id, "photo")
    assert message.document is not None
    return Authorization(message.document.file_id, "document")


# a new product ------------------------------------------------------------------------


@router.message(Command("newproduct"))
async def new_start(message: Message, state: FSMContext, user: UserView) -> None:
    if Role.SUPPLIER not in user.roles:
        await message.answer(st.refusal(Forbidden(action="supplier")))
        return
    await state.set_state(ProductFlow.name)
    await message.answer(st.product_ask_name())


@router.message(StateFilter(ProductFlow.name), TEXT)
async def new_name(message: Message, state: FSMContext, platform: Platform) -> None:
    if not await _fits(message, MAX_NAME):
        return
    categories = await platform.reviews.categories()
    await state.update_data(name=message.text, categories=categories)
    await state.set_state(ProductFlow.category)
    await message.answer(
        st.product_ask_category(bool(categories)),
        reply_markup=supplier_menus.categories(categories),
    )


@router.callback_query(
    StateFilter(ProductFlow.category), SupplierFormCb.filter(F.step == "category")
)
async def new_category_picked(
    query: CallbackQuery, callback_data: SupplierFormCb, state: FSMContext, bot: Bot
) -> None:
    categories: list[str] = (await state.get_data()).get("categories", [])
    index = int(callback_data.value) if callback_data.value.isdigit() else -1
    if not 0 <= index < len(categories):
        await query.answer(st.type_text())
        return
    await query.answer()
    await _category_chosen(bot, query.from_user.id, state, categories[index])


@router.message(StateFilter(ProductFlow.category), TEXT)
async def new_category_typed(message: Message, state: FSMContext, bot: Bot) -> None:
    if not await _fits(message, MAX_CATEGORY):
        return
    await _category_chosen(bot, message.chat.id, state, message.text or "")


async def _category_chosen(bot: Bot, chat_id: int, state: FSMContext, category: str) -> None:
    await state.update_data(category=category)
    await state.set_state(ProductFlow.face_value)
    await _say(bot, chat_id, st.product_ask_face_value())


@router.message(StateFilter(ProductFlow.face_value), TEXT)
async def new_face_value(message: Message, state: FSMContext) -> None:
    amount = _amount(message.text)
    if amount is None:
        await message.answer(st.bad_price())
        return
    await state.update_data(face_value=amount)
    await state.set_state(ProductFlow.supply_price)
    await message.answer(st.product_ask_supply_price())


@router.message(StateFilter(ProductFlow.supply_price), TEXT)
async def new_supply_price(message: Message, state: FSMContext) -> None:
    amount = _amount(message.text)
    if amount is None or amount > int((await state.get_data())["face_value"]):
        await message.answer(st.bad_price())
        return
    await state.update_data(supply_price=amount)
    await state.set_state(ProductFlow.stock_kind)
    await message.answer(st.product_ask_stock_kind(), reply_markup=supplier_menus.stock_kinds())


@router.callback_query(StateFilter(ProductFlow.stock_kind), SupplierFormCb.filter(F.step == "kind"))
async def new_stock_kind(
    query: CallbackQuery, callback_data: SupplierFormCb, state: FSMContext, bot: Bot
) -> None:
    kind = StockKind.CYCLIC if callback_data.value == "cyclic" else StockKind.UNIQUE
    await state.update_data(stock_kind=kind.value)
    await state.set_state(ProductFlow.exclusive)
    await query.answer()
    await _say(bot, query.from_user.id, st.product_ask_exclusive(), supplier_menus.exclusive())


@router.callback_query(
    StateFilter(ProductFlow.exclusive), SupplierFormCb.filter(F.step == "exclusive")
)
async def new_exclusive(
    query: CallbackQuery, callback_data: SupplierFormCb, state: FSMContext, bot: Bot
) -> None:
    await state.update_data(exclusive=callback_data.value == "1")
    await state.set_state(ProductFlow.provenance)
    await query.answer()
    await _say(bot, query.from_user.id, st.product_ask_provenance())


@router.message(StateFilter(ProductFlow.provenance), TEXT)
async def new_provenance(message: Message, state: FSMContext) -> None:
    await state.update_data(provenance=message.text)
    await state.set_state(ProductFlow.authorization)
    await message.answer(st.product_ask_authorization(), reply_markup=supplier_menus.skip())


async def _to_reviewers(bot: Bot, platform: Platform, i18n: I18n, view: ReviewView) -> None:
    await tell_admins(
        bot,
        platform,
        i18n,
        lambda: (st.review_card(view), decision_buttons(ReviewKind.name, view.id)),
        attachment=view.authorization,
    )


# changing a product -------------------------------------------------------------------


@router.message(Command("editproduct"))
async def edit_start(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    user: UserView,
    platform: Platform,
) -> None:
    sku = await own_sku_of(message, command, user, platform, st.edit_usage)
    if sku is None:
        return
    await state.set_state(EditFlow.name)
    await state.set_data(
        {"sku": sku.code, "supply_price": sku.supply_price, "face_value": sku.face_value}
    )
    await message.answer(st.edit_ask_name(sku.name), reply_markup=supplier_menus.keep("name"))


@router.message(StateFilter(EditFlow.name), TEXT)
async def edit_name(message: Message, state: FSMContext, bot: Bot) -> None:
    if not await _fits(message, MAX_NAME):
        return
    await state.update_data(name=message.text)
    await _ask_edit_price(bot, message.chat.id, state)


@router.callback_query(
    StateFilter(EditFlow.name), SupplierFormCb.filter((F.step == "keep") & (F.value == "name"))
)
async def edit_keep_name(query: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    await query.answer()
    await _ask_edit_price(bot, query.from_user.id, state)


async def _ask_edit_price(bot: Bot, chat_id: int, state: FSMContext) -> None:
    await state.set_state(EditFlow.supply_price)
    current = int((await state.get_data())["supply_price"])
    await _say(bot, chat_id, st.edit_ask_supply_price(current), supplier_menus.keep("price"))


@router.message(StateFilter(EditFlow.supply_price), TEXT)
async def edit_price(message: Message, state: FSMContext, bot: Bot) -> None:
    amount = _amount(message.text)
    if amount is None or amount > int((await state.get_data())["face_value"]):
        await message.answer(st.bad_price())
        return
    await state.update_data(new_supply_price=amount)
    await _ask_edit_provenance(bot, message.chat.id, state)


@router.callback_query(
    StateFilter(EditFlow.supply_price),
    SupplierFormCb.filter((F.step == "keep") & (F.value == "price")),
)
async def edit_keep_price(query: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    await query.answer()
    await _ask_edit_provenance(bot, query.from_user.id, state)


async def _ask_edit_provenance(bot: Bot, chat_id: int, state: FSMContext) -> None:
    await state.set_state(EditFlow.provenance)
    await _say(bot, chat_id, st.edit_ask_provenance(), supplier_menus.keep("provenance"))


@router.message(StateFilter(EditFlow.provenance), TEXT)
async def edit_provenance(message: Message, state: FSMContext, bot: Bot) -> None:
    await state.update_data(provenance=message.text)
    await _ask_edit_authorization(bot, message.chat.id, state)


@router.callback_query(
    StateFilter(EditFlow.provenance),
    SupplierFormCb.filter((F.step == "keep") & (F.value == "provenance")),
)
async def edit_keep_provenance(query: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    await query.answer()
    await _ask_edit_authorization(bot, query.from_user.id, state)


async def _ask_edit_authorization(bot: Bot, chat_id: int, state: FSMContext) -> None:
    await state.set_state(EditFlow.authorization)
    await _say(bot, chat_id, st.edit_ask_authorization(), supplier_menus.keep("authorization"))


# the last step of both forms: an authorization file, or none -------------------------


@router.message(StateFilter(ProductFlow.authorization, EditFlow.authorization), ATTACHMENT)
async def authorization_sent(
    message: Message,
    state: FSMContext,
    user: UserView,
    platform: Platform,
    bot: Bot,
    i18n: I18n,
) -> None:
    await _submit(bot, message.chat.id, state, user, platform, i18n, _authorization(message))


@router.callback_query(
    StateFilter(ProductFlow.authorization), SupplierFormCb.filter(F.step == "skip")
)
@router.callback_query(
    StateFilter(EditFlow.authorization),
    SupplierFormCb.filter((F.step == "keep") & (F.value == "authorization")),
)
async def authorization_skipped(
    query: CallbackQuery,
    state: FSMContext,
    user: UserView,
    platform: Platform,
    bot: Bot,
    i18n: I18n,
) -> None:
    await query.answer()
    await _submit(bot, query.from_user.id, state, user, platform, i18n, None)


async def _submit(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    user: UserView,
    platform: Platform,
    i18n: I18n,
    authorization: Authorization | None,
) -> None:
    """A new product, or a change of one, goes to the reviewers."""
    editing = await state.get_state() == EditFlow.authorization.state
    data: dict[str, Any] = await state.get_data()
    await state.clear()
    try:
        if editing:
            change = ProductEdit(
                name=data.get("name"),
                supply_price=data.get("new_supply_price"),
                provenance=data.get("provenance"),
                authorization=authorization,
            )
            view = await platform.reviews.edit(user.telegram_id, str(data["sku"]), change)
        else:
            view = await platform.reviews.submit(
                user.telegram_id, _new_product(data, authorization)
            )
    except KamengError as exc:
        await _say(bot, chat_id, st.refusal(exc))
        return
    if view is None:
        await _say(bot, chat_id, st.product_unchanged(str(data["sku"])))
        return
    await _say(bot, chat_id, st.product_submitted(view))
    await _to_reviewers(bot, platform, i18n, view)


def _new_product(data: dict[str, Any], authorization: Authorization | None) -> NewProduct:
    return NewProduct(
        name=str(data["name"]),
        category=str(data["category"]),
        face_value=int(data["face_value"]),
        supply_price=int(data["supply_price"]),
        stock_kind=StockKind(data["stock_kind"]),
        exclusive=bool(data["exclusive"]),
        provenance=str(data["provenance"]),
        authorization=authorization,
    )


@router.message(StateFilter(ProductFlow, EditFlow), ~F.text)
async def needs_text(message: Message) -> None:
    await message.answer(st.type_text())
