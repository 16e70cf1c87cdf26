"""Suppliers: applying to become one (an admin approves once), and stocking their own SKUs.

An application is decided once: the first admin decision wins, a later one changes
nothing. Approval grants the supplier role and opens the Supplier row (named for the
company) with its payable account, in the same transaction as the decision and its audit
record. A supplier may stock only SKUs of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
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
)
from core.catalogue import SkuView, _ensure_supplier, load_sku, load_user, sku_view
from core.clock import Clock
from core.db import Database
from core.delivery.importer import ImportReport, Lines, RejectedLine, StockImporter
from core.errors import Forbidden, InvalidInput, InvalidState, NotFound
from core.models import (
    ApplicationStatus,
    Category,
    Role,
    Sku,
    Supplier,
    SupplierApplication,
    User,
)

MAX_COMPANY_NAME = 128
MAX_NOTE = 1_000
# Uploads from the bot commit every this many codes: a short write lock per batch lets
# other users' purchases in between (see bench/supplier_upload.py for the trade-off).
UPLOAD_BATCH = 500


@dataclass(frozen=True)
class ApplicationView:
    id: int
    telegram_id: int
    username: str | None
    company_name: str
    contact_note: str
    status: ApplicationStatus
    reason: str


@dataclass(frozen=True)
class ApplicationDecision:
    application: ApplicationView
    already_decided: bool  # another admin (or a double tap) came first: nothing changed
    verdict: Verdict | None = None  # who decided, when (also for a late second admin)


def _view(application: SupplierApplication, user: User) -> ApplicationView:
    return ApplicationView(
        application.id,
        user.telegram_id,
        user.username,
        application.company_name,
        application.contact_note,
        application.status,
        application.reason,
    )


async def load_own_supplier(session: AsyncSession, telegram_id: int) -> tuple[User, Supplier]:
    """The caller as a supplier; Forbidden for anyone without the supplier role."""
    user = await load_user(session, telegram_id)
    supplier = await session.scalar(select(Supplier).where(Supplier.user_id == user.id))
    if not user.is_supplier or supplier is None:
        raise Forbidden(action="supplier")
    return user, supplier


async def load_own_sku(session: AsyncSession, telegram_id: int, sku_code: str) -> Sku:
    """One of the caller's SKUs. Someone else's SKU is refused exactly like a missing one,
    so a supplier cannot probe which codes exist."""
    _user, supplier = await load_own_supplier(session, telegram_id)
    try:
        sku = await load_sku(session, sku_code.strip())
    except NotFound:
        raise Forbidden(action="sku", sku=sku_code[:32]) from None
    if sku.supplier_id != supplier.id:
        raise Forbidden(action="sku", sku=sku.code)
    return sku


class SupplierOnboarding:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def apply(
        self, telegram_id: int, *, company_name: str, contact_note: str
    ) -> ApplicationView:
        company = " ".join(company_name.split())
        if not company or len(company) > MAX_COMPANY_NAME:
            raise InvalidInput(field="company_name", value=company[:40])
        now = self._clock.now()
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            if user.is_supplier:
                raise InvalidState(reason="already_supplier")
            pending = await session.scalar(
                select(SupplierApplication.id).where(
                    SupplierApplication.user_id == user.id,
                    SupplierApplication.status == ApplicationStatus.PENDING,
                )
            )
            if pending is not None:
                raise InvalidState(reason="application_pending", application=pending)
            application = SupplierApplication(
                user_id=user.id,
                company_name=company,
                contact_note=contact_note.strip()[:MAX_NOTE],
                status=ApplicationStatus.PENDING,
                reason="",
                created_at=now,
            )
            session.add(application)
            try:
                await session.flush()
            except IntegrityError:  # a concurrent twin won the one-pending-per-user index
                raise InvalidState(reason="application_pending", application="") from None
            await audit.append(
                session,
                action="supplier.apply",
                actor=f"user:{telegram_id}",
                subject=f"application:{application.id}",
                payload={"company_name": company},
                now=now,
            )
            await ask_admins(session, APPLICATIONS_QUEUE, application.id, now)
            return _view(application, user)

    async def pending_application(self, telegram_id: int) -> ApplicationView | None:
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            application = await session.scalar(
                select(SupplierApplication).where(
                    SupplierApplication.user_id == user.id,
                    SupplierApplication.status == ApplicationStatus.PENDING,
                )
            )
            return None if application is None else _view(application, user)

    async def check_open(self, telegram_id: int) -> None:
        """Raises what ``apply`` would for this user, before asking them anything."""
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            if user.is_supplier:
                raise InvalidState(reason="already_supplier")
        pending = await self.pending_application(telegram_id)
        if pending is not None:
            raise InvalidState(reason="application_pending", application=pending.id)

    async def decide(
        self,
        application_id: int,
        *,
        admin_telegram_id: int,
        approve: bool,
        reason: str = "",
    ) -> ApplicationDecision:
        """First decision wins; approving grants the supplier role and opens the supplier."""
        return await decide(
            self._db,
            self._clock,
            APPLICATIONS,
            application_id,
            admin_telegram_id=admin_telegram_id,
            choice=Choice(approve, reason),
        )


APPLICATIONS_QUEUE = "supplier_applications"


class ApplicationKind:
    """Someone asking to supply: approving grants the supplier role and opens the Supplier
    row (named for the company) with its payable account."""

    name = APPLICATIONS_QUEUE
    model = SupplierApplication
    waiting = ApplicationStatus.PENDING
    not_found = "application"
    action = "supplier.decide"
    reason = Reason.ASKED

    def reason_of(self, request: SupplierApplication) -> str:
        return request.reason

    async def requester(self, session: AsyncSession, request: SupplierApplication) -> int:
        return request.user_id

    async def approve(
        self, session: AsyncSession, request: SupplierApplication, deciding: Deciding
    ) -> Applied[None]:
        user = await self._applicant(session, request)
        user.is_supplier = True
        supplier = await _ensure_supplier(session, user, deciding.now, request.company_name)
        await audit.append(
            session,
            action="role.grant",
            actor=deciding.actor,
            subject=f"user:{user.telegram_id}",
            payload={"role": Role.SUPPLIER.value, "supplier_id": supplier.id},
            now=deciding.now,
        )
        return await self._applied(session, request, deciding, ApplicationStatus.APPROVED)

    async def reject(
        self, session: AsyncSession, request: SupplierApplication, deciding: Deciding
    ) -> Applied[None]:
        return await self._applied(session, request, deciding, ApplicationStatus.REJECTED)

    async def _applied(
        self,
        session: AsyncSession,
        request: SupplierApplication,
        deciding: Deciding,
        status: ApplicationStatus,
    ) -> Applied[None]:
        user = await self._applicant(session, request)
        request.status = status
        request.reason = deciding.reason
        verb = "approve" if status is ApplicationStatus.APPROVED else "reject"
        return Applied(
            Outcome(status.value),
            f"supplier.{verb}",
            f"application:{request.id}",
            {"user": user.telegram_id, "reason": request.reason},
            None,
        )

    async def _applicant(self, session: AsyncSession, request: SupplierApplication) -> User:
        user = await session.get(User, request.user_id)
        assert user is not None
        return user

    async def result(
        self,
        session: AsyncSession,
        request: SupplierApplication,
        effect: None,
        verdict: Verdict | None,
        already_decided: bool,
    ) -> ApplicationDecision:
        user = await self._applicant(session, request)
        return ApplicationDecision(_view(request, user), already_decided, verdict)


APPLICATIONS = ApplicationKind()


class SupplierStock:
    """A supplier stocks their own SKUs through the platform's one importer."""

    def __init__(
        self, db: Database, importer: StockImporter, *, batch_size: int = UPLOAD_BATCH
    ) -> None:
        self._db = db
        self._importer = importer
        self._batch_size = batch_size

    async def own_sku(self, telegram_id: int, sku_code: str) -> SkuView:
        async with self._db.reading() as session:
            sku = await load_own_sku(session, telegram_id, sku_code)
            category = await session.scalar(
                select(Category.name).where(Category.id == sku.category_id)
            )
            return sku_view(sku, category or "")

    async def upload(
        self,
        telegram_id: int,
        sku_code: str,
        lines: Lines,
        *,
        on_progress: Callable[[ImportReport], None] | None = None,
        on_rejected: Callable[[RejectedLine], None] | None = None,
    ) -> ImportReport:
        sku = await self.own_sku(telegram_id, sku_code)
        return await self._importer.import_codes(
            sku.code,
            lines,
            actor=f"supplier:{telegram_id}",
            batch_size=self._batch_size,
            on_progress=on_progress,
            on_rejected=on_rejected,
        )
