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

from bot import supplier_texts
from bot.filters import TYPED
from bot.keyboards import supplier_menus
from bot.keyboards.callbacks import SupplierFormCb
from bot.sender import Sender
from bot.supplier_replies import own_sku_of
from core.catalogue import Catalogue, UserView
from core.errors import Forbidden, KamengError
from core.models import Role, StockKind
from core.money import parse_positive_amount
from core.reviews import (
    MAX_AMOUNT,
    MAX_CATEGORY,
    MAX_NAME,
    Authorization,
    NewProduct,
    ProductEdit,
    ProductReviews,
)
from core.settings import Settings
from core.suppliers import SupplierStock

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
    amount = parse_positive_amount(text)
    return amount if amount is not None and amount <= MAX_AMOUNT else None


async def _fits(message: Message, limit: int) -> bool:
    """Asks again (the form goes on) when a name is blank or too long."""
    text = " ".join((message.text or "").split())
    if text and len(text) <= limit:
        return True
    await message.answer(supplier_texts.text_length(limit))
    return False


def _authorization(message: Message) -> Authorization:
    if message.photo:
        return Authorization(message.photo[-1].file_id, "photo")
    assert message.document is not None
    return Authorization(message.document.file_id, "document")


# a new product ------------------------------------------------------------------------


async def new_start(message: Message, state: FSMContext, user: UserView) -> None:
    if Role.SUPPLIER not in user.roles:
        await message.answer(supplier_texts.refusal(Forbidden(action="supplier")))
        return
    await state.set_state(ProductFlow.name)
    await message.answer(supplier_texts.product_ask_name())


async def new_name(message: Message, state: FSMContext, reviews: ProductReviews) -> None:
    if not await _fits(message, MAX_NAME):
        return
    categories = await reviews.categories()
    await state.update_data(name=message.text, categories=categories)
    await state.set_state(ProductFlow.category)
    await message.answer(
        supplier_texts.product_ask_category(bool(categories)),
        reply_markup=supplier_menus.categories(categories),
    )


async def new_category_picked(
    query: CallbackQuery, callback_data: SupplierFormCb, state: FSMContext, bot: Bot
) -> None:
    categories: list[str] = (await state.get_data()).get("categories", [])
    index = int(callback_data.value) if callback_data.value.isdigit() else -1
    if not 0 <= index < len(categories):
        await query.answer(supplier_texts.type_text())
        return
    await query.answer()
    await _category_chosen(bot, query.from_user.id, state, categories[index])


async def new_category_typed(message: Message, state: FSMContext, bot: Bot) -> None:
    if not await _fits(message, MAX_CATEGORY):
        return
    await _category_chosen(bot, message.chat.id, state, message.text or "")


async def _category_chosen(bot: Bot, chat_id: int, state: FSMContext, category: str) -> None:
    await state.update_data(category=category)
    await state.set_state(ProductFlow.face_value)
    await _say(bot, chat_id, supplier_texts.product_ask_face_value())


async def new_face_value(message: Message, state: FSMContext) -> None:
    amount = _amount(message.text)
    if amount is None:
        await message.answer(supplier_texts.bad_price())
        return
    await state.update_data(face_value=amount)
    await state.set_state(ProductFlow.supply_price)
    await message.answer(supplier_texts.product_ask_supply_price())


async def new_supply_price(message: Message, state: FSMContext) -> None:
    amount = _amount(message.text)
    if amount is None or amount > int((await state.get_data())["face_value"]):
        await message.answer(supplier_texts.bad_price())
        return
    await state.update_data(supply_price=amount)
    await state.set_state(ProductFlow.stock_kind)
    await message.answer(
        supplier_texts.product_ask_stock_kind(), reply_markup=supplier_menus.stock_kinds()
    )


async def new_stock_kind(
    query: CallbackQuery, callback_data: SupplierFormCb, state: FSMContext, bot: Bot
) -> None:
    kind = StockKind.CYCLIC if callback_data.value == "cyclic" else StockKind.UNIQUE
    await state.update_data(stock_kind=kind.value)
    await state.set_state(ProductFlow.exclusive)
    await query.answer()
    await _say(
        bot, query.from_user.id, supplier_texts.product_ask_exclusive(), supplier_menus.exclusive()
    )


async def new_exclusive(
    query: CallbackQuery, callback_data: SupplierFormCb, state: FSMContext, bot: Bot
) -> None:
    await state.update_data(exclusive=callback_data.value == "1")
    await state.set_state(ProductFlow.provenance)
    await query.answer()
    await _say(bot, query.from_user.id, supplier_texts.product_ask_provenance())


async def new_provenance(message: Message, state: FSMContext) -> None:
    await state.update_data(provenance=message.text)
    await state.set_state(ProductFlow.authorization)
    await message.answer(
        supplier_texts.product_ask_authorization(), reply_markup=supplier_menus.skip()
    )


# changing a product -------------------------------------------------------------------


async def edit_start(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    user: UserView,
    supplier_stock: SupplierStock,
) -> None:
    sku = await own_sku_of(message, command, user, supplier_stock, supplier_texts.edit_usage)
    if sku is None:
        return
    await state.set_state(EditFlow.name)
    await state.set_data(
        {"sku": sku.code, "supply_price": sku.supply_price, "face_value": sku.face_value}
    )
    await message.answer(
        supplier_texts.edit_ask_name(sku.name), reply_markup=supplier_menus.keep("name")
    )


async def edit_name(message: Message, state: FSMContext, bot: Bot) -> None:
    if not await _fits(message, MAX_NAME):
        return
    await state.update_data(name=message.text)
    await _ask_edit_price(bot, message.chat.id, state)


async def edit_keep(
    query: CallbackQuery, callback_data: SupplierFormCb, state: FSMContext, bot: Bot
) -> None:
    """Keep (the name, the price, the provenance): the form moves on to the next question."""
    await query.answer()
    await _AFTER_KEEP[callback_data.value](bot, query.from_user.id, state)


async def _ask_edit_price(bot: Bot, chat_id: int, state: FSMContext) -> None:
    await state.set_state(EditFlow.supply_price)
    current = int((await state.get_data())["supply_price"])
    await _say(
        bot, chat_id, supplier_texts.edit_ask_supply_price(current), supplier_menus.keep("price")
    )


async def edit_price(message: Message, state: FSMContext, bot: Bot) -> None:
    amount = _amount(message.text)
    if amount is None or amount > int((await state.get_data())["face_value"]):
        await message.answer(supplier_texts.bad_price())
        return
    await state.update_data(new_supply_price=amount)
    await _ask_edit_provenance(bot, message.chat.id, state)


async def _ask_edit_provenance(bot: Bot, chat_id: int, state: FSMContext) -> None:
    await state.set_state(EditFlow.provenance)
    await _say(
        bot, chat_id, supplier_texts.edit_ask_provenance(), supplier_menus.keep("provenance")
    )


async def edit_provenance(message: Message, state: FSMContext, bot: Bot) -> None:
    await state.update_data(provenance=message.text)
    await _ask_edit_authorization(bot, message.chat.id, state)


async def _ask_edit_authorization(bot: Bot, chat_id: int, state: FSMContext) -> None:
    await state.set_state(EditFlow.authorization)
    await _say(
        bot, chat_id, supplier_texts.edit_ask_authorization(), supplier_menus.keep("authorization")
    )


# which question follows a kept answer (each Keep is registered in its own step only)
_AFTER_KEEP = {
    "name": _ask_edit_price,
    "price": _ask_edit_provenance,
    "provenance": _ask_edit_authorization,
}


# the last step of both forms: an authorization file, or none -------------------------


async def authorization_sent(
    message: Message,
    state: FSMContext,
    user: UserView,
    catalogue: Catalogue,
    settings: Settings,
    reviews: ProductReviews,
    bot: Bot,
    sender: Sender,
    i18n: I18n,
) -> None:
    await _submit(
        bot,
        sender,
        message.chat.id,
        state,
        user,
        catalogue,
        settings,
        reviews,
        i18n,
        _authorization(message),
    )


async def authorization_skipped(
    query: CallbackQuery,
    state: FSMContext,
    user: UserView,
    catalogue: Catalogue,
    settings: Settings,
    reviews: ProductReviews,
    bot: Bot,
    sender: Sender,
    i18n: I18n,
) -> None:
    await query.answer()
    await _submit(
        bot, sender, query.from_user.id, state, user, catalogue, settings, reviews, i18n, None
    )


async def _submit(
    bot: Bot,
    sender: Sender,
    chat_id: int,
    state: FSMContext,
    user: UserView,
    catalogue: Catalogue,
    settings: Settings,
    reviews: ProductReviews,
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
            view = await reviews.edit(user.telegram_id, str(data["sku"]), change)
        else:
            view = await reviews.submit(user.telegram_id, _new_product(data, authorization))
    except KamengError as exc:
        await _say(bot, chat_id, supplier_texts.refusal(exc))
        return
    if view is None:
        await _say(bot, chat_id, supplier_texts.product_unchanged(str(data["sku"])))
        return
    # the reviewers' cards were promised with the submission (core.approvals.ask_admins)
    await _say(bot, chat_id, supplier_texts.product_submitted(view))


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


async def needs_text(message: Message) -> None:
    await message.answer(supplier_texts.type_text())


def setup() -> Router:
    router = Router(name="supplier_products")
    router.message.register(new_start, Command("newproduct"))
    router.message.register(new_name, StateFilter(ProductFlow.name), TYPED)
    router.callback_query.register(
        new_category_picked,
        StateFilter(ProductFlow.category),
        SupplierFormCb.filter(F.step == "category"),
    )
    router.message.register(new_category_typed, StateFilter(ProductFlow.category), TYPED)
    router.message.register(new_face_value, StateFilter(ProductFlow.face_value), TYPED)
    router.message.register(new_supply_price, StateFilter(ProductFlow.supply_price), TYPED)
    router.callback_query.register(
        new_stock_kind, StateFilter(ProductFlow.stock_kind), SupplierFormCb.filter(F.step == "kind")
    )
    router.callback_query.register(
        new_exclusive,
        StateFilter(ProductFlow.exclusive),
        SupplierFormCb.filter(F.step == "exclusive"),
    )
    router.message.register(new_provenance, StateFilter(ProductFlow.provenance), TYPED)
    router.message.register(edit_start, Command("editproduct"))
    router.message.register(edit_name, StateFilter(EditFlow.name), TYPED)
    router.callback_query.register(
        edit_keep,
        StateFilter(EditFlow.name),
        SupplierFormCb.filter((F.step == "keep") & (F.value == "name")),
    )
    router.message.register(edit_price, StateFilter(EditFlow.supply_price), TYPED)
    router.callback_query.register(
        edit_keep,
        StateFilter(EditFlow.supply_price),
        SupplierFormCb.filter((F.step == "keep") & (F.value == "price")),
    )
    router.message.register(edit_provenance, StateFilter(EditFlow.provenance), TYPED)
    router.callback_query.register(
        edit_keep,
        StateFilter(EditFlow.provenance),
        SupplierFormCb.filter((F.step == "keep") & (F.value == "provenance")),
    )
    router.message.register(
        authorization_sent,
        StateFilter(ProductFlow.authorization, EditFlow.authorization),
        ATTACHMENT,
    )
    router.callback_query.register(
        authorization_skipped,
        StateFilter(EditFlow.authorization),
        SupplierFormCb.filter((F.step == "keep") & (F.value == "authorization")),
    )
    router.callback_query.register(
        authorization_skipped,
        StateFilter(ProductFlow.authorization),
        SupplierFormCb.filter(F.step == "skip"),
    )
    router.message.register(needs_text, StateFilter(ProductFlow, EditFlow), ~F.text)
    return router
