"""Putting a refunded code back on sale: a separate, explicit and audited admin act.

A refund voids a unique code (``Shop.refund``, ``AfterSales.refund``): the buyer has seen
it, so it must never be sold again by default. Only when the supplier confirms the code is
unused may an admin restock it, stating that confirmation as the reason. Each restocked code
gets one ``code_restocks`` row and one ``code.restock`` audit record (who, when, why, which
order line); the buyer's line stays refunded. ``kameng ledger check`` proves that a unique
code sold twice has such a restock between the two sales.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.clock import Clock
from core.db import Database
from core.errors import InvalidInput, NotFound, NotRestockable
from core.models import (
    Code,
    CodeRestock,
    CodeStatus,
    LineStatus,
    Order,
    OrderLine,
    Sku,
    StockKind,
)
from core.rights import require_admin

MAX_REASON = 1000


def restock_refusal(
    *, line: LineStatus, stock_kind: StockKind, code: CodeStatus, restocked: bool
) -> str | None:
    """Why a line's code may not go back on sale, or ``None`` when it may. Only a refunded
    line's unique code, voided by the refund and never restocked from that line, qualifies."""
    if restocked:
        return "already_restocked"
    if line is not LineStatus.REFUNDED:
        return "not_refunded"
    if stock_kind is StockKind.CYCLIC:
        return "cyclic"  # a shared code is never consumed, so never voided by a refund
    if code is not CodeStatus.VOIDED:
        return "not_void"
    return None


@dataclass(frozen=True)
class RestockResult:
    order_id: int
    sku_code: str
    line_ids: tuple[int, ...]
    positions: tuple[int, ...]  # 1-based, in the order's code list


@dataclass(frozen=True)
class _Line:
    id: int
    position: int
    code_id: int
    refusal: str | None


class Restocks:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def restock(
        self,
        order_id: int,
        *,
        reason: str,
        actor: str,
        units: int | None = None,
        line_ids: list[int] | None = None,
    ) -> RestockResult:
        """Restock the codes of refunded lines of an order: the lines named, else the newest
        ``units`` restockable ones, else all of them. All or nothing: one line that may not
        be restocked refuses the whole act (``NotRestockable``)."""
        return await self._restock(order_id, reason, actor, units, line_ids, admin=None)

    async def restock_as_admin(
        self, admin_telegram_id: int, order_id: int, *, line_ids: list[int], reason: str
    ) -> RestockResult:
        """``restock`` by an admin in the bot, checked inside the same transaction."""
        return await self._restock(
            order_id,
            reason,
            f"admin:{admin_telegram_id}",
            None,
            line_ids,
            admin=admin_telegram_id,
        )

    async def _restock(
        self,
        order_id: int,
        reason: str,
        actor: str,
        units: int | None,
        line_ids: list[int] | None,
        *,
        admin: int | None,
    ) -> RestockResult:
        reason = reason.strip()[:MAX_REASON]
        if not reason:
            raise InvalidInput(field="reason", value="")
        if units is not None and (units < 1 or line_ids):
            raise InvalidInput(field="units", value=units)
        now = self._clock.now()
        try:
            async with self._db.transaction() as session:
                if admin is not None:
                    await require_admin(session, admin, "code.restock")
                order = await session.get(Order, order_id)
                if order is None:
                    raise NotFound(kind="order", ref=str(order_id))
                lines = await _locked_lines(session, order_id)
                chosen = _choose(order_id, lines, units, line_ids)
                code_ids = [line.code_id for line in chosen]
                back = (
                    await session.scalars(
                        update(Code)
                        .where(Code.id.in_(code_ids), Code.status == CodeStatus.VOIDED)
                        .values(status=CodeStatus.AVAILABLE)
                        .returning(Code.id)
                        .execution_options(synchronize_session=False)
                    )
                ).all()
                if len(back) != len(chosen):  # the lines are locked: only a bug gets here
                    raise NotRestockable(order=order_id, why="not_void")
                for line in chosen:
                    audit_id = await audit.append(
                        session,
                        action="code.restock",
                        actor=actor,
                        subject=f"order:{order_id}",
                        payload={
                            "line": line.id,
                            "position": line.position,
                            "code_id": line.code_id,
                            "reason": reason,
                        },
                        now=now,
                    )
                    session.add(
                        CodeRestock(
                            line_id=line.id,
                            code_id=line.code_id,
                            order_id=order_id,
                            actor=actor,
                            reason=reason,
                            audit_id=audit_id,
                            created_at=now,
                        )
                    )
                await session.flush()
                sku_code = await session.scalar(select(Sku.code).where(Sku.id == order.sku_id))
                return RestockResult(
                    order_id,
                    str(sku_code),
                    tuple(line.id for line in chosen),
                    tuple(line.position for line in chosen),
                )
        except IntegrityError:
            # a concurrent restock of the same line committed first (UNIQUE line_id)
            raise NotRestockable(order=order_id, why="already_restocked") from None


async def _locked_lines(session: AsyncSession, order_id: int) -> list[_Line]:
    """The order's lines in receipt order, locked (PostgreSQL ``FOR UPDATE``; SQLite's write
    transaction is already exclusive), each with why it may not be restocked."""
    rows = await session.execute(
        select(
            OrderLine.id,
            OrderLine.status,
            OrderLine.code_id,
            Code.status,
            Sku.stock_kind,
            CodeRestock.id.is_not(None),
        )
        .join(Code, Code.id == OrderLine.code_id)
        .join(Sku, Sku.id == Code.sku_id)
        .outerjoin(CodeRestock, CodeRestock.line_id == OrderLine.id)
        .where(OrderLine.order_id == order_id)
        .order_by(OrderLine.id)
        .with_for_update(of=OrderLine)
    )
    return [
        _Line(
            id=line_id,
            position=position,
            code_id=code_id,
            refusal=restock_refusal(
                line=LineStatus(line_status),
                stock_kind=StockKind(stock_kind),
                code=CodeStatus(code_status),
                restocked=bool(restocked),
            ),
        )
        for position, (line_id, line_status, code_id, code_status, stock_kind, restocked) in (
            enumerate(rows, start=1)
        )
    ]


def _choose(
    order_id: int, lines: list[_Line], units: int | None, line_ids: list[int] | None
) -> list[_Line]:
    if line_ids:
        by_id = {line.id: line for line in lines}
        chosen = []
        for line_id in dict.fromkeys(line_ids):
            line = by_id.get(line_id)
            if line is None:
                raise NotFound(kind="order line", ref=f"{line_id} of order {order_id}")
            if line.refusal is not None:
                raise NotRestockable(order=order_id, line=line_id, why=line.refusal)
            chosen.append(line)
        return chosen
    restockable = [line for line in lines if line.refusal is None]
    wanted = len(restockable) if units is None else units
    if not restockable or len(restockable) < wanted:
        raise NotRestockable(
            order=order_id, why="nothing_to_restock", wanted=wanted, restockable=len(restockable)
        )
    return restockable[len(restockable) - wanted :]  # the newest, as a refund picks them
