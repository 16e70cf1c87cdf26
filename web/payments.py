"""``/pay/{provider}/notify``: payment providers' notifications, served by the API's
application (``kameng serve`` and ``kameng api serve`` both). Public: each provider's
signature is the authentication (``Payments.notify`` verifies it before anything else).

The answer is the provider's acknowledgement (epay: the plain text ``success``) when the
payment is credited, held for an admin, or was settled before; anything else is answered
``fail`` and changes nothing. A refused or replayed notification is one WARNING line.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from core.errors import BadNotification, StorageUnavailable, UnknownPaymentMethod
from web.handlers import PLATFORM

log = logging.getLogger("kameng.payments")

routes = web.RouteTableDef()
NOTIFY_PATH = "/pay/{provider}/notify"


@routes.get(NOTIFY_PATH)
@routes.post(NOTIFY_PATH)
async def notify(request: web.Request) -> web.Response:
    payments = request.app[PLATFORM].payments
    name = request.match_info["provider"]
    params = {k: str(v) for k, v in request.query.items()}
    if request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        try:
            params.update({k: str(v) for k, v in (await request.post()).items()})
        except (ValueError, HttpProcessingError) as unreadable:  # not UTF-8, a broken form
            log.warning(
                "payment notification refused (%s, unreadable body: %s), nothing changed",
                name,
                type(unreadable).__name__,
            )
            return web.Response(text="fail", status=400)
    try:
        provider = payments.providers.get(name)
        settled = await payments.notify(name, params)
    except UnknownPaymentMethod:
        log.warning("payment notification for %r, which is not enabled: ignored", name)
        return web.Response(text="fail", status=404)
    except BadNotification as refused:
        log.warning(
            "payment notification refused (%s, %s): out_trade_no=%r, nothing changed",
            name,
            refused.params.get("reason"),
            params.get("out_trade_no", "")[:64],
        )
        return web.Response(text="fail", status=400)
    except StorageUnavailable:
        return web.Response(text="fail", status=503)  # the provider sends it again
    if settled.outcome == "already":
        log.warning(
            "payment notification replayed (%s): payment %s is %s already, nothing changed",
            name,
            settled.payment.id,
            settled.payment.status.value,
        )
    else:
        log.info("payment %s %s (%s)", settled.payment.id, settled.outcome, name)
    return web.Response(text=provider.acknowledgement)
