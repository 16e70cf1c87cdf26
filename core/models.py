"""The database schema. Money columns are integer minor units; rates are basis points."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = BigInteger
UtcDateTime = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])


class Leased:
    """The one lease convention of rows that workers claim (``core/leases.py``).

    The row is held by ``lease_owner`` while ``lease_until`` is in the future and is free
    when ``lease_until`` is NULL or past; releasing clears both."""

    if TYPE_CHECKING:  # every leased table has an integer primary key ``id`` of its own
        id: Mapped[int]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    BANNED = "banned"
    PENDING = "pending"  # registered under approval/invite policy, not admitted yet
    REJECTED = "rejected"  # an admin declined their registration request


class Role(enum.StrEnum):
    RESELLER = "reseller"
    SUPPLIER = "supplier"
    ADMIN = "admin"


class StockKind(enum.StrEnum):
    UNIQUE = "unique"
    CYCLIC = "cyclic"


class SkuStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REJECTED = "rejected"


class CodeStatus(enum.StrEnum):
    AVAILABLE = "available"
    SOLD = "sold"
    VOIDED = "voided"


class PromotionKind(enum.StrEnum):
    PERCENT_OFF = "percent_off"
    FIXED_PRICE = "fixed_price"


class OrderStatus(enum.StrEnum):
    PAID = "paid"
    PARTLY_REFUNDED = "partly_refunded"
    REFUNDED = "refunded"
    # an order not delivered at once (direct top-up, an upstream still processing):
    # pending → fulfilling → delivered | failed | partially_delivered (core/fulfilment.py)
    PENDING = "pending"
    FULFILLING = "fulfilling"
    DELIVERED = "delivered"
    FAILED = "failed"
    PARTIALLY_DELIVERED = "partially_delivered"


class LineStatus(enum.StrEnum):
    DELIVERED = "delivered"
    REFUNDED = "refunded"


class AccountKind(enum.StrEnum):
    RESELLER_BALANCE = "reseller_balance"
    SUPPLIER_PAYABLE = "supplier_payable"
    PLATFORM_SPREAD = "platform_spread"
    PLATFORM_COMMISSION = "platform_commission"
    TOPUP_CLEARING = "topup_clearing"
    PAYOUT_CLEARING = "payout_clearing"
    PAYMENT_FEES = "platform_payment_fees"  # what payment providers keep (issue 15)
    FULFILMENT_HOLD = "fulfilment_hold"  # what resellers paid for orders not yet delivered
    UPSTREAM_PREPAID = "upstream_prepaid"  # what we hold at an upstream (owner: upstream id)
    PLATFORM_ADS = "platform_ads"  # featured placements and brand-zone fees (core/ads.py)
    PLATFORM_SERVICES = "platform_services"  # paid services (core/paid_services.py)
    PLATFORM_DATA = "platform_data"  # demand reports

    # --- credit lines (0024): interest the platform earns, interest a reseller owes ---
    PLATFORM_INTEREST = "platform_interest"
    RESELLER_INTEREST = "reseller_interest"


class Level(Base):
    __tablename__ = "levels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    rank: Mapped[int] = mapped_column(Integer, unique=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    is_reseller: Mapped[bool] = mapped_column(Boolean, default=True)
    is_supplier: Mapped[bool] = mapped_column(Boolean, default=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    level_id: Mapped[int] = mapped_column(ForeignKey("levels.id"))
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    # False while the language is a placeholder (a user created before they ever wrote, e.g.
    # an admin from KAMENG_ADMIN_IDS): their first update sets it from Telegram's.
    language_known: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    status: Mapped[UserStatus] = mapped_column(_enum(UserStatus), default=UserStatus.ACTIVE)
    credit_limit: Mapped[int] = mapped_column(Money, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: when the user first wrote to the bot; None for a user the operator or an admin
    #: created (CLI, admin panel): Telegram lets the bot write only to those who wrote
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    __table_args__ = (CheckConstraint("credit_limit >= 0", name="credit_limit_non_negative"),)


class Supplier(Base):
    __tablename__ = "suppliers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Category(Base):
    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Sku(Base):
    __tablename__ = "skus"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    face_value: Mapped[int] = mapped_column(Money)
    supply_price: Mapped[int] = mapped_column(Money)
    default_price: Mapped[int] = mapped_column(Money)
    stock_kind: Mapped[StockKind] = mapped_column(_enum(StockKind), default=StockKind.UNIQUE)
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[SkuStatus] = mapped_column(_enum(SkuStatus), default=SkuStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        CheckConstraint("supply_price >= 0", name="supply_price_non_negative"),
        CheckConstraint("default_price >= supply_price", name="default_price_not_below_supply"),
    )


class SkuLevelPrice(Base):
    __tablename__ = "sku_level_prices"
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    level_id: Mapped[int] = mapped_column(ForeignKey("levels.id"), primary_key=True)
    price: Mapped[int] = mapped_column(Money)


class QuantityBreak(Base):
    """From ``min_quantity`` units up, the unit price is ``discount_bps`` lower."""

    __tablename__ = "quantity_breaks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    min_quantity: Mapped[int] = mapped_column(Integer)
    discount_bps: Mapped[int] = mapped_column(Integer)
    __table_args__ = (
        CheckConstraint(
            "(sku_id IS NULL) <> (category_id IS NULL)", name="scoped_to_sku_or_category"
        ),
        CheckConstraint("min_quantity >= 2", name="min_quantity_at_least_two"),
        CheckConstraint("discount_bps > 0 AND discount_bps < 10000", name="discount_in_range"),
    )


class Promotion(Base):
    """Percent off or a fixed unit price, for SKUs or one category, in [starts_at, ends_at)."""

    __tablename__ = "promotions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[PromotionKind] = mapped_column(_enum(PromotionKind))
    percent_off_bps: Mapped[int | None] = mapped_column(Integer)
    fixed_price: Mapped[int | None] = mapped_column(Money)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    announcement: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="window_not_empty"),)


class PromotionSku(Base):
    __tablename__ = "promotion_skus"
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id"), primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True, index=True)


class PromotionLevel(Base):
    __tablename__ = "promotion_levels"
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id"), primary_key=True)
    level_id: Mapped[int] = mapped_column(ForeignKey("levels.id"), primary_key=True)


class CommissionTier(Base):
    """Ladder: a supplier with at least ``min_units`` sold in 30 days pays ``rate_bps``."""

    __tablename__ = "commission_tiers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exclusive: Mapped[bool] = mapped_column(Boolean)
    min_units: Mapped[int] = mapped_column(Integer)
    rate_bps: Mapped[int] = mapped_column(Integer)
    __table_args__ = (UniqueConstraint("exclusive", "min_units"),)


class PlatformPolicy(Base):
    """One row: the platform-wide pricing knobs an operator may change."""

    __tablename__ = "platform_policy"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    spread_supplier_bps: Mapped[int] = mapped_column(Integer)


class Quote(Base):
    __tablename__ = "quotes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Money)
    total: Mapped[int] = mapped_column(Money)
    breakdown: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CodeImport(Base):
    """One upload of codes: who, for which SKU, and what came of it."""

    __tablename__ = "code_imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    actor: Mapped[str] = mapped_column(String(64))
    added: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_in_file: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_on_platform: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Code(Base):
    __tablename__ = "codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("code_imports.id"))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    status: Mapped[CodeStatus] = mapped_column(_enum(CodeStatus), default=CodeStatus.AVAILABLE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (Index("ix_codes_sku_status", "sku_id", "status", "id"),)


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    quote_id: Mapped[str | None] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Money)
    total: Mapped[int] = mapped_column(Money)
    commission_bps: Mapped[int] = mapped_column(Integer)
    # the schedule ("default", "exclusive", "category:<id>") and tier (its min units) used
    commission_schedule: Mapped[str | None] = mapped_column(String(32))
    commission_tier: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus), default=OrderStatus.PAID)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        Index("ix_orders_user_created", "user_id", "created_at"),
        Index("ix_orders_supplier_created", "supplier_id", "created_at"),
        # a quote is spent once, whatever idempotency key bought it (NULLs are distinct)
        Index("uq_orders_quote_id", "quote_id", unique=True),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )


class OrderLine(Base):
    """One delivered unit: its code and how its price was split."""

    __tablename__ = "order_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("codes.id"), index=True)
    price: Mapped[int] = mapped_column(Money)
    supplier_amount: Mapped[int] = mapped_column(Money)
    platform_spread: Mapped[int] = mapped_column(Money)
    platform_commission: Mapped[int] = mapped_column(Money)
    status: Mapped[LineStatus] = mapped_column(_enum(LineStatus), default=LineStatus.DELIVERED)
    __table_args__ = (
        CheckConstraint(
            "supplier_amount + platform_spread + platform_commission = price",
            name="split_adds_up",
        ),
    )


class CodeRestock(Base):
    """A refunded line's void code put back on sale by an admin, who states that the supplier
    confirmed it unused (``reason``). One per line; the line itself stays refunded. The
    matching ``code.restock`` audit record is ``audit_id``; ``kameng ledger check`` requires
    one of these between any two sales of the same unique code."""

    __tablename__ = "code_restocks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), unique=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("codes.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit_log.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


PLATFORM_OWNER = 0  # owner_id of the platform's own accounts (NULL would defeat UNIQUE)


class Account(Base):
    """``balance`` caches the sum of this account's entries, updated in the same transaction."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[AccountKind] = mapped_column(_enum(AccountKind))
    owner_id: Mapped[int] = mapped_column(Integer)
    balance: Mapped[int] = mapped_column(Money, default=0)
    __table_args__ = (UniqueConstraint("kind", "owner_id", name="uq_accounts_kind_owner"),)


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    memo: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(Money)


class AuditRecord(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row that serialises appends to the chain (its row lock is the chain's lock)."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class OutboxMessage(Leased, Base):
    """A notification promised in a committed transaction, sent later by a worker."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    available_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # --- suppliers sales: how a row ended (NULL while pending); the sender's lease: Leased ---
    outcome: Mapped[str | None] = mapped_column(String(16))
    __table_args__ = (
        Index("ix_outbox_pending", "sent_at", "available_at"),
        Index("ix_outbox_due", "outcome", "available_at"),
    )


class TopUpStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class TopUpRequest(Base):
    """A reseller says they paid; an admin checks the receipt and approves or rejects."""

    __tablename__ = "topup_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[int] = mapped_column(Money)
    note: Mapped[str] = mapped_column(Text, default="")
    receipt_file_id: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[TopUpStatus] = mapped_column(_enum(TopUpStatus), default=TopUpStatus.PENDING)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)


# --- admin panel: after-sales ---


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    REPLACED = "replaced"
    REFUNDED = "refunded"
    REJECTED = "rejected"


class CodeReport(Base):
    """A reseller says one delivered code is bad; an admin replaces, refunds or rejects."""

    __tablename__ = "code_reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based, in the order's code list
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    bad_code_id: Mapped[int] = mapped_column(ForeignKey("codes.id"))
    replacement_code_id: Mapped[int | None] = mapped_column(ForeignKey("codes.id"))
    reason: Mapped[str] = mapped_column(Text)
    screenshot_file_id: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[ReportStatus] = mapped_column(
        _enum(ReportStatus), default=ReportStatus.OPEN, index=True
    )
    refund_amount: Mapped[int] = mapped_column(Money, default=0)
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- registration and vouchers ---


class RegistrationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class RegistrationRequest(Base):
    """A newcomer asks to join (approval policy); the first admin decision wins."""

    __tablename__ = "registration_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    status: Mapped[RegistrationStatus] = mapped_column(
        _enum(RegistrationStatus), default=RegistrationStatus.PENDING
    )
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class InviteCode(Base):
    """One-use invite (invite policy). Only a keyed digest of the code is stored."""

    __tablename__ = "invite_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Voucher(Base):
    """A platform top-up code worth ``amount``, redeemed once by one reseller.
    Only a keyed digest of the code is stored."""

    __tablename__ = "vouchers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    amount: Mapped[int] = mapped_column(Money)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    redeemed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    redeemed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))


# --- suppliers sales ---


class SalesNotify(enum.StrEnum):
    """How a supplier hears about sales: a message per order, or a summary per period."""

    INSTANT = "instant"
    HOURLY = "hourly"
    DAILY = "daily"


class SupplierSettings(Base):
    __tablename__ = "supplier_settings"
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), primary_key=True)
    sales_notify: Mapped[SalesNotify] = mapped_column(
        _enum(SalesNotify), default=SalesNotify.INSTANT
    )
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StockAlert(Base):
    """Tell the supplier once when a SKU's stock falls below ``threshold``; re-armed when
    stock is seen at or above it again."""

    __tablename__ = "stock_alerts"
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    threshold: Mapped[int] = mapped_column(Integer)
    armed: Mapped[bool] = mapped_column(Boolean, default=True)
    alerted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("threshold > 0", name="threshold_positive"),)


class SalesDigest(Base):
    """One supplier's sales in [period_start, period_end), sent once the period is over."""

    __tablename__ = "sales_digests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    period: Mapped[SalesNotify] = mapped_column(_enum(SalesNotify))
    period_start: Mapped[datetime] = mapped_column(UtcDateTime)
    period_end: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (Index("ix_sales_digests_supplier_start", "supplier_id", "period_start"),)


class SalesDigestLine(Base):
    __tablename__ = "sales_digest_lines"
    digest_id: Mapped[int] = mapped_column(ForeignKey("sales_digests.id"), primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[int] = mapped_column(Integer, default=0)
    earnings: Mapped[int] = mapped_column(Money, default=0)


class WithdrawalStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    REJECTED = "rejected"


class WithdrawalRequest(Base):
    """A supplier asks to be paid out; the first admin to decide marks it paid or rejects it."""

    __tablename__ = "withdrawal_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    amount: Mapped[int] = mapped_column(Money)
    status: Mapped[WithdrawalStatus] = mapped_column(
        _enum(WithdrawalStatus), default=WithdrawalStatus.PENDING
    )
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    ledger_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)


# --- suppliers catalog ---


class ApplicationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class SupplierApplication(Base):
    """A user asks to become a supplier; the first admin decision wins."""

    __tablename__ = "supplier_applications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    company_name: Mapped[str] = mapped_column(String(128))
    contact_note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ApplicationStatus] = mapped_column(
        _enum(ApplicationStatus), default=ApplicationStatus.PENDING
    )
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        Index(
            "uq_supplier_applications_one_pending",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


class ReviewStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # the supplier changed the SKU again before a decision


class SkuReview(Base):
    """One submission of a supplier's SKU for review (审核): what was asked, and the verdict.

    The newest row of a SKU holds its current provenance note and authorization file."""

    __tablename__ = "sku_reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "new" | "edit"
    name: Mapped[str] = mapped_column(String(128))
    supply_price: Mapped[int] = mapped_column(Money)
    provenance: Mapped[str] = mapped_column(Text, default="")
    authorization_file_id: Mapped[str | None] = mapped_column(String(256))
    authorization_kind: Mapped[str | None] = mapped_column(String(16))  # "photo" | "document"
    status: Mapped[ReviewStatus] = mapped_column(_enum(ReviewStatus), default=ReviewStatus.PENDING)
    submitted_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    sale_price: Mapped[int | None] = mapped_column(Money)  # the listing price, once approved
    __table_args__ = (
        Index(
            "uq_sku_reviews_one_pending",
            "sku_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


# --- reseller HTTP API ---


class ApiKey(Base):
    """A reseller's key to the HTTP API. Only its keyed digest is stored; ``prefix`` (the
    first characters) lets an operator tell keys apart. One active key per reseller."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApiIdempotencyKey(Base):
    """A client's ``Idempotency-Key`` for an order: which request it was first used for
    (``request_hash``) and the order idempotency key it maps to."""

    __tablename__ = "api_idempotency_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    client_key: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    order_key: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        UniqueConstraint("user_id", "client_key", name="uq_api_idempotency_keys_user_key"),
        Index("ix_api_idempotency_keys_order_key", "order_key"),  # an order's external_id
    )


# --- scheduler ---


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    MISSED = "missed"


class ScheduledJob(Leased, Base):
    """A job persisted for the runner: claimed by one process at a time through a lease.

    ``lease_until`` is the claim's expiry while running and the earliest retry while pending;
    ``cursor`` is a handler's checkpoint (e.g. the last recipient served), so a job resumed
    after a crash carries on where it stopped."""

    __tablename__ = "scheduled_jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text, default="{}")
    run_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus), default=JobStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    cursor: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (Index("ix_scheduled_jobs_due", "status", "run_at"),)


# --- production mode (kameng serve) ---


class InstanceLease(Leased, Base):
    """One named lease on the whole deployment: ``serve`` is held by the one ``kameng serve``
    that may run without Redis, renewed while it runs and taken over once it expired."""

    __tablename__ = "instance_leases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


class SeenUpdate(Base):
    """A Telegram update already taken by an instance: a redelivery, or the same update
    reaching a second instance, is dropped. Rows older than a day are deleted."""

    __tablename__ = "seen_updates"
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


# --- perf ---


class SupplierDailyUnits(Base):
    """Units a supplier sold per UTC day, counted by the sale in its own transaction.

    The commission ladder's trailing volume is then a sum over about thirty rows instead of
    over every order of the last thirty days (refunds never lowered that volume; they do
    not here either)."""

    __tablename__ = "supplier_daily_units"
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    units: Mapped[int] = mapped_column(BigInteger)


# --- broadcasts ---


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"  # composed, previewed, not sent
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"
    DISCARDED = "discarded"  # the preview was cancelled


class RecipientStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker: the send may be in flight
    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"


class BroadcastCampaign(Leased, Base):
    """One admin broadcast: the message, its audience and who is sending it (a lease)."""

    __tablename__ = "broadcast_campaigns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    admin_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    admin_chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(8))  # "text" | "photo"
    body_html: Mapped[str] = mapped_column(Text)
    photo_file_id: Mapped[str | None] = mapped_column(String(256))
    button_label: Mapped[str | None] = mapped_column(String(64))
    button_url: Mapped[str | None] = mapped_column(String(512))
    audience: Mapped[str] = mapped_column(String(16))  # resellers | level | category | suppliers
    audience_ref: Mapped[int | None] = mapped_column(Integer)  # level id or category id
    audience_days: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[CampaignStatus] = mapped_column(
        _enum(CampaignStatus), default=CampaignStatus.DRAFT
    )
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (Index("ix_broadcast_campaigns_status", "status"),)


class BroadcastRecipient(Base):
    """One user of a campaign; UNIQUE (campaign, user) so nobody is queued twice."""

    __tablename__ = "broadcast_recipients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("broadcast_campaigns.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[RecipientStatus] = mapped_column(
        _enum(RecipientStatus), default=RecipientStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    __table_args__ = (
        UniqueConstraint("campaign_id", "user_id", name="uq_broadcast_recipients_campaign_user"),
        Index("ix_broadcast_recipients_campaign_status", "campaign_id", "status", "id"),
    )


class BroadcastOptOut(Base):
    """A user who asked not to receive promotional broadcasts."""

    __tablename__ = "broadcast_opt_outs"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- payments (issue 15): top-ups paid through a provider, credited without an admin ---


class PaymentStatus(enum.StrEnum):
    CREATED = "created"  # waiting for the payer
    PAID = "paid"  # the provider says paid, not credited yet
    CREDITED = "credited"  # one ledger transaction keyed ``payment:<id>``
    EXPIRED = "expired"  # never paid within its time (and grace)
    MISMATCHED = "mismatched"  # paid, but not as asked (amount, too late): an admin decides
    FAILED = "failed"  # the provider refused or closed it


class Payment(Base):
    """One top-up through a provider. ``id`` is ours, random (the idempotency key: the
    provider's ``out_trade_no``, the ledger key ``payment:<id>``); ``provider_reference``
    is the provider's own id of it, UNIQUE per provider so a notification is one payment."""

    __tablename__ = "payments"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    provider: Mapped[str] = mapped_column(String(24))
    method: Mapped[str] = mapped_column(String(24), default="")  # e.g. epay's alipay / wxpay
    amount: Mapped[int] = mapped_column(Money)  # what the balance gets, in the deployment's fen
    currency: Mapped[str] = mapped_column(String(8))
    # what the payer pays where the provider counts in another unit (USDT micro, XTR stars)
    provider_amount: Mapped[int | None] = mapped_column(BigInteger)
    provider_currency: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[PaymentStatus] = mapped_column(
        _enum(PaymentStatus), default=PaymentStatus.CREATED
    )
    provider_reference: Mapped[str | None] = mapped_column(String(128))
    paid_amount: Mapped[int | None] = mapped_column(BigInteger)  # in the provider's unit
    fee: Mapped[int] = mapped_column(Money, default=0)
    pay_url: Mapped[str | None] = mapped_column(Text)
    qr_text: Mapped[str | None] = mapped_column(Text)
    raw_notification: Mapped[str | None] = mapped_column(Text)  # JSON, secrets masked
    note: Mapped[str] = mapped_column(Text, default="")  # why mismatched; an admin's note
    credited_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    credited_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # last asked the provider
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("provider", "provider_reference", name="uq_payments_provider_reference"),
        Index("ix_payments_status_created", "status", "created_at"),
    )


# --- downstream (issue 13): order callbacks to a reseller's own system ---


class ApiCallback(Base):
    """Where an API key's order state changes are POSTed, and the secret that signs them
    (encrypted like codes; shown once when set)."""

    __tablename__ = "api_callbacks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CallbackDelivery(Base):
    """One attempt to POST an order callback: its answer (or error) and the next try."""

    __tablename__ = "callback_deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    order_id: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(String(500))
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    next_retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(16))  # delivered | retrying | given_up
    __table_args__ = (Index("ix_callback_deliveries_user", "user_id", "attempted_at"),)


class DirectSku(Base):
    """A SKU of kind ``direct`` (直充): no codes; the buyer names the account to credit in
    the fields listed here (JSON: name, pattern, label_en, label_zh), and the supplier has
    ``deadline_minutes`` to fulfil each order before it fails by itself."""

    __tablename__ = "direct_skus"
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    fields: Mapped[str] = mapped_column(Text)
    deadline_minutes: Mapped[int] = mapped_column(Integer)
    __table_args__ = (CheckConstraint("deadline_minutes > 0", name="deadline_positive"),)


class Fulfilment(Leased, Base):
    """An order delivered later (``core/fulfilment.py``): its account, deadline, the split
    of one unit as charged (paid to the supplier's side only for units delivered), what was
    delivered and why it ended. Leased by the deadline sweep."""

    __tablename__ = "fulfilments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    source: Mapped[str] = mapped_column(String(16), default="supplier")  # supplier | upstream
    account: Mapped[str] = mapped_column(Text, default="{}")  # the buyer's fields, JSON
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus), default=OrderStatus.PENDING)
    deadline_at: Mapped[datetime] = mapped_column(UtcDateTime)
    unit_supplier: Mapped[int] = mapped_column(Money)
    unit_spread: Mapped[int] = mapped_column(Money)
    unit_commission: Mapped[int] = mapped_column(Money)
    delivered_units: Mapped[int] = mapped_column(Integer, default=0)
    proof: Mapped[str] = mapped_column(Text, default="")  # a serial number, a note
    proof_file_id: Mapped[str | None] = mapped_column(String(256))  # a photo on Telegram
    reason: Mapped[str] = mapped_column(Text, default="")
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # bought from an upstream (``core/procurement.py``): which product, its order there, and
    # when to ask it next (backoff)
    upstream_sku_id: Mapped[int | None] = mapped_column(ForeignKey("upstream_skus.id"))
    upstream_order_id: Mapped[str | None] = mapped_column(String(64))
    next_check_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    checks: Mapped[int] = mapped_column(Integer, default=0)
    # what the upstream said the order cost us when it ended (None: it did not say); its
    # payable ends at exactly this (``decide_upstream_cost``, proved by ``ledger check``)
    upstream_cost: Mapped[int | None] = mapped_column(Money)
    # units the upstream delivered after we had ended the order (our deadline, refunded):
    # owed it all the same, its codes put into our stock (``core/procurement.py``)
    late_units: Mapped[int | None] = mapped_column(Integer)
    # units of this sale handed out at once from that late stock (an upstream's SKU): not
    # ordered there, their supplier part paid to the spread (``stock_unit``)
    stock_units: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    __table_args__ = (
        Index("ix_fulfilments_status_deadline", "status", "deadline_at"),
        Index("ix_fulfilments_supplier_status", "supplier_id", "status"),
    )


class OrderEvent(Base):
    """One state change of an order, in the order it happened."""

    __tablename__ = "order_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FulfilmentCode(Base):
    """A code an upstream delivered for an order, encrypted like stock codes."""

    __tablename__ = "fulfilment_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class QuoteAccount(Base):
    """The account a direct top-up's quote is for (checked when quoted), so Confirm on the
    quote's message buys for it, however late or often it is pressed."""

    __tablename__ = "quote_accounts"
    quote_id: Mapped[str] = mapped_column(ForeignKey("quotes.id"), primary_key=True)
    account: Mapped[str] = mapped_column(Text)


class RechargeAccount(Base):
    """An account a reseller topped up before, kept for reuse: the values of a field set
    (``fields_key``: the field names, sorted, comma-joined)."""

    __tablename__ = "recharge_accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    fields_key: Mapped[str] = mapped_column(String(200))
    values: Mapped[str] = mapped_column(Text)  # JSON, keys sorted
    last_used_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        UniqueConstraint("user_id", "fields_key", "values", name="uq_recharge_accounts_values"),
        Index("ix_recharge_accounts_user_fields", "user_id", "fields_key"),
    )


# --- upstreams (货源对接) ---


class Upstream(Base):
    """Another platform we buy from. Its SKUs are a supplier's (``supplier_id``); its key
    and secret are AES-GCM ciphertext under the code key (``core/crypto.py``)."""

    __tablename__ = "upstreams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    protocol: Mapped[str] = mapped_column(String(16))
    base_url: Mapped[str] = mapped_column(String(255))
    key_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    secret_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_sync_ok_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: the last failed sync's reason; NULL while syncs succeed (admins were told once)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: the upstream's last reported balance of ours, in fen (None: it does not say)
    last_balance: Mapped[int | None] = mapped_column(Money)


class UpstreamCategoryMap(Base):
    """Where the new SKUs of an upstream's own category (``upstream_category``, as the
    upstream names it) are shelved; an unmapped category goes to ``upstreams.category_id``."""

    __tablename__ = "upstream_category_map"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    upstream_id: Mapped[int] = mapped_column(ForeignKey("upstreams.id"))
    upstream_category: Mapped[str] = mapped_column(String(64))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    __table_args__ = (
        UniqueConstraint(
            "upstream_id", "upstream_category", name="uq_upstream_category_map_source"
        ),
    )


class UpstreamPriceRule(Base):
    """Sale price over upstream cost: a percent (bps) plus a fixed markup, rounded up to
    ``round_to`` fen. ``category_id`` NULL is the upstream's default; a category's rule wins."""

    __tablename__ = "upstream_price_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    upstream_id: Mapped[int] = mapped_column(ForeignKey("upstreams.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    markup_bps: Mapped[int] = mapped_column(Integer, default=0)
    markup_fixed: Mapped[int] = mapped_column(Money, default=0)
    round_to: Mapped[int] = mapped_column(Integer, default=1)
    __table_args__ = (
        UniqueConstraint("upstream_id", "category_id", name="uq_upstream_price_rules_scope"),
        CheckConstraint("markup_bps >= 0 AND markup_fixed >= 0", name="markup_non_negative"),
        CheckConstraint("round_to >= 1", name="round_to_positive"),
    )


class UpstreamSku(Base):
    """An upstream's product mirrored as one of our SKUs: its cost, face value and stock
    as the last sync saw them. Such a SKU has no local codes: its stock is ``stock``
    (NULL: unlimited)."""

    __tablename__ = "upstream_skus"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    upstream_id: Mapped[int] = mapped_column(ForeignKey("upstreams.id"))
    product_ref: Mapped[str] = mapped_column(String(64))  # the upstream's id
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    cost: Mapped[int] = mapped_column(Money)
    face_value: Mapped[int | None] = mapped_column(Money)
    stock: Mapped[int | None] = mapped_column(Integer)
    selling: Mapped[bool] = mapped_column(Boolean, default=True)
    kind: Mapped[str] = mapped_column(String(8), default="codes")  # codes / direct
    #: JSON list of field descriptions (``AccountField.as_json``); rows synced before the
    #: upstream's labels were kept hold a list of names (``upstream_fields`` reads both)
    account_fields: Mapped[str] = mapped_column(Text, default="[]")
    #: why the sync suspended its SKU (gone, not_selling, face_below_cost, zero); NULL when
    #: the sync did not: only a SKU the sync suspended is resumed by it
    suspended_reason: Mapped[str | None] = mapped_column(String(24))
    synced_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("upstream_id", "product_ref", name="uq_upstream_skus_ref"),)


class UpstreamChange(Base):
    """The change log admins read: what a sync created, re-priced, suspended or resumed,
    and when a sync failed or recovered."""

    __tablename__ = "upstream_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    upstream_id: Mapped[int] = mapped_column(ForeignKey("upstreams.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id"))
    old_value: Mapped[int | None] = mapped_column(Money)
    new_value: Mapped[int | None] = mapped_column(Money)
    detail: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (Index("ix_upstream_changes_upstream_at", "upstream_id", "id"),)


# --- USDT on TRON (issue 15): transfers seen on the chain, amounts held, the rate ---------


class UsdtTransferStatus(enum.StrEnum):
    PENDING = "pending"  # ours, not yet confirmed enough: looked at again
    CREDITED = "credited"  # paid its payment (``payment_id``), credited once
    MISMATCHED = "mismatched"  # USDT that paid no payment (``reason``): shown to admins
    LATE = "late"  # paid its payment after expiry and grace: the payment is mismatched
    IGNORED = "ignored"  # a failed transaction: it moved nothing


class UsdtTransfer(Base):
    """One incoming USDT transfer to the deposit address, recorded once (``tx_id``)."""

    __tablename__ = "usdt_transfers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tx_id: Mapped[str] = mapped_column(String(80), unique=True)
    from_address: Mapped[str] = mapped_column(String(64))
    to_address: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)  # USDT's smallest unit (6 decimals)
    paid_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the block's time
    block: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[UsdtTransferStatus] = mapped_column(_enum(UsdtTransferStatus), index=True)
    reason: Mapped[str] = mapped_column(String(24), default="")
    payment_id: Mapped[str | None] = mapped_column(String(32))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UsdtAmountHold(Base):
    """A payable amount one payment expects until ``held_until`` (its expiry and grace):
    the primary key is the amount, so two payments never expect the same one."""

    __tablename__ = "usdt_amount_holds"
    amount: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payment_id: Mapped[str] = mapped_column(String(32))
    held_until: Mapped[datetime] = mapped_column(UtcDateTime)


class UsdtRate(Base):
    """The exchange rate admins set: fen per 1 USDT; the newest row is in force."""

    __tablename__ = "usdt_rates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fen_per_usdt: Mapped[int] = mapped_column(BigInteger)
    set_by: Mapped[str] = mapped_column(String(64))  # "admin:<telegram id>" or "cli"
    note: Mapped[str] = mapped_column(Text, default="")
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("fen_per_usdt > 0", name="rate_positive"),)


# --- Telegram Stars (issue 15): the rate admins set, and refunds of Stars payments ---


class StarsRate(Base):
    """Each rate admins set, fen per star (the newest is in force); audited as ``stars.rate``."""

    __tablename__ = "stars_rates"
    id: Mapped[int] = mapped_column(primary_key=True)
    fen_per_star: Mapped[int] = mapped_column(BigInteger)
    set_by: Mapped[str] = mapped_column(String(64))  # "admin:<telegram id>" or "operator"
    note: Mapped[str] = mapped_column(Text, default="")
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("fen_per_star > 0", name="rate_positive"),)


class StarsRefundStatus(enum.StrEnum):
    PENDING = "pending"  # the ledger is reversed; Telegram's refund is still to be made
    REFUNDED = "refunded"  # refundStarPayment answered (or said it was refunded already)


class StarsRefund(Base):
    """An admin's reversal of a credited Stars payment: one per payment (the primary key),
    one reversing ledger transaction keyed ``stars-refund:<payment id>``."""

    __tablename__ = "stars_refunds"
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), primary_key=True)
    charge_id: Mapped[str] = mapped_column(String(128))
    telegram_id: Mapped[int] = mapped_column(BigInteger)  # the payer, refundStarPayment's user
    stars: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(Money)
    status: Mapped[StarsRefundStatus] = mapped_column(
        _enum(StarsRefundStatus), default=StarsRefundStatus.PENDING
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[int] = mapped_column(BigInteger)  # the admin's telegram id
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    refunded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# --- featured placement, brand zones, paid services (core/ads.py, core/paid_services.py) ---


class AdPlacement(enum.StrEnum):
    HOME = "home"  # the catalogue's first screen
    CATEGORY = "category"  # the top of one category
    SEARCH = "search"  # the search results


class AdRoundStatus(enum.StrEnum):
    OPEN = "open"  # taking sealed bids until closes_at
    SOLD = "sold"  # settled: the winner's SKU is featured in [closes_at, ends_at)
    UNSOLD = "unsold"  # no bid at or above the reserve that its bidder could pay


class AdSlot(Base):
    """A featured place sold for ``period_days`` at a time, no lower than ``reserve``."""

    __tablename__ = "ad_slots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    placement: Mapped[AdPlacement] = mapped_column(_enum(AdPlacement))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    period_days: Mapped[int] = mapped_column(Integer)
    reserve: Mapped[int] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        CheckConstraint("period_days > 0", name="period_positive"),
        CheckConstraint("reserve >= 0", name="reserve_non_negative"),
    )


class AdRound(Base):
    """One period of a slot: bids are taken until ``closes_at``, the winner is featured
    from ``closes_at`` to ``ends_at``."""

    __tablename__ = "ad_rounds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("ad_slots.id"), index=True)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    status: Mapped[AdRoundStatus] = mapped_column(_enum(AdRoundStatus))
    winner_bid_id: Mapped[int | None] = mapped_column(Integer)
    price: Mapped[int | None] = mapped_column(Money)
    sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id"))
    __table_args__ = (UniqueConstraint("slot_id", "closes_at", name="uq_ad_rounds_slot_closes"),)


class AdBid(Base):
    """A supplier's sealed bid for one of his SKUs; bidding again replaces it."""

    __tablename__ = "ad_bids"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("ad_rounds.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    amount: Mapped[int] = mapped_column(Money)
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))  # won / lost / unpaid
    __table_args__ = (
        UniqueConstraint("round_id", "supplier_id", name="uq_ad_bids_round_supplier"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )


class BrandZone(Base):
    """A supplier's named page in the catalogue for an agreed fee or revenue share."""

    __tablename__ = "brand_zones"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    fee: Mapped[int] = mapped_column(Money, default=0)
    share_bps: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="window_not_empty"),
        CheckConstraint("fee >= 0 AND share_bps >= 0 AND share_bps <= 10000", name="terms"),
    )


class ServiceKind(enum.StrEnum):
    SEARCH_BOOST = "search_boost"
    ANALYTICS_REPORT = "analytics_report"
    BROADCAST_CREDITS = "broadcast_credits"
    DEMAND_REPORT = "demand_report"  # one anonymised report of a category (core/demand.py)


class ServiceBilling(enum.StrEnum):
    ONCE = "once"
    MONTHLY = "monthly"


class ServiceOffer(Base):
    """One priced service of the catalogue admins keep."""

    __tablename__ = "service_offers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[ServiceKind] = mapped_column(_enum(ServiceKind))
    billing: Mapped[ServiceBilling] = mapped_column(_enum(ServiceBilling))
    price: Mapped[int] = mapped_column(Money)
    days: Mapped[int] = mapped_column(Integer)
    credits: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("days > 0", name="days_positive"),
    )


class SubscriptionStatus(enum.StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"  # a one-off service ran its days
    STOPPED = "stopped"  # a renewal could not be paid


class ServiceSubscription(Base):
    """A bought service: paid for ``[starts_at, ends_at)``, renewed at ``ends_at`` when
    monthly; ``period`` counts the paid periods (the renewal's idempotency key)."""

    __tablename__ = "service_subscriptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("service_offers.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    payer_kind: Mapped[AccountKind] = mapped_column(_enum(AccountKind))
    payer_owner: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id"))
    status: Mapped[SubscriptionStatus] = mapped_column(_enum(SubscriptionStatus))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    period: Mapped[int] = mapped_column(Integer, default=1)
    credits: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # What an active boost or analytics report is for (``search_boost:<sku id>``,
    # ``analytics_report:0``), NULL once it ends and for the other kinds: the UNIQUE index
    # lets a buyer hold one at a time, so buying again extends it (0043).
    active_target: Mapped[str | None] = mapped_column(String(40))
    __table_args__ = (
        Index("uq_service_subscriptions_active_target", "user_id", "active_target", unique=True),
    )


class ServiceExtension(Base):
    """A purchase that extended a running service by one period (``period`` of its
    subscription): its Buy key, so a second press of that button charges nothing (0043)."""

    __tablename__ = "service_extensions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("service_subscriptions.id"))
    period: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- credit lines and commission schedules (0024) ---


class CreditLine(Base):
    """A reseller's credit line (账期): ``users.credit_limit`` is the floor the ledger keeps;
    this row holds its terms. Interest is posted once per reseller and day (its ledger key
    names both); ``accrued_through`` is the last day posted. Past ``due_on`` or frozen, a
    purchase may not draw further."""

    __tablename__ = "credit_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    limit_amount: Mapped[int] = mapped_column(Money)
    rate_bps: Mapped[int] = mapped_column(Integer)  # per day, on the drawn amount
    term_days: Mapped[int] = mapped_column(Integer)
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    granted_by: Mapped[int] = mapped_column(BigInteger)
    starts_on: Mapped[date] = mapped_column(Date)  # the first day interest may accrue
    due_on: Mapped[date] = mapped_column(Date)  # the last day to repay
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the end of that day
    accrued_through: Mapped[date | None] = mapped_column(Date)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    reminded_on: Mapped[date | None] = mapped_column(Date)
    __table_args__ = (
        CheckConstraint("rate_bps >= 0", name="rate_non_negative"),
        CheckConstraint("term_days > 0", name="term_positive"),
    )


class CreditApplicationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class CreditApplication(Base):
    """A reseller asks for a credit line; an admin grants it (terms) or rejects it."""

    __tablename__ = "credit_applications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    limit_amount: Mapped[int] = mapped_column(Money)  # asked for (the suggestion by default)
    rate_bps: Mapped[int] = mapped_column(Integer)
    term_days: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CreditApplicationStatus] = mapped_column(
        _enum(CreditApplicationStatus), default=CreditApplicationStatus.PENDING
    )
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (CheckConstraint("limit_amount > 0", name="limit_positive"),)


class CategoryCommissionTier(Base):
    """A category's own ladder; categories without tiers use the default ladder
    (``commission_tiers`` with exclusive false), exclusive SKUs the exclusive one."""

    __tablename__ = "category_commission_tiers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    min_units: Mapped[int] = mapped_column(Integer)
    rate_bps: Mapped[int] = mapped_column(Integer)
    __table_args__ = (UniqueConstraint("category_id", "min_units"),)


class DujiaoAccess(Base):
    """An API key enabled for the Dujiao-Next upstream protocol (``core/dujiao_server.py``):
    its secret, encrypted at rest (HMAC needs it back); the key's id is the protocol's key."""

    __tablename__ = "dujiao_access"
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), primary_key=True)
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DujiaoOrder(Base):
    """An order a Dujiao-Next shop placed: its own order number and where to call back."""

    __tablename__ = "dujiao_orders"
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(Integer)
    order_no: Mapped[str] = mapped_column(String(128))
    callback_url: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
