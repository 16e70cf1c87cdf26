"""Second-price placement auctions, service renewals and second purchases, by worked
examples (fen)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.ads import zone_share
from core.decisions.auction import BidRefused, SealedBid, Unsold, Won, check_bid, settle
from core.decisions.renewal import (
    Expire,
    Extend,
    Fresh,
    Renew,
    Stop,
    decide_purchase,
    decide_renewal,
)
from core.models import ServiceBilling, ServiceKind

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
RICH = 10_000_00


def bid(bid_id: int, amount: int, minutes: int = 0, payable: int = RICH) -> SealedBid:
    return SealedBid(bid_id, 100 + bid_id, amount, T0 + timedelta(minutes=minutes), payable)


@pytest.mark.parametrize(
    ("bids", "reserve", "expected"),
    [
        # second price: 300.00 beats 250.00 and pays 250.00
        ([bid(1, 300_00), bid(2, 250_00), bid(3, 120_00)], 100_00, Won(1, 250_00, (2, 3), ())),
        # alone above the reserve: pays the reserve
        ([bid(1, 300_00)], 100_00, Won(1, 100_00, (), ())),
        # the runner-up is below the reserve: he does not take part, the winner pays the reserve
        ([bid(1, 300_00), bid(2, 80_00)], 100_00, Won(1, 100_00, (2,), ())),
        # a tie: the earlier bid wins and pays the tied amount
        ([bid(1, 200_00, minutes=5), bid(2, 200_00, minutes=1)], 50_00, Won(2, 200_00, (1,), ())),
        # a tie at the same minute: the lower bid id (placed first) wins
        ([bid(4, 200_00), bid(3, 200_00)], 50_00, Won(3, 200_00, (4,), ())),
        # nobody reaches the reserve: unsold, everyone lost
        ([bid(1, 90_00), bid(2, 99_99)], 100_00, Unsold((1, 2), ())),
        # no bids at all
        ([], 100_00, Unsold((), ())),
        # the winner cannot pay 250.00: passed over, the next pays the third bid
        (
            [bid(1, 300_00, payable=200_00), bid(2, 250_00), bid(3, 120_00)],
            100_00,
            Won(2, 120_00, (3,), (1,)),
        ),
        # exactly enough in the payable is enough
        ([bid(1, 300_00, payable=250_00), bid(2, 250_00)], 0, Won(1, 250_00, (2,), ())),
        # nobody can pay: unsold
        ([bid(1, 300_00, payable=0), bid(2, 250_00, payable=10_00)], 100_00, Unsold((), (1, 2))),
    ],
)
def test_second_price_settlement(bids: list[SealedBid], reserve: int, expected: object) -> None:
    assert settle(bids, reserve) == expected


def test_the_price_is_never_above_the_winners_own_bid_nor_below_the_reserve() -> None:
    for amounts in ([500, 400, 300], [100, 100], [700], [250, 100, 100]):
        bids = [bid(i, a * 100, minutes=i) for i, a in enumerate(amounts, 1)]
        result = settle(bids, 100_00)
        assert isinstance(result, Won)
        winner = next(b for b in bids if b.bid_id == result.bid_id)
        assert 100_00 <= result.price <= winner.amount


@pytest.mark.parametrize(
    ("billing", "price", "balance", "floor", "expected"),
    [
        (ServiceBilling.ONCE, 30_00, 1_000_00, 0, Expire()),
        (ServiceBilling.MONTHLY, 99_00, 1_000_00, 0, Renew(99_00)),
        (ServiceBilling.MONTHLY, 99_00, 99_00, 0, Renew(99_00)),  # to the fen
        (ServiceBilling.MONTHLY, 99_00, 98_99, 0, Stop(shortfall=1)),
        (ServiceBilling.MONTHLY, 99_00, 0, 0, Stop(shortfall=99_00)),
        # a reseller with a 50.00 credit line may go to −50.00
        (ServiceBilling.MONTHLY, 99_00, 49_00, -50_00, Renew(99_00)),
        (ServiceBilling.MONTHLY, 99_00, 48_00, -50_00, Stop(shortfall=1_00)),
    ],
)
def test_renewal(
    billing: ServiceBilling, price: int, balance: int, floor: int, expected: object
) -> None:
    assert decide_renewal(billing, price, balance, floor) == expected


DAY = timedelta(days=1)
BOOST, REPORT, CREDITS = (
    ServiceKind.SEARCH_BOOST,
    ServiceKind.ANALYTICS_REPORT,
    ServiceKind.BROADCAST_CREDITS,
)


@pytest.mark.parametrize(
    ("kind", "days", "running_until", "expected"),
    [
        # nothing running: the period starts now
        (BOOST, 7, None, Fresh(T0, T0 + 7 * DAY)),
        (REPORT, 30, None, Fresh(T0, T0 + 30 * DAY)),
        # a boost running until 12-08 10:00: buying again extends it to 12-15 10:00
        (BOOST, 7, T0 + 7 * DAY, Extend(T0 + 7 * DAY, T0 + 14 * DAY)),
        # a monthly report running 3 more days: the new month starts when it ends
        (REPORT, 30, T0 + 3 * DAY, Extend(T0 + 3 * DAY, T0 + 33 * DAY)),
        # ending this very minute (its renewal job not yet run): lapsed, starts now
        (BOOST, 7, T0, Fresh(T0, T0 + 7 * DAY)),
        # ended yesterday, not yet expired by the job: starts now, never in the unpaid gap
        (REPORT, 30, T0 - DAY, Fresh(T0, T0 + 30 * DAY)),
        # broadcast credits are a pack: a second purchase is its own, starting now
        (CREDITS, 30, T0 + 10 * DAY, Fresh(T0, T0 + 30 * DAY)),
    ],
)
def test_buying_again_extends_a_running_boost_or_report(
    kind: ServiceKind, days: int, running_until: datetime | None, expected: object
) -> None:
    assert decide_purchase(kind, days, T0, running_until) == expected


@pytest.mark.parametrize(
    ("sales", "bps", "share"),
    [(1_000_00, 500, 50_00), (333_33, 1_000, 33_33), (1, 9_999, 0), (0, 500, 0)],
)
def test_brand_zone_share_rounds_down_once(sales: int, bps: int, share: int) -> None:
    assert zone_share(sales, bps) == share


@pytest.mark.parametrize(
    ("amount", "reserve", "payable", "max_bid", "refused"),
    [
        (80_00, 50_00, 300_00, 10_000_00, None),  # an ordinary bid
        (50_00, 50_00, 300_00, 10_000_00, None),  # exactly the reserve
        (300_00, 50_00, 300_00, 10_000_00, None),  # all of his payable
        (49_99, 50_00, 300_00, 10_000_00, BidRefused("reserve", 50_00)),
        (300_01, 50_00, 300_00, 10_000_00, BidRefused("payable", 300_00)),  # could not pay it
        (80_00, 50_00, 0, 10_000_00, BidRefused("payable", 0)),  # nothing earned yet
        (80_00, 50_00, -5_00, 10_000_00, BidRefused("payable", 0)),  # owes the platform
        # 800,000.00 for 800.00: an extra zero, even when his payable could pay it
        (800_000_00, 50_00, 1_000_000_00, 10_000_00, BidRefused("cap", 10_000_00)),
        (10_000_00, 50_00, 1_000_000_00, 10_000_00, None),  # the cap itself is allowed
    ],
)
def test_a_bid_is_at_least_the_reserve_at_most_the_payable_and_the_cap(
    amount: int, reserve: int, payable: int, max_bid: int, refused: BidRefused | None
) -> None:
    assert check_bid(amount, reserve=reserve, payable=payable, max_bid=max_bid) == refused
