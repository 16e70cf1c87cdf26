"""The TRON chain as USDT payments need it, behind one small interface.

``TronChain`` is what the watcher asks: the TRC20 transfers into an address since a time,
the block a transaction is in (and whether it succeeded), and the latest block.
``TronGrid`` speaks TronGrid's public HTTP API (and any node that serves it):

- ``GET /v1/accounts/{address}/transactions/trc20?only_to=true&contract_address=…
  &min_timestamp=…&order_by=block_timestamp,asc&limit=200`` — ``data`` items carry
  ``transaction_id``, ``token_info.address``, ``from``, ``to``, ``value`` (a decimal string
  of the token's smallest unit) and ``block_timestamp`` (ms); ``meta.fingerprint`` pages on;
- ``POST /wallet/gettransactioninfobyid {"value": txid}`` — ``blockNumber`` and
  ``receipt.result`` (``SUCCESS``); ``{}`` while the transaction is in no block;
- ``POST /wallet/getnowblock`` — ``block_header.raw_data.number``.

An API key goes in the ``TRON-PRO-API-KEY`` header. The HTTP client is the standard
library's (run in a thread), so ``core`` needs no front's library.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

from core.errors import ChainUnavailable

PAGE_LIMIT = 200
MAX_PAGES = 50  # 10,000 transfers a run at most; the rest on the next run


@dataclass(frozen=True)
class ChainTransfer:
    """One TRC20 transfer into an address, as listed (before its block is looked up)."""

    tx_id: str
    from_address: str
    to_address: str
    contract: str
    amount: int  # the token's smallest unit
    timestamp_ms: int  # the block's timestamp


@dataclass(frozen=True)
class TxInfo:
    """Where a transaction stands: its block (None while in none) and its receipt."""

    block: int | None
    succeeded: bool


class TronChain(Protocol):
    async def incoming(self, address: str, contract: str, since_ms: int) -> list[ChainTransfer]:
        """TRC20 transfers of ``contract`` into ``address`` from ``since_ms`` on, oldest
        first."""
        ...

    async def tx_info(self, tx_id: str) -> TxInfo: ...

    async def latest_block(self) -> int: ...


def _transfer(item: dict[str, Any]) -> ChainTransfer:
    return ChainTransfer(
        tx_id=str(item["transaction_id"]),
        from_address=str(item.get("from", "")),
        to_address=str(item["to"]),
        contract=str(item["token_info"]["address"]),
        amount=int(str(item["value"])),  # a decimal string: never a float
        timestamp_ms=int(item["block_timestamp"]),
    )


class TronGrid:
    """``TronChain`` over TronGrid's HTTP API at ``base_url``."""

    def __init__(self, base_url: str, api_key: str = "", timeout: float = 10.0) -> None:
        self._base = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["TRON-PRO-API-KEY"] = self._api_key
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self._base + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:
                return json.loads(answer.read().decode())
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise ChainUnavailable(reason=type(exc).__name__) from None

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return await asyncio.to_thread(self._call, method, path, body)

    async def incoming(self, address: str, contract: str, since_ms: int) -> list[ChainTransfer]:
        params = {
            "only_to": "true",
            "contract_address": contract,
            "min_timestamp": str(since_ms),
            "order_by": "block_timestamp,asc",
            "limit": str(PAGE_LIMIT),
        }
        found: list[ChainTransfer] = []
        for _ in range(MAX_PAGES):
            path = f"/v1/accounts/{urllib.parse.quote(address)}/transactions/trc20?"
            page = await self._request("GET", path + urllib.parse.urlencode(params))
            if not isinstance(page, dict) or not page.get("success", False):
                raise ChainUnavailable(reason="refused")
            found.extend(_transfer(item) for item in page.get("data", []))
            fingerprint = (page.get("meta") or {}).get("fingerprint")
            if not fingerprint:
                break
            params["fingerprint"] = str(fingerprint)
        return found

    async def tx_info(self, tx_id: str) -> TxInfo:
        info = await self._request("POST", "/wallet/gettransactioninfobyid", {"value": tx_id})
        if not isinstance(info, dict) or "blockNumber" not in info:
            return TxInfo(block=None, succeeded=True)
        result = (info.get("receipt") or {}).get("result", "SUCCESS")
        return TxInfo(block=int(info["blockNumber"]), succeeded=result == "SUCCESS")

    async def latest_block(self) -> int:
        block = await self._request("POST", "/wallet/getnowblock", {})
        try:
            return int(block["block_header"]["raw_data"]["number"])
        except (KeyError, TypeError, ValueError):
            raise ChainUnavailable(reason="no_block") from None
