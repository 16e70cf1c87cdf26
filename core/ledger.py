"""Double-entry ledger: immutable transactions whose entries sum to zero.

Each posting also moves the account's cached ``balance`` in the same statement, so the
cache can never drift from the entries inside a committed transaction. A posting with a
``floor`` is conditional: the UPDATE only matches while the new balance stays at or above
it, which is what keeps a reseller from overspending under any concurrency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InsufficientBalance, NotFound
from core.models import (
    PLATFORM_OWNER,
    Account,
    AccountKind,
    LedgerEntry,
    LedgerTransaction,
)


@dataclass(frozen=True)
class Posting:
    kind: AccountKind
    owner_id: int
    amount: int
    floor: int | None = None  # the balance may not end below this


def platform(kind: AccountKind, amount: int) -> Posting:
    return Posting(kind, PLATFORM_OWNER, amount)


class UnbalancedTransaction(ValueError):
    pass


async def open_account(session: AsyncSession, kind: AccountKind, owner_id: int) -> None:
    exists = await session.scalar(
        select(Account.id).where(Account.kind == kind, Account.owner_id == owner_id)
    )
    if exists is None:
        session.add(Account(kind=kind, owner_id=owner_id, balance=0))
        await session.flush()


async def find_transaction(session: AsyncSession, key: str) -> LedgerTransaction | None:
    return await session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key)
    )


async def post(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    postings: list[Posting],
    now: datetime,
    memo: str = "",
    order_id: int | None = None,
) -> int:
    """Write one transaction and move the cached balances; returns the transaction id.

    Raises ``InsufficientBalance`` when a floored posting would cross its floor; the caller's
    transaction must then roll back (nothing is half-written by design of the unit of work).
    """
    if sum(p.amount for p in postings) != 0:
        raise UnbalancedTransaction(f"{kind} postings sum to {sum(p.amount for p in postings)}")
    if len(postings) < 2:
        raise UnbalancedTransaction(f"{kind} needs at least two postings")
    entries = []
    for posting in postings:
        statement = (
            update(Account)
            .where(Account.kind == posting.kind, Account.owner_id == posting.owner_id)
            .values(balance=Account.balance + posting.amount)
            .returning(Account.id)
        )
        if posting.floor is not None:
            statement = statement.where(Account.balance + posting.amount >= posting.floor)
        account_id = await session.scalar(statement)
        if account_id is None:
            if posting.floor is not None:
                balance = await balance_of(session, posting.kind, posting.owner_id)
                raise InsufficientBalance(
                    shortfall=posting.floor - (balance + posting.amount),
                    spendable=balance - posting.floor,
                    needed=-posting.amount,
                )
            raise NotFound(kind="account", ref=f"{posting.kind}:{posting.owner_id}")
        entries.append({"account_id": account_id, "amount": posting.amount})
    transaction_id = await session.scalar(
        insert(LedgerTransaction)
        .values(idempotency_key=key, kind=kind, order_id=order_id, memo=memo, created_at=now)
        .returning(LedgerTransaction.id)
    )
    assert transaction_id is not None
    await session.execute(
        insert(LedgerEntry), [{"transaction_id": transaction_id, **e} for e in entries]
    )
    return int(transaction_id)


async def balance_of(session: AsyncSession, kind: AccountKind, owner_id: int) -> int:
    balance = await session.scalar(
        select(Account.balance).where(Account.kind == kind, Account.owner_id == owner_id)
    )
    if balance is None:
        raise NotFound(kind="account", ref=f"{kind}:{owner_id}")
    return int(balance)


async def sum_of_entries(session: AsyncSession, account_id: int) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.account_id == account_id
        )
    )
    return int(total or 0)
