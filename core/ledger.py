"""Double-entry ledger: immutable transactions whose entries sum to zero.

Each posting also moves the account's cached ``balance`` in the same statement, so the
cache can never drift from the entries inside a committed transaction. A posting with a
``floor`` is conditional: the UPDATE only matches while the new balance stays at or above
it, which is what keeps a reseller from overspending under any concurrency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Driver, Prepared
from core.decisions.balance import insufficient_balance
from core.errors import NotFound
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


_MOVE = Prepared(
    update(Account)
    .where(Account.kind == bindparam("kind"), Account.owner_id == bindparam("owner"))
    .values(balance=Account.balance + bindparam("amount"))
    .returning(Account.id, Account.balance)
)
_MOVE_FLOORED = Prepared(
    update(Account)
    .where(
        Account.kind == bindparam("kind"),
        Account.owner_id == bindparam("owner"),
        Account.balance + bindparam("amount") >= bindparam("floor"),
    )
    .values(balance=Account.balance + bindparam("amount"))
    .returning(Account.id, Account.balance)
)
_TRANSACTION = Prepared(
    insert(LedgerTransaction)
    .values(
        idempotency_key=bindparam("key"),
        kind=bindparam("kind"),
        order_id=bindparam("order_id"),
        memo=bindparam("memo"),
        created_at=bindparam("now"),
    )
    .returning(LedgerTransaction.id)
)
_ENTRY = Prepared(
    insert(LedgerEntry).values(
        transaction_id=bindparam("transaction_id"),
        account_id=bindparam("account_id"),
        amount=bindparam("amount"),
    )
)


@dataclass(frozen=True)
class Posted:
    transaction_id: int
    balances: tuple[int, ...]  # each posting's account balance after it, in posting order


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
    posted = await post_on(
        await Driver.of(session),
        key=key,
        kind=kind,
        postings=postings,
        now=now,
        memo=memo,
        order_id=order_id,
    )
    return posted.transaction_id


async def post_on(
    driver: Driver,
    *,
    key: str,
    kind: str,
    postings: list[Posting],
    now: datetime,
    memo: str = "",
    order_id: int | None = None,
) -> Posted:
    """``post`` on a driver connection already in the use case's transaction; also returns
    the balances after each posting, so nobody has to read them again."""
    if sum(p.amount for p in postings) != 0:
        raise UnbalancedTransaction(f"{kind} postings sum to {sum(p.amount for p in postings)}")
    if len(postings) < 2:
        raise UnbalancedTransaction(f"{kind} needs at least two postings")
    entries = []
    balances = []
    transaction_id = None
    for posting in postings:
        params = {"kind": posting.kind, "owner": posting.owner_id, "amount": posting.amount}
        if posting.floor is None:
            rows = await driver.rows(_MOVE, params)
        else:
            rows = await driver.rows(_MOVE_FLOORED, {**params, "floor": posting.floor})
        if not rows:
            if posting.floor is not None:
                balance = await driver_balance(driver, posting.kind, posting.owner_id)
                raise insufficient_balance(balance, posting.floor, -posting.amount)
            raise NotFound(kind="account", ref=f"{posting.kind}:{posting.owner_id}")
        account_id, balance = rows[0]
        entries.append({"account_id": account_id, "amount": posting.amount})
        balances.append(int(balance))
        if transaction_id is None:
            [(transaction_id,)] = await driver.rows(
                _TRANSACTION,
                {"key": key, "kind": kind, "order_id": order_id, "memo": memo, "now": now},
            )
    assert transaction_id is not None
    await driver.many(_ENTRY, [{"transaction_id": transaction_id, **e} for e in entries])
    return Posted(int(transaction_id), tuple(balances))


_BALANCE = Prepared(
    select(Account.balance).where(
        Account.kind == bindparam("kind"), Account.owner_id == bindparam("owner")
    )
)


async def driver_balance(driver: Driver, kind: AccountKind, owner_id: int) -> int:
    rows = await driver.rows(_BALANCE, {"kind": kind, "owner": owner_id})
    if not rows:
        raise NotFound(kind="account", ref=f"{kind}:{owner_id}")
    return int(rows[0][0])


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
