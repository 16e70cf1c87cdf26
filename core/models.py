"""The database schema. Money columns are integer minor units; rates are basis points."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    BANNED = "banned"


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
    status: Mapped[UserStatus] = mapped_column(_enum(UserStatus), default=UserStatus.ACTIVE)
    credit_limit: Mapped[int] = mapped_column(Money, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
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
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus), default=OrderStatus.PAID)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (
        Index("ix_orders_user_created", "user_id", "created_at"),
        Index("ix_orders_supplier_created", "supplier_id", "created_at"),
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


class OutboxMessage(Base):
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
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "available_at"),)


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


class BroadcastCampaign(Base):
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
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
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
