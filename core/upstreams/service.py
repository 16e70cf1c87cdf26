"""The upstream registry and its sync: products → SKUs, re-priced, stock mirrored.

A sync asks the upstream first (no transaction open while it waits), then applies what it
got in one transaction. A sync whose call fails changes nothing in the catalogue: it
records the reason and, the first time only, logs ``failed`` and tells every admin (an
outbox notice); the next sync that works logs ``recovered`` and tells them once more.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.catalogue import shelf_category
from core.clock import Clock, as_utc
from core.crypto import CodeCipher
from core.db import Database
from core.decisions.account_fields import upstream_fields
from core.decisions.fulfilment import AccountField, fields_to_json
from core.errors import InvalidInput, NotFound, UnknownProtocol, UpstreamError
from core.jobs import JobContext, NewJob, add_jobs
from core.ledger import open_account
from core.models import (
    AccountKind,
    Category,
    Level,
    ScheduledJob,
    Sku,
    SkuStatus,
    StockKind,
    Supplier,
    Upstream,
    UpstreamCategoryMap,
    UpstreamChange,
    UpstreamPriceRule,
    UpstreamSku,
    User,
)
from core.outbox import enqueue
from core.pricing.upstream import MarkupRule, Priced, price_from_cost
from core.upstreams import dujiao, kameng
from core.upstreams.adapter import (
    Credentials,
    HttpClient,
    ProductKind,
    UpstreamAdapter,
    UpstreamProduct,
)
from core.upstreams.http import DEFAULT_TIMEOUT, UrllibClient
from core.upstreams.shelf import category_key, shelve

UPSTREAM_ALERT = "upstream_alert"  # outbox kind: to each admin, a sync failed / recovered
UPSTREAM_SYNC = "upstream.sync"  # job kind: sync every enabled upstream, then the next run
PROTOCOLS = (kameng.PROTOCOL, dujiao.PROTOCOL)
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_USER_BASE = -(10**15)  # upstreams' supplier users: ids no Telegram user has

#: (upstream name, protocol, credentials) → the adapter
AdapterFactory = Callable[[str, str, Credentials], UpstreamAdapter]


def callback_path(name: str) -> str:
    """Where an upstream posts its order callbacks, under the API's public address."""
    return f"/upstream/{name}/callback"


def default_adapters(http: HttpClient, clock: Clock, callback_base: str = "") -> AdapterFactory:
    """``callback_base``: the API's public address (``KAMENG_UPSTREAM_CALLBACK_BASE``); empty,
    no callback URL is sent and orders are followed by querying them."""

    def build(name: str, protocol: str, credentials: Credentials) -> UpstreamAdapter:
        if protocol == kameng.PROTOCOL:
            return kameng.KamengAdapter(credentials, http)
        if protocol == dujiao.PROTOCOL:
            base = callback_base.rstrip("/")
            path = urlsplit(base).path + callback_path(name)
            url = base + callback_path(name) if base else None
            return dujiao.DujiaoAdapter(
                credentials, http, clock, callback_url=url, callback_path=path
            )
        raise UnknownProtocol(protocol=protocol, known=", ".join(PROTOCOLS))

    return build


@dataclass(frozen=True)
class NewUpstream:
    name: str
    protocol: str
    base_url: str
    key: str
    secret: str = ""
    category: str = "Upstream"
    markup_bps: int = 0
    markup_fixed: int = 0
    round_to: int = 1

    def __repr__(self) -> str:  # never show the secrets
        return f"NewUpstream({self.name!r}, {self.protocol!r}, {self.base_url!r})"


@dataclass(frozen=True)
class UpstreamView:
    id: int
    name: str
    protocol: str
    base_url: str
    enabled: bool
    skus: int
    on_sale: int
    last_sync_at: datetime | None
    last_sync_ok_at: datetime | None
    last_error: str | None
    last_balance: int | None


@dataclass(frozen=True)
class RuleView:
    category: str | None  # None: the upstream's default
    markup_bps: int
    markup_fixed: int
    round_to: int


@dataclass(frozen=True)
class ChangeView:
    at: datetime
    kind: str  # created, repriced, suspended, resumed, failed, recovered
    sku_code: str | None
    old_value: int | None
    new_value: int | None
    detail: str


@dataclass(frozen=True)
class ShelfView:
    """Where the upstream's category ``upstream_category`` is shelved with us."""

    upstream_category: str
    category: str


@dataclass(frozen=True)
class UpstreamDetail:
    upstream: UpstreamView
    rules: list[RuleView]
    changes: list[ChangeView]
    default_category: str = ""  # where its unmapped new products go
    shelves: list[ShelfView] = field(default_factory=list)


@dataclass(frozen=True)
class UpstreamListing:
    """What a SKU is at its upstream, as the last sync saw it (for procurement)."""

    upstream: str
    product_ref: str  # what ``place_order`` names
    cost: int
    face_value: int | None
    stock: int | None  # None: unlimited
    selling: bool
    kind: ProductKind
    account_fields: tuple[AccountField, ...]


async def load_listing(session: AsyncSession, sku_id: int) -> UpstreamListing | None:
    """The SKU's upstream listing inside the caller's transaction; None for a local SKU."""
    row = (
        await session.execute(
            select(UpstreamSku, Upstream.name)
            .join(Upstream, Upstream.id == UpstreamSku.upstream_id)
            .where(UpstreamSku.sku_id == sku_id)
        )
    ).first()
    if row is None:
        return None
    listing, name = row
    return UpstreamListing(
        upstream=name,
        product_ref=listing.product_ref,
        cost=listing.cost,
        face_value=listing.face_value,
        stock=listing.stock,
        selling=listing.selling,
        kind=ProductKind(listing.kind),
        account_fields=upstream_fields(listing.account_fields),
    )


@dataclass(frozen=True)
class SyncReport:
    upstream: str
    ok: bool
    created: int = 0
    repriced: int = 0
    suspended: int = 0
    resumed: int = 0
    products: int = 0
    error: str | None = None
    alerted: bool = False  # admins were told (first failure, or recovery)


def _sku_code(upstream_id: int, ref: str, taken: set[str]) -> str:
    clean = re.sub(r"[^A-Z0-9_-]", "-", ref.upper())[:26]
    code = f"U{upstream_id}-{clean}"
    if code in taken or not clean:
        code = f"U{upstream_id}-{hashlib.sha256(ref.encode()).hexdigest()[:12].upper()}"
    return code


class Upstreams:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        cipher: CodeCipher,
        *,
        adapters: AdapterFactory | None = None,
        sync_every: timedelta = timedelta(minutes=15),
        callback_base: str = "",
        timeout_seconds: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._db = db
        self._clock = clock
        self._cipher = cipher
        self._adapters = adapters or default_adapters(
            UrllibClient(timeout_seconds), clock, callback_base
        )
        self._every = sync_every

    # --- the registry ---

    async def add(self, new: NewUpstream, *, actor: str) -> UpstreamView:
        """A new upstream: its supplier (with a payable and a prepaid account), its default
        price rule, its secrets encrypted, and the scheduled sync (one period from now; the
        operator syncs it at once by hand)."""
        name = new.name.strip().lower()
        if not NAME.match(name):
            raise InvalidInput(field="name", value=new.name)
        if new.protocol not in PROTOCOLS:
            raise UnknownProtocol(protocol=new.protocol, known=", ".join(PROTOCOLS))
        url = new.base_url.strip()
        if not url.startswith(("http://", "https://")) or len(url) > 255:
            raise InvalidInput(field="url", value=url[:80])
        if not new.key:
            raise InvalidInput(field="key", value="")
        _check_rule(new.markup_bps, new.markup_fixed, new.round_to)
        now = self._clock.now()
        async with self._db.transaction() as session:
            if await session.scalar(select(Upstream.id).where(Upstream.name == name)):
                raise InvalidInput(field="name", value=name, reason="taken")
            category = await _category(session, new.category)
            user = await _supplier_user(session, name, now)
            supplier = Supplier(user_id=user.id, name=f"upstream {name}", created_at=now)
            session.add(supplier)
            await session.flush()
            await open_account(session, AccountKind.SUPPLIER_PAYABLE, supplier.id)
            upstream = Upstream(
                name=name,
                protocol=new.protocol,
                base_url=url,
                key_cipher=self._cipher.encrypt(new.key),
                secret_cipher=self._cipher.encrypt(new.secret),
                supplier_id=supplier.id,
                category_id=category.id,
                enabled=True,
                created_at=now,
            )
            session.add(upstream)
            await session.flush()
            await open_account(session, AccountKind.UPSTREAM_PREPAID, upstream.id)
            session.add(
                UpstreamPriceRule(
                    upstream_id=upstream.id,
                    category_id=None,
                    markup_bps=new.markup_bps,
                    markup_fixed=new.markup_fixed,
                    round_to=new.round_to,
                )
            )
            await _schedule_next(session, now, now + self._every)  # the first sync: by hand
            await audit.append(
                session,
                action="upstream.add",
                actor=actor,
                subject=f"upstream:{name}",
                payload={"protocol": new.protocol, "url": url},
                now=now,
            )
            await session.flush()
            return await _view(session, upstream)

    async def set_rule(
        self,
        name: str,
        *,
        category: str | None,
        markup_bps: int,
        markup_fixed: int = 0,
        round_to: int = 1,
        actor: str,
    ) -> RuleView:
        """The upstream's default rule (``category`` None) or a category's; the next sync
        re-prices."""
        _check_rule(markup_bps, markup_fixed, round_to)
        now = self._clock.now()
        async with self._db.transaction() as session:
            upstream = await _load(session, name)
            category_id = None if category is None else (await _category(session, category)).id
            rule = await session.scalar(
                select(UpstreamPriceRule).where(
                    UpstreamPriceRule.upstream_id == upstream.id,
                    UpstreamPriceRule.category_id.is_(None)
                    if category_id is None
                    else UpstreamPriceRule.category_id == category_id,
                )
            )
            if rule is None:
                rule = UpstreamPriceRule(upstream_id=upstream.id, category_id=category_id)
                session.add(rule)
            rule.markup_bps, rule.markup_fixed, rule.round_to = markup_bps, markup_fixed, round_to
            await audit.append(
                session,
                action="upstream.price_rule",
                actor=actor,
                subject=f"upstream:{upstream.name}",
                payload={
                    "category": category,
                    "markup_bps": markup_bps,
                    "markup_fixed": markup_fixed,
                    "round_to": round_to,
                },
                now=now,
            )
            return RuleView(category, markup_bps, markup_fixed, round_to)

    async def map_category(
        self,
        name: str,
        upstream_category: str,
        category: str | None,
        *,
        actor: str,
        create: bool = False,
    ) -> ShelfView | None:
        """Shelve the upstream's category ``upstream_category`` in our ``category`` (an
        existing one unless ``create``), or forget the mapping (``category`` None: its new
        products go to the upstream's default again). Only new products follow it: a SKU
        already listed stays where it is (an operator may have moved it)."""
        source = " ".join(upstream_category.split())
        if not source or len(source) > 64:
            raise InvalidInput(field="upstream_category", value=upstream_category[:80])
        now = self._clock.now()
        async with self._db.transaction() as session:
            upstream = await _load(session, name)
            rows = await session.scalars(
                select(UpstreamCategoryMap).where(UpstreamCategoryMap.upstream_id == upstream.id)
            )
            row = next(
                (r for r in rows if category_key(r.upstream_category) == category_key(source)), None
            )
            target = (
                None if category is None else await shelf_category(session, category, create=create)
            )
            if target is None:
                if row is None:
                    raise NotFound(kind="category_map", ref=source)
                await session.delete(row)
            elif row is None:
                session.add(
                    UpstreamCategoryMap(
                        upstream_id=upstream.id, upstream_category=source, category_id=target.id
                    )
                )
            else:
                row.upstream_category, row.category_id = source, target.id
            await audit.append(
                session,
                action="upstream.category",
                actor=actor,
                subject=f"upstream:{upstream.name}",
                payload={"from": source, "to": None if target is None else target.name},
                now=now,
            )
            return None if target is None else ShelfView(source, target.name)

    async def set_url(self, name: str, base_url: str, *, actor: str) -> UpstreamView:
        """The upstream moved (a new address, same account)."""
        url = base_url.strip()
        if not url.startswith(("http://", "https://")) or len(url) > 255:
            raise InvalidInput(field="url", value=url[:80])
        now = self._clock.now()
        async with self._db.transaction() as session:
            upstream = await _load(session, name)
            upstream.base_url = url
            await audit.append(
                session,
                action="upstream.url",
                actor=actor,
                subject=f"upstream:{upstream.name}",
                payload={"url": url},
                now=now,
            )
            return await _view(session, upstream)

    async def all(self) -> list[UpstreamView]:
        async with self._db.reading() as session:
            rows = await session.scalars(select(Upstream).order_by(Upstream.name))
            return [await _view(session, u) for u in rows]

    async def show(self, name: str, *, changes: int = 10) -> UpstreamDetail:
        async with self._db.reading() as session:
            upstream = await _load(session, name)
            rules = await session.execute(
                select(UpstreamPriceRule, Category.name)
                .outerjoin(Category, Category.id == UpstreamPriceRule.category_id)
                .where(UpstreamPriceRule.upstream_id == upstream.id)
                .order_by(UpstreamPriceRule.id)
            )
            shelves = await session.execute(
                select(UpstreamCategoryMap.upstream_category, Category.name)
                .join(Category, Category.id == UpstreamCategoryMap.category_id)
                .where(UpstreamCategoryMap.upstream_id == upstream.id)
                .order_by(UpstreamCategoryMap.upstream_category)
            )
            default = await session.scalar(
                select(Category.name).where(Category.id == upstream.category_id)
            )
            return UpstreamDetail(
                upstream=await _view(session, upstream),
                rules=[RuleView(cat, r.markup_bps, r.markup_fixed, r.round_to) for r, cat in rules],
                changes=await _changes(session, upstream.id, changes),
                default_category=default or "",
                shelves=[ShelfView(src, ours) for src, ours in shelves],
            )

    async def changes(self, name: str, *, limit: int = 20) -> list[ChangeView]:
        async with self._db.reading() as session:
            upstream = await _load(session, name)
            return await _changes(session, upstream.id, limit)

    async def listing(self, sku_code: str) -> UpstreamListing | None:
        """The SKU's upstream listing, or None for a SKU with local codes."""
        async with self._db.reading() as session:
            sku_id = await session.scalar(select(Sku.id).where(Sku.code == sku_code.upper()))
            if sku_id is None:
                raise NotFound(kind="sku", ref=sku_code)
            return await load_listing(session, sku_id)

    async def adapter(self, name: str) -> UpstreamAdapter:
        """The named upstream's adapter, its secrets decrypted (for procurement)."""
        async with self._db.reading() as session:
            upstream = await _load(session, name)
            return self._adapter_of(upstream)

    def _adapter_of(self, upstream: Upstream) -> UpstreamAdapter:
        credentials = Credentials(
            upstream.base_url,
            self._cipher.decrypt(upstream.key_cipher),
            self._cipher.decrypt(upstream.secret_cipher),
        )
        return self._adapters(upstream.name, upstream.protocol, credentials)

    # --- the sync ---

    async def sync(self, name: str, *, actor: str = "system:sync") -> SyncReport:
        async with self._db.reading() as session:
            upstream = await _load(session, name)
            adapter = self._adapter_of(upstream)
        try:
            products = await adapter.products()
        except UpstreamError as error:
            return await self._failed(name, str(error.params.get("reason") or error.code))
        except (KeyError, ValueError, TypeError, AttributeError):
            return await self._failed(name, "unreadable answer")
        try:
            balance = await adapter.balance()
        except (UpstreamError, KeyError, ValueError, TypeError):
            balance = None  # the balance is for show; the products are the sync
        return await self._apply(name, products, balance, actor)

    async def sync_all(self) -> list[SyncReport]:
        async with self._db.reading() as session:
            names = list(
                await session.scalars(
                    select(Upstream.name).where(Upstream.enabled).order_by(Upstream.name)
                )
            )
        return [await self.sync(name) for name in names]

    async def run_sync_job(self, context: JobContext) -> None:
        """The scheduled sync: every enabled upstream, then the next run is scheduled."""
        await self.sync_all()
        now = self._clock.now()
        async with self._db.transaction() as session:
            await _schedule_next(session, now, now + self._every)

    async def _failed(self, name: str, reason: str) -> SyncReport:
        now = self._clock.now()
        async with self._db.transaction() as session:
            upstream = await _load(session, name, lock=True)
            first = upstream.last_error is None
            upstream.last_sync_at = now
            upstream.last_error = reason[:500]
            await _schedule_next(session, now, now + self._every)  # a missed run broke the chain
            if first:
                session.add(
                    UpstreamChange(
                        upstream_id=upstream.id, at=now, kind="failed", detail=reason[:500]
                    )
                )
                await _alert(session, upstream.name, "failed", reason, now)
        return SyncReport(upstream=name, ok=False, error=reason, alerted=first)

    async def _apply(
        self, name: str, products: list[UpstreamProduct], balance: int | None, actor: str
    ) -> SyncReport:
        now = self._clock.now()
        counts = {"created": 0, "repriced": 0, "suspended": 0, "resumed": 0}
        async with self._db.transaction() as session:
            upstream = await _load(session, name, lock=True)
            rules = {
                r.category_id: MarkupRule(r.markup_bps, r.markup_fixed, r.round_to)
                for r in await session.scalars(
                    select(UpstreamPriceRule).where(UpstreamPriceRule.upstream_id == upstream.id)
                )
            }
            mapped = {
                row.product_ref: row
                for row in await session.scalars(
                    select(UpstreamSku).where(UpstreamSku.upstream_id == upstream.id)
                )
            }
            skus = {
                sku.id: sku
                for sku in await session.scalars(
                    select(Sku).where(Sku.id.in_([r.sku_id for r in mapped.values()]))
                )
            }
            taken = set(
                await session.scalars(select(Sku.code).where(Sku.code.like(f"U{upstream.id}-%")))
            )
            shelves = await _shelves(session, upstream.id)

            def log(
                kind: str, sku: Sku | None, old: int | None, new: int | None, detail: str
            ) -> None:
                counts[kind] = counts.get(kind, 0) + 1
                session.add(
                    UpstreamChange(
                        upstream_id=upstream.id,
                        at=now,
                        kind=kind,
                        sku_id=None if sku is None else sku.id,
                        old_value=old,
                        new_value=new,
                        detail=detail,
                    )
                )

            seen: set[str] = set()
            for product in products:
                if product.id in seen:
                    continue
                seen.add(product.id)
                row = mapped.get(product.id)
                category_id = shelve(
                    None if row is None else skus[row.sku_id].category_id,
                    product.category,
                    shelves,
                    upstream.category_id,
                )
                rule = rules.get(category_id) or rules.get(None) or MarkupRule()
                priced = price_from_cost(product.cost, product.face_value, rule)
                sells = product.selling and isinstance(priced, Priced)
                why = "not_selling" if not product.selling else getattr(priced, "reason", "")
                price = priced.price if isinstance(priced, Priced) else product.cost
                face = product.face_value if product.face_value is not None else price
                if row is None:
                    code = _sku_code(upstream.id, product.id, taken)
                    taken.add(code)
                    sku = Sku(
                        code=code,
                        name=product.name,
                        category_id=category_id,
                        supplier_id=upstream.supplier_id,
                        face_value=face,
                        supply_price=product.cost,
                        default_price=price,
                        stock_kind=StockKind.UNIQUE,
                        exclusive=False,
                        status=SkuStatus.ACTIVE if sells else SkuStatus.SUSPENDED,
                        created_at=now,
                    )
                    session.add(sku)
                    await session.flush()
                    row = UpstreamSku(
                        upstream_id=upstream.id, product_ref=product.id, sku_id=sku.id
                    )
                    row.suspended_reason = None if sells else why
                    session.add(row)
                    log("created", sku, None, price, product.id)
                else:
                    sku = skus[row.sku_id]
                    old = sku.default_price
                    if isinstance(priced, Priced):
                        sku.supply_price, sku.default_price, sku.face_value = (
                            product.cost,
                            price,
                            face,
                        )
                        if price != old:
                            log("repriced", sku, old, price, f"cost {product.cost}")
                    if not sells and sku.status is SkuStatus.ACTIVE:
                        sku.status = SkuStatus.SUSPENDED
                        row.suspended_reason = why
                        log("suspended", sku, None, None, why)
                    elif sells and sku.status is SkuStatus.SUSPENDED and row.suspended_reason:
                        sku.status = SkuStatus.ACTIVE
                        row.suspended_reason = None
                        log("resumed", sku, None, None, "")
                row.name = product.name
                row.cost = product.cost
                row.face_value = product.face_value
                row.stock = product.stock
                row.selling = product.selling
                row.kind = product.kind.value
                row.account_fields = fields_to_json(product.account_fields)
                row.synced_at = now
            for ref, row in mapped.items():
                if ref in seen:
                    continue
                sku = skus[row.sku_id]
                row.selling, row.stock = False, 0
                if sku.status is SkuStatus.ACTIVE:
                    sku.status = SkuStatus.SUSPENDED
                    row.suspended_reason = "gone"
                    log("suspended", sku, None, None, "gone")
            recovered = upstream.last_error is not None
            if recovered:
                log("recovered", None, None, None, upstream.last_error or "")
                await _alert(session, upstream.name, "recovered", "", now)
            upstream.last_error = None
            upstream.last_sync_at = upstream.last_sync_ok_at = now
            upstream.last_balance = balance
            await _schedule_next(session, now, now + self._every)  # a missed run broke the chain
            changed = {k: v for k, v in counts.items() if v}
            if changed:
                await audit.append(
                    session,
                    action="upstream.sync",
                    actor=actor,
                    subject=f"upstream:{upstream.name}",
                    payload=changed,
                    now=now,
                )
        return SyncReport(
            upstream=name,
            ok=True,
            created=counts["created"],
            repriced=counts["repriced"],
            suspended=counts["suspended"],
            resumed=counts["resumed"],
            products=len(seen),
            alerted=recovered,
        )


def _check_rule(markup_bps: int, markup_fixed: int, round_to: int) -> None:
    if not 0 <= markup_bps <= 100_000:
        raise InvalidInput(field="markup", value=markup_bps)
    if markup_fixed < 0:
        raise InvalidInput(field="markup_fixed", value=markup_fixed)
    if not 1 <= round_to <= 1_000_000:
        raise InvalidInput(field="round_to", value=round_to)


async def _load(session: AsyncSession, name: str, *, lock: bool = False) -> Upstream:
    """The named upstream; ``lock``: its row held to the end of the transaction, so two syncs
    of one upstream (the schedule and an admin's button) apply one after the other."""
    query = select(Upstream).where(Upstream.name == name.strip().lower())
    upstream = await session.scalar(query.with_for_update() if lock else query)
    if upstream is None:
        raise NotFound(kind="upstream", ref=name)
    return upstream


async def _category(session: AsyncSession, name: str) -> Category:
    clean = name.strip()[:64]
    if not clean:
        raise InvalidInput(field="category", value=name)
    category = await session.scalar(select(Category).where(Category.name == clean))
    if category is None:
        category = Category(name=clean)
        session.add(category)
        await session.flush()
    return category


async def _shelves(session: AsyncSession, upstream_id: int) -> dict[str, int]:
    """The upstream's category map: ``category_key`` of its category → our category id."""
    rows = await session.scalars(
        select(UpstreamCategoryMap).where(UpstreamCategoryMap.upstream_id == upstream_id)
    )
    return {category_key(r.upstream_category): r.category_id for r in rows}


async def _supplier_user(session: AsyncSession, name: str, now: datetime) -> User:
    """The user an upstream's supplier hangs on: no Telegram id (a negative one), never
    started, so the bot never writes to it."""
    lowest = await session.scalar(select(Level.id).order_by(Level.rank).limit(1))
    assert lowest is not None, "the migrations seed at least one level"
    floor = await session.scalar(select(func.min(User.telegram_id)))
    telegram_id = min(int(floor or 0), _USER_BASE) - 1
    user = User(
        telegram_id=telegram_id,
        username=None,
        display_name=f"upstream {name}",
        level_id=lowest,
        language="en",
        is_reseller=False,
        is_supplier=True,
        is_admin=False,
        credit_limit=0,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    return user


async def _schedule_next(session: AsyncSession, now: datetime, run_at: datetime) -> None:
    """One pending sync job at a time: the key is the run's minute."""
    waiting = await session.scalar(
        select(ScheduledJob.id).where(
            ScheduledJob.kind == UPSTREAM_SYNC, ScheduledJob.status == "pending"
        )
    )
    if waiting is None:
        key = f"{UPSTREAM_SYNC}:{as_utc(run_at).strftime('%Y%m%dT%H%M%S')}"
        if await session.scalar(select(ScheduledJob.id).where(ScheduledJob.key == key)) is None:
            add_jobs(session, [NewJob(key=key, kind=UPSTREAM_SYNC, run_at=run_at)], now)


async def _alert(session: AsyncSession, name: str, state: str, reason: str, now: datetime) -> None:
    admins = await session.scalars(select(User.id).where(User.is_admin))
    for admin_id in admins:
        await enqueue(
            session,
            kind=UPSTREAM_ALERT,
            user_id=admin_id,
            payload={"upstream": name, "state": state, "reason": reason[:200]},
            now=now,
        )


async def _view(session: AsyncSession, upstream: Upstream) -> UpstreamView:
    counts = (
        await session.execute(
            select(
                func.count(Sku.id),
                func.count(Sku.id).filter(Sku.status == SkuStatus.ACTIVE),
            ).where(Sku.supplier_id == upstream.supplier_id)
        )
    ).one()
    return UpstreamView(
        id=upstream.id,
        name=upstream.name,
        protocol=upstream.protocol,
        base_url=upstream.base_url,
        enabled=upstream.enabled,
        skus=int(counts[0]),
        on_sale=int(counts[1]),
        last_sync_at=_utc(upstream.last_sync_at),
        last_sync_ok_at=_utc(upstream.last_sync_ok_at),
        last_error=upstream.last_error,
        last_balance=upstream.last_balance,
    )


def _utc(at: datetime | None) -> datetime | None:
    return None if at is None else as_utc(at)


async def _changes(session: AsyncSession, upstream_id: int, limit: int) -> list[ChangeView]:
    rows = await session.execute(
        select(UpstreamChange, Sku.code)
        .outerjoin(Sku, Sku.id == UpstreamChange.sku_id)
        .where(UpstreamChange.upstream_id == upstream_id)
        .order_by(UpstreamChange.id.desc())
        .limit(limit)
    )
    return [
        ChangeView(as_utc(c.at), c.kind, code, c.old_value, c.new_value, c.detail)
        for c, code in rows
    ]
