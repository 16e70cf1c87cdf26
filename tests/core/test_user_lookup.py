"""The per-update user lookup (``Catalogue.ensure_user``): a known user is read, never
written; newcomers and renamed users are written; racing first contacts make one user.
A user looked up a moment ago is answered from the cache, and no change is missed."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, func, select, text

from core.catalogue import DISPLAY_NAME_MAX, Catalogue
from core.db import Database
from core.models import Account, AccountKind, Role, User, UserStatus
from core.platform import Platform
from core.user_cache import UserCache
from tests.factories import ADMIN

ANN = 4001


async def test_a_known_user_is_looked_up_while_another_use_case_holds_the_write_lock(
    platform: Platform,
) -> None:
    catalogue = platform.catalogue
    await catalogue.ensure_user(ANN, username="ann", display_name="Ann", language="en")
    async with platform.db.transaction() as session:  # e.g. a long stock import
        await session.scalar(select(func.count()).select_from(User))
        lookup = asyncio.create_task(
            catalogue.ensure_user(ANN, username="ann", display_name="Ann", language="zh-CN")
        )
        done, _ = await asyncio.wait({lookup}, timeout=30)
        assert lookup in done, "the lookup of a known, unchanged user waited for the writer"
    user, created = lookup.result()
    assert not created
    assert (user.telegram_id, user.username, user.display_name) == (ANN, "ann", "Ann")
    assert user.language == "en"  # chosen on first contact; later contacts never change it
    assert user.level_name and Role.RESELLER in user.roles


async def test_a_renamed_user_is_updated_and_an_absent_name_erases_nothing(
    platform: Platform,
) -> None:
    catalogue = platform.catalogue
    await catalogue.ensure_user(ANN, username="ann", display_name="Ann")
    user, created = await catalogue.ensure_user(ANN, username="ann_new", display_name="Ann Lee")
    assert not created
    assert (user.username, user.display_name) == ("ann_new", "Ann Lee")
    await catalogue.ensure_user(ANN)  # no @username now, no name given
    stored = await catalogue.user(ANN)
    assert (stored.username, stored.display_name) == ("ann_new", "Ann Lee")
    long_name = "名" * 64 + " " + "姓" * 64  # Telegram allows 64 + 64 characters
    await catalogue.ensure_user(ANN, display_name=long_name)
    assert (await catalogue.user(ANN)).display_name == long_name[:DISPLAY_NAME_MAX]


async def test_a_banned_user_stays_banned_and_is_seen_banned(platform: Platform) -> None:
    await platform.catalogue.ensure_user(ANN, username="ann")
    await platform.catalogue.set_status(ANN, UserStatus.BANNED, actor=ADMIN)
    user, _ = await platform.catalogue.ensure_user(ANN, username="ann")
    assert user.is_banned
    renamed, _ = await platform.catalogue.ensure_user(ANN, username="ann2")
    assert renamed.is_banned and renamed.username == "ann2"


@pytest.mark.parametrize("status", [UserStatus.ACTIVE, UserStatus.PENDING])
async def test_racing_first_contacts_register_one_user(
    platform: Platform, status: UserStatus
) -> None:
    results = await asyncio.gather(
        *(
            platform.catalogue.ensure_user(
                ANN, username="ann", display_name="Ann", language="en", status=status
            )
            for _ in range(8)
        )
    )
    assert [created for _, created in results].count(True) == 1
    assert {user.id for user, _ in results} == {results[0][0].id}
    assert {user.status for user, _ in results} == {status}
    async with platform.db.reading() as session:
        users = await session.scalar(
            select(func.count()).select_from(User).where(User.telegram_id == ANN)
        )
        accounts = await session.scalar(
            select(func.count())
            .select_from(Account)
            .where(
                Account.kind == AccountKind.RESELLER_BALANCE,
                Account.owner_id == results[0][0].id,
            )
        )
    assert (users, accounts) == (1, 1)


# the per-process user cache -------------------------------------------------------------


class Statements:
    """Counts the SQL statements a database runs (what the cache is there to save)."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        self.count += 1


async def test_a_known_user_is_answered_from_the_cache_without_a_statement(
    platform: Platform,
) -> None:
    catalogue = platform.catalogue
    await catalogue.ensure_user(ANN, username="ann", display_name="Ann", language="en")
    await catalogue.ensure_user(ANN, username="ann", display_name="Ann")  # read, then cached
    statements = Statements(platform.db)
    for _ in range(5):
        user, created = await catalogue.ensure_user(ANN, username="ann", display_name="Ann")
        assert not created and user.username == "ann" and user.language == "en"
    assert statements.count == 0
    renamed, _ = await catalogue.ensure_user(ANN, username="ann_new", display_name="Ann")
    assert renamed.username == "ann_new" and statements.count > 0  # a rename is written


async def test_changes_made_in_this_process_are_seen_at_once(platform: Platform) -> None:
    catalogue = platform.catalogue
    await catalogue.ensure_user(ANN, username="ann", language="en")
    await catalogue.ensure_user(ANN, username="ann")  # now cached
    await catalogue.set_language(ANN, "zh-CN")
    assert (await catalogue.ensure_user(ANN, username="ann"))[0].language == "zh-CN"
    await catalogue.grant_role(ANN, Role.ADMIN, actor=ADMIN)
    assert Role.ADMIN in (await catalogue.ensure_user(ANN, username="ann"))[0].roles
    await catalogue.set_status(ANN, UserStatus.BANNED, actor=ADMIN)
    assert (await catalogue.ensure_user(ANN, username="ann"))[0].is_banned


async def test_a_change_made_by_another_process_is_seen_within_the_ttl(
    platform: Platform,
) -> None:
    now = [0.0]
    catalogue = Catalogue(platform.db, platform.clock, UserCache(10.0, clock=lambda: now[0]))
    await catalogue.ensure_user(ANN, username="ann", language="en")
    await catalogue.ensure_user(ANN, username="ann")  # cached at t=0
    async with platform.db.transaction() as session:  # not through the ORM: like the CLI
        await session.execute(
            text("UPDATE users SET language = 'zh-CN' WHERE telegram_id = :id"), {"id": ANN}
        )
    now[0] = 9.9
    assert (await catalogue.ensure_user(ANN, username="ann"))[0].language == "en"
    now[0] = 10.0
    assert (await catalogue.ensure_user(ANN, username="ann"))[0].language == "zh-CN"


async def test_a_read_that_overlapped_a_commit_is_not_stored(platform: Platform) -> None:
    cache = UserCache(10.0)
    view, _ = await platform.catalogue.ensure_user(ANN, username="ann")
    before = cache.generation
    cache.forget([ANN])  # a commit changed Ann while the read was in flight
    cache.put(view, before)
    assert cache.get(ANN) is None
    cache.put(view, cache.generation)
    assert cache.get(ANN) == view
