"""Every text the bot can send exists in both languages, and the shipped catalogue is fresh."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot import (
    admin_texts,
    broadcast_texts,
    registration_texts,
    scheduler_texts,
    supplier_sales_texts,
    supplier_texts,
    texts,
)
from bot.i18n import make_i18n
from core.admin import UserCard
from core.aftersales import ReportView
from core.approvals import Outcome, Verdict
from core.catalogue import SkuView, UserView
from core.models import (
    ApplicationStatus,
    RegistrationStatus,
    ReportStatus,
    ReviewStatus,
    Role,
    SkuStatus,
    StockKind,
    TopUpStatus,
    UserStatus,
    WithdrawalStatus,
)
from core.pricing_admin import LevelPrice, SkuPricing
from core.registration import RegistrationView
from core.reviews import ReviewView
from core.supplier_payouts import WithdrawalView
from core.suppliers import ApplicationView
from core.topups import TopUpView

ROOT = Path(__file__).resolve().parents[2]


def test_every_msgid_is_translated_and_the_mo_file_is_up_to_date() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "translations.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# -- Chinese renderings of the admin / supplier / registration texts, with real values ----

RAW_WORDS = sorted(
    {
        status.value
        for kind in (
            TopUpStatus,
            RegistrationStatus,
            ApplicationStatus,
            ReviewStatus,
            ReportStatus,
            WithdrawalStatus,
            UserStatus,
            SkuStatus,
            Role,
            Outcome,
        )
        for status in kind
    }
    | {"bronze", "silver", "gold"}
)
RAW_WORD = re.compile(r"\b(" + "|".join(RAW_WORDS) + r")\b")
CJK = r"[\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e]"
ASCII_PUNCTUATION_AFTER_CJK = re.compile(CJK + r"\s*(?:<[^>]+>\s*)*[:,]")
AT = datetime(2026, 12, 4, 10, 25, tzinfo=UTC)
ZONE = "Asia/Shanghai"


def _user(level: str) -> UserView:
    return UserView(
        id=1,
        telegram_id=1001,
        username="ann_shop",
        display_name="Ann",
        roles=frozenset(Role),
        level_id=3,
        level_name=level,
        language="zh-CN",
        status=UserStatus.ACTIVE,
        credit_limit=500_00,
        started=True,
    )


def _sku(status: SkuStatus) -> SkuView:
    return SkuView(
        1,
        "STEAM-100",
        "Steam 100",
        "Steam",
        1,
        100_00,
        85_00,
        92_00,
        StockKind.UNIQUE,
        False,
        status,
    )


def _review(status: ReviewStatus) -> ReviewView:
    return ReviewView(
        id=7,
        kind="new",
        status=status,
        reason="",
        sku_code="STEAM-100",
        sku_status=SkuStatus.PENDING_REVIEW,
        name="Steam 100",
        category="Steam",
        face_value=100_00,
        supply_price=85_00,
        sale_price=92_00,
        stock_kind=StockKind.UNIQUE,
        exclusive=False,
        provenance="distributor",
        authorization=None,
        supplier_name="Sam Cards",
        supplier_telegram_id=900,
    )


def _report(status: ReportStatus) -> ReportView:
    return ReportView(
        id=3,
        order_id=12,
        position=1,
        line_id=30,
        sku_code="STEAM-100",
        sku_name="Steam 100",
        reseller_telegram_id=1001,
        reseller_username="ann_shop",
        supplier_telegram_id=900,
        reason="already redeemed",
        screenshot_file_id=None,
        status=status,
        refund_amount=92_00,
        resolution_note="",
        created_at=AT,
    )


def _renderings() -> list[str]:
    out = [
        admin_texts.panel({"topups": 2, "withdrawals": 0}),
        admin_texts.user_card(UserCard(_user("gold"), 1_00, 4)),
        admin_texts.sku_pricing(
            SkuPricing(
                _sku(SkuStatus.ACTIVE),
                [
                    LevelPrice("bronze", 95_00),
                    LevelPrice("silver", None),
                    LevelPrice("gold", 90_00),
                ],
                [],
                3,
            )
        ),
        admin_texts.ask_level_price("STEAM-100", "silver"),
        broadcast_texts.broadcast_audience("level", "gold", None),
        scheduler_texts.levels_text(("bronze", "gold")),
    ]
    for outcome in Outcome:
        verdict = Verdict(outcome, 42, "li_ming", "Li", AT, reason="receipt unreadable")
        out.append(admin_texts.decided_by(verdict))
    for already in (False, True):
        for topup in TopUpStatus:
            view = TopUpView(1, 1001, "ann_shop", 50_00, "", None, topup, "")
            out.append(texts.topup_decided(view, already))
        for registration in RegistrationStatus:
            reg = RegistrationView(1, 1001, "ann_shop", "Ann", "zh-CN", registration)
            out.append(registration_texts.request_decided(reg, already))
        for application in ApplicationStatus:
            app = ApplicationView(1, 900, "sam", "Sam Cards", "tg", application, "")
            out.append(supplier_texts.application_decided(app, already))
        for review in ReviewStatus:
            out.append(supplier_texts.review_decided(_review(review), already))
        for report in ReportStatus:
            out.append(admin_texts.decided(_report(report), already))
            out.append(admin_texts.report_for_admin(_report(report)))
        for withdrawal in WithdrawalStatus:
            money_out = WithdrawalView(1, "Sam Cards", 900, "sam", 100_00, withdrawal, "", AT)
            out.append(supplier_sales_texts.withdrawal_decided(money_out, already))
    return out


def test_chinese_admin_texts_show_no_raw_value_and_no_ascii_colon_after_chinese() -> None:
    i18n = make_i18n()
    with i18n.context(), i18n.use_locale("zh_CN"):
        rendered = _renderings()
    for text in rendered:
        assert not RAW_WORD.search(text), text
        assert not ASCII_PUNCTUATION_AFTER_CJK.search(text), text
    assert "2026-12-04 18:25（UTC+8）" in rendered[6]  # Shanghai time, the zone shown
