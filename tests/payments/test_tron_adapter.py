"""The TronGrid adapter against the fake node over real HTTP: what the watcher will see."""

from __future__ import annotations

import pytest

from core.errors import ChainUnavailable
from core.payments.tron import TronGrid, TxInfo
from sandbox.fake_tron import USDT_CONTRACT, FakeTronServer
from sandbox.fake_tron.server import PAYER
from tests.tron_helpers import FAKE_USDT, OURS, THEIRS


async def test_only_usdt_into_our_address_is_listed_oldest_first(node: FakeTronServer) -> None:
    chain = node.chain
    first = chain.pay(OURS, 12_347_000)
    chain.pay(THEIRS, 5_000_000)  # someone else's deposit
    chain.pay(OURS, 9_000_000, contract=FAKE_USDT)  # a token that calls itself USDT
    chain.pay(PAYER, 1_000_000, from_address=OURS)  # we sent it: not incoming
    pending = chain.pay(OURS, 7_001_000, mined=False)  # in no block yet
    second = chain.pay(OURS, 12_348_000)

    grid = TronGrid(node.base_url, api_key="k")
    listed = await grid.incoming(OURS, USDT_CONTRACT, since_ms=0)

    assert [(t.tx_id, t.amount) for t in listed] == [
        (first.tx_id, 12_347_000),
        (second.tx_id, 12_348_000),
    ]
    assert {t.contract for t in listed} == {USDT_CONTRACT}
    chain.include(pending)
    again = await grid.incoming(OURS, USDT_CONTRACT, since_ms=0)
    assert pending.tx_id in {t.tx_id for t in again}


async def test_since_leaves_older_transfers_out(node: FakeTronServer) -> None:
    old = node.chain.pay(OURS, 1_001_000)
    new = node.chain.pay(OURS, 1_002_000)
    new.timestamp_ms = old.timestamp_ms + 60_000
    listed = await TronGrid(node.base_url).incoming(OURS, USDT_CONTRACT, old.timestamp_ms + 1)
    assert [t.tx_id for t in listed] == [new.tx_id]


async def test_pages_are_followed_by_their_fingerprint(
    node: FakeTronServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("core.payments.tron.PAGE_LIMIT", 2)
    sent = [node.chain.pay(OURS, 1_000_000 + k * 1_000).tx_id for k in range(5)]
    listed = await TronGrid(node.base_url).incoming(OURS, USDT_CONTRACT, 0)
    assert [t.tx_id for t in listed] == sent
    assert node.chain.calls.count(f"/v1/accounts/{OURS}/transactions/trc20") == 3


async def test_confirmations_grow_as_blocks_are_made(node: FakeTronServer) -> None:
    transfer = node.chain.pay(OURS, 12_347_000)
    grid = TronGrid(node.base_url)
    info = await grid.tx_info(transfer.tx_id)
    assert info == TxInfo(block=transfer.block, succeeded=True)
    assert await grid.latest_block() == transfer.block
    node.chain.mine(19)
    assert await grid.latest_block() - info.block == 19  # type: ignore[operator]


async def test_a_transaction_in_no_block_and_a_failed_one(node: FakeTronServer) -> None:
    pending = node.chain.pay(OURS, 1_000_000, mined=False)
    failed = node.chain.pay(OURS, 1_000_000, succeeded=False)
    grid = TronGrid(node.base_url)
    assert await grid.tx_info(pending.tx_id) == TxInfo(block=None, succeeded=True)
    assert (await grid.tx_info(failed.tx_id)).succeeded is False


async def test_a_node_that_does_not_answer_is_chain_unavailable(node: FakeTronServer) -> None:
    node.chain.fail_next(3)
    grid = TronGrid(node.base_url)
    with pytest.raises(ChainUnavailable):
        await grid.incoming(OURS, USDT_CONTRACT, 0)
    with pytest.raises(ChainUnavailable):
        await grid.latest_block()
    with pytest.raises(ChainUnavailable):
        await grid.tx_info("ab" * 32)
    assert await grid.latest_block() == node.chain.block  # answering again
    with pytest.raises(ChainUnavailable):
        await TronGrid("http://127.0.0.1:9", timeout=1).latest_block()  # nobody there


async def test_the_sandbox_pays_by_post_in_usdt_or_units(node: FakeTronServer) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        for amount in ("12.347", 12_347_000):
            async with http.post(
                f"{node.base_url}/sandbox/pay", json={"to": OURS, "amount": amount}
            ) as answer:
                assert answer.status == 200
        for bad in ("12.3470001", "-1", "abc"):
            async with http.post(
                f"{node.base_url}/sandbox/pay", json={"to": OURS, "amount": bad}
            ) as answer:
                assert answer.status == 400
    grid = TronGrid(node.base_url)
    listed = await grid.incoming(OURS, USDT_CONTRACT, 0)
    assert [t.amount for t in listed] == [12_347_000, 12_347_000]
    info = await grid.tx_info(listed[0].tx_id)
    assert await grid.latest_block() - (info.block or 0) >= 19  # confirmed at once
