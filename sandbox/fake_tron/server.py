"""A fake TRON node: the parts of TronGrid's HTTP API that USDT payments use.

- ``GET /v1/accounts/{address}/transactions/trc20`` with ``only_to``, ``only_from``,
  ``contract_address``, ``min_timestamp``, ``max_timestamp``, ``order_by``
  (``block_timestamp,asc|desc``), ``limit`` (≤ 200) and ``fingerprint`` paging;
  answered ``{"data": [...], "success": true, "meta": {"at", "page_size", "fingerprint"?}}``;
- ``POST /wallet/gettransactioninfobyid`` (``{"value": txid}``): ``{}`` for a transaction
  in no block, else ``id``, ``blockNumber``, ``blockTimeStamp``, ``receipt.result``;
- ``POST /wallet/getnowblock``: ``block_header.raw_data.number`` and ``timestamp``.

Scriptable from a test or the sandbox (``FakeTron``): ``pay`` sends a transfer (of the real
USDT contract by default, or another token, to any address, pending or failed), ``mine``
adds blocks (confirmations grow), ``fail_next`` makes the next calls answer 503. The
sandbox also takes ``POST /sandbox/pay`` (``{"to", "amount", "contract"?}``) so a visitor can
pay from the chat page.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from sandbox.local_http import start_app

USDT_CONTRACT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"  # USDT's TRC20 contract on mainnet
PAYER = "TPayerSandboxWa11etxxxxxxxxxxxxxxx"
BLOCK_MS = 3_000  # TRON makes a block every 3 s


@dataclass
class FakeTransfer:
    tx_id: str
    from_address: str
    to_address: str
    contract: str
    amount: int
    timestamp_ms: int
    block: int | None  # None: in no block yet
    succeeded: bool = True
    symbol: str = "USDT"


@dataclass
class FakeTron:
    """The chain's state: blocks and TRC20 transfers."""

    block: int = 60_000_000
    transfers: list[FakeTransfer] = field(default_factory=list)
    failures: int = 0  # the next N API calls answer 503
    calls: list[str] = field(default_factory=list)

    def now_ms(self) -> int:
        return int(datetime.now(UTC).timestamp() * 1000)

    def pay(
        self,
        to: str,
        amount: int,
        *,
        contract: str = USDT_CONTRACT,
        from_address: str = PAYER,
        at: datetime | None = None,
        mined: bool = True,
        succeeded: bool = True,
    ) -> FakeTransfer:
        """A transfer of ``amount`` (smallest units) into ``to``, in the latest block
        (``mined``) or still in none, timestamped ``at`` (now by default)."""
        if mined:
            self.block += 1
        stamp = self.now_ms() if at is None else int(at.timestamp() * 1000)
        transfer = FakeTransfer(
            tx_id=secrets.token_hex(32),
            from_address=from_address,
            to_address=to,
            contract=contract,
            amount=amount,
            timestamp_ms=stamp,
            block=self.block if mined else None,
            succeeded=succeeded,
            symbol="USDT",
        )
        self.transfers.append(transfer)
        return transfer

    def include(self, transfer: FakeTransfer) -> None:
        """Puts a pending transfer into a new block."""
        self.block += 1
        transfer.block = self.block

    def mine(self, blocks: int = 1) -> int:
        self.block += blocks
        return self.block

    def fail_next(self, calls: int = 1) -> None:
        self.failures += calls


def usdt_units(amount: object) -> int:
    """``12347000`` (units) or ``"12.347"`` (USDT, at most 6 decimals) → units."""
    if isinstance(amount, int) and not isinstance(amount, bool):
        return amount
    text = str(amount).strip()
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > 6:
        raise ValueError(text)
    return int(whole) * 1_000_000 + int(frac.ljust(6, "0") or "0")


def _item(t: FakeTransfer) -> dict[str, Any]:
    return {
        "transaction_id": t.tx_id,
        "token_info": {
            "symbol": t.symbol,
            "address": t.contract,
            "decimals": 6,
            "name": "Tether USD",
        },
        "block_timestamp": t.timestamp_ms,
        "from": t.from_address,
        "to": t.to_address,
        "type": "Transfer",
        "value": str(t.amount),
    }


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "false").lower() == "true"


class FakeTronServer:
    """``FakeTron`` served over HTTP on 127.0.0.1 (port 0: any free one)."""

    def __init__(self, chain: FakeTron | None = None, host: str = "127.0.0.1", port: int = 0):
        self.chain = chain or FakeTron()
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self.app = web.Application(middlewares=[self._faults])
        self.app.router.add_get("/v1/accounts/{address}/transactions/trc20", self._trc20)
        self.app.router.add_post("/wallet/gettransactioninfobyid", self._tx_info)
        self.app.router.add_post("/wallet/getnowblock", self._now_block)
        self.app.router.add_post("/sandbox/pay", self._sandbox_pay)

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("FakeTronServer is not started")
        return self._base_url

    async def start(self) -> None:
        self._runner, self._base_url = await start_app(self.app, self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @web.middleware
    async def _faults(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.chain.calls.append(request.path)
        if self.chain.failures > 0 and not request.path.startswith("/sandbox/"):
            self.chain.failures -= 1
            return web.json_response({"Error": "service unavailable"}, status=503)
        response: web.StreamResponse = await handler(request)
        return response

    async def _trc20(self, request: web.Request) -> web.Response:
        address = request.match_info["address"]
        try:
            limit = min(int(request.query.get("limit", "20")), 200)
            min_ts = int(request.query.get("min_timestamp", "0"))
            max_ts = int(request.query.get("max_timestamp", str(2**62)))
            start = int(request.query.get("fingerprint", "0"))
        except ValueError:
            return web.json_response({"success": False, "error": "bad parameter"}, status=400)
        contract = request.query.get("contract_address")
        rows = [
            t
            for t in self.chain.transfers
            if t.block is not None  # TronGrid lists transfers once they are in a block
            and (t.to_address == address or t.from_address == address)
            and not (_flag(request, "only_to") and t.to_address != address)
            and not (_flag(request, "only_from") and t.from_address != address)
            and (contract is None or t.contract == contract)
            and min_ts <= t.timestamp_ms <= max_ts
        ]
        descending = request.query.get("order_by", "block_timestamp,desc").endswith("desc")
        rows.sort(key=lambda t: t.timestamp_ms, reverse=descending)
        page = rows[start : start + limit]
        meta: dict[str, Any] = {"at": self.chain.now_ms(), "page_size": len(page)}
        if start + limit < len(rows):
            meta["fingerprint"] = str(start + limit)  # opaque to the client
        return web.json_response({"data": [_item(t) for t in page], "success": True, "meta": meta})

    async def _tx_info(self, request: web.Request) -> web.Response:
        body = await request.json()
        found = next((t for t in self.chain.transfers if t.tx_id == body.get("value")), None)
        if found is None or found.block is None:
            return web.json_response({})
        return web.json_response(
            {
                "id": found.tx_id,
                "blockNumber": found.block,
                "blockTimeStamp": found.timestamp_ms,
                "contract_address": found.contract,
                "receipt": {"result": "SUCCESS" if found.succeeded else "REVERT"},
            }
        )

    async def _now_block(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "blockID": f"{self.chain.block:016x}" + "0" * 48,
                "block_header": {
                    "raw_data": {"number": self.chain.block, "timestamp": self.chain.now_ms()}
                },
            }
        )

    async def _sandbox_pay(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            to, amount = str(body["to"]), usdt_units(body["amount"])
        except (ValueError, KeyError, TypeError):
            return web.json_response(
                {"ok": False, "error": 'to and amount needed, e.g. "12.347" or 12347000'},
                status=400,
            )
        transfer = self.chain.pay(to, amount, contract=str(body.get("contract", USDT_CONTRACT)))
        self.chain.mine(int(body.get("confirm", 20)))
        return web.json_response({"ok": True, "tx_id": transfer.tx_id, "block": transfer.block})
