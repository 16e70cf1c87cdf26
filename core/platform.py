"""The platform's use cases, built once per process from settings (the wiring point's core)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.balances import Balances
from core.broadcasts import Broadcasts
from core.catalogue import Catalogue
from core.clock import Clock, SystemClock
from core.crypto import CodeCipher
from core.db import Database
from core.delivery.importer import StockImporter
from core.orders import Shop
from core.pricing.quotes import Quotes
from core.settings import Settings
from core.storefront import Storefront
from core.topups import TopUps


@dataclass(frozen=True)
class Platform:
    settings: Settings
    db: Database
    clock: Clock
    catalogue: Catalogue
    quotes: Quotes
    shop: Shop
    stock: StockImporter
    balances: Balances
    storefront: Storefront
    topups: TopUps
    broadcasts: Broadcasts

    async def close(self) -> None:
        await self.db.dispose()


def build_platform(
    settings: Settings, *, clock: Clock | None = None, db: Database | None = None
) -> Platform:
    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    cipher = CodeCipher(settings.require_secret_key())
    ttl = timedelta(seconds=settings.quote_ttl_seconds)
    return Platform(
        settings=settings,
        db=db,
        clock=clock,
        catalogue=Catalogue(db, clock),
        quotes=Quotes(db, clock, ttl),
        shop=Shop(db, cipher, clock, ttl),
        stock=StockImporter(db, cipher, clock),
        balances=Balances(db, clock),
        storefront=Storefront(db, clock),
        topups=TopUps(db, clock),
        broadcasts=Broadcasts(db, clock),
    )
