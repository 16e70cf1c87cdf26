"""Product review (审核): a supplier submits a SKU, an admin approves or rejects it once.

A submitted SKU waits in ``pending_review`` and is not sellable. Approval lists it
(``active``) at the platform's default sale price, :func:`listing_price`: the supply price
plus the configured markup (``KAMENG_SUPPLIER_MARKUP_BPS``, 5% by default), rounded up to
the fen, never above the face value and never below the supply price. Rejection tells the
supplier why; they fix the SKU and resubmit. Changing the name, price, provenance note or
authorization file of a SKU sends it back to ``pending_review`` — not sellable until an
admin approves it again. Every submission and decision is in the audit trail; each
submission is one ``sku_reviews`` row (what was asked, the verdict and its reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.approvals import (
    Applied,
    Choice,
    Deciding,
    Outcome,
    Reason,
    Verdict,
    ask_admins,
    decide,
    verdict_of,
)
from core.catalogue import SKU_CODE, _category
from core.clock import Clock
from core.db import Database
from core.errors import InvalidInput, InvalidState
from core.models import (
    Category,
    ReviewStatus,
    Sku,
    SkuReview,
    SkuStatus,
    StockKind,
    Supplier,
    User,
)
from core.money import BPS
from core.suppliers import load_own_sku, load_own_supplier

MAX_NAME = 128
MAX_NOTE = 1_000
MAX_CATEGORY = 64
MAX_AMOUNT = 10**12  # 10 billion in major units: anything above is a typo
AUTHORIZATION_KINDS = ("photo", "document")


def listing_price(supply_price: int, face_value: int, markup_bps: int) -> int:
    """The platform's default sale price for a supplier's SKU (integer fen, rounded up)."""
    price = supply_price + -(-supply_price * markup_bps // BPS)
    if face_value >= supply_price:
        price = min(price, face_value)
    return max(price, supply_price)


@dataclass(frozen=True)
class Authorization:
    file_id: str
    kind: str  # "photo" | "document"


@dataclass(frozen=True)
class NewProduct:
    name: str
    category: str
    face_value: int
    supply_price: int
    stock_kind: StockKind
    exclusive: bool
    provenance: str
    authorization: Authorization | None = None


@dataclass(frozen=True)
class ProductEdit:
    """``None`` keeps the current value."""

    name: str | None = None
    supply_price: int | None = None
    provenance: str | None = None
    authorization: Authorization | None = None


@dataclass(frozen=True)
class ReviewView:
    id: int
    kind: str
    status: ReviewStatus
    reason: str
    sku_code: str
    sku_status: SkuStatus
    name: str
    category: str
    face_value: int
    supply_price: int
    sale_price: int  # the listing price if approved now (or the one it was approved at)
    stock_kind: StockKind
    exclusive: bool
    provenance: str
    authorization: Authorization | None
    supplier_name: str
    supplier_telegram_id: int
    verdict: Verdict | None = None  # who decided, when (None while pending)


@dataclass(frozen=True)
class ReviewDecision:
    review: ReviewView
    already_decided: bool  # another admin (or a double tap) came first: nothing changed
    verdict: Verdict | None = None  # who decided, when (also for a late second admin)


class ProductReviews:
    def __init__(self, db: Database, clock: Clock, markup_bps: int) -> None:
        self._db = db
        self._clock = clock
        self._markup_bps = markup_bps
        self.kind = ReviewKind(self)

    def price_for(self, supply_price: int, face_value: int) -> int:
        return listing_price(supply_price, face_value, self._markup_bps)

    async def categories(self) -> list[str]:
        async with self._db.reading() as session:
            return list(await session.scalars(select(Category.name).order_by(Category.name)))

    async def submit(self, telegram_id: int, product: NewProduct) -> ReviewView:
        name = _clean_name(product.name)
        category_name = " ".join(product.category.split())
        if not category_name or len(category_name) > MAX_CATEGORY:
            raise InvalidInput(field="category", value=category_name[:40])
        _check_prices(product.supply_price, product.face_value)
        now = self._clock.now()
        async with self._db.transaction() as session:
            _user, supplier = await load_own_supplier(session, telegram_id)
            # one submission per supplier at a time, so two never pick the same next code
            await session.refresh(supplier, with_for_update=True)
            category = await _category(session, category_name)
            sku = Sku(
                code=await _free_code(session, supplier.id),
                name=name,
                category_id=category.id,
                supplier_id=supplier.id,
                face_value=product.face_value,
                supply_price=product.supply_price,
                default_price=self.price_for(product.supply_price, product.face_value),
                stock_kind=product.stock_kind,
                exclusive=product.exclusive,
                status=SkuStatus.PENDING_REVIEW,
                created_at=now,
            )
            session.add(sku)
            await session.flush()
            review = _new_review(
                sku, "new", product.provenance, product.authorization, telegram_id, now
            )
            session.add(review)
            await session.flush()
            await audit.append(
                session,
                action="sku.submit",
                actor=f"supplier:{telegram_id}",
                subject=f"sku:{sku.code}",
                payload=_submission_payload(review, sku),
                now=now,
            )
            await ask_admins(session, REVIEWS_QUEUE, review.id, now)
            return await self.view(session, review, sku)

    async def edit(self, telegram_id: int, sku_code: str, change: ProductEdit) -> ReviewView | None:
        """Applies the change and sends the SKU back to review; ``None`` when an active SKU
        was left as it was (nothing to review). A rejected SKU is always resubmitted."""
        name = _clean_name(change.name) if change.name is not None else None
        now = self._clock.now()
        async with self._db.transaction() as session:
            sku = await load_own_sku(session, telegram_id, sku_code)
            # one change or decision of a SKU at a time (a no-op on SQLite's single writer)
            await session.refresh(sku, with_for_update=True)
            if sku.status is SkuStatus.SUSPENDED:
                raise InvalidState(reason="sku_suspended", sku=sku.code)
            latest = await _latest_review(session, sku.id)
            provenance = latest.provenance if latest else ""
            authorization = _authorization(latest)
            supply_price = sku.supply_price if change.supply_price is None else change.supply_price
            _check_prices(supply_price, sku.face_value)
            changed = (
                (name is not None and name != sku.name)
                or supply_price != sku.supply_price
                or (change.provenance is not None and change.provenance.strip() != provenance)
                or (change.authorization is not None and change.authorization != authorization)
            )
            if not changed and sku.status is SkuStatus.ACTIVE:
                return None
            await session.execute(
                update(SkuReview)
                .where(SkuReview.sku_id == sku.id, SkuReview.status == ReviewStatus.PENDING)
                .values(status=ReviewStatus.SUPERSEDED)
            )
            previous = sku.status
            sku.name = name or sku.name
            sku.supply_price = supply_price
            sku.default_price = max(sku.default_price, supply_price)
            sku.status = SkuStatus.PENDING_REVIEW
            review = _new_review(
                sku,
                "edit",
                provenance if change.provenance is None else change.provenance,
                change.authorization or authorization,
                telegram_id,
                now,
            )
            session.add(review)
            await session.flush()
            await audit.append(
                session,
                action="sku.edit",
                actor=f"supplier:{telegram_id}",
                subject=f"sku:{sku.code}",
                payload=_submission_payload(review, sku) | {"from_status": previous.value},
                now=now,
            )
            await ask_admins(session, REVIEWS_QUEUE, review.id, now)
            return await self.view(session, review, sku)

    async def decide(
        self, review_id: int, *, admin_telegram_id: int, approve: bool, reason: str = ""
    ) -> ReviewDecision:
        """First decision wins. Approval lists the SKU at :func:`listing_price`."""
        return await decide(
            self._db,
            self._clock,
            self.kind,
            review_id,
            admin_telegram_id=admin_telegram_id,
            choice=Choice(approve, reason),
        )

    async def view(self, session: AsyncSession, review: SkuReview, sku: Sku) -> ReviewView:
        category = await session.scalar(select(Category.name).where(Category.id == sku.category_id))
        supplier = await session.get(Supplier, sku.supplier_id)
        assert supplier is not None
        owner = await session.get(User, supplier.user_id)
        assert owner is not None
        return ReviewView(
            id=review.id,
            kind=review.kind,
            status=review.status,
            reason=review.reason,
            sku_code=sku.code,
            sku_status=sku.status,
            name=review.name,
            category=category or "",
            face_value=sku.face_value,
            supply_price=review.supply_price,
            sale_price=review.sale_price
            if review.sale_price is not None
            else self.price_for(review.supply_price, sku.face_value),
            stock_kind=sku.stock_kind,
            exclusive=sku.exclusive,
            provenance=review.provenance,
            authorization=_authorization(review),
            supplier_name=supplier.name,
            supplier_telegram_id=owner.telegram_id,
            verdict=await verdict_of(session, self.kind, review),
        )


REVIEWS_QUEUE = "product_reviews"


class ReviewKind:
    """A supplier's SKU, new or changed: approving lists it at :func:`listing_price`,
    rejecting tells the supplier why (the SKU stays off sale until resubmitted)."""

    name = REVIEWS_QUEUE
    model = SkuReview
    waiting = ReviewStatus.PENDING
    not_found = "review"
    action = "sku.review"
    reason = Reason.ASKED

    def __init__(self, reviews: ProductReviews) -> None:
        self._reviews = reviews

    def reason_of(self, request: SkuReview) -> str:
        return request.reason

    async def requester(self, session: AsyncSession, request: SkuReview) -> int:
        """The SKU's supplier (who submitted the change)."""
        user_id = await session.scalar(
            select(Supplier.user_id)
            .join(Sku, Sku.supplier_id == Supplier.id)
            .where(Sku.id == request.sku_id)
        )
        assert user_id is not None  # a SKU under review always has its supplier
        return int(user_id)

    async def count_waiting(self, session: AsyncSession) -> int:
        statement = select(func.count()).select_from(Sku)
        count = await session.scalar(statement.where(Sku.status == SkuStatus.PENDING_REVIEW))
        return int(count or 0)

    async def approve(
        self, session: AsyncSession, request: SkuReview, deciding: Deciding
    ) -> Applied[None]:
        sku = await self._sku(session, request)
        price = self._reviews.price_for(sku.supply_price, sku.face_value)
        request.sale_price = price
        sku.default_price = price
        sku.status = SkuStatus.ACTIVE
        return self._applied(request, sku, deciding, ReviewStatus.APPROVED)

    async def reject(
        self, session: AsyncSession, request: SkuReview, deciding: Deciding
    ) -> Applied[None]:
        sku = await self._sku(session, request)
        sku.status = SkuStatus.REJECTED
        return self._applied(request, sku, deciding, ReviewStatus.REJECTED)

    def _applied(
        self, request: SkuReview, sku: Sku, deciding: Deciding, status: ReviewStatus
    ) -> Applied[None]:
        request.status = status
        request.reason = deciding.reason[:MAX_NOTE]
        verb = "approve" if status is ReviewStatus.APPROVED else "reject"
        payload = {
            "review_id": request.id,
            "reason": request.reason,
            "default_price": sku.default_price,
            "supply_price": sku.supply_price,
        }
        return Applied(
            Outcome(status.value), f"sku.review.{verb}", f"sku:{sku.code}", payload, None
        )

    async def _sku(self, session: AsyncSession, request: SkuReview) -> Sku:
        # one change or decision of a SKU at a time (a no-op on SQLite's single writer)
        sku = await session.get(Sku, request.sku_id, with_for_update=True)
        assert sku is not None
        return sku

    async def result(
        self,
        session: AsyncSession,
        request: SkuReview,
        effect: None,
        verdict: Verdict | None,
        already_decided: bool,
    ) -> ReviewDecision:
        sku = await session.get(Sku, request.sku_id)  # locked already when just decided
        assert sku is not None
        view = await self._reviews.view(session, request, sku)
        return ReviewDecision(view, already_decided, verdict)


def _clean_name(text: str) -> str:
    name = " ".join(text.split())
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(field="name", value=name[:40])
    return name


def _check_prices(supply_price: int, face_value: int) -> None:
    if not 0 < face_value <= MAX_AMOUNT:
        raise InvalidInput(field="face_value", value=face_value)
    if not 0 < supply_price <= face_value:
        raise InvalidInput(field="supply_price", value=supply_price)


def _authorization(review: SkuReview | None) -> Authorization | None:
    if review is None or not review.authorization_file_id or not review.authorization_kind:
        return None
    return Authorization(review.authorization_file_id, review.authorization_kind)


def _new_review(
    sku: Sku,
    kind: str,
    provenance: str,
    authorization: Authorization | None,
    telegram_id: int,
    now: datetime,
) -> SkuReview:
    if authorization is not None and authorization.kind not in AUTHORIZATION_KINDS:
        raise InvalidInput(field="authorization", value=authorization.kind)
    return SkuReview(
        sku_id=sku.id,
        kind=kind,
        name=sku.name,
        supply_price=sku.supply_price,
        provenance=provenance.strip()[:MAX_NOTE],
        authorization_file_id=authorization.file_id if authorization else None,
        authorization_kind=authorization.kind if authorization else None,
        status=ReviewStatus.PENDING,
        submitted_by=telegram_id,
        created_at=now,
        reason="",
    )


def _submission_payload(review: SkuReview, sku: Sku) -> dict[str, object]:
    return {
        "review_id": review.id,
        "name": sku.name,
        "supply_price": sku.supply_price,
        "face_value": sku.face_value,
        "provenance": review.provenance,
        "authorization": review.authorization_kind or "",
    }


async def _latest_review(session: AsyncSession, sku_id: int) -> SkuReview | None:
    return await session.scalar(
        select(SkuReview).where(SkuReview.sku_id == sku_id).order_by(SkuReview.id.desc()).limit(1)
    )


async def _free_code(session: AsyncSession, supplier_id: int) -> str:
    """``S<supplier>-<n>``: the supplier's next free SKU code."""
    count = await session.scalar(
        select(func.count()).select_from(Sku).where(Sku.supplier_id == supplier_id)
    )
    number = int(count or 0) + 1
    while True:
        code = f"S{supplier_id}-{number}"
        assert SKU_CODE.match(code)
        if await session.scalar(select(Sku.id).where(Sku.code == code)) is None:
            return code
        number += 1
