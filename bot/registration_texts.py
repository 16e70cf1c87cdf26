"""Texts of registration (approval requests, invites), in the reader's language
(gettext, English msgids; Chinese in ``bot/locales/zh_CN/registration.json``)."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from bot import texts
from core.models import RegistrationStatus
from core.registration import MAX_INVITES, RegistrationView

# -- the newcomer -------------------------------------------------------------------------


def request_sent() -> str:
    return _(
        "Thanks! Your request to join has been sent to the admins. "
        "You will be told when it is decided."
    )


def request_waiting() -> str:
    return _("Your request to join is waiting for an admin's approval.")


def request_declined() -> str:
    return _("Your request to join was declined.")


def request_approved(name: str) -> str:
    return _("✅ Your request to join was approved!") + "\n\n" + texts.welcome(name)


def invite_needed() -> str:
    return _(
        "This bot is invite-only. Open your invite link, or send /start followed by "
        "your invite code."
    )


def invite_invalid() -> str:
    return _(
        "That invite code is not valid or has already been used. You need a valid invite to join."
    )


def invite_accepted(name: str) -> str:
    return _("✅ Invite accepted.") + "\n\n" + texts.welcome(name)


# -- the admins ---------------------------------------------------------------------------


def _who(view: RegistrationView) -> str:
    parts = [view.display_name] if view.display_name else []
    if view.username:
        parts.append(f"@{view.username}")
    parts.append(f"id {view.telegram_id}")
    return escape(" · ".join(parts))


def request_for_admin(view: RegistrationView) -> str:
    return _("Registration request #{id}: {who} wants to join.").format(id=view.id, who=_who(view))


def _status(status: RegistrationStatus) -> str:
    labels = {
        RegistrationStatus.PENDING: _("pending"),
        RegistrationStatus.APPROVED: _("approved"),
        RegistrationStatus.REJECTED: _("rejected"),
    }
    return labels[status]


def request_decided(view: RegistrationView, already: bool) -> str:
    if already:
        return _("Registration #{id} was already decided: {status}.").format(
            id=view.id, status=_status(view.status)
        )
    return _("Registration #{id}: {status}.").format(id=view.id, status=_status(view.status))


def invite_usage() -> str:
    return _("Usage: /invite [COUNT], COUNT from 1 to {max}.").format(max=MAX_INVITES)


def invites_issued(codes: list[str], links: list[str]) -> str:
    rows = [f"<code>{code}</code>\n{escape(link)}" for code, link in zip(codes, links, strict=True)]
    header = _("{count} invite(s); each admits one person and is not shown again:").format(
        count=len(codes)
    )
    return header + "\n\n" + "\n\n".join(rows)
