"""Top-up vouchers: an admin issues codes worth an amount (sold or given outside the
platform); a reseller redeems one and their balance is credited once through the ledger.

Only a keyed digest of each code is stored. Redeeming claims the voucher with one
conditional UPDATE (``redeemed_by IS NULL``), so of two users racing for one code exactly one
wins; the credit's idempotency key is ``voucher:<id>``, so it can never be posted twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from core import audit
from core.balances import Posted, check_amount, move_reseller_balance
from core.catalogue import load_user
from core.clock import Clock
from core.db import Database
from core.errors import InvalidQuantity, KamengError, NotRegistered, UserBanned
from core.models import UserStatus, Voucher
from core.rights import is_admin, is_admitted, require_admin
from core.secret_codes import SecretCodes

MAX_VOUCHERS = 50
LEDGER_KIND = "voucher"


class VoucherRefused(KamengError):
    """``reason``: ``unknown`` (no such code) or ``used`` (``by_you`` tells whose)."""

    code = "voucher_refused"


@dataclass(frozen=True)
class IssuedVouchers:
    amount: int
    codes: list[str]  # shown once to the issuing admin; never stored
    ids: list[int]


@dataclass(frozen=True)
class Redeemed:
    voucher_id: int
    amount: int
    posted: Posted


class Vouchers:
    def __init__(self, db: Database, clock: Clock, secret: str) -> None:
        self._db = db
        self._clock = clock
        self._codes = SecretCodes(secret, b"voucher-code")

    async def issue(self, admin_telegram_id: int, amount: int, count: int = 1) -> IssuedVouchers:
        check_amount(amount)
        if not 1 <= count <= MAX_VOUCHERS:
            raise InvalidQuantity(quantity=count, max=MAX_VOUCHERS)
        now = self._clock.now()
        codes = [self._codes.new() for _ in range(count)]
        async with self._db.transaction() as session:
            await require_admin(session, admin_telegram_id, "voucher.issue")
            vouchers = [
                Voucher(
                    digest=self._codes.digest(code),
                    amount=amount,
                    created_by=admin_telegram_id,
                    created_at=now,
                )
                for code in codes
            ]
            session.add_all(vouchers)
            await session.flush()
            ids = [voucher.id for voucher in vouchers]
            await audit.append(
                session,
                action="voucher.issue",
                actor=f"admin:{admin_telegram_id}",
                subject="vouchers",
                payload={"amount": amount, "count": count, "ids": ids},
                now=now,
            )
        return IssuedVouchers(amount, codes, ids)

    async def redeem(self, telegram_id: int, code: str) -> Redeemed:
        """Credit the voucher's amount to this reseller; a voucher pays out once, ever."""
        now = self._clock.now()
        digest = self._codes.digest(code)
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            if user.status is UserStatus.BANNED:
                raise UserBanned()
            if not is_admitted(user.status, is_admin(user)):
                raise NotRegistered(status=user.status.value)
            claimed = (
                await session.execute(
                    update(Voucher)
                    .where(Voucher.digest == digest, Voucher.redeemed_by.is_(None))
                    .values(redeemed_by=user.id, redeemed_at=now)
                    .returning(Voucher.id, Voucher.amount)
                )
            ).first()
            if claimed is None:
                owner = (
                    await session.execute(
                        select(Voucher.id, Voucher.redeemed_by).where(Voucher.digest == digest)
                    )
                ).first()
                if owner is None:
                    raise VoucherRefused(reason="unknown")
                raise VoucherRefused(reason="used", by_you=owner.redeemed_by == user.id)
            voucher_id, amount = int(claimed.id), int(claimed.amount)
            posted = await move_reseller_balance(
                session,
                user,
                amount,
                kind=LEDGER_KIND,
                key=f"voucher:{voucher_id}",
                note=f"voucher #{voucher_id}",
                actor=f"user:{telegram_id}",
                now=now,
            )
            await session.execute(
                update(Voucher)
                .where(Voucher.id == voucher_id)
                .values(transaction_id=posted.transaction_id)
            )
            return Redeemed(voucher_id, amount, posted)
