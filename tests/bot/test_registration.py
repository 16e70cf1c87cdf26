"""Registration policies acted out on the fake Telegram server: approval and invites."""

from __future__ import annotations

import pytest

from bot.keyboards.callbacks import CatalogueCb
from core.errors import NotRegistered
from core.models import Role, UserStatus
from core.platform import Platform
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import ADMIN_ID
from tests.factories import ADMIN, make_sku

SECOND_ADMIN = 43
ANN, BOB = 3001, 3002


@pytest.fixture
def policy() -> str:
    return "open"


@pytest.fixture
def settings(settings: Settings, policy: str) -> Settings:
    return settings.model_copy(update={"registration": policy})


@pytest.mark.parametrize("policy", ["approval"])
async def test_a_newcomer_waits_until_an_admin_approves_then_browses(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=5)
    await shop.catalogue.grant_role(SECOND_ADMIN, Role.ADMIN, actor=ADMIN)
    await shop.catalogue.set_language(SECOND_ADMIN, "en")
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    second = server.user(SECOND_ADMIN, language_code="en", started=True)
    ann = server.user(ANN, first_name="Ann", username="ann", language_code="en", started=True)

    await ann.send_text("/start")
    await ann.wait_for_message(lambda m: "sent to the admins" in m.content)
    request = await admin.wait_for_message(lambda m: "wants to join" in m.content)
    assert "Ann" in request.content and "@ann" in request.content
    assert request.buttons == ["✅ Approve", "❌ Reject"]
    late = await second.wait_for_message(lambda m: "wants to join" in m.content)

    for attempt in ("/catalogue", "🛒 Catalogue", "/start", "steam", "/buy STEAM-100 1"):
        await ann.send_text(attempt)
        reply = await ann.wait_for_message()
        assert "waiting for an admin" in reply.content, attempt
    pressed = await ann.press_data(CatalogueCb(action="home").pack())
    answer = await ann.wait_for_callback_answer(pressed)
    assert answer.answer_text and "waiting for an admin" in answer.answer_text
    assert len(ann.messages) == 6  # one reply to each message, nothing else
    with pytest.raises(NotRegistered):
        await shop.quotes.quote(ANN, "STEAM-100", 1)

    decided = await admin.press("✅ Approve", message=request)
    assert "approved" in ((await admin.wait_for_callback_answer(decided)).answer_text or "")
    approved = await ann.wait_for_message(lambda m: "approved" in m.content)
    assert "Welcome" in approved.content
    assert admin.current(request).buttons == []
    too_late = await second.press("❌ Reject", message=late)
    answer = await second.wait_for_callback_answer(too_late)
    assert answer.answer_text == "Registration #1 was already decided: approved."
    assert (await shop.catalogue.user(ANN)).status is UserStatus.ACTIVE

    await ann.press_reply("🛒 Catalogue")
    await ann.wait_for_message(lambda m: "Choose a category" in m.content)
    await ann.press("Steam (1)")
    await ann.wait_for_message(lambda m: "page 1/1" in m.content)


@pytest.mark.parametrize("policy", ["approval"])
async def test_a_rejected_newcomer_is_told_and_cannot_browse(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=5)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    bob = server.user(BOB, first_name="Bob", language_code="zh-hans", started=True)

    await bob.send_text("/start")
    await bob.wait_for_message(lambda m: "注册申请已提交" in m.content)
    request = await admin.wait_for_message(lambda m: "wants to join" in m.content)
    await admin.press("❌ Reject", message=request)
    await bob.wait_for_message(lambda m: "未获通过" in m.content)

    await bob.send_text("/catalogue")
    reply = await bob.wait_for_message()
    assert "未获通过" in reply.content
    await bob.send_text("/start")
    await bob.wait_for_message(lambda m: "未获通过" in m.content)
    assert not any("请选择分类" in m.content for m in bob.messages)
    assert (await shop.catalogue.user(BOB)).status is UserStatus.REJECTED
    with pytest.raises(NotRegistered):
        await shop.quotes.quote(BOB, "STEAM-100", 1)


@pytest.mark.parametrize("policy", ["invite"])
async def test_an_invite_code_admits_one_newcomer_once(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=5)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    ann = server.user(ANN, first_name="Ann", language_code="en", started=True)
    bob = server.user(BOB, first_name="Bob", language_code="en", started=True)

    for attempt in ("/start", "/catalogue", "/start WRONG-CODE-1234"):
        await ann.send_text(attempt)
        reply = await ann.wait_for_message()
        expected = "not valid" if "WRONG" in attempt else "invite-only"
        assert expected in reply.content, attempt

    await admin.send_text("/invite 2")
    issued = await admin.wait_for_message(lambda m: "2 invite(s)" in m.content)
    codes = issued.codes
    assert len(codes) == 2
    for code in codes:
        assert f"https://t.me/{server.bot.username}?start={code}" in issued.content

    await ann.send_text(f"/start {codes[0]}")
    joined = await ann.wait_for_message(lambda m: "Invite accepted" in m.content)
    assert "Welcome" in joined.content
    await ann.press_reply("🛒 Catalogue")
    await ann.wait_for_message(lambda m: "Choose a category" in m.content)

    await bob.send_text(f"/start {codes[0]}")
    await bob.wait_for_message(lambda m: "already been used" in m.content)
    await bob.send_text("/catalogue")
    await bob.wait_for_message(lambda m: "invite-only" in m.content)
    assert (await shop.catalogue.user(BOB)).status is UserStatus.PENDING

    await ann.send_text("/invite")
    await ann.wait_for_message(lambda m: "not allowed" in m.content)
    await bob.send_text(f"/start {codes[1]}")
    await bob.wait_for_message(lambda m: "Invite accepted" in m.content)
    assert (await shop.catalogue.user(BOB)).status is UserStatus.ACTIVE


async def test_opening_the_door_admits_those_still_waiting(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await shop.catalogue.ensure_user(ANN, language="en", status=UserStatus.PENDING)
    await shop.catalogue.ensure_user(BOB, language="en", status=UserStatus.REJECTED)
    ann = server.user(ANN, first_name="Ann", language_code="en", started=True)
    bob = server.user(BOB, language_code="en", started=True)

    await ann.send_text("/catalogue")
    await ann.wait_for_message(lambda m: "Welcome" in m.content)
    assert (await shop.catalogue.user(ANN)).status is UserStatus.ACTIVE
    await bob.send_text("/catalogue")
    await bob.wait_for_message(lambda m: "declined" in m.content)
    assert (await shop.catalogue.user(BOB)).status is UserStatus.REJECTED
