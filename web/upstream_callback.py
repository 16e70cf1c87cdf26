"""``POST /upstream/{name}/callback``: an upstream tells us an order of ours changed. Not
under ``/api/`` (no API key): the adapter checks the upstream's own signature, timestamp and
replay window (``core/upstreams``); a refused callback is 401 and changes nothing."""

from __future__ import annotations

from aiohttp import web

from core.errors import NotFound, UpstreamCallbackRefused
from core.platform import Platform
from web.handlers import PLATFORM

routes = web.RouteTableDef()
MAX_CALLBACK_BYTES = 64 * 1024


@routes.post("/upstream/{name}/callback")
async def callback(request: web.Request) -> web.Response:
    platform: Platform = request.app[PLATFORM]
    body = await request.read()
    if len(body) > MAX_CALLBACK_BYTES:
        return web.json_response({"ok": False, "message": "too large"}, status=413)
    try:
        order_id = await platform.procurement.callback(
            request.match_info["name"][:32], dict(request.headers), body
        )
    except UpstreamCallbackRefused:
        return web.json_response({"ok": False, "message": "refused"}, status=401)
    except NotFound:
        return web.json_response({"ok": False, "message": "unknown order"}, status=404)
    return web.json_response({"ok": True, "message": "received", "order_id": order_id})
