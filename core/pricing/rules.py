"""Unit price rules, pure: level price → quantity break → promotions → supply-price floor.

The promotion window is checked here, against the time asked about, so a price is right
whether or not any scheduler ran.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from core.errors import PriceNotAllowed
from core.models import PromotionKind
from core.money import apply_bps_discount


def check_sale_price(price: int, face_value: int, *, allow_above_face: bool = False) -> None:
    """A sale price (default or a level's) is above 0 and at most the face value.

    A price above what the code is worth to the end consumer, or a free code, is almost
    always a typo (``1000`` for ``10.00``); ``allow_above_face`` lets an operator insist."""
    if allow_above_face:
        return
    if price == 0:
        raise PriceNotAllowed(reason="zero", price=price, face_value=face_value)
    if price > face_value:
        raise PriceNotAllowed(reason="above_face_value", price=price, face_value=face_value)


@dataclass(frozen=True)
class QuantityBreakRule:
    min_quantity: int
    discount_bps: int


@dataclass(frozen=True)
class PromotionRule:
    id: int
    name: str
    kind: PromotionKind
    starts_at: datetime
    ends_at: datetime
    percent_off_bps: int | None = None
    fixed_price: int | None = None
    level_ids: frozenset[int] = frozenset()  # empty: every level

    def is_active(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at

    def applies_to_level(self, level_id: int) -> bool:
        return not self.level_ids or level_id in self.level_ids

    def price_from(self, unit_price: int) -> int:
        if self.kind is PromotionKind.FIXED_PRICE:
            assert self.fixed_price is not None
            return self.fixed_price
        assert self.percent_off_bps is not None
        return apply_bps_discount(unit_price, self.percent_off_bps)


@dataclass(frozen=True)
class PriceBook:
    """Everything that prices one SKU for one reseller level."""

    supply_price: int
    default_price: int
    level_id: int
    level_price: int | None
    breaks: tuple[QuantityBreakRule, ...] = ()
    promotions: tuple[PromotionRule, ...] = ()


@dataclass(frozen=True)
class UnitPrice:
    """How the unit price came about, in the order the rules applied."""

    base_price: int
    from_level_price: bool
    quantity_break: QuantityBreakRule | None
    after_break: int
    promotion: PromotionRule | None
    capped_at_supply: bool
    unit_price: int
    without_break: int  # the unit price had the quantity break not applied

    @property
    def break_saves(self) -> bool:
        return self.quantity_break is not None and self.unit_price < self.without_break

    @property
    def without_promotion(self) -> int:
        """What the unit would cost with no promotion: the price a promotion is shown
        against (struck through), and what a promotion cut by the floor saves from."""
        # the floor lifts a price to the supply price; a promotion only ever lowers it
        return max(self.after_break, self.unit_price)

    @property
    def promotion_saves(self) -> bool:
        return self.promotion is not None and self.unit_price < self.without_promotion


def best_break(breaks: tuple[QuantityBreakRule, ...], quantity: int) -> QuantityBreakRule | None:
    eligible = [b for b in breaks if b.min_quantity <= quantity]
    return max(eligible, key=lambda b: b.min_quantity, default=None)


def useful_breaks(book: PriceBook, at: datetime) -> tuple[tuple[QuantityBreakRule, int], ...]:
    """The quantity breaks worth showing, with the unit price each gives: only those whose
    price is lower than one unit's (a promotion or the floor can make a break moot)."""
    single = price_unit(book, 1, at).unit_price
    offers = []
    for rule in sorted(book.breaks, key=lambda b: b.min_quantity):
        unit = price_unit(book, rule.min_quantity, at).unit_price
        if unit < single:
            offers.append((rule, unit))
    return tuple(offers)


@dataclass(frozen=True)
class FlooredPromotion:
    """What a promotion really gives one level of one SKU, where the floor cuts it."""

    level_id: int
    without_promotion: int
    promoted: int  # what the promotion alone would make it
    unit_price: int  # what the buyer pays: never below the supply price


def floored_promotion(
    book: PriceBook, promotion: PromotionRule, at: datetime
) -> FlooredPromotion | None:
    """``promotion`` priced into ``book`` (one unit at ``at``); ``None`` unless the supply
    price floor cuts its discount."""
    price = price_unit(replace(book, promotions=(*book.promotions, promotion)), 1, at)
    if price.promotion is not promotion or not price.capped_at_supply:
        return None
    return FlooredPromotion(
        level_id=book.level_id,
        without_promotion=price.without_promotion,
        promoted=promotion.price_from(price.after_break),
        unit_price=price.unit_price,
    )


def price_unit(book: PriceBook, quantity: int, at: datetime) -> UnitPrice:
    base = book.level_price if book.level_price is not None else book.default_price
    rule = best_break(book.breaks, quantity)
    after_break = apply_bps_discount(base, rule.discount_bps) if rule else base

    promotion: PromotionRule | None = None
    price = after_break
    for candidate in book.promotions:
        if not (candidate.is_active(at) and candidate.applies_to_level(book.level_id)):
            continue
        promoted = candidate.price_from(after_break)
        if promoted < price:
            price, promotion = promoted, candidate

    capped = price < book.supply_price
    unit_price = book.supply_price if capped else price
    return UnitPrice(
        base_price=base,
        from_level_price=book.level_price is not None,
        quantity_break=rule,
        after_break=after_break,
        promotion=promotion,
        capped_at_supply=capped,
        unit_price=unit_price,
        # a promotion or the floor can leave a break saving nothing: then it is not shown
        without_break=unit_price
        if rule is None
        else price_unit(replace(book, breaks=()), quantity, at).unit_price,
    )
