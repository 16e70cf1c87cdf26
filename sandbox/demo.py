"""The sandbox's demo platform: a shop with four weeks of history, made the way real use makes it.

``build_demo`` fills an empty, migrated database through the core's own use cases only —
no SQL of its own — so the ledger, the audit chain and the outbox hold exactly what a real
shop would: two suppliers applied and were approved, the operator listed their SKUs and an
admin priced them, the suppliers uploaded their codes, resellers of each level were topped
up and bought every day for four weeks, an admin refunded a bad code or two. At "now" a
promotion is running and another starts in a few minutes, a top-up request, a product
review and a withdrawal wait for the admin, and the gold reseller holds an API key.

The past is made by driving a ``DemoClock`` forward from four weeks ago; every use case
reads it, as it reads the system clock in production. Notices the past promised (a sale
notice to a supplier, a withdrawal notice to the admins) were delivered back then by the
bot's outbox worker: ``_deliver_past_notices`` marks them as that worker does, without
sending, so the sandbox's chats start empty instead of replaying four weeks of notices.
What waits at "now" is left for the sandbox's own workers to send.

Deterministic for a given seed: the same catalogue, codes and history (only "now" moves).
"""

from __future__ import annotations

import enum
import random
import string
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, make_url, select

from core.aftersales import REPORTED_TO_SUPPLIER
from core.approvals import DECIDED_NOTICE, REQUEST_NOTICE
from core.catalogue import NewSku, language_for
from core.models import Code, Order, OrderStatus, PromotionKind, Role, Sku, SkuStatus, StockKind
from core.orders import Receipt
from core.outbox import Outcome, finish
from core.platform import Platform, build_platform
from core.promotions import NewPromotion, zone
from core.reports import local_midnight
from core.reviews import NewProduct
from core.settings import Settings
from core.supplier_payouts import WITHDRAWAL_DECIDED, WITHDRAWAL_REQUEST
from core.supplier_sales import SALE
from sandbox import demo_callbacks, demo_payments
from sandbox.demo_ads import show_revenue_levers
from sandbox.demo_categories import GAMES, SOFTWARE, VIDEO
from sandbox.demo_credit import open_credit_and_schedules
from sandbox.demo_direct import add_direct_topup
from sandbox.demo_dujiao import show_dujiao_order
from sandbox.demo_stars import open_stars
from sandbox.demo_upstream import DemoUpstream, add_demo_upstream
from sandbox.demo_usdt import set_up_usdt
from sandbox.personas import (
    ADMIN,
    RESELLER_BRONZE,
    RESELLER_GOLD,
    RESELLER_SILVER,
    SECOND_SUPPLIER,
    SUPPLIER,
    Persona,
)

# sizes and shape of the history -------------------------------------------------------
HISTORY_DAYS = 28  # orders on each of the last four weeks' days
ORDERS_PER_DAY = (6, 12)  # inclusive range, drawn per day
SHOP_HOURS = (9, 23)  # the local hours (``KAMENG_TIMEZONE``) orders fall in
BAD_CODE = "充值提示卡密已被使用 the code says it was used already"


class Event(enum.Enum):
    """What happened after a day's orders, besides more orders."""

    BAD_CODE_REFUNDED = "a reseller reported a bad code; the admin refunded it"
    BAD_CODE_REPLACED = "a reseller reported a bad code; the admin replaced it"
    ORDER_REFUNDED = "a reseller asked; the admin refunded a unit of an order"
    SUPPLIER_PAID = "the second supplier asked to be paid; the admin paid"


EVENTS = {
    17: Event.BAD_CODE_REFUNDED,
    11: Event.BAD_CODE_REPLACED,
    9: Event.SUPPLIER_PAID,
    5: Event.ORDER_REFUNDED,
}  # days ago → what happened that evening
RUNNING_PROMOTION_STARTED = timedelta(minutes=20)  # before now: its announcement is due
SCHEDULED_PROMOTION_STARTS = timedelta(minutes=5)  # after now: the scheduler announces it

OPERATOR = "operator:sandbox"
ADMIN_ACTOR = f"admin:{ADMIN.telegram_id}"
RESELLERS = (RESELLER_BRONZE, RESELLER_SILVER, RESELLER_GOLD)
LEVELS = {RESELLER_BRONZE: "bronze", RESELLER_SILVER: "silver", RESELLER_GOLD: "gold"}
# who buys how often: the gold reseller is the shop's biggest customer
BUYER_WEIGHTS = {RESELLER_BRONZE: 2, RESELLER_SILVER: 3, RESELLER_GOLD: 5}
OPENING_DEPOSIT = {RESELLER_BRONZE: 2_000_00, RESELLER_SILVER: 8_000_00, RESELLER_GOLD: 20_000_00}
TOP_UP_WHEN_BELOW = 1_500_00  # a reseller asks for a top-up before a purchase it cannot pay
TOP_UP_AMOUNT = {RESELLER_BRONZE: 1_000_00, RESELLER_SILVER: 5_000_00, RESELLER_GOLD: 10_000_00}
PENDING_TOP_UP = 800_00  # the bronze reseller's request the admin has not decided yet


@dataclass(frozen=True)
class DemoSku:
    code: str
    name: str
    category: str
    supplier: Persona
    face_value: int
    supply_price: int
    default_price: int
    level_prices: tuple[int, int, int]  # bronze, silver, gold
    stock: int  # codes uploaded (a cyclic SKU has one code, sold to everyone)
    code_format: str  # "key", "card" (number + password), "link" (cyclic)
    weight: int = 3  # how often it sells
    quantity_break: tuple[int, int] | None = None  # (from units, discount bps)
    stock_kind: StockKind = StockKind.UNIQUE
    exclusive: bool = False


CATALOGUE: tuple[DemoSku, ...] = (
    DemoSku("STEAM-50", "Steam 钱包充值卡 50 元", GAMES, SUPPLIER, 50_00, 45_50, 48_00,
            (47_50, 47_00, 46_50), 400, "key", 6, (10, 200)),
    DemoSku("STEAM-100", "Steam 钱包充值卡 100 元", GAMES, SUPPLIER, 100_00, 91_00, 96_00,
            (95_00, 94_00, 93_00), 300, "key", 5, (10, 150)),
    DemoSku("WZRY-60", "王者荣耀 60 点券", GAMES, SUPPLIER, 6_00, 5_40, 5_85,
            (5_80, 5_75, 5_65), 600, "card", 6, (20, 100), exclusive=True),
    DemoSku("WZRY-300", "王者荣耀 300 点券", GAMES, SUPPLIER, 30_00, 27_20, 29_20,
            (29_00, 28_60, 28_20), 300, "card", 4, exclusive=True),
    DemoSku("IQIYI-VIP-M", "爱奇艺 黄金VIP 月卡", VIDEO, SUPPLIER, 25_00, 16_50, 19_90,
            (19_50, 19_00, 18_50), 300, "card", 4),
    DemoSku("TXVIDEO-VIP-M", "腾讯视频 VIP 月卡", VIDEO, SUPPLIER, 30_00, 18_00, 22_00,
            (21_50, 21_00, 20_50), 300, "card", 4),
    DemoSku("PUBG-325UC", "PUBG Mobile 325 UC", GAMES, SECOND_SUPPLIER, 34_00, 30_00, 32_50,
            (32_30, 32_00, 31_50), 250, "key", 3),
    DemoSku("PUBG-660UC", "PUBG Mobile 660 UC", GAMES, SECOND_SUPPLIER, 68_00, 60_00, 65_00,
            (64_50, 64_00, 63_00), 250, "key", 3, (5, 100)),
    DemoSku("STREAMFLIX-M", "StreamFlix Premium 1 month", VIDEO, SECOND_SUPPLIER, 45_00, 36_00,
            42_00, (41_50, 41_00, 40_00), 200, "key", 2),
    DemoSku("WIN11-PRO", "Windows 11 Pro retail key", SOFTWARE, SECOND_SUPPLIER, 129_00, 60_00,
            99_00, (95_00, 89_00, 79_00), 200, "key", 2, (10, 500)),
    DemoSku("OFFICE-2021", "Office 2021 Pro Plus key", SOFTWARE, SECOND_SUPPLIER, 199_00, 80_00,
            149_00, (139_00, 129_00, 119_00), 150, "key", 1),
    DemoSku("VPN-M", "VPN 月付订阅 (shared link, 1 month)", SOFTWARE, SECOND_SUPPLIER, 30_00,
            10_00, 25_00, (24_00, 22_00, 20_00), 1, "link", 2, stock_kind=StockKind.CYCLIC),
)  # fmt: skip

PENDING_PRODUCT = NewProduct(
    name="Adobe Creative Cloud 1 month",
    category=SOFTWARE,
    face_value=280_00,
    supply_price=180_00,
    stock_kind=StockKind.UNIQUE,
    exclusive=False,
    provenance="Authorised Adobe reseller, invoices on request",
)
SUPPLIER_COMPANIES = {
    SUPPLIER: ("晨星卡务 Chenxing Cards", "游戏点卡、视频会员一手货源，微信 chenchen_supply"),
    SECOND_SUPPLIER: ("Leo Keys Ltd", "Game top-ups and software keys, direct from distributors"),
}


@dataclass(frozen=True)
class SandboxDemo:
    api_key: str  # RESELLER_GOLD's reseller API key, in plaintext: shown once, never stored
    api_key_owner: int  # RESELLER_GOLD.telegram_id
    skus: int  # on sale, as the catalogue lists them (the one waiting for review is not)
    codes: int  # uploaded in all
    orders: int  # every order the build made (history, direct top-up, Dujiao, credit)
    refunds: int
    pending_review_sku: str  # the supplier's SKU in the admin's approval queue
    flash_sale_starts_at: datetime  # the scheduled promotion: the scheduler announces it
    seconds: float  # how long the build took
    #: what the build left out, one line each (a rate the demo knows none of in the currency)
    skipped: tuple[str, ...] = ()

    def summary(self) -> str:
        built = (
            f"demo platform: {self.skus} SKUs, {self.codes} codes, {self.orders} past orders "
            f"({self.refunds} refunded) over {HISTORY_DAYS} days, a flash sale announced "
            f"{SCHEDULED_PROMOTION_STARTS.seconds // 60} minutes after the build; "
            f"built in {self.seconds:.1f} s"
        )
        return "\n".join((built, *(f"  skipped: {line}" for line in self.skipped)))

    def __repr__(self) -> str:  # keep the key out of logs and tracebacks
        return f"SandboxDemo(api_key_owner={self.api_key_owner}, orders={self.orders})"


class DemoExists(Exception):
    """``build_demo`` was given a database that has an admin or a supplier already."""

    def __init__(self, database_url: str) -> None:
        super().__init__(
            f"{database_url} is not empty: the demo is built on an empty, migrated database"
        )


class DemoClock:
    """The clock every use case reads while the demo is built: set by hand, never backwards."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = max(self.current, moment)


async def build_demo(
    settings: Settings,
    *,
    seed: int = 0,
    now: datetime | None = None,
    upstream: DemoUpstream | None = None,
) -> SandboxDemo:
    """Fill the empty, migrated database of ``settings`` with the demo platform; ``now``
    (aware) is when the history ends and today's promotions and requests are dated.
    Raises ``DemoExists`` on a database with an admin or a supplier (a kept sandbox's)."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    clock = DemoClock(now - timedelta(days=HISTORY_DAYS + 1))
    platform = build_platform(settings, clock=clock)
    try:
        if await platform.admin.staff():  # whoever built it first made an admin
            raise DemoExists(make_url(settings.database_url).render_as_string())
        builder = _Builder(platform, clock, random.Random(seed))
        await builder.open_shop()
        skipped = [await open_stars(platform)]  # sandbox/demo_stars.py
        await builder.history(now)
        await open_credit_and_schedules(platform)  # sandbox/demo_credit.py
        await show_revenue_levers(platform, clock, now, GAMES)
        pending_sku = await builder.today(now)
        await demo_payments.add_payments(platform, clock.set, now)
        await add_direct_topup(platform, clock, now)  # a mobile top-up
        clock.set(now)
        await add_demo_upstream(platform, upstream)  # sandbox/demo_upstream.py
        issued = await platform.api_keys.issue(RESELLER_GOLD.telegram_id, actor=OPERATOR)
        await show_dujiao_order(platform, issued.token)  # a Dujiao shop
        # last: its shop hears of each order change from now on, not of the demo's history
        await demo_callbacks.add_callback(platform)  # its shop hears of each order change
        skipped.append(await set_up_usdt(platform))  # sandbox/demo_usdt.py: today's rate
        # counted in the database, not as the steps went: every demo module that adds a
        # SKU, a code or an order is in the summary without being told about it
        built = await _count_built(platform)
    finally:
        await platform.close()
    return SandboxDemo(
        api_key=issued.token,
        api_key_owner=RESELLER_GOLD.telegram_id,
        skus=built.skus,
        codes=built.codes,
        orders=built.orders,
        refunds=built.refunds,
        pending_review_sku=pending_sku,
        flash_sale_starts_at=now + SCHEDULED_PROMOTION_STARTS,
        seconds=time.perf_counter() - started,
        skipped=tuple(line for line in skipped if line is not None),
    )


@dataclass(frozen=True)
class _Built:
    skus: int
    codes: int
    orders: int
    refunds: int


async def _count_built(platform: Platform) -> _Built:
    """What the demo's database holds: SKUs on sale (not the one waiting for review),
    codes uploaded, orders, and orders refunded in full or in part."""
    refunded = (OrderStatus.REFUNDED, OrderStatus.PARTLY_REFUNDED)
    async with platform.db.reading() as session:
        skus = await session.scalar(
            select(func.count()).select_from(Sku).where(Sku.status == SkuStatus.ACTIVE)
        )
        codes = await session.scalar(select(func.count()).select_from(Code))
        orders = await session.scalar(select(func.count()).select_from(Order))
        refunds = await session.scalar(
            select(func.count()).select_from(Order).where(Order.status.in_(refunded))
        )
    return _Built(int(skus or 0), int(codes or 0), int(orders or 0), int(refunds or 0))


async def reissue_api_key(settings: Settings) -> str:
    """A new key for the gold reseller of a kept demo (only a key's digest is stored, so a
    kept sandbox cannot show the old one); the old key stops working."""
    platform = build_platform(settings)
    try:
        issued = await platform.api_keys.issue(RESELLER_GOLD.telegram_id, actor=OPERATOR)
        await demo_callbacks.add_callback(platform)  # the new key's callback
    finally:
        await platform.close()
    return issued.token


@dataclass
class _Builder:
    platform: Platform
    clock: DemoClock
    rng: random.Random
    stock: dict[str, int] = field(default_factory=dict)  # unique codes left, per SKU
    receipts: list[tuple[Persona, Receipt]] = field(default_factory=list)  # buyer, receipt
    after_sales: set[int] = field(default_factory=set)  # orders refunded or reported once

    # the shop opens, four weeks and a day ago ----------------------------------------

    async def open_shop(self) -> None:
        p = self.platform
        for persona in (ADMIN, SUPPLIER, SECOND_SUPPLIER, *RESELLERS):
            await p.catalogue.ensure_user(
                persona.telegram_id,
                username=persona.username,
                display_name=persona.first_name,
                language=language_for(persona.language_code),
            )
        await p.catalogue.grant_role(ADMIN.telegram_id, Role.ADMIN, actor=OPERATOR)
        for persona, (company, note) in SUPPLIER_COMPANIES.items():
            application = await p.onboarding.apply(
                persona.telegram_id, company_name=company, contact_note=note
            )
            await p.onboarding.decide(
                application.id, admin_telegram_id=ADMIN.telegram_id, approve=True
            )
        for reseller in RESELLERS:
            await p.catalogue.set_level(reseller.telegram_id, LEVELS[reseller], actor=OPERATOR)
            await p.balances.top_up(
                reseller.telegram_id,
                OPENING_DEPOSIT[reseller],
                idempotency_key=f"demo-opening-{reseller.key}",
                note="开户预存 opening deposit (bank transfer)",
                actor=OPERATOR,
            )
        for sku in CATALOGUE:
            await self._list(sku)

    async def _list(self, sku: DemoSku) -> None:
        p = self.platform
        await p.catalogue.add_sku(
            NewSku(
                code=sku.code,
                name=sku.name,
                category=sku.category,
                supplier_telegram_id=sku.supplier.telegram_id,
                face_value=sku.face_value,
                supply_price=sku.supply_price,
                default_price=sku.default_price,
                level_prices=dict(zip(("bronze", "silver", "gold"), sku.level_prices, strict=True)),
                stock_kind=sku.stock_kind,
                exclusive=sku.exclusive,
            ),
            actor=OPERATOR,
        )
        await p.catalogue.set_sku_status(sku.code, SkuStatus.ACTIVE, actor=OPERATOR)
        if sku.quantity_break is not None:
            units, bps = sku.quantity_break
            await p.pricing_admin.set_quantity_break(ADMIN.telegram_id, sku.code, units, bps)
        report = await p.supplier_stock.upload(
            sku.supplier.telegram_id, sku.code, _code_lines(self.rng, sku)
        )
        if sku.stock_kind is StockKind.UNIQUE:
            self.stock[sku.code] = report.added

    # four weeks of trade -------------------------------------------------------------

    async def history(self, now: datetime) -> None:
        tz = zone(self.platform.settings.timezone)  # the days the admin's reports show
        first_day = now.astimezone(tz).date() - timedelta(days=HISTORY_DAYS - 1)
        latest = now - RUNNING_PROMOTION_STARTED - timedelta(minutes=5)
        for offset in range(HISTORY_DAYS):
            day = first_day + timedelta(days=offset)
            opening = local_midnight(day, tz)
            moments = sorted(
                opening + timedelta(hours=self.rng.uniform(*SHOP_HOURS))
                for _ in range(self.rng.randint(*ORDERS_PER_DAY))
            )
            for moment in (m for m in moments if m < latest):
                self.clock.set(moment)
                await self._order()
            match EVENTS.get(HISTORY_DAYS - 1 - offset):
                case Event.BAD_CODE_REFUNDED | Event.BAD_CODE_REPLACED as remedy:
                    await self._bad_code(remedy)
                case Event.ORDER_REFUNDED:
                    await self._refund_one()
                case Event.SUPPLIER_PAID:
                    await self._paid_withdrawal(SECOND_SUPPLIER)
            await self._deliver_past_notices()

    async def _order(self) -> None:
        buyer = self.rng.choices(RESELLERS, [BUYER_WEIGHTS[r] for r in RESELLERS])[0]
        sku = self.rng.choices(CATALOGUE, [s.weight for s in CATALOGUE])[0]
        quantity = self.rng.choice((1, 1, 1, 2, 2, 3, 5))
        if sku.quantity_break and self.rng.random() < 0.25:
            quantity = sku.quantity_break[0] + self.rng.randint(0, 5)
        left = self.stock.get(sku.code)
        if left is not None and left < quantity:
            return  # sold out: this buyer went elsewhere
        quote = await self.platform.quotes.quote(buyer.telegram_id, sku.code, quantity)
        if quote.balance < quote.total + TOP_UP_WHEN_BELOW:
            await self._top_up(buyer)
            quote = await self.platform.quotes.quote(buyer.telegram_id, sku.code, quantity)
        receipt = await self.platform.shop.buy(buyer.telegram_id, quote.id)
        assert isinstance(receipt, Receipt), receipt
        self.receipts.append((buyer, receipt))
        if left is not None:
            self.stock[sku.code] = left - quantity

    async def _top_up(self, reseller: Persona) -> None:
        """The reseller pays by bank transfer and asks; an admin checks and approves."""
        request = await self.platform.topups.request(
            reseller.telegram_id, TOP_UP_AMOUNT[reseller], note="支付宝转账 Alipay transfer"
        )
        await self.platform.topups.decide(
            request.id, admin_telegram_id=ADMIN.telegram_id, approve=True
        )

    def _recent_order(self) -> tuple[Persona, Receipt]:
        """One of the last orders of a unique-code SKU (a cyclic code is everyone's), not
        refunded or reported before."""
        recent = [
            (buyer, receipt)
            for buyer, receipt in self.receipts[-30:]
            if receipt.sku_code in self.stock and receipt.order_id not in self.after_sales
        ]
        buyer, receipt = self.rng.choice(recent)
        self.after_sales.add(receipt.order_id)
        return buyer, receipt

    async def _bad_code(self, remedy: Event | None) -> None:
        """A reseller reports a code that did not work; the admin refunds or replaces it
        (``None``: the report waits for the admin)."""
        buyer, receipt = self._recent_order()
        reported = await self.platform.aftersales.report(
            buyer.telegram_id, receipt.order_id, 1, reason=BAD_CODE
        )
        if remedy is Event.BAD_CODE_REFUNDED:
            await self.platform.aftersales.refund(ADMIN.telegram_id, reported.report.id)
        elif remedy is Event.BAD_CODE_REPLACED:
            await self.platform.aftersales.replace(ADMIN.telegram_id, reported.report.id)

    async def _refund_one(self) -> None:
        """A reseller bought the wrong card and asked; the admin refunded one unit."""
        _buyer, receipt = self._recent_order()
        await self.platform.shop.refund(
            receipt.order_id,
            units=1,
            idempotency_key=f"demo-refund-{receipt.order_id}",
            actor=ADMIN_ACTOR,
            reason="买错面值，未使用 bought the wrong face value, unused",
        )

    async def _paid_withdrawal(self, supplier: Persona) -> None:
        earned = await self.platform.balances.supplier(supplier.telegram_id)
        amount = earned.payable // 2 // 100_00 * 100_00
        if amount <= 0:
            return
        request = await self.platform.supplier_payouts.request_withdrawal(
            supplier.telegram_id, amount
        )
        await self.platform.supplier_payouts.decide(
            request.id, admin_telegram_id=ADMIN.telegram_id, pay=True
        )

    async def _deliver_past_notices(self) -> None:
        """What the bot's outbox worker did back then (``bot/outbox_sender.py``), minus
        Telegram: mark the notices sent, a round in one transaction with the outbox's own
        ``finish`` (one commit, not one per notice: the build stays a few seconds). The
        worker first hands a sale to ``route_sale``, which writes only for a supplier on
        digests or with a low-stock alert; the demo's suppliers hear of each sale at once
        (the default) and set no alert, so every sale notice was simply sent."""
        p = self.platform
        kinds = (
            SALE,
            WITHDRAWAL_REQUEST,
            WITHDRAWAL_DECIDED,
            REQUEST_NOTICE,
            DECIDED_NOTICE,
            REPORTED_TO_SUPPLIER,
        )
        while envelopes := await p.outbox.claim("sandbox-demo", kinds=kinds, limit=500):
            async with p.db.transaction() as session:
                for envelope in envelopes:
                    await finish(session, envelope, Outcome.SENT, self.clock.now())

    # now: what a visitor finds waiting ------------------------------------------------

    async def today(self, now: datetime) -> str:
        p = self.platform
        started = now - RUNNING_PROMOTION_STARTED
        self.clock.set(started)
        await p.promotions.schedule(
            ADMIN.telegram_id,
            NewPromotion(
                kind=PromotionKind.PERCENT_OFF,
                starts_at=started,
                ends_at=now + timedelta(days=3),
                category=VIDEO,
                percent_off_bps=1_000,
                name="视频会员 9 折 Video memberships 10% off",
                # the bot shows the name, the discount, the scope and the end, then the
                # announcement's lines after the first
                announcement=(
                    "视频会员 9 折\n"
                    "爱奇艺、腾讯视频、StreamFlix 月卡全场 9 折，三天有效！\n"
                    "iQIYI, Tencent Video and StreamFlix monthly cards: 10% off for three days!"
                ),
            ),
            idempotency_key="demo-running-promotion",
        )
        for _ in range(3):  # trade goes on under the running promotion
            self.clock.set(self.clock.now() + timedelta(minutes=self.rng.randint(2, 5)))
            await self._order()
        await self._bad_code(None)
        self.clock.set(now)
        await p.promotions.schedule(
            ADMIN.telegram_id,
            NewPromotion(
                kind=PromotionKind.PERCENT_OFF,
                starts_at=now + SCHEDULED_PROMOTION_STARTS,
                ends_at=now + SCHEDULED_PROMOTION_STARTS + timedelta(hours=24),
                sku_codes=("STEAM-50", "STEAM-100"),
                percent_off_bps=500,
                levels=("silver", "gold"),
                remind_hours=2,
                name="Steam 闪购 Steam flash sale",
                announcement=(
                    "Steam 闪购\n"
                    "白银、黄金代理 Steam 充值卡 95 折，24 小时！\n"
                    "Silver and gold resellers: Steam wallet cards 5% off for 24 hours!"
                ),
            ),
            idempotency_key="demo-scheduled-promotion",
        )
        await self._deliver_past_notices()
        await p.topups.request(
            RESELLER_BRONZE.telegram_id,
            PENDING_TOP_UP,
            note="微信转账已付款，请审核 paid by WeChat Pay, please check",
        )
        review = await p.reviews.submit(SECOND_SUPPLIER.telegram_id, PENDING_PRODUCT)
        supplier = await p.balances.supplier(SUPPLIER.telegram_id)
        await p.supplier_payouts.request_withdrawal(
            SUPPLIER.telegram_id, max(supplier.payable // 3 // 100_00 * 100_00, 100_00)
        )
        return review.sku_code


# codes ----------------------------------------------------------------------------------


def _code_lines(rng: random.Random, sku: DemoSku) -> Iterator[str]:
    """The file a supplier uploads: lines as the importer reads them (a header first for
    cards with fields, as suppliers' spreadsheets export them)."""
    if sku.code_format == "card":
        yield "卡号,卡密"
        for _ in range(sku.stock):
            yield f"{_digits(rng, 16)},{_alnum(rng, 12)}"
    elif sku.code_format == "link":
        yield "链接,有效期"
        yield f"https://vpn.example.com/sub/{_alnum(rng, 24).lower()},30 天 30 days"
    else:
        for _ in range(sku.stock):
            yield "-".join(_alnum(rng, 5) for _ in range(5 if sku.category == SOFTWARE else 3))


_ALNUM = string.ascii_uppercase + string.digits


def _alnum(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(_ALNUM, k=length))


def _digits(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(string.digits, k=length))
