"""After-sales: a reseller reports one bad code of an order; an admin resolves it once.

Resolutions, each one transaction guarded by ``status = open`` (the first decision wins):

- replace: a new code is claimed from stock (``claim_codes``, atomically), the order line now
  points at it and the bad code is voided. No money moves.
- refund: that one line's split is reversed exactly in the ledger (reseller credited the
  line price; supplier payable, platform spread and commission debited their parts) under
  the key ``aftersales:refund:<report id>``; the line is refunded and its code voided.
- reject: with a reason the reseller sees.

A report view never carries a code; only ``reported_code`` (admins) and a replacement's
``new_code`` (for its buyer) do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit, outbox
from core.approvals import (
    CARRIES_CODE,
    Applied,
    Choice,
    Deciding,
    Outcome,
    Reason,
    Verdict,
    ask_admins,
    decide,
)
from core.catalogue import admin_telegram_ids, load_user
from core.clock import Clock, as_utc
from core.crypto import CodeCipher
from core.db import Database
from core.decisions.refund import ChargedLine, code_status_after_refund, reverse
from core.delivery.claim import claim_codes
from core.delivery.codes import CardCode
from core.errors import InvalidInput, InvalidState, NotFound
from core.fulfilment import Refunded
from core.ledger import balance_of, post
from core.models import (
    AccountKind,
    Code,
    CodeReport,
    CodeStatus,
    LineStatus,
    Order,
    OrderLine,
    ReportStatus,
    Sku,
    StockKind,
    Supplier,
    User,
)
from core.orders import set_order_status_after_refund
from core.rights import require_admin

MAX_REASON = 1000


@dataclass(frozen=True)
class ReportView:
    id: int
    order_id: int
    position: int
    line_id: int
    sku_code: str
    sku_name: str
    reseller_telegram_id: int
    reseller_username: str | None
    supplier_telegram_id: int
    reason: str
    screenshot_file_id: str | None
    status: ReportStatus
    refund_amount: int
    resolution_note: str
    created_at: datetime


@dataclass(frozen=True)
class Resolution:
    report: ReportView
    already_decided: bool  # a second admin or a double tap came too late: nothing changed
    new_code: str | None = None  # replace: for the buyer only
    balance_after: int | None = None  # refund: the reseller's balance after
    verdict: Verdict | None = None  # who decided, when (also for a late second admin)

    def __repr__(self) -> str:  # keep a replacement code out of logs
        return f"Resolution(report={self.report.id}, status={self.report.status.value})"


@dataclass(frozen=True)
class Reported:
    report: ReportView
    admin_telegram_ids: list[int]  # who were asked to decide it (told through the outbox)


async def _view(session: AsyncSession, report: CodeReport) -> ReportView:
    row = (
        await session.execute(
            select(Sku.code, Sku.name, User.telegram_id, User.username)
            .select_from(Order)
            .join(Sku, Sku.id == Order.sku_id)
            .join(User, User.id == Order.user_id)
            .where(Order.id == report.order_id)
        )
    ).one()
    supplier_tid = await session.scalar(
        select(User.telegram_id)
        .join(Supplier, Supplier.user_id == User.id)
        .where(Supplier.id == report.supplier_id)
    )
    return ReportView(
        id=report.id,
        order_id=report.order_id,
        position=report.position,
        line_id=report.line_id,
        sku_code=row.code,
        sku_name=row.name,
        reseller_telegram_id=row.telegram_id,
        reseller_username=row.username,
        supplier_telegram_id=int(supplier_tid or 0),
        reason=report.reason,
        screenshot_file_id=report.screenshot_file_id,
        status=report.status,
        refund_amount=report.refund_amount,
        resolution_note=report.resolution_note,
        created_at=as_utc(report.created_at),
    )


async def _lines(session: AsyncSession, order_id: int) -> list[OrderLine]:
    """An order's lines in receipt order: position n is ``lines[n - 1]``."""
    return list(
        await session.scalars(
            select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id)
        )
    )


class AfterSales:
    def __init__(self, db: Database, cipher: CodeCipher, clock: Clock) -> None:
        self._db = db
        self._cipher = cipher
        self._clock = clock
        self.kind = ReportKind(cipher)

    # the reseller's side ---------------------------------------------------------------

    async def reportable_positions(self, telegram_id: int, order_id: int) -> list[int]:
        """Positions (1-based) of the order's delivered codes without an open report."""
        async with self._db.reading() as session:
            order = await self._own_order(session, telegram_id, order_id)
            open_lines = set(
                await session.scalars(
                    select(CodeReport.line_id).where(
                        CodeReport.order_id == order.id, CodeReport.status == ReportStatus.OPEN
                    )
                )
            )
            return [
                n
                for n, line in enumerate(await _lines(session, order.id), start=1)
                if line.status is LineStatus.DELIVERED and line.id not in open_lines
            ]

    async def report(
        self,
        telegram_id: int,
        order_id: int,
        position: int,
        *,
        reason: str,
        screenshot_file_id: str | None = None,
    ) -> Reported:
        """Open a report on the code at ``position`` of the reseller's own order."""
        reason = reason.strip()[:MAX_REASON]
        if not reason:
            raise InvalidInput(field="reason", value="")
        now = self._clock.now()
        async with self._db.transaction() as session:
            order = await self._own_order(session, telegram_id, order_id)
            lines = await _lines(session, order.id)
            if not 1 <= position <= len(lines):
                raise InvalidInput(field="position", value=position, max=len(lines))
            line = lines[position - 1]
            if line.status is not LineStatus.DELIVERED:
                raise InvalidState(line=position, status=line.status.value)
            bad_code = await session.get(Code, line.code_id)
            assert bad_code is not None
            reason = _redact(reason, self._cipher.decrypt(bad_code.ciphertext))
            already_open = await session.scalar(
                select(CodeReport.id).where(
                    CodeReport.line_id == line.id, CodeReport.status == ReportStatus.OPEN
                )
            )
            if already_open is not None:
                raise InvalidState(line=position, report=already_open, status="open")
            report = CodeReport(
                order_id=order.id,
                line_id=line.id,
                position=position,
                user_id=order.user_id,
                supplier_id=order.supplier_id,
                bad_code_id=line.code_id,
                reason=reason,
                screenshot_file_id=screenshot_file_id,
                status=ReportStatus.OPEN,
                refund_amount=0,
                resolution_note="",
                created_at=now,
            )
            session.add(report)
            await session.flush()
            await audit.append(
                session,
                action="report.open",
                actor=f"user:{telegram_id}",
                subject=f"order:{order.id}",
                payload={"report": report.id, "position": position, "reason": reason},
                now=now,
            )
            await ask_admins(session, REPORTS_QUEUE, report.id, now)  # the cards: the outbox
            # the supplier learns what is wrong, never the code (nor the screenshot)
            supplier_user = await _supplier_user(session, report)
            if supplier_user is not None:
                await outbox.enqueue(
                    session,
                    kind=REPORTED_TO_SUPPLIER,
                    user_id=supplier_user,
                    payload={"report": report.id},
                    now=now,
                )
            return Reported(await _view(session, report), await admin_telegram_ids(session))

    async def reports_for_order(self, telegram_id: int, order_id: int) -> list[ReportView]:
        async with self._db.reading() as session:
            order = await self._own_order(session, telegram_id, order_id)
            reports = await session.scalars(
                select(CodeReport).where(CodeReport.order_id == order.id).order_by(CodeReport.id)
            )
            return [await _view(session, r) for r in reports]

    async def _own_order(self, session: AsyncSession, telegram_id: int, order_id: int) -> Order:
        user = await load_user(session, telegram_id)
        order = await session.get(Order, order_id)
        if order is None or order.user_id != user.id:
            raise NotFound(kind="order", ref=str(order_id))
        return order

    # the admin's side ------------------------------------------------------------------

    async def open_reports(self, admin: int, *, limit: int = 20) -> list[ReportView]:
        async with self._db.reading() as session:
            await require_admin(session, admin, "report.list")
            reports = await session.scalars(
                select(CodeReport)
                .where(CodeReport.status == ReportStatus.OPEN)
                .order_by(CodeReport.id)
                .limit(limit)
            )
            return [await _view(session, r) for r in reports]

    async def get(self, admin: int, report_id: int) -> ReportView:
        async with self._db.reading() as session:
            await require_admin(session, admin, "report.show")
            return await _view(session, await _report(session, report_id))

    async def reported_code(self, admin: int, report_id: int) -> str:
        """The reported code's plaintext, for an admin checking it (the viewing is audited)."""
        async with self._db.transaction() as session:
            await require_admin(session, admin, "report.code")
            report = await _report(session, report_id)
            code = await session.get(Code, report.bad_code_id)
            assert code is not None
            await audit.append(
                session,
                action="report.code_viewed",
                actor=f"admin:{admin}",
                subject=f"order:{report.order_id}",
                payload={"report": report.id, "code_id": code.id},
                now=self._clock.now(),
            )
            return self._cipher.decrypt(code.ciphertext)

    async def replace(self, admin: int, report_id: int) -> Resolution:
        return await self._decide(admin, report_id, Choice(True, option=REPLACE))

    async def refund(self, admin: int, report_id: int) -> Resolution:
        return await self._decide(admin, report_id, Choice(True, option=REFUND))

    async def reject(self, admin: int, report_id: int, *, reason: str) -> Resolution:
        return await self._decide(admin, report_id, Choice(False, reason))

    async def _decide(self, admin: int, report_id: int, choice: Choice) -> Resolution:
        return await decide(
            self._db, self._clock, self.kind, report_id, admin_telegram_id=admin, choice=choice
        )


REPLACE, REFUND = "replace", "refund"


@dataclass(frozen=True)
class Remedy:
    """What resolving a report gave the reseller."""

    new_code: str | None = None  # replace
    balance_after: int | None = None  # refund


REPORTS_QUEUE = "code_reports"
REPORTED_TO_SUPPLIER = "code_reported"  # outbox kind: a new report, to the code's supplier
SUPPLIER = "supplier"  # the role a report's decision notice to its code's supplier is to


class ReportKind:
    """A reseller's bad code: approving replaces it from stock (``replace``) or refunds that
    one unit (``refund``); rejecting needs a reason the reseller sees."""

    name = REPORTS_QUEUE
    model = CodeReport
    waiting = ReportStatus.OPEN
    not_found = "report"
    action = "report.decide"
    reason = Reason.REQUIRED

    def __init__(self, cipher: CodeCipher) -> None:
        self._cipher = cipher

    def reason_of(self, request: CodeReport) -> str:
        return request.resolution_note

    async def requester(self, session: AsyncSession, request: CodeReport) -> int:
        return request.user_id

    async def others(self, session: AsyncSession, request: CodeReport) -> Mapping[str, int]:
        """The code's supplier hears the outcome (never the replacement code)."""
        user_id = await _supplier_user(session, request)
        return {} if user_id is None else {SUPPLIER: user_id}

    def as_decided(self, effect: Remedy) -> Mapping[str, int]:
        # numbers only: the replacement code stays in the codes table, encrypted; the row
        # says only that it hands one over (sent as urgently as an order's codes)
        if effect.new_code is not None:
            return {CARRIES_CODE: 1}
        return {} if effect.balance_after is None else {"balance_after": effect.balance_after}

    async def effect_for_notice(
        self, session: AsyncSession, request: CodeReport, stored: Mapping[str, object]
    ) -> Remedy:
        """The reseller's remedy as the notice shows it: the replacement code decrypted from
        the codes table when sent (as an order's codes are re-sent), the refund's balance
        as the decision stored it."""
        if request.status is ReportStatus.REPLACED and request.replacement_code_id is not None:
            code = await session.get(Code, request.replacement_code_id)
            assert code is not None
            return Remedy(new_code=self._cipher.decrypt(code.ciphertext))
        if request.status is ReportStatus.REFUNDED and "balance_after" in stored:
            return Remedy(balance_after=int(str(stored["balance_after"])))
        return Remedy()

    async def approve(
        self, session: AsyncSession, request: CodeReport, deciding: Deciding
    ) -> Applied[Remedy]:
        if deciding.option == REPLACE:
            return await self._replace(session, request, deciding)
        if deciding.option == REFUND:
            return await self._refund(session, request, deciding)
        raise InvalidInput(field="option", value=deciding.option)

    async def _replace(
        self, session: AsyncSession, report: CodeReport, deciding: Deciding
    ) -> Applied[Remedy]:
        line = await _held_line(session, report)
        sku = await _sku_of(session, report)
        if sku.stock_kind is StockKind.CYCLIC:
            # A shared code that is bad is bad for everyone: take it off sale first, so
            # the claim hands out the next one.
            await _set_code_status(session, report.bad_code_id, CodeStatus.VOIDED)
        (new,) = await claim_codes(session, sku, 1)
        if sku.stock_kind is StockKind.UNIQUE:
            await _set_code_status(session, report.bad_code_id, CodeStatus.VOIDED)
        line.code_id = new.id
        report.status = ReportStatus.REPLACED
        report.replacement_code_id = new.id
        return Applied(
            Outcome.REPLACED,
            "report.replace",
            f"order:{report.order_id}",
            {"report": report.id, "position": report.position, "code_id": new.id},
            Remedy(new_code=self._cipher.decrypt(new.ciphertext)),
        )

    async def _refund(
        self, session: AsyncSession, report: CodeReport, deciding: Deciding
    ) -> Applied[Remedy]:
        line = await _held_line(session, report)
        ctx = await _load_line_refund(session, report, line)
        reversal = reverse([ctx.line])
        await post(
            session,
            key=f"aftersales:refund:{report.id}",
            kind="refund",
            order_id=ctx.order_id,
            now=deciding.now,
            memo=f"report #{report.id}: code {report.position} of order #{ctx.order_id}",
            postings=reversal.postings(ctx.user_id, ctx.supplier_id),
        )
        line.status = LineStatus.REFUNDED
        code_status = code_status_after_refund(ctx.stock_kind)
        if code_status is not None:
            await _set_code_status(session, line.code_id, code_status)
        await session.flush()
        await set_order_status_after_refund(  # the reseller's shop hears of it, in this tx
            session,
            ctx.order_id,
            Refunded(1, reversal.to_buyer),
            actor=deciding.actor,
            note=f"report #{report.id}",
            now=deciding.now,
        )
        report.status = ReportStatus.REFUNDED
        report.refund_amount = reversal.to_buyer
        balance = await balance_of(session, AccountKind.RESELLER_BALANCE, ctx.user_id)
        return Applied(
            Outcome.REFUNDED,
            "report.refund",
            f"order:{ctx.order_id}",
            {
                "report": report.id,
                "position": report.position,
                "amount": reversal.to_buyer,
                "supplier": -reversal.from_supplier,
            },
            Remedy(balance_after=balance),
        )

    async def reject(
        self, session: AsyncSession, request: CodeReport, deciding: Deciding
    ) -> Applied[Remedy]:
        request.status = ReportStatus.REJECTED
        request.resolution_note = deciding.reason
        return Applied(
            Outcome.REJECTED,
            "report.reject",
            f"order:{request.order_id}",
            {"report": request.id, "reason": deciding.reason},
            Remedy(),
        )

    async def result(
        self,
        session: AsyncSession,
        request: CodeReport,
        effect: Remedy | None,
        verdict: Verdict | None,
        already_decided: bool,
    ) -> Resolution:
        remedy = effect or Remedy()
        return Resolution(
            await _view(session, request),
            already_decided=already_decided,
            new_code=remedy.new_code,
            balance_after=remedy.balance_after,
            verdict=verdict,
        )


@dataclass(frozen=True)
class _LineRefund:
    """What the refund of one reported line reads: the order's parties, the SKU's stock
    kind and the line's split as charged."""

    order_id: int
    user_id: int
    supplier_id: int
    stock_kind: str
    line: ChargedLine


async def _load_line_refund(
    session: AsyncSession, report: CodeReport, line: OrderLine
) -> _LineRefund:
    row = (
        await session.execute(
            select(Order.id, Order.user_id, Order.supplier_id, Sku.stock_kind)
            .join(Sku, Sku.id == Order.sku_id)
            .where(Order.id == report.order_id)
        )
    ).one()
    charged = ChargedLine(
        line.price, line.supplier_amount, line.platform_spread, line.platform_commission
    )
    return _LineRefund(row.id, row.user_id, row.supplier_id, row.stock_kind, charged)


async def _held_line(session: AsyncSession, report: CodeReport) -> OrderLine:
    """Lock the line and check it still holds the reported code, delivered: a refund of the
    order by another path waits here or is seen (never a double refund)."""
    held = await session.scalar(
        update(OrderLine)
        .where(
            OrderLine.id == report.line_id,
            OrderLine.status == LineStatus.DELIVERED,
            OrderLine.code_id == report.bad_code_id,
        )
        .values(status=OrderLine.status)
        .returning(OrderLine.id)
        .execution_options(synchronize_session=False)
    )
    if held is None:
        raise InvalidState(report=report.id, reason="line refunded or changed")
    line = await session.get(OrderLine, report.line_id, populate_existing=True)
    assert line is not None
    return line


def _redact(reason: str, stored: str) -> str:
    """A reseller may paste the code (or its password) into the reason; the reason reaches
    the supplier and the audit trail, so each of the code's fields is masked there."""
    for value in CardCode.from_stored(stored).values():
        if len(value.strip()) >= 4:
            reason = re.sub(re.escape(value.strip()), "[code]", reason, flags=re.IGNORECASE)
    return reason


async def _supplier_user(session: AsyncSession, report: CodeReport) -> int | None:
    """The ``users.id`` of the reported code's supplier."""
    user_id: int | None = await session.scalar(
        select(Supplier.user_id).where(Supplier.id == report.supplier_id)
    )
    return user_id


async def _report(session: AsyncSession, report_id: int) -> CodeReport:
    report = await session.get(CodeReport, report_id)
    if report is None:
        raise NotFound(kind="report", ref=str(report_id))
    return report


async def _sku_of(session: AsyncSession, report: CodeReport) -> Sku:
    sku = await session.scalar(
        select(Sku).join(Order, Order.sku_id == Sku.id).where(Order.id == report.order_id)
    )
    assert sku is not None
    return sku


async def _set_code_status(session: AsyncSession, code_id: int, status: CodeStatus) -> None:
    await session.execute(
        update(Code)
        .where(Code.id == code_id)
        .values(status=status)
        .execution_options(synchronize_session=False)
    )
