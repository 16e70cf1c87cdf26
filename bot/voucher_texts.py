"""Texts of vouchers: an admin issues them (/voucher), a reseller redeems one into their
balance (gettext, English msgids; Chinese in ``bot/locales/zh_CN/*.json``)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot import formatting as fmt
from core.vouchers import IssuedVouchers, Redeemed, VoucherRefused


def voucher_usage() -> str:
    return _("Usage: /voucher AMOUNT [COUNT], e.g. /voucher 50.00 10")


def vouchers_issued(issued: IssuedVouchers) -> str:
    header = _(
        "{count} voucher(s) of {amount} each. Each can be redeemed once; "
        "the codes are not shown again:"
    ).format(count=len(issued.codes), amount=fmt.amount(issued.amount))
    return header + "\n" + "\n".join(f"<code>{code}</code>" for code in issued.codes)


def redeem_usage() -> str:
    return _("Usage: /redeem CODE")


def voucher_ask_code() -> str:
    return _("Type the voucher code, e.g. ABCD-EFGH-JKMN.")


def voucher_redeemed(result: Redeemed) -> str:
    return _("✅ Voucher redeemed: +{amount}. Balance: {balance}").format(
        amount=fmt.amount(result.amount), balance=fmt.amount(result.posted.balance_after)
    )


def voucher_refused(refused: VoucherRefused) -> str:
    if refused.params.get("reason") != "used":
        return _("No voucher has that code. Check it and try again.")
    if refused.params.get("by_you"):
        return _("You have already redeemed that voucher.")
    return _("That voucher has already been redeemed.")
