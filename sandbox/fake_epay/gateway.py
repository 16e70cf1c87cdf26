"""A fake 易支付 (epay) gateway speaking the protocol its public documentation describes:

- ``GET|POST /submit.php`` (pid, type, out_trade_no, notify_url, return_url, name, money,
  sign, sign_type=MD5): a signed order opens the cashier page, a wrong signature is refused;
- ``POST /mapi.php`` (the same and clientip, device; API接口支付): a signed order is opened
  and answered as JSON ``code`` 1, ``trade_no`` and, as ``faults.mapi`` scripts it, a
  ``qrcode`` or a ``payurl`` (both the cashier page's address) or a ``urlscheme``; or
  ``code`` -1 with ``msg`` (a wrong signature always, or ``faults.mapi = "error"``), an
  HTML 502 page (``"down"``), or an answer only after ``faults.mapi_delay`` seconds;
- ``GET /cashier/{trade_no}``: the cashier page of an order opened over mapi.php;
- ``POST /pay/{trade_no}``: the payer pays on that page (``pay`` does the same from a test);
- the notification: ``GET notify_url?pid&trade_no&out_trade_no&type&name&money
  &trade_status=TRADE_SUCCESS&sign&sign_type`` retried, as real gateways do, until the
  answer's body is ``success`` (``retry_delays``, shortened for tests);
- ``GET /api.php?act=order&pid&key&out_trade_no``: the order as JSON (``code`` 1,
  ``status`` 1 paid / 0 not); ``code`` -1 for an order it does not know.

Faults a test (or the sandbox) scripts on ``faults``: lose the next notifications, send
each one several times at once, sign with a wrong key, tamper the amount after signing;
how mapi.php answers (``mapi``, ``mapi_delay``).
"""

from __future__ import annotations

import asyncio
import html
import itertools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from core.money import MalformedAmount, parse_amount
from core.payments.epay import signature_ok, signed

log = logging.getLogger("kameng.fake_epay")

HOST = "127.0.0.1"


@dataclass
class EpayFaults:
    lose: int = 0  # the next N notification attempts are never sent (掉单)
    repeat: int = 1  # each notification is sent this many times at once
    wrong_key: bool = False  # signed with another key
    tamper_money: str | None = None  # the money changed after signing
    #: how mapi.php answers a signed order: "qrcode" | "payurl" | "urlscheme" | "error"
    #: (code -1, the gateway's msg) | "down" (an HTML 502 page)
    mapi: str = "payurl"
    mapi_delay: float = 0.0  # seconds before mapi.php answers (a slow gateway)
    mapi_msg: str = "支付通道维护中 (channel under maintenance)"  # "error"'s msg


@dataclass
class EpayOrder:
    trade_no: str
    out_trade_no: str
    type: str
    name: str
    money: str
    notify_url: str
    return_url: str
    paid: bool = False
    added: str = ""
    ended: str = ""
    notify_attempts: int = 0
    notify_answers: list[str] = field(default_factory=list)


class FakeEpayGateway:
    def __init__(
        self,
        *,
        pid: str = "1001",
        key: str = "sandbox-epay-merchant-key",
        retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4, 0.8),
        host: str = HOST,
        port: int = 0,
    ) -> None:
        self.pid = pid
        self.key = key
        self.retry_delays = retry_delays
        self.faults = EpayFaults()
        self.orders: dict[str, EpayOrder] = {}  # by out_trade_no
        self.mapi_requests: list[dict[str, str]] = []  # every POST to mapi.php, as it came
        self._numbers = itertools.count(1)
        self._host = host
        self.port = port
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self.app = web.Application()
        self.app.router.add_route("*", "/submit.php", self._submit)
        self.app.router.add_post("/mapi.php", self._mapi)
        self.app.router.add_get("/cashier/{trade_no}", self._cashier_page)
        self.app.router.add_post("/pay/{trade_no}", self._pay_page)
        self.app.router.add_get("/api.php", self._api)

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}/"

    async def start(self) -> None:
        self._client = ClientSession(timeout=ClientTimeout(total=10))
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()

    async def __aenter__(self) -> FakeEpayGateway:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    # --- the payer's side -------------------------------------------------------------

    async def _submit(self, request: web.Request) -> web.Response:
        form = await request.post()
        params = {k: str(v) for k, v in {**request.query, **form}.items()}
        if params.get("pid") != self.pid or not signature_ok(params, self.key):
            return web.Response(text="签名校验失败 (signature check failed)", status=400)
        try:
            parse_amount(params.get("money", ""))
        except MalformedAmount:
            return web.Response(text="金额不合法 (bad money)", status=400)
        order = self._open(params)
        return web.Response(text=_cashier(order), content_type="text/html")

    def _open(self, params: dict[str, str]) -> EpayOrder:
        """The order of this ``out_trade_no``, opened now unless it was before."""
        order = self.orders.get(params["out_trade_no"])
        if order is None:
            order = EpayOrder(
                trade_no=f"2026{next(self._numbers):012d}",
                out_trade_no=params["out_trade_no"],
                type=params.get("type") or "alipay",
                name=params.get("name", ""),
                money=params["money"],
                notify_url=params["notify_url"],
                return_url=params.get("return_url", ""),
                added=_now(),
            )
            self.orders[order.out_trade_no] = order
        return order

    async def _mapi(self, request: web.Request) -> web.Response:
        params = {k: str(v) for k, v in (await request.post()).items()}
        self.mapi_requests.append(params)
        if self.faults.mapi_delay:
            await asyncio.sleep(self.faults.mapi_delay)
        if params.get("pid") != self.pid or not signature_ok(params, self.key):
            return web.json_response({"code": -1, "msg": "签名校验失败"})
        try:
            parse_amount(params.get("money", ""))
        except MalformedAmount:
            return web.json_response({"code": -1, "msg": "金额不合法"})
        if self.faults.mapi == "down":
            return web.Response(text="<h1>502 Bad Gateway</h1>", status=502)
        if self.faults.mapi == "error":
            return web.json_response({"code": -1, "msg": self.faults.mapi_msg})
        order = self._open(params)
        answer: dict[str, Any] = {"code": 1, "msg": "", "trade_no": order.trade_no}
        cashier = f"{self.base_url}cashier/{order.trade_no}"
        if self.faults.mapi == "qrcode":
            answer["qrcode"] = cashier
        elif self.faults.mapi == "urlscheme":
            answer["urlscheme"] = f"alipays://platformapi/startapp?saId=10000007&qrcode={cashier}"
        else:
            answer["payurl"] = cashier
        return web.json_response(answer)

    async def _cashier_page(self, request: web.Request) -> web.Response:
        order = self._by_trade_no(request.match_info["trade_no"])
        return web.Response(text=_cashier(order), content_type="text/html")

    def _by_trade_no(self, trade_no: str) -> EpayOrder:
        order = next((o for o in self.orders.values() if o.trade_no == trade_no), None)
        if order is None:
            raise web.HTTPNotFound(text="no such order")
        return order

    async def _pay_page(self, request: web.Request) -> web.Response:
        order = self._by_trade_no(request.match_info["trade_no"])
        self.pay(order.out_trade_no)
        if order.return_url:
            raise web.HTTPFound(order.return_url)
        return web.Response(text=_paid_page(order), content_type="text/html")

    def pay(self, out_trade_no: str) -> EpayOrder:
        """The payer pays: the order is paid at once, its notification follows (retried)."""
        order = self.orders[out_trade_no]
        if not order.paid:
            order.paid = True
            order.ended = _now()
            task = asyncio.get_running_loop().create_task(self._notify_until_acknowledged(order))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return order

    async def settled(self) -> None:
        """Wait until every notification under way was acknowledged or given up."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- the merchant's side ----------------------------------------------------------

    def notification(self, order: EpayOrder) -> dict[str, str]:
        params = {
            "pid": self.pid,
            "trade_no": order.trade_no,
            "out_trade_no": order.out_trade_no,
            "type": order.type,
            "name": order.name,
            "money": order.money,
            "trade_status": "TRADE_SUCCESS",
        }
        notice = signed(params, "not-the-merchant-key" if self.faults.wrong_key else self.key)
        if self.faults.tamper_money is not None:
            notice["money"] = self.faults.tamper_money
        return notice

    async def _notify_until_acknowledged(self, order: EpayOrder) -> None:
        for delay in (0.0, *self.retry_delays):
            await asyncio.sleep(delay)
            if await self._notify_once(order):
                return
        log.info("epay order %s: notification given up after retries", order.out_trade_no)

    async def _notify_once(self, order: EpayOrder) -> bool:
        order.notify_attempts += 1
        if self.faults.lose > 0:
            self.faults.lose -= 1
            return False
        params = self.notification(order)
        answers = await asyncio.gather(
            *(self._get(order.notify_url, params) for _ in range(max(self.faults.repeat, 1)))
        )
        order.notify_answers.extend(answers)
        return any(answer.strip() == "success" for answer in answers)

    async def _get(self, url: str, params: dict[str, str]) -> str:
        assert self._client is not None
        try:
            async with self._client.get(url, params=params) as answer:
                return await answer.text()
        except (OSError, TimeoutError) as failed:
            return f"unreachable: {type(failed).__name__}"

    async def _api(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("act") != "order":
            return web.json_response({"code": -5, "msg": "不支持的操作"})
        if query.get("pid") != self.pid or query.get("key") != self.key:
            return web.json_response({"code": -3, "msg": "KEY校验失败"})
        order = self.orders.get(query.get("out_trade_no", ""))
        if order is None:
            return web.json_response({"code": -1, "msg": "订单号不存在"})
        answer: dict[str, Any] = {
            "code": 1,
            "msg": "查询订单号成功！",
            "trade_no": order.trade_no,
            "out_trade_no": order.out_trade_no,
            "type": order.type,
            "pid": self.pid,
            "addtime": order.added,
            "endtime": order.ended,
            "name": order.name,
            "money": order.money,
            "status": 1 if order.paid else 0,
        }
        return web.json_response(answer)


def _now() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def _cashier(order: EpayOrder) -> str:
    state = "已支付 paid" if order.paid else "待支付 waiting"
    return (
        "<!doctype html><meta charset=utf-8><title>收银台 (sandbox epay)</title>"
        "<body style='font-family:sans-serif;max-width:28em;margin:3em auto'>"
        "<h1>收银台 · sandbox epay</h1>"
        f"<p>{html.escape(order.name)}</p><p style='font-size:2em'>¥{html.escape(order.money)}</p>"
        f"<p>{html.escape(order.type)} · {state}</p>"
        f"<form method=post action='/pay/{html.escape(order.trade_no)}'>"
        "<button style='font-size:1.5em'>模拟支付 Pay</button></form></body>"
    )


def _paid_page(order: EpayOrder) -> str:
    return (
        "<!doctype html><meta charset=utf-8><title>支付成功</title>"
        f"<body style='font-family:sans-serif'><h1>支付成功 · paid ¥{html.escape(order.money)}</h1>"
        "<p>You can go back to the bot.</p></body>"
    )
