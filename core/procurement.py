"""Buying from an upstream when one of its SKUs is sold (采购).

The sale (``Shop``) writes the order as pending with the reseller's money held, exactly as a
direct top-up (``core/fulfilment.py``); right after it commits, ``place`` orders it at the
upstream with our order reference (``kameng-<order id>``) as the upstream's idempotency key,
outside any transaction. What the upstream answers is applied by ``apply``: codes →
delivered (stored encrypted, shown like stock codes), processing → fulfilling, failed →
refunded with the reason, partial → the rest refunded; the upstream is owed what it says the
order cost (``UpstreamOrder.cost``, see ``core.fulfilment.settle``). An order still
processing is asked again (``poll_due``, backoff) or told by the upstream's signed callback
(``callback``); the deadline fails it. The upstream is still asked after our deadline, until
it gives its final answer (``LATE_WATCH`` at most): if it delivered after all, it is owed
what it charged and what it delivered becomes our stock (``_late``). A crash between the
sale and the call leaves an order without an upstream id: the poll places it again under the
same reference, which the upstream answers with the order it already has, so nothing is
bought twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit, leases, outbox
from core.clock import Clock, as_utc
from core.crypto import CodeCipher
from core.db import Database
from core.decisions.fulfilment import (
    OPEN,
    KeepAsking,
    LateDelivery,
    StopAsking,
    decide_late_answer,
)
from core.errors import NotFound, UpstreamError, UpstreamUnreachable
from core.fulfilment import POLL_JOB, UPSTREAM_LATE, change, settle
from core.jobs import NewJob, add_jobs
from core.ledger import post
from core.models import (
    Code,
    CodeStatus,
    Fulfilment,
    FulfilmentCode,
    Order,
    OrderStatus,
    Sku,
    Upstream,
    UpstreamSku,
    User,
)
from core.money import format_amount
from core.upstreams.adapter import AccountRef, OrderState, UpstreamAdapter, UpstreamOrder
from core.upstreams.service import UPSTREAM_ALERT, Upstreams

log = logging.getLogger("kameng.procurement")

REF_PREFIX = "kameng-"
POLL_LEASE = timedelta(minutes=1)
BACKOFF_BASE = timedelta(seconds=20)
BACKOFF_CAP = timedelta(minutes=5)
LATE_WATCH = timedelta(days=1)  # after our deadline, how long the upstream is still asked
LATE_DELIVERY = "late_delivery"  # the admins' upstream alert: delivered after our deadline


def ref_of(order_id: int) -> str:
    return f"{REF_PREFIX}{order_id}"


def next_check(checks: int, base: timedelta = BACKOFF_BASE) -> timedelta:
    """20 s, 40 s, 80 s … (from ``base``) at most 5 minutes between two questions to the
    upstream."""
    delay: timedelta = base * 2 ** min(checks, 10)
    return min(delay, BACKOFF_CAP)


@dataclass(frozen=True)
class Difference:
    order_id: int
    ours: str
    theirs: str

    def __str__(self) -> str:
        return f"order {self.order_id}: ours {self.ours}, upstream {self.theirs}"


class Procurement:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        cipher: CodeCipher,
        upstreams: Upstreams,
        *,
        poll_base: timedelta = BACKOFF_BASE,
    ) -> None:
        self._poll_base = poll_base
        self._db = db
        self._clock = clock
        self._cipher = cipher
        self._upstreams = upstreams

    async def _target(self, order_id: int) -> tuple[str, str, int, dict[str, str], str | None]:
        """The upstream's name, the product there, the quantity, the account, its order id."""
        async with self._db.reading() as session:
            row = (
                await session.execute(
                    select(
                        Upstream.name,
                        UpstreamSku.product_ref,
                        Order.quantity,
                        Fulfilment.account,
                        Fulfilment.upstream_order_id,
                    )
                    .join(UpstreamSku, UpstreamSku.upstream_id == Upstream.id)
                    .join(Fulfilment, Fulfilment.upstream_sku_id == UpstreamSku.id)
                    .join(Order, Order.id == Fulfilment.order_id)
                    .where(Order.id == order_id)
                )
            ).first()
            if row is None:
                raise NotFound(kind="order", ref=str(order_id))
            return row[0], row[1], row[2], json.loads(row[3]), row[4]

    async def place_for_waiting_buyer(self, order_id: int) -> OrderStatus:
        """``place`` right after the sale, while the buyer waits for his receipt: codes
        delivered at once are in that receipt, so he is not also sent "being topped up" and
        "delivered" notices (a partial or failed answer is still told: it carries a refund)."""
        return await self.place(order_id, buyer_waiting=True)

    async def place(self, order_id: int, *, buyer_waiting: bool = False) -> OrderStatus:
        """Order it at the upstream (again: the same reference is the same order there) and
        apply the answer; an upstream that cannot be reached is asked again later."""
        name, product, quantity, account, _placed = await self._target(order_id)
        adapter = await self._upstreams.adapter(name)
        try:
            answer = await adapter.place_order(
                ref_of(order_id), product, quantity, AccountRef(account) if account else None
            )
        except UpstreamUnreachable:
            log.warning("upstream %s not reached for order %s: asked again later", name, order_id)
            return await self._status(order_id)
        answer = await _with_codes(adapter, answer)
        return await self.apply(
            order_id, answer, actor=f"upstream:{name}", buyer_waiting=buyer_waiting
        )

    async def _status(self, order_id: int) -> OrderStatus:
        async with self._db.reading() as session:
            status = await session.scalar(select(Order.status).where(Order.id == order_id))
            if status is None:
                raise NotFound(kind="order", ref=str(order_id))
            return status

    async def apply(
        self, order_id: int, answer: UpstreamOrder, *, actor: str, buyer_waiting: bool = False
    ) -> OrderStatus:
        """What the upstream says of our order, applied once: an order that has ended is
        left as it is (a late or repeated answer changes nothing)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            fulfilment = await session.scalar(
                select(Fulfilment).where(Fulfilment.order_id == order_id).with_for_update()
            )
            order = await session.scalar(
                select(Order).where(Order.id == order_id).with_for_update()
            )
            if fulfilment is None or order is None:
                raise NotFound(kind="order", ref=str(order_id))
            if fulfilment.status not in OPEN:
                if fulfilment.next_check_at is not None and fulfilment.source == "upstream":
                    await self._late(session, order, fulfilment, answer, actor, now)
                return fulfilment.status
            if answer.upstream_id:
                fulfilment.upstream_order_id = answer.upstream_id[:64]
            if answer.state is OrderState.PROCESSING:
                if fulfilment.status is OrderStatus.PENDING:
                    await change(
                        session, order, fulfilment, OrderStatus.FULFILLING, actor=actor, now=now
                    )
                self._schedule(session, fulfilment, now)
                return fulfilment.status
            codes = answer.codes[: order.quantity]
            for code in codes:
                session.add(
                    FulfilmentCode(order_id=order_id, ciphertext=self._cipher.encrypt(code))
                )
            if answer.state is OrderState.DELIVERED:
                delivered = len(codes) if codes else max(answer.delivered, order.quantity)
            else:
                delivered = len(codes) if codes else answer.delivered
            delivered = min(delivered, order.quantity)
            note = "" if delivered == order.quantity else (answer.error or answer.state.value)
            fulfilment.next_check_at = None
            settlement = await settle(
                session,
                order,
                fulfilment,
                delivered,
                actor=actor,
                note=note[:200],
                now=now,
                tell=not (buyer_waiting and delivered == order.quantity),
                charged=answer.cost,
            )
            return settlement.status

    async def _late(
        self,
        session: AsyncSession,
        order: Order,
        fulfilment: Fulfilment,
        answer: UpstreamOrder,
        actor: str,
        now: datetime,
    ) -> None:
        """An answer about an order we ended (our deadline failed and refunded it) while
        the upstream's own order had not ended: wait for its final answer; if it delivered
        after all, it is owed what it charged (``upstream-late:<order>``), its codes go into
        our stock for the SKU (never shown to a buyer) and the admins are told, once."""
        if fulfilment.status is not OrderStatus.FAILED or fulfilment.late_units is not None:
            fulfilment.next_check_at = None  # ended otherwise (by hand), or recorded already
            return
        decision = decide_late_answer(
            final=answer.state is not OrderState.PROCESSING,
            units=min(answer.delivered, order.quantity),
            codes=len(answer.codes[: order.quantity]),
            charged=answer.cost,
            unit_cost=fulfilment.unit_supplier,
            given_up=now >= as_utc(fulfilment.deadline_at) + LATE_WATCH,
        )
        match decision:
            case KeepAsking():
                self._schedule(session, fulfilment, now)
                return
            case StopAsking(reason):
                fulfilment.next_check_at = None
                log.info("order %s: upstream no more asked: %s", order.id, reason)
                return
            case LateDelivery() as late:
                pass
        fulfilment.next_check_at = None
        fulfilment.late_units = late.units
        fulfilment.upstream_cost = late.charged
        if late.charged:
            await post(
                session,
                key=f"upstream-late:{order.id}",
                kind=UPSTREAM_LATE,
                order_id=order.id,
                now=now,
                memo=f"delivered {late.units} after our deadline",
                postings=late.postings(order.supplier_id),
            )
        stocked = await self._stock(session, order.sku_id, answer.codes[: late.units], now)
        row = (
            await session.execute(
                select(Upstream.name, Sku.code)
                .join(UpstreamSku, UpstreamSku.upstream_id == Upstream.id)
                .join(Sku, Sku.id == UpstreamSku.sku_id)
                .where(UpstreamSku.id == fulfilment.upstream_sku_id)
            )
        ).one()
        payload = {
            "upstream": row.name,
            "state": LATE_DELIVERY,
            "order_id": order.id,
            "sku": row.code,
            "units": late.units,
            "charged": late.charged,
            "stocked": stocked,
            "direct": not late.stock,
            "reason": "",
        }
        for admin_id in await session.scalars(select(User.id).where(User.is_admin)):
            await outbox.enqueue(
                session, kind=UPSTREAM_ALERT, user_id=admin_id, payload=payload, now=now
            )
        await audit.append(
            session,
            action="upstream.late",
            actor=actor,
            subject=f"order:{order.id}",
            payload={"units": late.units, "charged": late.charged, "stocked": stocked},
            now=now,
        )

    async def _stock(
        self, session: AsyncSession, sku_id: int, codes: tuple[str, ...], now: datetime
    ) -> int:
        """Codes into our stock for the SKU, encrypted and fingerprinted as every code; one
        already in stock somewhere (the same fingerprint) is not added twice. How many."""
        added = 0
        for code in codes:
            fingerprint = self._cipher.fingerprint(code)
            known = await session.scalar(select(Code.id).where(Code.fingerprint == fingerprint))
            if known is not None:
                continue
            session.add(
                Code(
                    sku_id=sku_id,
                    ciphertext=self._cipher.encrypt(code),
                    fingerprint=fingerprint,
                    status=CodeStatus.AVAILABLE,
                    created_at=now,
                )
            )
            added += 1
        await session.flush()
        return added

    def _schedule(self, session: AsyncSession, fulfilment: Fulfilment, now: datetime) -> None:
        fulfilment.checks += 1
        fulfilment.next_check_at = now + next_check(fulfilment.checks, self._poll_base)
        add_jobs(
            session,
            [
                NewJob(
                    key=f"upstream-poll:{fulfilment.order_id}:{fulfilment.checks}",
                    kind=POLL_JOB,
                    run_at=fulfilment.next_check_at,
                )
            ],
            now,
        )

    async def poll_due(self, owner: str, *, limit: int = 20) -> list[int]:
        """Ask the upstream about every open order due a check (claimed under a lease):
        one never placed is placed again under its reference, the others queried."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            claimed = await leases.claim(
                session,
                Fulfilment,
                owner=owner,
                now=now,
                lease=POLL_LEASE,
                where=[  # open, or ended by our deadline and still asked (a late answer)
                    Fulfilment.source == "upstream",
                    Fulfilment.next_check_at <= now,
                    or_(
                        Fulfilment.status.in_(OPEN),
                        and_(
                            Fulfilment.status == OrderStatus.FAILED,
                            Fulfilment.upstream_order_id.is_not(None),
                        ),
                    ),
                ],
                order_by=[Fulfilment.next_check_at],
                limit=limit,
            )
            orders = list(
                await session.scalars(select(Fulfilment.order_id).where(Fulfilment.id.in_(claimed)))
            )
        for order_id in sorted(orders):
            try:
                await self._check(order_id)
            except UpstreamError as error:
                log.warning("order %s: upstream check failed: %s", order_id, error.code)
            finally:
                async with self._db.transaction() as session:
                    fulfilment_id = await session.scalar(
                        select(Fulfilment.id).where(Fulfilment.order_id == order_id)
                    )
                    if fulfilment_id is not None:
                        await leases.release(session, Fulfilment, fulfilment_id, owner=owner)
        return orders

    async def _check(self, order_id: int) -> OrderStatus:
        name, _product, _quantity, _account, upstream_id = await self._target(order_id)
        if upstream_id is None:  # the answer to the first call never arrived
            return await self.place(order_id)
        adapter = await self._upstreams.adapter(name)
        try:
            answer = await adapter.query_order(ref_of(order_id), upstream_id)
        except UpstreamUnreachable:
            answer = UpstreamOrder(ref_of(order_id), OrderState.PROCESSING, upstream_id)
        answer = await _with_codes(adapter, answer)
        return await self.apply(order_id, answer, actor=f"upstream:{name}")

    async def callback(self, name: str, headers: Mapping[str, str], body: bytes) -> int:
        """A signed callback from upstream ``name``: verified by its adapter (a bad one is
        ``UpstreamCallbackRefused``), then applied like a poll's answer; our order id."""
        adapter: UpstreamAdapter = await self._upstreams.adapter(name)
        answer = adapter.verify_callback(headers, body)
        if not answer.ref.startswith(REF_PREFIX) or not answer.ref[len(REF_PREFIX) :].isdigit():
            raise NotFound(kind="order", ref=answer.ref[:40])
        order_id = int(answer.ref[len(REF_PREFIX) :])
        answer = await _with_codes(adapter, answer)
        await self.apply(order_id, answer, actor=f"upstream:{name}")
        return order_id

    async def reconcile(self, name: str, *, days: int = 1) -> list[Difference]:
        """Our procurements from ``name`` over the last ``days`` beside what the upstream
        says of each: every difference of state, units delivered or cost (what we recorded
        owing it for the order against what it says it charged, when it says)."""
        since = self._clock.now() - timedelta(days=days)
        async with self._db.reading() as session:
            rows = (
                await session.execute(
                    select(
                        Order.id,
                        Fulfilment.status,
                        Fulfilment.delivered_units,
                        Fulfilment.upstream_order_id,
                        Fulfilment.upstream_cost,
                        Fulfilment.unit_supplier,
                        Fulfilment.late_units,
                    )
                    .join(Fulfilment, Fulfilment.order_id == Order.id)
                    .join(UpstreamSku, UpstreamSku.id == Fulfilment.upstream_sku_id)
                    .join(Upstream, Upstream.id == UpstreamSku.upstream_id)
                    .where(Upstream.name == name, Order.created_at >= since)
                    .order_by(Order.id)
                )
            ).all()
        adapter = await self._upstreams.adapter(name)
        differences: list[Difference] = []
        for order_id, status, delivered, upstream_id, cost, unit, late in rows:
            # what we recorded owing: its charge when it said one, else the synced cost of
            # the units that came (in time, or late)
            came = delivered or (late or 0)
            owed = cost if cost is not None else unit * came
            ours = f"{status.value} {delivered}" + (f" (late {late})" if late else "")
            ours += f" cost {format_amount(owed)}"
            if upstream_id is None:
                differences.append(Difference(order_id, ours, "no order id known"))
                continue
            try:
                theirs = await adapter.query_order(ref_of(order_id), upstream_id)
            except UpstreamError as error:
                differences.append(Difference(order_id, ours, f"not answered ({error.code})"))
                continue
            expected = _EXPECTED.get(status)
            units = len(theirs.codes) or theirs.delivered
            said = "not said" if theirs.cost is None else format_amount(theirs.cost)
            ended = theirs.state is not OrderState.PROCESSING
            if late is not None:  # delivered after our deadline, recorded as such
                expected, delivered = theirs.state, late
            costs_differ = ended and theirs.cost is not None and theirs.cost != owed
            if expected is not theirs.state or (ended and units != delivered) or costs_differ:
                differences.append(
                    Difference(order_id, ours, f"{theirs.state.value} {units} cost {said}")
                )
        return differences


async def _with_codes(adapter: UpstreamAdapter, answer: UpstreamOrder) -> UpstreamOrder:
    """A delivery announced without its codes: the codes are on the order, ask for it."""
    ended = answer.state in (OrderState.DELIVERED, OrderState.PARTIAL)
    if ended and not answer.codes and answer.upstream_id:
        try:
            return await adapter.query_order(answer.ref, answer.upstream_id)
        except UpstreamError:
            return UpstreamOrder(answer.ref, OrderState.PROCESSING, answer.upstream_id)
    return answer


_EXPECTED = {
    OrderStatus.PENDING: OrderState.PROCESSING,
    OrderStatus.FULFILLING: OrderState.PROCESSING,
    OrderStatus.DELIVERED: OrderState.DELIVERED,
    OrderStatus.FAILED: OrderState.FAILED,
    OrderStatus.PARTIALLY_DELIVERED: OrderState.PARTIAL,
}
