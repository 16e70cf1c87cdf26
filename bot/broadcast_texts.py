"""Texts of broadcasts: an admin's /broadcast wizard, its progress and report, and a user's
/notifications opt-out (gettext, English msgids; Chinese in ``bot/locales/zh_CN/*.json``)."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from bot import formatting as fmt
from bot import texts
from core.broadcasts import BroadcastCredits

BROADCAST_DAYS_CHOICES = (7, 30, 90)


def broadcast_ask_message() -> str:
    return _(
        "📣 <b>New broadcast</b>\nSend the message exactly as recipients should see it: text "
        "(formatting is kept) or a photo with a caption of up to 1024 characters. "
        "/cancel stops."
    )


def broadcast_bad_message() -> str:
    return _("Send text, or one photo with a caption of at most 1024 characters.")


def broadcast_ask_button() -> str:
    return _(
        "Add a link button? Send it as <code>Label | https://example.com</code>, or press Skip."
    )


def broadcast_bad_button() -> str:
    return _(
        "That is not a button. Send it as <code>Label | https://example.com</code> "
        "(https only, label up to 64 characters)."
    )


def broadcast_ask_audience() -> str:
    return _("Who should get it?")


def broadcast_ask_level() -> str:
    return _("Which level?")


def broadcast_ask_category() -> str:
    return _("Buyers of which category?")


def broadcast_no_categories() -> str:
    return _("There are no categories yet.")


def broadcast_ask_days() -> str:
    return _("Bought within how many days? Pick one or type a number.")


def broadcast_bad_days(limit: int) -> str:
    return _("Type a number of days from 1 to {max}.").format(max=limit)


def broadcast_audience(kind: str, name: str, days: int | None) -> str:
    if kind == "level":
        return _("resellers of level {level}").format(level=texts.level_name(name))
    if kind == "category":
        return _("buyers of {category} in the last {days} days").format(
            category=escape(name), days=days
        )
    if kind == "suppliers":
        return _("suppliers")
    if kind == "buyers":
        return _("past buyers of {supplier} who accept promotions").format(supplier=escape(name))
    return _("all resellers")


def broadcast_preview(audience: str, recipients: int) -> str:
    return _(
        "👆 That is the message exactly as recipients will see it.\n"
        "Audience: {audience}\nRecipients: <b>{count}</b>\nSend it?"
    ).format(audience=audience, count=recipients)


def broadcast_discarded() -> str:
    return _("Broadcast cancelled. Nothing was sent.")


def broadcast_already_started(campaign_id: int) -> str:
    return _("Broadcast #{id} was already started.").format(id=campaign_id)


def broadcast_started(campaign_id: int) -> str:
    return _("Broadcast #{id} is being sent.").format(id=campaign_id)


def broadcast_progress(campaign_id: int, sent: int, blocked: int, failed: int, left: int) -> str:
    return _(
        "📣 Broadcast #{id} — sending\nSent: {sent} · Blocked: {blocked} · Failed: {failed}\n"
        "Remaining: {left}"
    ).format(id=campaign_id, sent=sent, blocked=blocked, failed=failed, left=left)


def broadcast_stopping() -> str:
    return _("Stopping the broadcast…")


def broadcast_report(
    campaign_id: int,
    sent: int,
    blocked: int,
    failed: int,
    left: int,
    stopped: bool,
    returned: int = 0,
) -> str:
    if stopped:
        head = _("⏹ Broadcast #{id} was stopped.").format(id=campaign_id)
    else:
        head = _("✅ Broadcast #{id} finished.").format(id=campaign_id)
    lines = [
        head,
        _("Sent: {count}").format(count=sent),
        _("Blocked the bot: {count}").format(count=blocked),
        _("Failed: {count}").format(count=failed),
    ]
    if left:
        lines.append(_("Not sent: {count}").format(count=left))
    if returned:
        lines.append(_("Broadcast credits returned: {count}").format(count=returned))
    return "\n".join(lines)


def notifications(opted_out: bool) -> str:
    state = _("off") if opted_out else _("on")
    return _(
        "🔔 Promotional broadcasts: <b>{state}</b>\n"
        "Messages about your orders and top-ups always arrive."
    ).format(state=state)


def notifications_saved(opted_out: bool) -> str:
    if opted_out:
        return _("You will no longer get promotional broadcasts.")
    return _("You will get promotional broadcasts again.")


def credits_none() -> str:
    return _(
        "📣 You have no broadcast credits. Buy a broadcast-credits service in /services, "
        "then write your message here."
    )


def credits_ask_message(credits: BroadcastCredits) -> str:
    """What this campaign may spend: a campaign is paid from one purchase (the one ending
    first); what his other purchases hold is for the next campaigns, said apart."""
    ends = fmt.moment(credits.ends_at) if credits.ends_at else ""
    if credits.rest:
        uses = _(
            "This message can reach up to <b>{credits}</b> of them: a message is paid from one "
            "purchase of credits, the one ending first ({ends}). Your other purchases keep "
            "{rest} more credits for your next messages."
        ).format(credits=credits.next_campaign, ends=ends, rest=credits.rest)
    else:
        uses = _(
            "This message can reach up to <b>{credits}</b> of them with your {credits} "
            "broadcast credits (until {ends})."
        ).format(credits=credits.next_campaign, ends=ends)
    return "\n".join(
        [
            _("📣 <b>Message your past buyers</b>"),
            uses,
            _(
                "One credit is spent per recipient; credits of recipients who cannot be "
                "reached come back. Send the message exactly as they should see it: text or a "
                "photo with a caption. /cancel stops."
            ),
        ]
    )
