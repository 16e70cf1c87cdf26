"""Keyboards of the broadcast flow (admin) and the notifications toggle (everyone)."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import broadcast_texts, texts
from bot.keyboards.callbacks import BroadcastCb
from core.broadcasts import CampaignMessage, Choice

AUDIENCE_KINDS = ("resellers", "level", "category", "suppliers")  # BroadcastCb ref = index


def campaign_button(message: CampaignMessage) -> InlineKeyboardMarkup | None:
    """The URL button recipients see under the broadcast, if the admin added one."""
    if message.button_label is None or message.button_url is None:
        return None
    builder = InlineKeyboardBuilder()
    builder.button(text=message.button_label, url=message.button_url)
    return builder.as_markup()


def skip_button() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Skip"), callback_data=BroadcastCb(action="skip"))
    return builder.as_markup()


def audiences() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    labels = (_("All resellers"), _("A level"), _("Buyers of a category"), _("Suppliers"))
    for index, label in enumerate(labels):
        builder.button(text=label, callback_data=BroadcastCb(action="aud", ref=index))
    builder.adjust(2)
    return builder.as_markup()


def choices(action: str, items: list[Choice]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for item in items:
        label = texts.level_name(item.name) if action == "level" else item.name
        builder.button(text=label, callback_data=BroadcastCb(action=action, ref=item.id))
    builder.adjust(3)
    return builder.as_markup()


def days() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for count in broadcast_texts.BROADCAST_DAYS_CHOICES:
        builder.button(text=str(count), callback_data=BroadcastCb(action="days", ref=count))
    return builder.as_markup()


def confirm(campaign_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📣 Send"), callback_data=BroadcastCb(action="send", ref=campaign_id))
    builder.button(text=_("✖ Cancel"), callback_data=BroadcastCb(action="discard", ref=campaign_id))
    return builder.as_markup()


def stop(campaign_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("⏹ Stop sending"), callback_data=BroadcastCb(action="stop", ref=campaign_id)
    )
    return builder.as_markup()


def notifications(opted_out: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    label = _("🔔 Turn on") if opted_out else _("🔕 Turn off")
    builder.button(
        text=label, callback_data=BroadcastCb(action="optout", ref=0 if opted_out else 1)
    )
    return builder.as_markup()
