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
from core.jobs import JobStore
from core.orders import Shop
from core.outbox import Outbox
from core.paid_services import PaidServices
from core.pricing.quotes import Quotes
from core.pricing_admin import PricingAdmin
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
    ads: Ads
    paid_services: PaidServices
    demand: DemandReports
    credit: CreditLines
    commission: CommissionSchedules
    revenue: Revenue

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
    return Platform(
        settings=settings,
        db=db,
        clock=clock,
        catalogue=catalogue,
        quotes=Quotes(db, clock, ttl),
        shop=Shop(db, cipher, clock, ttl),
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
        outbox=Outbox(db, clock),
        supplier_sales=SupplierSales(db, clock),
        supplier_payouts=SupplierPayouts(db, clock),
        onboarding=SupplierOnboarding(db, clock),
        reviews=reviews,
        supplier_stock=SupplierStock(db, stock),
        api_keys=ApiKeys(db, clock, settings.require_secret_key()),
        jobs=jobs,
        promotions=Promotions(db, clock, jobs),
        reports=Reports(db, clock, settings.timezone),
        broadcasts=Broadcasts(db, clock),
        ads=Ads(db, clock),
        paid_services=PaidServices(db, clock),
        demand=DemandReports(db, clock, settings.timezone),
        credit=credit,
        commission=CommissionSchedules(db, clock),
        revenue=Revenue(db, clock, settings.timezone),
    )
