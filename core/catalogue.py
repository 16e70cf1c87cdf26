"""Users, levels, suppliers, categories and SKUs: who may sell and buy what."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.clock import Clock
from core.db import Database
from core.decisions.fulfilment import (
    MAX_DEADLINE_MINUTES,
    AccountField,
    check_fields,
    fields_to_json,
)
from core.delivery.claim import upstream_stock
from core.errors import InvalidInput, NotFound
from core.ledger import open_account
from core.models import (
    AccountKind,
    Category,
    Code,
    CodeStatus,
    DirectSku,
    Level,
    Promotion,
    PromotionKind,
    PromotionLevel,
    PromotionSku,
    QuantityBreak,
    Role,
    Sku,
    SkuLevelPrice,
    SkuStatus,
    StockKind,
    Supplier,
    UpstreamSku,
    User,
    UserStatus,
)
from core.pricing.rules import check_sale_price
from core.user_cache import UserCache

SKU_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
LANGUAGES = ("zh-CN", "en")
DISPLAY_NAME_MAX = 128  # users.display_name; Telegram's full name can be 129 characters


@dataclass(frozen=True)
class UserView:
    id: int
    telegram_id: int
    username: str | None
    display_name: str
    roles: frozenset[Role]
    level_id: int
    level_name: str
    language: str
    status: UserStatus
    credit_limit: int
    #: the user has written to the bot (so the bot may write to them, set their menu)
    started: bool
    language_known: bool = True  # False: a placeholder until the user's first update

    @property
    def is_banned(self) -> bool:
        return self.status is UserStatus.BANNED


@dataclass(frozen=True)
class SkuView:
    id: int
    code: str
    name: str
    category: str
    supplier_id: int
    face_value: int
    supply_price: int
    default_price: int
    stock_kind: StockKind
    exclusive: bool
    status: SkuStatus


@dataclass(frozen=True)
class NewSku:
    code: str
    name: str
    category: str
    supplier_telegram_id: int
    face_value: int
    supply_price: int
    default_price: int
    level_prices: dict[str, int] = field(default_factory=dict)
    stock_kind: StockKind = StockKind.UNIQUE
    exclusive: bool = False
    # a direct top-up SKU (直充): the account fields it asks for and the minutes its
    # supplier has to fulfil an order; no codes (its stock is unlimited, like cyclic)
    direct_fields: tuple[AccountField, ...] = ()
    direct_deadline_minutes: int = 0


def language_for(telegram_language_code: str | None) -> str:
    """Telegram's ``language_code`` (``zh-hans``, ``en-US``…) → one of ours."""
    code = (telegram_language_code or "").lower()
    return "zh-CN" if code.startswith("zh") else "en" if code else "zh-CN"


def _roles(user: User) -> frozenset[Role]:
    flags = {Role.RESELLER: user.is_reseller, Role.SUPPLIER: user.is_supplier}
    flags[Role.ADMIN] = user.is_admin
    return frozenset(role for role, on in flags.items() if on)


def _view(user: User, level_name: str | None) -> UserView:
    return UserView(
        id=user.id,
        telegram_id=user.telegram_id,
        username=user.username,
        display_name=user.display_name,
        roles=_roles(user),
        level_id=user.level_id,
        level_name=level_name or "",
        language=user.language,
        status=user.status,
        credit_limit=user.credit_limit,
        started=user.started_at is not None,
        language_known=user.language_known,
    )


async def user_view(session: AsyncSession, user: User) -> UserView:
    level_name = await session.scalar(select(Level.name).where(Level.id == user.level_id))
    return _view(user, level_name)


def _renamed(
    user: User | UserView, username: str | None, display_name: str, language: str | None = None
) -> bool:
    """Telegram tells a different @username or name than the one stored (an absent one
    never erases the stored one), or the first language of a user created before writing."""
    return (
        bool(username and user.username != username)
        or bool(display_name and user.display_name != display_name)
        or bool(language and not user.language_known)
    )


def _stale(
    user: User | UserView, username: str | None, display_name: str, language: str | None = None
) -> bool:
    """The stored user needs a write: renamed, writing to the bot for the first time, or
    telling the language of a user created before writing."""
    started = user.started if isinstance(user, UserView) else user.started_at is not None
    return not started or _renamed(user, username, display_name, language)


def sku_view(sku: Sku, category: str) -> SkuView:
    return SkuView(
        id=sku.id,
        code=sku.code,
        name=sku.name,
        category=category,
        supplier_id=sku.supplier_id,
        face_value=sku.face_value,
        supply_price=sku.supply_price,
        default_price=sku.default_price,
        stock_kind=sku.stock_kind,
        exclusive=sku.exclusive,
        status=sku.status,
    )


async def admin_telegram_ids(session: AsyncSession) -> list[int]:
    """Telegram ids of every admin: who hears about requests, reviews and reports."""
    return list(
        await session.scalars(
            select(User.telegram_id).where(User.is_admin).order_by(User.telegram_id)
        )
    )


async def admin_user_ids(session: AsyncSession) -> list[int]:
    """The same admins as user ids: whom the outbox tells (``core.approvals.ask_admins``)."""
    return list(
        await session.scalars(select(User.id).where(User.is_admin).order_by(User.telegram_id))
    )


TELEGRAM_IDS = range(-(2**63), 2**63)  # what the column holds; any other id is nobody


async def _user_changed(
    session: AsyncSession,
    user: User,
    *,
    action: str,
    payload: dict[str, Any],
    actor: str,
    now: datetime,
) -> UserView:
    """An operator's change to a user: the audit row every such change leaves, then the
    view the caller answers with."""
    await audit.append(
        session,
        action=action,
        actor=actor,
        subject=f"user:{user.telegram_id}",
        payload=payload,
        now=now,
    )
    return await user_view(session, user)


async def load_user(session: AsyncSession, telegram_id: int) -> User:
    if telegram_id not in TELEGRAM_IDS:  # typed by hand (/paycredit …): no OverflowError
        raise NotFound(kind="user", ref=str(telegram_id)[:32])
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        raise NotFound(kind="user", ref=str(telegram_id))
    return user


async def load_sku(session: AsyncSession, code: str) -> Sku:
    sku = await session.scalar(select(Sku).where(Sku.code == code.upper()))
    if sku is None:
        raise NotFound(kind="sku", ref=code)
    return sku


async def load_level(session: AsyncSession, name: str) -> Level:
    level = await session.scalar(select(Level).where(Level.name == name.lower()))
    if level is None:
        raise NotFound(kind="level", ref=name)
    return level


async def _new_user(
    session: AsyncSession,
    telegram_id: int,
    username: str | None,
    name: str,
    language: str,
    now: datetime,
    status: UserStatus = UserStatus.ACTIVE,
) -> User:
    lowest = await session.scalar(select(Level.id).order_by(Level.rank).limit(1))
    assert lowest is not None, "the migrations seed at least one level"
    user = User(
        telegram_id=telegram_id,
        username=username,
        display_name=name,
        level_id=lowest,
        language=language,
        is_reseller=True,
        is_supplier=False,
        is_admin=False,
        status=status,
        credit_limit=0,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    await open_account(session, AccountKind.RESELLER_BALANCE, user.id)
    return user


class Catalogue:
    def __init__(self, db: Database, clock: Clock, users: UserCache | None = None) -> None:
        self._db = db
        self._clock = clock
        self._users = users or UserCache(ttl=0)  # by default every lookup reads

    @property
    def user_cache(self) -> UserCache:
        """The per-process cache of who users are, for wiring its cross-instance drops."""
        return self._users

    # users -----------------------------------------------------------------

    async def ensure_user(
        self,
        telegram_id: int,
        *,
        username: str | None = None,
        display_name: str = "",
        language: str | None = None,
        status: UserStatus = UserStatus.ACTIVE,
    ) -> tuple[UserView, bool]:
        """The user with this Telegram id, created as a reseller on first contact (with
        ``status``: pending when the registration policy is not open).

        The bot calls this for every update, so a known user whose @username and name are
        unchanged is answered from the user cache (see ``core.user_cache``) or else one read,
        without a write transaction (on SQLite the writes queue behind each other). Only a
        newcomer, a renamed user or one the operator created writing for the first time
        (``started_at``) writes; two first updates racing each other create one
        user. ``status`` applies on creation only, ``language`` on creation or when the
        stored one is a placeholder (an admin granted before he ever wrote): a language the
        user chose is never overwritten. Returns the user and whether it was created just now."""
        display_name = display_name[:DISPLAY_NAME_MAX]
        cached = self._users.get(telegram_id)
        if cached is not None and not _stale(cached, username, display_name, language):
            return cached, False
        generation = self._users.generation
        async with self._db.reading() as session:
            row = (
                await session.execute(
                    select(User, Level.name)
                    .join(Level, Level.id == User.level_id)
                    .where(User.telegram_id == telegram_id)
                )
            ).first()
            if row is not None and not _stale(row[0], username, display_name, language):
                view = _view(row[0], row[1])
                self._users.put(view, generation)
                return view, False
        arguments = (telegram_id, username, display_name, language, status)
        try:
            return await self._register_or_rename(*arguments)
        except IntegrityError:  # PostgreSQL: a concurrent first update registered them
            return await self._register_or_rename(*arguments)

    async def _register_or_rename(
        self,
        telegram_id: int,
        username: str | None,
        display_name: str,
        language: str | None,
        status: UserStatus,
    ) -> tuple[UserView, bool]:
        async with self._db.transaction() as session:
            user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
            if user is None:
                user = await _new_user(
                    session,
                    telegram_id,
                    username,
                    display_name,
                    language or "zh-CN",
                    self._clock.now(),
                    status,
                )
                user.started_at = user.created_at
                return await user_view(session, user), True
            if user.started_at is None:  # created by the operator or an admin; now wrote
                user.started_at = self._clock.now()
            if language and not user.language_known:
                user.language = language
                user.language_known = True
            if username and user.username != username:
                user.username = username
            if display_name and user.display_name != display_name:
                user.display_name = display_name
            return await user_view(session, user), False

    async def user(self, telegram_id: int) -> UserView:
        async with self._db.reading() as session:
            return await user_view(session, await load_user(session, telegram_id))

    async def admins(self) -> list[int]:
        async with self._db.reading() as session:
            return await admin_telegram_ids(session)

    async def find_user(self, query: str) -> UserView:
        """By Telegram id or @username."""
        async with self._db.reading() as session:
            text = query.strip()
            if text.lstrip("-").isdigit():
                return await user_view(session, await load_user(session, int(text)))
            user = await session.scalar(
                select(User).where(func.lower(User.username) == text.lstrip("@").lower())
            )
            if user is None:
                raise NotFound(kind="user", ref=text)
            return await user_view(session, user)

    async def grant_role(self, telegram_id: int, role: Role, *, actor: str) -> UserView:
        now = self._clock.now()
        async with self._db.transaction() as session:
            user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
            if user is None:
                # not written yet: the first update brings Telegram's language
                user = await _new_user(session, telegram_id, None, "", "zh-CN", now)
                user.language_known = False
            admitted = False
            if role is Role.ADMIN:
                user.is_admin = True
                # an operator who makes someone an admin admits them: an admin still waiting
                # at the registration door would hold the flag without admin rights
                admitted = user.status in (UserStatus.PENDING, UserStatus.REJECTED)
                if admitted:
                    user.status = UserStatus.ACTIVE
            elif role is Role.RESELLER:
                user.is_reseller = True
            else:
                user.is_supplier = True
                await _ensure_supplier(session, user, now)
            payload: dict[str, Any] = (
                {"role": role.value, "admitted": True} if admitted else {"role": role.value}
            )
            return await _user_changed(
                session, user, action="role.grant", payload=payload, actor=actor, now=now
            )

    async def set_language(self, telegram_id: int, language: str) -> UserView:
        if language not in LANGUAGES:
            raise InvalidInput(field="language", value=language)
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            user.language = language
            user.language_known = True
            return await user_view(session, user)

    async def set_level(self, telegram_id: int, level_name: str, *, actor: str) -> UserView:
        now = self._clock.now()
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            level = await load_level(session, level_name)
            user.level_id = level.id
            return await _user_changed(
                session,
                user,
                action="user.level",
                payload={"level": level.name},
                actor=actor,
                now=now,
            )

    async def set_status(self, telegram_id: int, status: UserStatus, *, actor: str) -> UserView:
        now = self._clock.now()
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            user.status = status
            return await _user_changed(
                session,
                user,
                action="user.status",
                payload={"status": status.value},
                actor=actor,
                now=now,
            )

    async def set_credit_limit(self, telegram_id: int, limit: int, *, actor: str) -> UserView:
        if limit < 0:
            raise InvalidInput(field="credit_limit", value=limit)
        now = self._clock.now()
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            user.credit_limit = limit
            return await _user_changed(
                session,
                user,
                action="user.credit_limit",
                payload={"limit": limit},
                actor=actor,
                now=now,
            )

    async def levels(self) -> list[str]:
        async with self._db.reading() as session:
            return list(await session.scalars(select(Level.name).order_by(Level.rank)))

    # SKUs ------------------------------------------------------------------

    async def add_sku(self, new: NewSku, *, actor: str, allow_above_face: bool = False) -> SkuView:
        """A new SKU as a draft. Its prices are refused above the face value or at 0
        unless ``allow_above_face`` (the operator's ``--force``)."""
        code = new.code.strip().upper()
        if not SKU_CODE.match(code):
            raise InvalidInput(field="sku_code", value=new.code)
        if not new.name.strip():
            raise InvalidInput(field="name", value=new.name)
        if not 0 <= new.supply_price <= new.default_price:
            raise InvalidInput(field="default_price", value=new.default_price)
        for level_name, price in new.level_prices.items():
            if price < new.supply_price:
                raise InvalidInput(field=f"price:{level_name}", value=price)
        for price in (new.default_price, *new.level_prices.values()):
            check_sale_price(price, new.face_value, allow_above_face=allow_above_face)
        direct = bool(new.direct_fields)
        if direct:
            check_fields(new.direct_fields)
            if not 0 < new.direct_deadline_minutes <= MAX_DEADLINE_MINUTES:
                raise InvalidInput(
                    field="deadline_minutes",
                    value=new.direct_deadline_minutes,
                    max=MAX_DEADLINE_MINUTES,
                )
        now = self._clock.now()
        async with self._db.transaction() as session:
            if await session.scalar(select(Sku.id).where(Sku.code == code)) is not None:
                raise InvalidInput(field="sku_code", value=code, reason="taken")
            supplier_user = await load_user(session, new.supplier_telegram_id)
            supplier = await session.scalar(
                select(Supplier).where(Supplier.user_id == supplier_user.id)
            )
            if supplier is None:
                raise NotFound(kind="supplier", ref=str(new.supplier_telegram_id))
            category = await _category(session, new.category)
            sku = Sku(
                code=code,
                name=new.name.strip(),
                category_id=category.id,
                supplier_id=supplier.id,
                face_value=new.face_value,
                supply_price=new.supply_price,
                default_price=new.default_price,
                stock_kind=StockKind.CYCLIC if direct else new.stock_kind,
                exclusive=new.exclusive,
                status=SkuStatus.DRAFT,
                created_at=now,
            )
            session.add(sku)
            await session.flush()
            if direct:
                session.add(
                    DirectSku(
                        sku_id=sku.id,
                        fields=fields_to_json(new.direct_fields),
                        deadline_minutes=new.direct_deadline_minutes,
                    )
                )
            for level_name, price in new.level_prices.items():
                level = await load_level(session, level_name)
                session.add(SkuLevelPrice(sku_id=sku.id, level_id=level.id, price=price))
            await audit.append(
                session,
                action="sku.add",
                actor=actor,
                subject=f"sku:{code}",
                payload={
                    "name": sku.name,
                    "supply_price": sku.supply_price,
                    "default_price": sku.default_price,
                },
                now=now,
            )
            return sku_view(sku, category.name)

    async def set_sku_status(self, code: str, status: SkuStatus, *, actor: str) -> SkuView:
        now = self._clock.now()
        async with self._db.transaction() as session:
            sku = await load_sku(session, code)
            previous = sku.status
            sku.status = status
            await audit.append(
                session,
                action="sku.status",
                actor=actor,
                subject=f"sku:{sku.code}",
                payload={"from": previous.value, "to": status.value},
                now=now,
            )
            category = await session.scalar(
                select(Category.name).where(Category.id == sku.category_id)
            )
            return sku_view(sku, category or "")

    async def sku(self, code: str) -> SkuView:
        async with self._db.reading() as session:
            sku = await load_sku(session, code)
            category = await session.scalar(
                select(Category.name).where(Category.id == sku.category_id)
            )
            return sku_view(sku, category or "")

    async def stock_count(self, code: str) -> int | None:
        """Codes left to sell; ``None`` for a cyclic SKU that never runs out."""
        async with self._db.reading() as session:
            sku = await load_sku(session, code)
            if sku.stock_kind is StockKind.CYCLIC:
                return None
            local = int(
                await session.scalar(
                    select(func.count()).where(
                        Code.sku_id == sku.id, Code.status == CodeStatus.AVAILABLE
                    )
                )
                or 0
            )
            mirrored = await session.execute(  # an upstream's SKU: the upstream's stock
                select(UpstreamSku.stock).where(UpstreamSku.sku_id == sku.id)
            )
            if (row := mirrored.first()) is not None:  # and ours: what it delivered late
                return upstream_stock(row.stock, local)
            return local

    async def add_quantity_break(
        self,
        *,
        min_quantity: int,
        discount_bps: int,
        sku_code: str | None = None,
        category: str | None = None,
        actor: str,
    ) -> None:
        if (sku_code is None) == (category is None):
            raise InvalidInput(field="scope", value="give a SKU or a category")
        if min_quantity < 2 or not 0 < discount_bps < 10_000:
            raise InvalidInput(field="quantity_break", value=f"{min_quantity}:{discount_bps}")
        async with self._db.transaction() as session:
            rule = QuantityBreak(min_quantity=min_quantity, discount_bps=discount_bps)
            if sku_code is not None:
                rule.sku_id = (await load_sku(session, sku_code)).id
            else:
                assert category is not None
                rule.category_id = (await _category(session, category)).id
            session.add(rule)
            await audit.append(
                session,
                action="price.break",
                actor=actor,
                subject=f"sku:{sku_code}" if sku_code else f"category:{category}",
                payload={"min_quantity": min_quantity, "discount_bps": discount_bps},
                now=self._clock.now(),
            )

    async def add_promotion(
        self,
        *,
        name: str,
        kind: PromotionKind,
        starts_at: datetime,
        ends_at: datetime,
        percent_off_bps: int | None = None,
        fixed_price: int | None = None,
        sku_codes: tuple[str, ...] = (),
        category: str | None = None,
        levels: tuple[str, ...] = (),
        announcement: str = "",
        actor: str,
    ) -> int:
        async with self._db.transaction() as session:
            return await insert_promotion(
                session,
                name=name,
                kind=kind,
                starts_at=starts_at,
                ends_at=ends_at,
                percent_off_bps=percent_off_bps,
                fixed_price=fixed_price,
                sku_codes=sku_codes,
                category=category,
                levels=levels,
                announcement=announcement,
                actor=actor,
                now=self._clock.now(),
            )


async def shelf_category(session: AsyncSession, name: str, *, create: bool = False) -> Category:
    """The category an operator names to shelve goods in. An unknown name is refused with
    the names there are (a typo would otherwise open a new, near-empty category that
    resellers see); ``create`` opens it on purpose."""
    clean = " ".join(name.split())
    if not clean or len(clean) > 64:
        raise InvalidInput(field="category", value=name[:80])
    category = await session.scalar(select(Category).where(Category.name == clean))
    if category is not None:
        return category
    if not create:
        known = await session.scalars(select(Category.name).order_by(Category.name))
        raise NotFound(kind="category", ref=clean, known=", ".join(known))
    category = Category(name=clean)
    session.add(category)
    await session.flush()
    return category


async def _category(session: AsyncSession, name: str) -> Category:
    clean = name.strip()
    if not clean:
        raise InvalidInput(field="category", value=name)
    category = await session.scalar(select(Category).where(Category.name == clean))
    if category is None:
        category = Category(name=clean)
        session.add(category)
        await session.flush()
    return category


async def _ensure_supplier(
    session: AsyncSession, user: User, now: datetime, name: str | None = None
) -> Supplier:
    supplier = await session.scalar(select(Supplier).where(Supplier.user_id == user.id))
    if supplier is None:
        name = name or user.display_name or user.username or f"supplier {user.telegram_id}"
        supplier = Supplier(user_id=user.id, name=name, created_at=now)
        session.add(supplier)
        await session.flush()
        await open_account(session, AccountKind.SUPPLIER_PAYABLE, supplier.id)
    return supplier


async def insert_promotion(
    session: AsyncSession,
    *,
    name: str,
    kind: PromotionKind,
    starts_at: datetime,
    ends_at: datetime,
    percent_off_bps: int | None = None,
    fixed_price: int | None = None,
    sku_codes: tuple[str, ...] = (),
    category: str | None = None,
    levels: tuple[str, ...] = (),
    announcement: str = "",
    actor: str,
    now: datetime,
) -> int:
    """``Catalogue.add_promotion`` inside the caller's transaction (with its jobs, say)."""
    if ends_at <= starts_at:
        raise InvalidInput(field="window", value="ends before it starts")
    if bool(sku_codes) == (category is not None):
        raise InvalidInput(field="scope", value="give SKUs or a category")
    if kind is PromotionKind.PERCENT_OFF and not (percent_off_bps and 0 < percent_off_bps < 10_000):
        raise InvalidInput(field="percent_off", value=percent_off_bps)
    if kind is PromotionKind.FIXED_PRICE and (fixed_price is None or fixed_price < 0):
        raise InvalidInput(field="fixed_price", value=fixed_price)
    promotion = Promotion(
        name=name,
        kind=kind,
        percent_off_bps=percent_off_bps,
        fixed_price=fixed_price,
        starts_at=starts_at,
        ends_at=ends_at,
        announcement=announcement,
        created_at=now,
    )
    if category is not None:
        promotion.category_id = (await _category(session, category)).id
    session.add(promotion)
    await session.flush()
    for code in sku_codes:
        sku = await load_sku(session, code)
        session.add(PromotionSku(promotion_id=promotion.id, sku_id=sku.id))
    for level_name in levels:
        level = await load_level(session, level_name)
        session.add(PromotionLevel(promotion_id=promotion.id, level_id=level.id))
    await audit.append(
        session,
        action="promotion.add",
        actor=actor,
        subject=f"promotion:{name}",
        payload={
            "kind": kind.value,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
        },
        now=now,
    )
    return promotion.id
