"""The platform's use cases, built once per process from settings (the wiring point's core)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.admin import AdminDesk
from core.ads import Ads
from core.aftersales import AfterSales
from core.apikeys import ApiKeys
from core.approvals import Approvals
from core.balances import Balances
from core.broadcasts import Broadcasts
from core.catalogue import Catalogue
from core.clock import Clock, SystemClock
from core.commission import CommissionSchedules
from core.credit import CreditLines
from core.crypto import CodeCipher
from core.db import Database
from core.delivery.importer import StockImporter
from core.demand import DemandReports
from core.dujiao_server import Dujiao
from core.fulfilment import Fulfilments
from core.http_callbacks import HttpCallbacks
from core.jobs import JobStore
from core.order_callbacks import OrderCallbacks
from core.orders import Shop
from core.outbox import Outbox
from core.paid_services import PaidServices
from core.payments import PaymentRules, Payments, Providers, UrllibFetch
from core.payments.stars import Stars, StarsProvider
from core.payments.usdt import Usdt, usdt_from_settings
from core.pricing.quotes import Quotes
from core.pricing_admin import PricingAdmin
from core.procurement import Procurement
from core.promotions import Promotions
from core.registration import REGISTRATIONS, Registrations
from core.reports import Reports
from core.restocks import Restocks
from core.revenue import Revenue
from core.reviews import ProductReviews
from core.settings import Settings
from core.storefront import Storefront
from core.supplier_payouts import WITHDRAWALS, SupplierPayouts
from core.supplier_sales import SupplierSales
from core.suppliers import APPLICATIONS, SupplierOnboarding, SupplierStock
from core.topups import TOPUPS, TopUps
from core.upstreams.service import Upstreams
from core.user_cache import UserCache
from core.vouchers import Vouchers


@dataclass(frozen=True)
class Platform:
    settings: Settings
    db: Database
    clock: Clock
    catalogue: Catalogue
    quotes: Quotes
    shop: Shop
    restocks: Restocks
    stock: StockImporter
    balances: Balances
    storefront: Storefront
    topups: TopUps
    admin: AdminDesk
    approvals: Approvals
    pricing_admin: PricingAdmin
    aftersales: AfterSales
    registration: Registrations
    vouchers: Vouchers
    outbox: Outbox
    supplier_sales: SupplierSales
    supplier_payouts: SupplierPayouts
    onboarding: SupplierOnboarding
    reviews: ProductReviews
    supplier_stock: SupplierStock
    api_keys: ApiKeys
    jobs: JobStore
    promotions: Promotions
    reports: Reports
    broadcasts: Broadcasts
    payments: Payments
    order_callbacks: OrderCallbacks
    upstreams: Upstreams
    usdt: Usdt
    stars: Stars
    fulfilments: Fulfilments
    procurement: Procurement
    ads: Ads
    paid_services: PaidServices
    demand: DemandReports
    credit: CreditLines
    commission: CommissionSchedules
    revenue: Revenue
    dujiao: Dujiao
    http_callbacks: HttpCallbacks  # the one sender of every callback to a shop's system

    async def close(self) -> None:
        await self.db.dispose()


def build_platform(
    settings: Settings, *, clock: Clock | None = None, db: Database | None = None
) -> Platform:
    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    cipher = CodeCipher(settings.require_secret_key())
    ttl = timedelta(seconds=settings.quote_ttl_seconds)
    stock = StockImporter(db, cipher, clock)
    jobs = JobStore(db, clock)
    stars = Stars(
        db, clock, default_rate=settings.stars_fen_per_star, fee_bps=settings.stars_fee_bps
    )
    users = UserCache(settings.user_cache_seconds, scope=db.engine.sync_engine)
    catalogue = Catalogue(db, clock, users)
    reviews = ProductReviews(db, clock, settings.supplier_markup_bps)
    aftersales = AfterSales(db, cipher, clock)
    credit = CreditLines(db, clock, settings.timezone)
    # every approval queue, in the admin panel's order
    approvals = Approvals(
        db,
        clock,
        [
            reviews.kind,
            TOPUPS,
            aftersales.kind,
            APPLICATIONS,
            WITHDRAWALS,
            REGISTRATIONS,
            credit.kind,
        ],
    )
    usdt = usdt_from_settings(db, clock, settings, jobs)
    upstreams = Upstreams(
        db,
        clock,
        cipher,
        sync_every=timedelta(minutes=settings.upstream_sync_minutes),
        callback_base=settings.upstream_callback_base,
        timeout_seconds=settings.upstream_timeout_seconds,
    )
    poll_base = timedelta(seconds=settings.upstream_poll_seconds)
    procurement = Procurement(db, clock, cipher, upstreams, poll_base=poll_base)
    shop = Shop(db, cipher, clock, ttl, procure=procurement.place_for_waiting_buyer)
    order_callbacks = OrderCallbacks(
        db, clock, cipher, allow_private=settings.callbacks_allow_private
    )
    dujiao = Dujiao(
        db,
        clock,
        cipher,
        ApiKeys(db, clock, settings.require_secret_key()),
        Storefront(db, clock),
        shop,
        Balances(db, clock),
        site_name="Kameng",
        currency=settings.currency,
        allow_private=settings.callbacks_allow_private,
    )
    outbox = Outbox(db, clock, lease=settings.lease)
    http_callbacks = HttpCallbacks(
        db,
        clock,
        outbox,
        (order_callbacks, dujiao),  # one sender, one payload builder per protocol
        allow_private=settings.callbacks_allow_private,
    )
    platform = Platform(
        settings=settings,
        db=db,
        clock=clock,
        catalogue=catalogue,
        quotes=Quotes(db, clock, ttl),
        shop=shop,
        restocks=Restocks(db, clock),
        stock=stock,
        balances=Balances(db, clock),
        storefront=Storefront(db, clock),
        topups=TopUps(db, clock),
        admin=AdminDesk(db, clock, catalogue, Balances(db, clock), approvals),
        approvals=approvals,
        pricing_admin=PricingAdmin(db, clock),
        aftersales=aftersales,
        registration=Registrations(
            db,
            clock,
            settings.require_secret_key(),
            settings.registration,
            settings.admin_telegram_ids,
        ),
        vouchers=Vouchers(db, clock, settings.require_secret_key()),
        outbox=outbox,
        supplier_sales=SupplierSales(db, clock),
        supplier_payouts=SupplierPayouts(db, clock),
        onboarding=SupplierOnboarding(db, clock),
        reviews=reviews,
        supplier_stock=SupplierStock(db, stock),
        api_keys=ApiKeys(db, clock, settings.require_secret_key()),
        jobs=jobs,
        promotions=Promotions(db, clock, jobs),
        reports=Reports(db, clock, settings.timezone),
        broadcasts=Broadcasts(db, clock, lease=settings.lease),
        ads=Ads(db, clock, max_bid=settings.ads_max_bid),
        paid_services=PaidServices(db, clock),
        demand=DemandReports(db, clock, settings.timezone),
        credit=credit,
        commission=CommissionSchedules(db, clock),
        revenue=Revenue(db, clock, settings.timezone),
        upstreams=upstreams,
        dujiao=dujiao,
        http_callbacks=http_callbacks,
        fulfilments=Fulfilments(db, clock, ttl),
        procurement=procurement,
        payments=Payments(
            db,
            clock,
            providers(settings, stars, usdt),
            payment_rules(settings),
            jobs,
        ),
        order_callbacks=order_callbacks,
        usdt=usdt,
        stars=stars,
    )
    platform.usdt.attach(platform.payments)
    return platform


def providers(settings: Settings, stars: Stars, usdt: Usdt) -> Providers:
    """The providers of ``FACTORIES`` (built from settings alone), then those that read the
    database (their rates, their held amounts) and so are built here, with the platform's
    services: Telegram Stars and USDT, each when enabled."""
    built = list(Providers.from_settings(settings, UrllibFetch()))
    with_stars = Providers([*built, StarsProvider(stars)] if settings.stars_enabled else built)
    return usdt.join(with_stars)


def payment_rules(settings: Settings) -> PaymentRules:
    return PaymentRules(
        currency=settings.currency,
        public_url=settings.payments_public_url,
        ttl=timedelta(seconds=settings.payment_ttl_seconds),
        grace=timedelta(seconds=settings.payment_grace_seconds),
        check_after=timedelta(seconds=settings.payment_check_after_seconds),
        recovery_every=timedelta(seconds=settings.payment_recovery_seconds),
    )
