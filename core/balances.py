"""Money in and out: top-ups, balance adjustments, supplier withdrawals, statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.catalogue import load_user
from core.clock import Clock, as_utc
from core.credit import interest_owed
from core.db import Database
from core.decisions.balance import SUPPLIER_PAYABLE_FLOOR, reseller_floor
from core.decisions.credit import allocate_repayment
from core.errors import (
    IdempotencyConflict,
    InsufficientBalance,
    InsufficientPayable,
    InvalidAmount,
    NotFound,
)
from core.ledger import Posting, balance_of, find_transaction, platform, post
from core.models import Account, AccountKind, LedgerEntry, LedgerTransaction, Supplier, User

MAX_SINGLE_AMOUNT = 10_000_000_00  # ten million in major units: a typo guard, not a policy


@dataclass(frozen=True)
class BalanceView:
    balance: int
    credit_limit: int

    @property
    def spendable(self) -> int:
        return self.balance - reseller_floor(self.credit_limit)


@dataclass(frozen=True)
class SupplierView:
    supplier_id: int
    name: str
    payable: int


@dataclass(frozen=True)
class Movement:
    transaction_id: int
    kind: str
    amount: int
    memo: str
    created_at: datetime


@dataclass(frozen=True)
class Posted:
    transaction_id: int
    balance_after: int
    replayed: bool = False


def check_amount(amount: int) -> None:
    """A money amount moved in one go: above 0, at most ``MAX_SINGLE_AMOUNT``."""
    if not 0 < amount <= MAX_SINGLE_AMOUNT:
        raise InvalidAmount(amount=amount, max=MAX_SINGLE_AMOUNT)


async def _supplier_of(session: AsyncSession, telegram_id: int) -> Supplier:
    user = await load_user(session, telegram_id)
    supplier = await session.scalar(select(Supplier).where(Supplier.user_id == user.id))
    if supplier is None:
        raise NotFound(kind="supplier", ref=str(telegram_id))
    return supplier


class Balances:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def top_up(
        self, telegram_id: int, amount: int, *, idempotency_key: str, note: str, actor: str
    ) -> Posted:
        """Credit a reseller's prepaid balance (money received outside the platform)."""
        check_amount(amount)
        return await self._move(
            telegram_id,
            amount,
            kind="top_up",
            key=f"top_up:{idempotency_key}",
            note=note,
            actor=actor,
        )

    async def adjust(
        self, telegram_id: int, amount: int, *, idempotency_key: str, note: str, actor: str
    ) -> Posted:
        """An operator's correction, up or down; a note is mandatory."""
        if amount == 0 or abs(amount) > MAX_SINGLE_AMOUNT:
            raise InvalidAmount(amount=amount, max=MAX_SINGLE_AMOUNT)
        if not note.strip():
            raise InvalidAmount(amount=amount, reason="note_required")
        return await self._move(
            telegram_id,
            amount,
            kind="adjustment",
            key=f"adjust:{idempotency_key}",
            note=note,
            actor=actor,
        )

    async def _move(
        self, telegram_id: int, amount: int, *, kind: str, key: str, note: str, actor: str
    ) -> Posted:
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            return await move_reseller_balance(
                session,
                user,
                amount,
                kind=kind,
                key=key,
                note=note,
                actor=actor,
                now=self._clock.now(),
            )

    async def withdraw(
        self, supplier_telegram_id: int, amount: int, *, idempotency_key: str, actor: str
    ) -> Posted:
        """Pay a supplier out of their payable balance (marked paid by an admin)."""
        check_amount(amount)
        now = self._clock.now()
        key = f"withdraw:{idempotency_key}"
        async with self._db.transaction() as session:
            supplier = await _supplier_of(session, supplier_telegram_id)
            return await withdraw_payable(session, supplier, amount, key=key, actor=actor, now=now)

    async def balance(self, telegram_id: int) -> BalanceView:
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            balance = await balance_of(session, AccountKind.RESELLER_BALANCE, user.id)
            return BalanceView(balance, user.credit_limit)

    async def supplier(self, telegram_id: int) -> SupplierView:
        async with self._db.reading() as session:
            supplier = await _supplier_of(session, telegram_id)
            payable = await balance_of(session, AccountKind.SUPPLIER_PAYABLE, supplier.id)
            return SupplierView(supplier.id, supplier.name, payable)

    async def statement(self, telegram_id: int, *, limit: int = 10) -> list[Movement]:
        """The newest movements of a reseller's balance."""
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            rows = await session.execute(
                select(LedgerTransaction, LedgerEntry.amount)
                .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
                .join(Account, Account.id == LedgerEntry.account_id)
                .where(Account.kind == AccountKind.RESELLER_BALANCE, Account.owner_id == user.id)
                .order_by(LedgerTransaction.id.desc())
                .limit(limit)
            )
            return [
                Movement(t.id, t.kind, amount, t.memo, as_utc(t.created_at)) for t, amount in rows
            ]


async def move_reseller_balance(
    session: AsyncSession,
    user: User,
    amount: int,
    *,
    kind: str,
    key: str,
    note: str,
    actor: str,
    now: datetime,
) -> Posted:
    """Credit (or debit) a reseller against top-up clearing, once per key, audited."""
    done = await find_transaction(session, key)
    if done is not None:
        if done.kind != kind or done.memo != note:
            raise IdempotencyConflict(key=key)
        balance = await balance_of(session, AccountKind.RESELLER_BALANCE, user.id)
        return Posted(done.id, balance, replayed=True)
    floor = reseller_floor(user.credit_limit) if amount < 0 else None
    postings = [Posting(AccountKind.RESELLER_BALANCE, user.id, amount, floor=floor)]
    if amount > 0 and kind != "adjustment":  # money in repays a line's interest first
        postings = await money_in(session, user.id, amount)
    transaction_id = await post(
        session,
        key=key,
        kind=kind,
        now=now,
        memo=note,
        postings=[*postings, platform(AccountKind.TOPUP_CLEARING, -amount)],
    )
    await audit.append(
        session,
        action=kind,
        actor=actor,
        subject=f"user:{user.telegram_id}",
        payload={"amount": amount, "note": note},
        now=now,
    )
    balance = await balance_of(session, AccountKind.RESELLER_BALANCE, user.id)
    return Posted(transaction_id, balance)


async def money_in(session: AsyncSession, user_id: int, amount: int) -> list[Posting]:
    """The reseller's side of money paid in (a top-up approved, a payment credited): the
    interest his credit line owes first, then his balance (``allocate_repayment``). Every
    way money comes in posts these, so none of them skips the interest."""
    repaid = allocate_repayment(amount, await interest_owed(session, user_id))
    postings = []
    if repaid.interest:
        postings.append(Posting(AccountKind.RESELLER_INTEREST, user_id, repaid.interest))
    if repaid.principal or not repaid.interest:
        postings.append(Posting(AccountKind.RESELLER_BALANCE, user_id, repaid.principal))
    return postings


async def withdraw_payable(
    session: AsyncSession, supplier: Supplier, amount: int, *, key: str, actor: str, now: datetime
) -> Posted:
    """Pay a supplier out of their payable (never below zero), once per key, audited."""
    done = await find_transaction(session, key)
    if done is not None:
        payable = await balance_of(session, AccountKind.SUPPLIER_PAYABLE, supplier.id)
        return Posted(done.id, payable, replayed=True)
    try:
        transaction_id = await post(
            session,
            key=key,
            kind="withdrawal",
            now=now,
            postings=[
                Posting(
                    AccountKind.SUPPLIER_PAYABLE, supplier.id, -amount, floor=SUPPLIER_PAYABLE_FLOOR
                ),
                platform(AccountKind.PAYOUT_CLEARING, amount),
            ],
        )
    except InsufficientBalance as short:
        raise InsufficientPayable(**short.params) from None
    await audit.append(
        session,
        action="withdrawal",
        actor=actor,
        subject=f"supplier:{supplier.id}",
        payload={"amount": amount},
        now=now,
    )
    payable = await balance_of(session, AccountKind.SUPPLIER_PAYABLE, supplier.id)
    return Posted(transaction_id, payable)
